"""The DuckDB store: migrations, idempotent upserts, feeds, runs, and refusal of newer files."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from enrich.models import Article, FeedPoll
from enrich.store import MIGRATIONS, SCHEMA_VERSION, StoreError, open_store

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def make_article(url: str = "https://news.example/a", **changes) -> Article:
    article = Article(
        url=url, feed_url="https://news.example/feed.xml", entry_id=url, link=url, canonical_url=None,
        title="A title", author="Ada", published_at=NOW - timedelta(days=1), updated_at=None,
        site_name="Example", image_url=None, tags=("tech", "ai"), language="en", language_confidence=0.99,
        word_count=420, reading_minutes=2, text="Body text.", text_source="page",
        summary=("First sentence.", "Second one."), key_quotes=("“Quoted,” she said.",),
        feed_snippet="Snippet…", topics=(), content_hash="h1", fetched_at=NOW, enriched_at=NOW,
        http_status=200, status="ok", error=None,
    )
    return replace(article, **changes)


def test_new_file_is_migrated_to_current_version(db_path):
    with open_store(db_path) as store:
        assert store.schema_version() == SCHEMA_VERSION == len(MIGRATIONS)
        tables = {r[0] for r in store.query("SELECT table_name FROM information_schema.tables")}
    assert {"feeds", "articles", "failures", "runs", "schema_migrations"} <= tables


def test_reopening_does_not_migrate_twice(db_path):
    for _ in range(2):
        with open_store(db_path) as store:
            assert store.query("SELECT count(*) FROM schema_migrations")[0][0] == SCHEMA_VERSION


def test_newer_schema_is_refused_with_a_clear_message(db_path):
    with open_store(db_path) as store:
        store.query("INSERT INTO schema_migrations VALUES (?, now())", [SCHEMA_VERSION + 1])
    with pytest.raises(StoreError, match="newer than this code"):
        with open_store(db_path):
            pass


def test_article_round_trip_keeps_types(db_path):
    article = make_article()
    with open_store(db_path) as store:
        run_id = store.begin_run()
        store.upsert_articles([article], run_id)
        row = store.con.execute(
            "SELECT url, tags, summary, key_quotes, published_at, run_id, first_seen_at FROM articles"
        ).fetchone()
    assert row[0] == article.url
    assert row[1] == ["tech", "ai"]
    assert row[2] == ["First sentence.", "Second one."]
    assert row[3] == ["“Quoted,” she said."]
    assert row[4] == article.published_at
    assert row[5] == run_id
    assert row[6] == article.enriched_at


def test_upsert_is_idempotent_and_updates_in_place(db_path):
    with open_store(db_path) as store:
        store.upsert_articles([make_article(), make_article("https://news.example/b")], "r1")
        store.upsert_articles([make_article(title="New title", content_hash="h2")], "r2")
        rows = store.query("SELECT url, title, content_hash, run_id FROM articles ORDER BY url")
    assert rows == [
        ("https://news.example/a", "New title", "h2", "r2"),
        ("https://news.example/b", "A title", "h1", "r1"),
    ]


def test_upsert_keeps_first_seen_and_known_published_date(db_path):
    later = NOW + timedelta(hours=5)
    with open_store(db_path) as store:
        store.upsert_articles([make_article()], "r1")
        store.upsert_articles([make_article(published_at=None, enriched_at=later)], "r2")
        published, first_seen, enriched = store.query(
            "SELECT published_at, first_seen_at, enriched_at FROM articles"
        )[0]
    assert published == NOW - timedelta(days=1)
    assert first_seen == NOW
    assert enriched == later


def test_failed_articles_count_attempts(db_path):
    failed = make_article(status="fetch_failed", error="HTTP 503", text="", text_source="none")
    with open_store(db_path) as store:
        for run in ("r1", "r2", "r3"):
            store.upsert_articles([failed], run)
        known = store.known_articles([failed.url, "https://unknown.example/"])
    assert set(known) == {failed.url}
    assert known[failed.url].attempts == 3
    assert known[failed.url].status == "fetch_failed"


def test_batch_with_many_rows_and_duplicates(db_path):
    articles = [make_article(f"https://news.example/{i}") for i in range(450)]
    with open_store(db_path) as store:
        assert store.upsert_articles(articles + articles[:10], "r1") == 450
        assert store.query("SELECT count(*) FROM articles")[0][0] == 450


def test_hostile_text_is_stored_verbatim(db_path):
    nasty = "'); DROP TABLE articles; -- \x00? $1 {{x}}"
    with open_store(db_path) as store:
        store.upsert_articles([make_article(title=nasty, url="https://news.example/x?a=1';--")], "r1")
        assert store.query("SELECT title FROM articles")[0][0] == nasty
        assert store.query("SELECT count(*) FROM articles")[0][0] == 1


def test_feeds_add_list_and_poll_outcomes(db_path):
    with open_store(db_path) as store:
        assert store.add_feeds(["https://a.example/feed", "https://b.example/rss"], topic="Science") == 2
        assert store.add_feeds(["https://a.example/feed"]) == 0
        store.record_polls([FeedPoll("https://a.example/feed", ok=True, title="A feed", http_status=200)], "r1", NOW, {})
        for _ in range(2):
            store.record_polls(
                [FeedPoll("https://b.example/rss", ok=False, error_key="fetch.http_500", error="HTTP 500")], "r1", NOW, {}
            )
        feeds = {f.url: f for f in store.feeds()}
    assert feeds["https://a.example/feed"].title == "A feed"
    assert feeds["https://a.example/feed"].topic == "Science"
    assert feeds["https://a.example/feed"].consecutive_failures == 0
    assert feeds["https://b.example/rss"].last_status == "fetch.http_500"
    assert feeds["https://b.example/rss"].consecutive_failures == 2


def test_runs_are_recorded(db_path):
    with open_store(db_path) as store:
        run_id = store.begin_run()
        store.finish_run(run_id, {"feeds_polled": 3, "enriched": 7, "failed": 1})
        row = store.query("SELECT feeds_polled, enriched, failed, status, finished_at IS NOT NULL FROM runs")[0]
    assert row == (3, 7, 1, "completed", True)


def test_read_only_open_does_not_create_or_write(tmp_path):
    with pytest.raises(StoreError):
        with open_store(tmp_path / "missing.duckdb", read_only=True):
            pass


def test_second_writer_process_gets_store_busy(db_path):
    """DuckDB allows one writing process; a second one is told, not crashed."""
    import subprocess
    import sys
    import textwrap

    with open_store(db_path):
        probe = textwrap.dedent(f"""
            from enrich.store import open_store, StoreBusy
            try:
                with open_store({str(db_path)!r}):
                    print("opened")
            except StoreBusy as exc:
                print("busy")
        """)
        result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "busy", result.stderr


def test_not_a_database_file_is_a_store_error(tmp_path):
    bogus = tmp_path / "notes.duckdb"
    bogus.write_text("this is not a database")
    with pytest.raises(StoreError):
        with open_store(bogus):
            pass


def test_a_query_stopped_by_ctrl_c_stops_the_caller_too(tmp_path):
    # DuckDB turns the signal into its own InterruptException, an ordinary Exception that a run's
    # "one bad batch" handlers would swallow; the store raises KeyboardInterrupt again.
    import os
    import signal
    import threading

    # Python's own Ctrl-C handler, as in the CLI (a pytest-xdist worker ignores SIGINT); the query
    # takes ~12 s uninterrupted, so a store that lets the signal go fails here instead of hanging.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    with open_store(tmp_path / "stop.duckdb") as store:
        timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
        timer.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                store.con.execute("SELECT count(*) FROM range(3000000000) t(i) WHERE i % 7 = 3").fetchone()
        finally:
            timer.cancel()
            signal.signal(signal.SIGINT, previous)


def test_saved_duplicates_point_at_their_original_which_carries_their_feeds(db_path):
    from enrich.dedup import DuplicateMatch
    from enrich.models import LinkResult

    feed_a, feed_b = "https://a.example/feed.xml", "https://b.example/feed.xml"
    urls = [f"https://news.example/{name}" for name in ("original", "copy1", "copy2", "copy3", "other")]
    original, copy1, copy2, copy3, other = urls
    with open_store(db_path) as store:
        run_id = store.begin_run()
        store.upsert_articles([make_article(url) for url in urls], run_id)
        store.link_feeds([(original, feed_a), (copy1, feed_a), (copy2, feed_a), (copy3, feed_b), (other, feed_b)],
                         run_id, NOW)
        copies = {url: DuplicateMatch(original, "text", 0.95) for url in (copy1, copy2, copy3)}
        store.save_links(LinkResult(copies, {}), run_id, NOW)
        duplicate_of = dict(store.query("SELECT url, duplicate_of FROM articles"))
        feeds = store.query("SELECT article_url, feed_url FROM article_feeds ORDER BY ALL")
    assert duplicate_of == {original: None, copy1: original, copy2: original, copy3: original, other: None}
    # Each feed once for the original, however many of its copies a feed listed.
    assert [f for a, f in feeds if a == original] == [feed_a, feed_b]
    assert [f for a, f in feeds if a == other] == [feed_b]


def test_saved_related_lists_replace_the_stored_ones_whatever_their_length(db_path):
    """A changed list is written over the stored one: longer, shorter or emptied, it reads back as
    given; lists the result does not name stay as they were."""
    from enrich.models import LinkResult

    a, b, c, d, e, f = (f"https://news.example/{name}" for name in "abcdef")
    with open_store(db_path) as store:
        run_id = store.begin_run()
        store.upsert_articles([make_article(url) for url in (a, b, c, d, e, f)], run_id)
        store.save_links(LinkResult({}, {a: [(b, 0.9), (c, 0.8)], b: [(a, 0.9), (c, 0.5), (d, 0.4)],
                                         c: [(a, 0.8)], d: [(b, 0.4)]}), run_id, NOW)
        later = store.begin_run()
        store.save_links(LinkResult({}, {a: [(e, 0.95), (b, 0.9), (c, 0.8)], b: [(f, 0.7)], c: []}), later, NOW)
        assert store.related_lists([a, b, c, d]) == {
            a: [(e, 0.95), (b, 0.9), (c, 0.8)], b: [(f, 0.7)], d: [(b, 0.4)]}
        written_by = store.query("SELECT DISTINCT article_url, run_id FROM related ORDER BY ALL")
    assert written_by == [(a, later), (b, later), (d, run_id)]
