"""CLI manners: read-only commands never create a database, port collisions say what to do,
exports speak ISO 8601 and CSV, and ``enrich query`` answers analysts without ever writing."""

from __future__ import annotations

import csv
import io
import json
import re
import socket

import pytest
from typer.testing import CliRunner

from enrich.store import open_store
from flows.cli import app

runner = CliRunner()
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.mark.parametrize("command", [
    ["preview", "--out", "{tmp}/site"], ["export", "--out", "{tmp}/a.jsonl"], ["feeds", "list"],
    ["feeds", "export-opml"], ["query", "SELECT 1"],
], ids=lambda c: " ".join(c[:2]))
def test_read_only_commands_refuse_a_missing_database(command, tmp_path):
    missing = tmp_path / "typo" / "enriched.duckdb"
    args = [part.replace("{tmp}", str(tmp_path)) for part in command]
    result = runner.invoke(app, [*args, "--db", str(missing)])
    assert result.exit_code == 2, result.output
    assert str(missing) in result.output.replace("\n", "")
    assert not missing.exists() and not missing.parent.exists()


def test_demo_on_a_taken_port_says_so_and_suggests_another(db_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(app, ["demo", "--db", str(db_path), "--port", str(port)])
    assert result.exit_code == 2, result.output
    assert f"port {port} is in use" in result.output and "--port" in result.output
    suggested = int(re.search(r"--port (\d+)", result.output).group(1))
    assert suggested != port
    assert not db_path.exists()  # nothing was started


def test_jsonl_export_has_iso_8601_utc_times(demo_db, tmp_path):
    out = tmp_path / "articles.jsonl"
    assert runner.invoke(app, ["export", "--out", str(out), "--db", str(demo_db)]).exit_code == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    with open_store(demo_db, read_only=True) as store:
        stored = store.reader_records()
    assert [r["url"] for r in records] == [r["url"] for r in stored]
    for record, row in zip(records, stored, strict=True):
        assert ISO_UTC.match(record["published_at"]), record["published_at"]
        assert record["published_at"] == row["published_at"].strftime("%Y-%m-%dT%H:%M:%SZ")


def test_csv_export_is_one_row_per_article_with_json_lists(demo_db, tmp_path):
    out = tmp_path / "articles.csv"
    result = runner.invoke(app, ["export", "--format", "csv", "--out", str(out), "--db", str(demo_db)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(newline="", encoding="utf-8")))
    with open_store(demo_db, read_only=True) as store:
        stored = store.reader_records()
    assert len(rows) == len(stored) > 0
    for row, record in zip(rows, stored, strict=True):
        assert row["url"] == record["url"] and row["title"] == record["title"]
        assert json.loads(row["topics"]) == record["topics"]
        assert json.loads(row["summary"]) == record["summary"]
        assert [r["url"] for r in json.loads(row["related"])] == [r["url"] for r in record["related"]]
        assert ISO_UTC.match(row["published_at"])


def test_query_prints_a_table_json_or_csv(demo_db):
    sql = "SELECT language, count(*) AS n FROM articles WHERE status = 'ok' GROUP BY ALL ORDER BY n DESC, language"
    with open_store(demo_db, read_only=True) as store:
        expected = store.query(sql)
    table = runner.invoke(app, ["query", sql, "--db", str(demo_db)])
    assert table.exit_code == 0, table.output
    assert "language" in table.output and all(lang in table.output for lang, _ in expected)

    as_json = runner.invoke(app, ["query", sql, "--json", "--db", str(demo_db)])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout) == [{"language": lang, "n": n} for lang, n in expected]

    as_csv = runner.invoke(app, ["query", sql, "--csv", "--db", str(demo_db)])
    assert list(csv.reader(io.StringIO(as_csv.stdout))) == [["language", "n"], *([lang, str(n)] for lang, n in expected)]


def test_query_json_carries_times_and_lists(demo_db):
    result = runner.invoke(app, ["query", "SELECT published_at, topics FROM articles WHERE status = 'ok' LIMIT 3",
                                 "--json", "--db", str(demo_db)])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 3
    assert all(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", r["published_at"]) for r in rows)
    assert all(isinstance(r["topics"], list) and r["topics"] for r in rows)


@pytest.mark.parametrize("sql", [
    "DELETE FROM articles",
    "UPDATE feeds SET title = 'x'",
    "CREATE TABLE mine AS SELECT 1",
    "SELECT 1; DROP TABLE articles",
    "COPY articles TO '{tmp}/stolen.csv'",
    "ATTACH '{tmp}/other.duckdb' AS other",
])
def test_query_refuses_writes_and_leaves_the_database_alone(demo_db, tmp_path, sql):
    before = demo_db.stat().st_mtime_ns
    result = runner.invoke(app, ["query", sql.replace("{tmp}", str(tmp_path)), "--db", str(demo_db)])
    assert result.exit_code == 2, result.output
    assert "refused" in result.output and "read-only" in result.output
    assert demo_db.stat().st_mtime_ns == before
    assert list(tmp_path.iterdir()) == []


def test_query_cannot_read_files_through_duckdb(demo_db, tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("a\nsecret-value\n")
    result = runner.invoke(app, ["query", f"SELECT * FROM read_csv('{secret}')", "--db", str(demo_db)])
    assert result.exit_code == 2
    assert "secret-value" not in result.output


def test_query_with_bad_sql_exits_2_with_duckdbs_message(demo_db):
    result = runner.invoke(app, ["query", "SELECT no_such_column FROM articles", "--db", str(demo_db)])
    assert result.exit_code == 2
    assert "no_such_column" in result.output
