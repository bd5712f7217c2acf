"""One outcome vocabulary: every reason key the code gives is registered in enrich/reasons.py, spelled
there only, documented in the README, and maps to one article status."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from enrich import reasons
from enrich.models import EnrichJob, EnrichOptions, FeedEntry, FetchResult
from enrich.pipeline import enrich_entry
from enrich.reasons import (
    ENRICH_CRASHED,
    EXTRACT_EMPTY,
    FETCH_NOT_HTML,
    REASONS,
    STATUS_ENRICH_FAILED,
    STATUS_FETCH_FAILED,
    STATUS_NO_TEXT,
    STATUS_NOT_HTML,
    STATUS_OK,
    STATUSES,
    article_status,
    http_status_reason,
    is_registered,
)

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
# A string shaped like a reason key: a family, a dot, a lower-case name.
FAMILIES = sorted({key.split(".")[0] for key in REASONS})
KEY_SHAPE = re.compile(rf"(?:{'|'.join(FAMILIES)})\.[a-z][a-z0-9_]*")


def _source_files() -> list[Path]:
    return sorted([*(ROOT / "enrich").rglob("*.py"), *(ROOT / "flows").rglob("*.py")])


def _key_literals(path: Path) -> list[tuple[int, str]]:
    """String constants shaped like reason keys, but not logger names (``logging.getLogger("enrich.flow")``)
    or module names (``"enrich.pipeline"``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    logger_names = {id(arg) for node in ast.walk(tree) if isinstance(node, ast.Call)
                    and getattr(node.func, "attr", getattr(node.func, "id", None)) == "getLogger" for arg in node.args}
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)) or id(node) in logger_names:
            continue
        if KEY_SHAPE.fullmatch(node.value) and not (ROOT / (node.value.replace(".", "/") + ".py")).exists():
            found.append((node.lineno, node.value))
    return found


def test_the_registry_holds_the_keys_the_readme_and_old_rows_use():
    assert len(REASONS) >= 40
    assert all(meaning and "\n" not in meaning for meaning in REASONS.values())
    for key in ("fetch.timeout", "fetch.http_404", "extract.empty", "enrich.summary", "enrich.crashed", "store.failed",
                "link.failed", "entry.bad_url", "header.bad_max_age", "feed.bad_ttl", "poll.crashed"):
        assert is_registered(key), key
    for key in ("fetch.http_", "fetch.http_abc", "fetch.http_4040", "enrich.nothing", "", None):
        assert not is_registered(key), key
    assert http_status_reason(503) == "fetch.http_503"


def test_no_reason_key_is_spelled_outside_the_registry():
    """Code refers to reasons.py's constants, so a key is written (and can be misspelt) in one place."""
    spelled = {f"{path.relative_to(ROOT)}:{line}": value for path in _source_files()
               if path.name != "reasons.py" for line, value in _key_literals(path)}
    assert not spelled, spelled


def test_the_stores_sql_names_only_registered_keys():
    # Migrations are history and are not rewritten, but the keys they write must still be ours.
    sql_keys = set(re.findall(r"'((?:fetch|extract|enrich)\.[a-z_]+)'", (ROOT / "enrich" / "store.py").read_text()))
    assert sql_keys and all(is_registered(key) for key in sql_keys), sql_keys


def test_the_readme_table_is_the_registry():
    assert reasons.markdown_table() in README, "regenerate it with: uv run python -m enrich.reasons"


@pytest.mark.parametrize(("reason", "status"), [
    (None, STATUS_OK),
    ("fetch.http_404", STATUS_FETCH_FAILED),
    ("fetch.timeout", STATUS_FETCH_FAILED),
    (FETCH_NOT_HTML, STATUS_NOT_HTML),
    (EXTRACT_EMPTY, STATUS_NO_TEXT),
    (ENRICH_CRASHED, STATUS_ENRICH_FAILED),
])
def test_each_article_status_is_the_family_of_its_reason(reason, status):
    assert article_status(reason) == status
    assert status in STATUSES


def test_a_reason_that_costs_no_article_has_no_status():
    with pytest.raises(ValueError, match="no reason an article"):
        article_status("link.failed")


def _entry(**fields) -> FeedEntry:
    base = dict(feed_url="https://news.example/feed", entry_id="1", url="https://news.example/a",
                link="https://news.example/a", title="A", author=None, published_at=None, updated_at=None,
                tags=(), summary_html=None, content_html=None, content_hash="h")
    return FeedEntry(**(base | fields))


@pytest.mark.parametrize(("page", "status", "reason"), [
    (FetchResult("https://news.example/a", None, ok=False, http_status=404, error_key="fetch.http_404",
                 error="HTTP 404"), STATUS_FETCH_FAILED, "fetch.http_404"),
    (FetchResult("https://news.example/a", None, ok=False, error_key=FETCH_NOT_HTML, error="a PDF"),
     STATUS_NOT_HTML, FETCH_NOT_HTML),
    (FetchResult("https://news.example/a", "https://news.example/a", ok=True, body=b"<html></html>"),
     STATUS_NO_TEXT, EXTRACT_EMPTY),
    (None, STATUS_NO_TEXT, EXTRACT_EMPTY),
])
def test_articles_without_text_carry_a_registered_reason_and_its_status(page, status, reason):
    article = enrich_entry(_entry(), page, EnrichOptions())
    assert (article.status, article.reason) == (status, reason)
    assert is_registered(article.reason)


def test_a_crashed_record_carries_its_reason_and_status():
    article = EnrichJob(_entry(), None).failed("MemoryError", datetime.now(UTC), ENRICH_CRASHED)
    assert (article.status, article.reason) == (STATUS_ENRICH_FAILED, ENRICH_CRASHED)



def test_an_older_file_gets_the_reasons_and_failures_its_runs_left_out(db_path, monkeypatch):
    import enrich.store
    from enrich.store import MIGRATIONS, open_store

    mine = next(i for i, sql in enumerate(MIGRATIONS) if "(enrich/reasons.py)" in sql)
    monkeypatch.setattr(enrich.store, "MIGRATIONS", MIGRATIONS[:mine])
    monkeypatch.setattr(enrich.store, "SCHEMA_VERSION", mine)
    with open_store(db_path) as store:
        # An enrich_failed article an older run never recorded in failures; a 404 it did record.
        store.query("""INSERT INTO articles (url, feed_url, status, reason, error, first_seen_at, run_id) VALUES
                       ('https://news.example/crashed', 'https://news.example/feed', 'enrich_failed', NULL,
                        'MemoryError', now(), 'r1'),
                       ('https://news.example/gone', 'https://news.example/feed', 'fetch_failed', 'fetch.http_404',
                        'HTTP 404', now(), 'r1')""")
        store.query("""INSERT INTO failures VALUES ('r1', now(), 'fetch', 'https://news.example/feed',
                       'https://news.example/gone', 'fetch.http_404', 'HTTP 404')""")
    monkeypatch.undo()
    with open_store(db_path) as store:
        reasons_now = dict(store.query("SELECT url, reason FROM articles"))
        failures = store.query("SELECT run_id, stage, article_url, reason, message FROM failures ORDER BY article_url")
    assert reasons_now == {"https://news.example/crashed": "enrich.failed", "https://news.example/gone": "fetch.http_404"}
    assert failures == [("r1", "enrich", "https://news.example/crashed", "enrich.failed", "MemoryError"),
                        ("r1", "fetch", "https://news.example/gone", "fetch.http_404", "HTTP 404")]
