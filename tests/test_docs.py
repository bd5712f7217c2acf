"""The README documents every setting and every CLI command."""

from __future__ import annotations

from pathlib import Path

from enrich.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_setting_is_in_the_readme():
    missing = [f"ENRICH_{name.upper()}" for name in Settings.model_fields if f"ENRICH_{name.upper()}" not in README]
    assert not missing, f"undocumented settings: {missing}"


def test_every_command_is_in_the_readme():
    for command in ("enrich demo", "enrich run", "enrich feeds add", "enrich feeds list", "enrich feeds import-opml", "enrich feeds export-opml",
                    "enrich export", "enrich preview", "enrich serve"):
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
    uncommented = [f"{t}.{c}" for t, c, comment in columns if not comment and t != "schema_migrations"]
    assert not undocumented, undocumented
    assert not uncommented, uncommented
