"""The README documents every setting and every CLI command."""

from __future__ import annotations

import re
from pathlib import Path

from enrich.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_setting_is_in_the_readme():
    missing = [f"ENRICH_{name.upper()}" for name in Settings.model_fields if f"ENRICH_{name.upper()}" not in README]
    assert not missing, f"undocumented settings: {missing}"


def test_every_command_is_in_the_readme():
    for command in ("enrich demo", "enrich run", "enrich feeds add", "enrich feeds list", "enrich feeds import-opml", "enrich feeds export-opml",
                    "enrich export", "enrich preview", "enrich serve", "enrich query"):
        assert command in README, command


def test_readme_test_command_is_what_ci_runs():
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert "uv run pytest" in README and "uv run pytest" in ci


def test_schema_doc_matches_the_database(db_path):
    """Every column of every table is in the README and carries a comment in the database."""
    from enrich.store import open_store

    with open_store(db_path) as store:
        columns = store.query(
            "SELECT table_name, column_name, comment FROM duckdb_columns() WHERE schema_name = 'main' AND NOT internal"
        )
    assert columns
    undocumented = [f"{t}.{c}" for t, c, _ in columns if f"`{c}`" not in README]
    uncommented = [f"{t}.{c}" for t, c, comment in columns if not comment]
    assert not undocumented, undocumented
    assert not uncommented, uncommented
    assert {t for t, _, _ in columns} >= {"schema_migrations", "articles", "feeds"}
    with open_store(db_path, read_only=True) as store:
        tables = store.query("SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'main'")
    assert not [t for t, comment in tables if not comment], tables


def readme_sql_statements() -> list[str]:
    """Every statement of every ```sql block of the README, comments included."""
    blocks = re.findall(r"^```sql\n(.*?)^```", README, flags=re.DOTALL | re.MULTILINE)
    return [s.strip() for block in blocks for s in block.split(";") if s.strip().strip("-").strip()]


def _code(sql: str) -> str:
    return "\n".join(line.split("--", 1)[0] for line in sql.splitlines())


def test_every_readme_query_runs_on_the_demo_database(demo_db):
    """The analyst queries run as printed, read-only, on the demo flow's database."""
    from enrich.store import open_store

    statements = readme_sql_statements()
    assert len(statements) >= 5
    with open_store(demo_db, read_only=True) as store:
        # A query with a placeholder asks about one article: the one with the most related articles
        # (the demo corpus may have none above the related floor; the query must still run).
        article = store.query("""SELECT a.url FROM articles a LEFT JOIN related r ON r.article_url = a.url
                                 GROUP BY ALL ORDER BY count(r.rank) DESC, a.url LIMIT 1""")[0][0]
        results = {sql: store.query(sql, [article] * _code(sql).count("?")) for sql in statements}
        shown = store.query("SELECT count(*) FROM articles WHERE status = 'ok' AND duplicate_of IS NULL")[0][0]
        related_urls = [url for url, _ in store.related_lists([article]).get(article, [])]
    front_page = next(rows for sql, rows in results.items() if "front page" in sql)
    assert len(front_page) == min(shown, 20) > 0
    assert [row[2] for row in front_page] == sorted((row[2] for row in front_page), reverse=True)
    related = next(rows for sql, rows in results.items() if "might also" in sql)
    assert [row[0] for row in related] == list(range(1, len(related_urls) + 1))
