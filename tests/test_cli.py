"""The ``enrich`` command: help everywhere, feeds management, exit codes, the demo and a real run."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import time

import pytest
import typer
from typer.testing import CliRunner

from enrich.store import open_store
from flows.cli import EX_TEMPFAIL, app

runner = CliRunner()



def _command_paths(command, path=()) -> list[list[str]]:
    """Every command and sub-command of the click tree, so a new command cannot miss its help."""
    paths = [list(path)]
    for name, sub in getattr(command, "commands", {}).items():
        paths += _command_paths(sub, (*path, name))
    return paths


COMMANDS = _command_paths(typer.main.get_command(app))


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "enrich")
def test_every_command_has_help(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_feeds_add_list_and_import_opml(db_path, tmp_path):
    assert runner.invoke(app, ["feeds", "add", "https://a.example/feed.xml", "--no-check", "--topic", "Science", "--db", str(db_path)]).exit_code == 0
    again = runner.invoke(app, ["feeds", "add", "https://a.example/feed.xml", "--no-check", "--db", str(db_path)])
    assert "already subscribed" in again.output
    opml = tmp_path / "subs.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><body><outline text="Sports">'
        '<outline type="rss" text="Ball" xmlUrl="https://b.example/rss"/></outline></body></opml>'
    )
    result = runner.invoke(app, ["feeds", "import-opml", str(opml), "--db", str(db_path)])
    assert result.exit_code == 0 and "1 new" in result.output
    listing = runner.invoke(app, ["feeds", "list", "--db", str(db_path)])
    assert "https://b.example/rss" in listing.output and "Sports" in listing.output
    with open_store(db_path, read_only=True) as store:
        assert {(f.url, f.topic) for f in store.feeds()} == {
            ("https://a.example/feed.xml", "Science"), ("https://b.example/rss", "Sports")}


def test_opml_export_round_trips_through_import(db_path, tmp_path):
    from enrich.opml import parse_opml

    runner.invoke(app, ["feeds", "add", "https://a.example/feed.xml", "--no-check", "--topic", "Science", "--db", str(db_path)])
    runner.invoke(app, ["feeds", "add", "https://b.example/rss?x=<&>", "--no-check", "--db", str(db_path)])
    out = tmp_path / "out.opml"
    assert runner.invoke(app, ["feeds", "export-opml", "--out", str(out), "--db", str(db_path)]).exit_code == 0
    subs = {(s.url, s.category) for s in parse_opml(out.read_bytes())}
    assert subs == {("https://a.example/feed.xml", "Science"), ("https://b.example/rss?x=<&>", None)}
    other = tmp_path / "other.duckdb"
    assert runner.invoke(app, ["feeds", "import-opml", str(out), "--db", str(other)]).exit_code == 0
    with open_store(other, read_only=True) as store:
        assert {(f.url, f.topic) for f in store.feeds()} == subs


def test_bad_arguments_exit_2(db_path, tmp_path):
    assert runner.invoke(app, ["feeds", "add", "file:///etc/passwd", "--db", str(db_path)]).exit_code == 2
    assert runner.invoke(app, ["run", "--db", str(db_path)]).exit_code == 2  # no feeds anywhere
    bad_list = tmp_path / "feeds.txt"
    bad_list.write_text("https://ok.example/feed\nnot a url\n")
    assert runner.invoke(app, ["run", "--feeds", str(bad_list), "--db", str(db_path)]).exit_code == 2
    assert runner.invoke(app, ["run", "--feeds", str(tmp_path / "missing.txt")]).exit_code == 2


def test_serve_without_a_prefect_server_says_how_to_start_one(db_path, monkeypatch):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("ENRICH_PREFECT_SERVER", "ephemeral")  # no background server either
    with temporary_settings(restore_defaults={PREFECT_API_URL}):  # even if a test harness is active
        result = runner.invoke(app, ["serve", "--db", str(db_path)])
    assert result.exit_code == 2
    assert "prefect server start" in result.output


def test_unusable_database_exits_1(tmp_path):
    bogus = tmp_path / "bogus.duckdb"
    bogus.write_text("not a database at all")
    result = runner.invoke(app, ["feeds", "list", "--db", str(bogus)])
    assert result.exit_code == 1


def test_busy_database_exits_75(db_path, monkeypatch):
    monkeypatch.setenv("ENRICH_LOCK_WAIT_SECONDS", "1")
    with open_store(db_path):
        pass
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from enrich.store import open_store
            with open_store({str(db_path)!r}):
                print("holding", flush=True)
                time.sleep(30)
        """)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        result = runner.invoke(app, ["feeds", "list", "--db", str(db_path)])
        assert result.exit_code == EX_TEMPFAIL
        assert "busy" in result.output
    finally:
        holder.kill()
        holder.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.usefixtures("prefect_harness")
def test_demo_twice_on_a_fixed_port_adds_nothing_the_second_time(db_path):
    port = _free_port()
    first = runner.invoke(app, ["demo", "--db", str(db_path), "--port", str(port)])
    assert first.exit_code == 0, first.output
    for shown in ("feeds polled", "enriched", "Summary", "Key quotes", "Snippet from the RSS feed", "min read"):
        assert shown in first.output
    with open_store(db_path, read_only=True) as store:
        assert store.query("SELECT count(*), count(*) FILTER (status = 'ok') FROM articles") == [(17, 17)]
    time.sleep(0.2)  # let the first server's socket close
    second = runner.invoke(app, ["demo", "--db", str(db_path), "--port", str(port)])
    assert second.exit_code == 0, second.output
    with open_store(db_path, read_only=True) as store:
        assert store.query("SELECT count(*) FROM articles") == [(17,)]
        assert store.query("SELECT new_articles FROM runs ORDER BY started_at") == [(17,), (0,)]


@pytest.mark.usefixtures("prefect_harness")
def test_run_with_a_feed_list_then_with_stored_feeds(demo_base, db_path, tmp_path):
    feeds = tmp_path / "feeds.txt"
    feeds.write_text(f"# two demo feeds\n{demo_base}/feeds/kissa.rss.xml\n\n{demo_base}/feeds/cuaderno.atom.xml\n")
    first = runner.invoke(app, ["run", "--feeds", str(feeds), "--db", str(db_path)])
    assert first.exit_code == 0, first.output
    assert "new articles" in first.output
    second = runner.invoke(app, ["run", "--db", str(db_path)])  # the stored feeds
    assert second.exit_code == 0, second.output
    with open_store(db_path, read_only=True) as store:
        assert store.query("SELECT feeds_polled, new_articles FROM runs ORDER BY started_at") == [(2, 7), (2, 0)]


def test_enrich_demo_as_a_user_runs_it(db_path):
    """The README's main command in a real process: exit 0, a table, and no Prefect noise."""
    result = subprocess.run(
        [sys.executable, "-m", "flows.cli", "demo", "--db", str(db_path), "--port", str(_free_port())],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "enriched" in result.stdout and "Key quotes" in result.stdout
    assert "Traceback" not in result.stderr and "CancelledError" not in result.stderr
    assert "feed Northwind Tech Journal: 6 entries, 6 new" in result.stderr


@pytest.mark.usefixtures("prefect_harness")
def test_export_and_preview_after_a_run(demo_base, db_path, tmp_path):
    import json

    import duckdb

    feeds = tmp_path / "feeds.txt"
    feeds.write_text(f"{demo_base}/feeds/stadtleben.rdf.xml\n")
    assert runner.invoke(app, ["run", "--feeds", str(feeds), "--db", str(db_path)]).exit_code == 0

    jsonl = tmp_path / "out" / "articles.jsonl"
    result = runner.invoke(app, ["export", "--format", "jsonl", "--out", str(jsonl), "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert len(records) == 4 and all(r["summary"] and r["topics"] and "related" in r for r in records)

    parquet = tmp_path / "out" / "articles.parquet"
    later = runner.invoke(app, ["export", "--format", "parquet", "--since", "2026-11-20", "--out", str(parquet),
                                "--db", str(db_path)])
    assert later.exit_code == 0, later.output
    dates = duckdb.sql(f"SELECT published_at FROM '{parquet}'").fetchall()
    assert 0 < len(dates) < 4 and all(d[0].date().isoformat() >= "2026-11-20" for d in dates)

    assert runner.invoke(app, ["export", "--format", "xml", "--out", str(parquet), "--db", str(db_path)]).exit_code == 2

    site = tmp_path / "site"
    shown = runner.invoke(app, ["preview", "--out", str(site), "--db", str(db_path)])
    assert shown.exit_code == 0, shown.output
    assert (site / "index.html").exists() and len(list((site / "articles").glob("*.html"))) == 4


def test_the_demo_article_view_prints_strangers_brackets_and_quote_speakers(db_path, capsys):
    from flows.cli import _show_sample

    with open_store(db_path) as store:
        store.query(
            """INSERT INTO articles (url, feed_url, status, text_source, first_seen_at, published_at, title,
                                     reading_minutes, language, summary, key_quotes, key_quote_speakers, feed_snippet)
               VALUES ('https://news.example/a', 'https://news.example/feed', 'ok', 'page', now(), now(),
                       '[bold]Harbour[/bold] reopens', 3, 'en', ['The harbour reopened on Monday.'],
                       ['"We are open again," said Mara Example.', 'Tolls rise by [red]3%[/red].'],
                       ['Mara Example', NULL], 'The harbour is open [again].')"""
        )
    _show_sample(db_path, lock_wait_seconds=0)
    shown = capsys.readouterr().out
    assert "[bold]Harbour[/bold] reopens" in shown
    assert '"We are open again," said Mara Example. — Mara Example' in shown
    assert "Tolls rise by [red]3%[/red]." in shown and "The harbour is open [again]." in shown


def test_a_command_run_sends_no_heartbeat_unless_the_user_asks_for_one():
    # Prefect joins the heartbeat thread at the end of the flow, and that thread sleeps in
    # one-second steps: without it the run's command exits up to a second sooner.
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    from flows.cli import one_shot_prefect_settings

    assert one_shot_prefect_settings() == {PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}
    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: 60}):
        assert one_shot_prefect_settings() == {}
