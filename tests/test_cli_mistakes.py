"""Operator mistakes end in one clear line and an exit status, never a traceback or a hang (issue 13, item 9)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from enrich.store import StoreError, open_store
from flows.cli import EX_TEMPFAIL, app

runner = CliRunner()


def _one_line_error(result, *snippets: str) -> None:
    output = result.output
    assert "Traceback" not in output, output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), output
    for snippet in snippets:
        assert snippet in lines[0], output


@pytest.mark.parametrize("name, value, snippet", [
    ("ENRICH_PER_HOST_CONCURRENCY", "0", "ENRICH_PER_HOST_CONCURRENCY='0'"),  # used to hang forever
    ("ENRICH_READ_TIMEOUT", "-3", "ENRICH_READ_TIMEOUT='-3'"),
    ("ENRICH_FETCH_CONCURRENCY", "many", "ENRICH_FETCH_CONCURRENCY='many'"),
    ("ENRICH_BATCH_SIZE", "0", "ENRICH_BATCH_SIZE"),
])
def test_invalid_settings_are_one_line_and_exit_2(name, value, snippet, db_path, monkeypatch):
    monkeypatch.setenv(name, value)
    result = runner.invoke(app, ["feeds", "list", "--db", str(db_path)])
    assert result.exit_code == 2
    _one_line_error(result, "invalid setting", snippet)
    assert not db_path.exists()  # refused before anything was touched


def test_db_under_a_file_or_a_folder_is_exit_2(tmp_path):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    result = runner.invoke(app, ["feeds", "list", "--db", str(a_file / "sub" / "enriched.duckdb")])
    assert result.exit_code == 2
    _one_line_error(result, "is a file, not a folder")
    result = runner.invoke(app, ["feeds", "list", "--db", str(tmp_path)])
    assert result.exit_code == 2
    _one_line_error(result, "is a folder")


def test_out_that_is_a_folder_is_exit_2(db_path, tmp_path):
    runner.invoke(app, ["feeds", "add", "https://a.example/feed.xml", "--no-check", "--db", str(db_path)])
    for command in (["export", "--format", "jsonl"], ["feeds", "export-opml"]):
        result = runner.invoke(app, [*command, "--out", str(tmp_path), "--db", str(db_path)])
        assert result.exit_code == 2, command
        _one_line_error(result, "is a folder")
    site_file = tmp_path / "site.html"
    site_file.write_text("x")
    result = runner.invoke(app, ["preview", "--out", str(site_file), "--db", str(db_path)])
    assert result.exit_code == 2
    _one_line_error(result, "is a file")


@pytest.mark.parametrize("bad", ["http://[::1", "http://a.example:99999999/feed"])
def test_unusable_url_in_a_feed_list_is_exit_2(bad, db_path, tmp_path):
    listing = tmp_path / "feeds.txt"
    listing.write_text(f"https://a.example/feed.xml\n{bad}\n")
    result = runner.invoke(app, ["run", "--feeds", str(listing), "--db", str(db_path)])
    assert result.exit_code == 2
    _one_line_error(result, repr(bad))
    result = runner.invoke(app, ["feeds", "add", bad, "--db", str(db_path)])
    assert result.exit_code == 2
    _one_line_error(result, "not a usable feed URL")


def test_sqlite_file_is_refused_by_name_without_loading_an_extension(tmp_path, monkeypatch):
    path = tmp_path / "reader.sqlite"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE t (x)")
    # DuckDB would look for its sqlite extension under $HOME/.duckdb; none may appear there.
    monkeypatch.setenv("HOME", str(tmp_path))
    result = runner.invoke(app, ["feeds", "list", "--db", str(path)])
    assert result.exit_code == 1
    _one_line_error(result, "not a DuckDB database", "SQLite")
    assert not (tmp_path / ".duckdb").exists()
    with pytest.raises(StoreError, match="not a DuckDB database"):
        with open_store(path):
            pass


def test_connections_never_autoload_extensions(db_path):
    with open_store(db_path) as store:
        settings = dict(store.query(
            "SELECT name, value FROM duckdb_settings() WHERE name IN "
            "('autoinstall_known_extensions', 'autoload_known_extensions')"))
    assert settings == {"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"}


def test_prefect_server_that_does_not_start_is_exit_75(db_path, tmp_path):
    """A real `enrich run` whose temporary Prefect server gets no time to start (as on a busy machine)."""
    listing = tmp_path / "feeds.txt"
    listing.write_text("http://127.0.0.1:9/feed.xml\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="0", PREFECT_HOME=str(tmp_path / "prefect"),
               ENRICH_PREFECT_SERVER="ephemeral")
    done = subprocess.run([sys.executable, "-m", "flows.cli", "run", "--feeds", str(listing), "--db", str(db_path)],
                          env=env, capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[1])
    assert done.returncode == EX_TEMPFAIL, done.stderr
    assert "Traceback" not in done.stderr
    assert "Prefect's temporary server did not start in time" in done.stderr
    with open_store(db_path, read_only=True) as store:
        assert store.query("SELECT count(*) FROM runs") == [(0,)]  # nothing was run


def test_demo_port_out_of_range_is_exit_2(db_path):
    result = runner.invoke(app, ["demo", "--port", "99999", "--db", str(db_path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output and "--port" in result.output
