"""The DuckDB store: the only module that talks to the database.

Migrations are an append-only list; the schema version is how many have run. Writes are batched
upserts keyed on the article URL, so running the pipeline twice stores nothing twice.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from enrich.models import Article, Failure, FeedPoll, LinkCandidate, LinkResult

MIGRATIONS: tuple[str, ...] = (
    # 1: feeds, articles, failures, runs
    """
    CREATE TABLE feeds (
        url VARCHAR PRIMARY KEY,
        title VARCHAR,
        topic VARCHAR,
        language VARCHAR,
        added_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        last_polled_at TIMESTAMPTZ,
        last_status VARCHAR,
        http_status INTEGER,
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        last_error VARCHAR,
        bozo_reason VARCHAR,
        run_id VARCHAR
    );
    CREATE TABLE articles (
        url VARCHAR PRIMARY KEY,
        feed_url VARCHAR NOT NULL,
        entry_id VARCHAR,
        link VARCHAR,
        canonical_url VARCHAR,
        title VARCHAR,
        author VARCHAR,
        published_at TIMESTAMPTZ,
        updated_at TIMESTAMPTZ,
        site_name VARCHAR,
        image_url VARCHAR,
        tags VARCHAR[],
        language VARCHAR,
        language_confidence DOUBLE,
        word_count INTEGER,
        reading_minutes INTEGER,
        text VARCHAR,
        text_source VARCHAR,
        summary VARCHAR[],
        key_quotes VARCHAR[],
        feed_snippet VARCHAR,
        topics VARCHAR[],
        content_hash VARCHAR,
        fetched_at TIMESTAMPTZ,
        enriched_at TIMESTAMPTZ,
        http_status INTEGER,
        status VARCHAR NOT NULL,
        error VARCHAR,
        first_seen_at TIMESTAMPTZ NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 1,
        run_id VARCHAR
    );
    CREATE TABLE failures (
        run_id VARCHAR,
        failed_at TIMESTAMPTZ NOT NULL,
        stage VARCHAR NOT NULL,
        feed_url VARCHAR,
        article_url VARCHAR,
        reason VARCHAR NOT NULL,
        message VARCHAR
    );
    CREATE TABLE runs (
        id VARCHAR PRIMARY KEY,
        started_at TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ,
        feeds_polled INTEGER,
        feeds_failed INTEGER,
        new_articles INTEGER,
        enriched INTEGER,
        failed INTEGER,
        status VARCHAR NOT NULL
    );
    """,
    # 2: conditional GET and polite polling state per feed
    """
    ALTER TABLE feeds ADD COLUMN etag VARCHAR;
    ALTER TABLE feeds ADD COLUMN last_modified VARCHAR;
    ALTER TABLE feeds ADD COLUMN next_poll_at TIMESTAMPTZ;
    ALTER TABLE feeds ADD COLUMN last_success_at TIMESTAMPTZ;
    ALTER TABLE feeds ADD COLUMN gone BOOLEAN DEFAULT false;
    """,
    # 3: topics with scores, the article's kind, related articles, one story in many feeds
    """
    ALTER TABLE articles ADD COLUMN topic_scores DOUBLE[];
    ALTER TABLE articles ADD COLUMN kind VARCHAR;
    ALTER TABLE articles ADD COLUMN duplicate_of VARCHAR;
    ALTER TABLE articles ADD COLUMN vector BLOB;
    ALTER TABLE articles ADD COLUMN fingerprint BLOB;
    CREATE TABLE related (
        article_url VARCHAR NOT NULL,
        related_url VARCHAR NOT NULL,
        score DOUBLE NOT NULL,
        rank INTEGER NOT NULL,
        run_id VARCHAR,
        PRIMARY KEY (article_url, rank)
    );
    CREATE TABLE article_feeds (
        article_url VARCHAR NOT NULL,
        feed_url VARCHAR NOT NULL,
        first_seen_at TIMESTAMPTZ NOT NULL,
        run_id VARCHAR,
        PRIMARY KEY (article_url, feed_url)
    );
    """,
    # 4: comments on every table and column, for analysts browsing the schema
    """
    COMMENT ON TABLE feeds IS 'Subscribed feeds and their polling state.';
    COMMENT ON COLUMN feeds.url IS 'Feed URL (updated when the feed moves permanently).';
    COMMENT ON COLUMN feeds.title IS 'Feed title from the feed.';
    COMMENT ON COLUMN feeds.topic IS 'Default topic of the feed''s articles (OPML category or --topic).';
    COMMENT ON COLUMN feeds.language IS 'Language the feed declares.';
    COMMENT ON COLUMN feeds.added_at IS 'When the feed was added.';
    COMMENT ON COLUMN feeds.last_polled_at IS 'Last poll attempt.';
    COMMENT ON COLUMN feeds.last_status IS 'ok, not_modified, gone, or a reason key such as fetch.http_500.';
    COMMENT ON COLUMN feeds.http_status IS 'HTTP status of the last poll.';
    COMMENT ON COLUMN feeds.consecutive_failures IS 'Failed polls in a row; drives the backoff.';
    COMMENT ON COLUMN feeds.last_error IS 'Message of the last failure.';
    COMMENT ON COLUMN feeds.bozo_reason IS 'What the parser complained about in a malformed but usable feed.';
    COMMENT ON COLUMN feeds.run_id IS 'Run that last wrote the row.';
    COMMENT ON COLUMN feeds.etag IS 'ETag for conditional GET.';
    COMMENT ON COLUMN feeds.last_modified IS 'Last-Modified for conditional GET.';
    COMMENT ON COLUMN feeds.next_poll_at IS 'Earliest next poll (backoff, Retry-After); NULL when gone.';
    COMMENT ON COLUMN feeds.last_success_at IS 'Last successful poll.';
    COMMENT ON COLUMN feeds.gone IS 'The feed answered 410 Gone and is no longer polled.';
    COMMENT ON TABLE articles IS 'One row per article: the enriched record the reader shows.';
    COMMENT ON COLUMN articles.url IS 'Identity: the entry link without tracking parameters, or feed URL + #entry-hash.';
    COMMENT ON COLUMN articles.feed_url IS 'Feed the article was first enriched from.';
    COMMENT ON COLUMN articles.entry_id IS 'The entry''s guid/id in the feed.';
    COMMENT ON COLUMN articles.link IS 'The entry''s link, normalised.';
    COMMENT ON COLUMN articles.canonical_url IS 'Canonical URL the page names.';
    COMMENT ON COLUMN articles.title IS 'Title (feed first, page second).';
    COMMENT ON COLUMN articles.author IS 'Author (feed first, page second).';
    COMMENT ON COLUMN articles.published_at IS 'Publication time, UTC; never in the future.';
    COMMENT ON COLUMN articles.updated_at IS 'Update time the feed states, UTC.';
    COMMENT ON COLUMN articles.site_name IS 'Site name the page declares.';
    COMMENT ON COLUMN articles.image_url IS 'Lead image of the page.';
    COMMENT ON COLUMN articles.tags IS 'The entry''s categories.';
    COMMENT ON COLUMN articles.language IS 'ISO 639-1 code or und.';
    COMMENT ON COLUMN articles.language_confidence IS 'langdetect probability of the language.';
    COMMENT ON COLUMN articles.word_count IS 'Words (characters for zh/ja/ko/th).';
    COMMENT ON COLUMN articles.reading_minutes IS 'Whole minutes to read, at least 1.';
    COMMENT ON COLUMN articles.text IS 'Article text, one paragraph per line.';
    COMMENT ON COLUMN articles.text_source IS 'page, feed or none.';
    COMMENT ON COLUMN articles.summary IS 'Extractive summary, sentences verbatim in order.';
    COMMENT ON COLUMN articles.key_quotes IS 'Key quotes, sentences verbatim in order, none from the summary.';
    COMMENT ON COLUMN articles.feed_snippet IS 'The entry description as plain text, at most 300 characters.';
    COMMENT ON COLUMN articles.topics IS '1-3 topics, best first.';
    COMMENT ON COLUMN articles.content_hash IS 'Hash of the entry content; a change re-enriches.';
    COMMENT ON COLUMN articles.fetched_at IS 'When the page was fetched.';
    COMMENT ON COLUMN articles.enriched_at IS 'When the record was enriched.';
    COMMENT ON COLUMN articles.http_status IS 'HTTP status of the page fetch.';
    COMMENT ON COLUMN articles.status IS 'ok, or fetch_failed, not_html, no_text, enrich_failed.';
    COMMENT ON COLUMN articles.error IS 'Why the page or text is missing.';
    COMMENT ON COLUMN articles.first_seen_at IS 'When the article was first stored.';
    COMMENT ON COLUMN articles.attempts IS 'Enrichment attempts of a failing article.';
    COMMENT ON COLUMN articles.run_id IS 'Run that last wrote the row.';
    COMMENT ON COLUMN articles.topic_scores IS 'Scores of topics, same order.';
    COMMENT ON COLUMN articles.kind IS 'News, Insight, Opinion, Guide, Review, Announcement or Personal.';
    COMMENT ON COLUMN articles.duplicate_of IS 'URL of the stored article this one repeats (same story); NULL for originals.';
    COMMENT ON COLUMN articles.vector IS 'Hashed term vector for related articles.';
    COMMENT ON COLUMN articles.fingerprint IS 'MinHash of the text for near-duplicate detection.';
    COMMENT ON TABLE failures IS 'Every failure of a feed poll, page fetch or extraction, per run.';
    COMMENT ON COLUMN failures.run_id IS 'Run in which it failed.';
    COMMENT ON COLUMN failures.failed_at IS 'When.';
    COMMENT ON COLUMN failures.stage IS 'poll, fetch or extract.';
    COMMENT ON COLUMN failures.feed_url IS 'Feed concerned.';
    COMMENT ON COLUMN failures.article_url IS 'Article concerned (NULL for a feed failure).';
    COMMENT ON COLUMN failures.reason IS 'Stable reason key, e.g. fetch.timeout.';
    COMMENT ON COLUMN failures.message IS 'Human-readable message.';
    COMMENT ON TABLE runs IS 'One row per flow run.';
    COMMENT ON COLUMN runs.id IS 'Run id carried by every row the run writes.';
    COMMENT ON COLUMN runs.started_at IS 'Start.';
    COMMENT ON COLUMN runs.finished_at IS 'End (NULL if the run died).';
    COMMENT ON COLUMN runs.feeds_polled IS 'Feeds polled.';
    COMMENT ON COLUMN runs.feeds_failed IS 'Feeds that failed.';
    COMMENT ON COLUMN runs.new_articles IS 'New or changed articles.';
    COMMENT ON COLUMN runs.enriched IS 'Articles enriched (status ok).';
    COMMENT ON COLUMN runs.failed IS 'Articles that failed.';
    COMMENT ON COLUMN runs.status IS 'running or completed.';
    COMMENT ON TABLE related IS 'You might also want to read: up to 5 related articles per article.';
    COMMENT ON COLUMN related.article_url IS 'The article.';
    COMMENT ON COLUMN related.related_url IS 'An article related to it.';
    COMMENT ON COLUMN related.score IS 'Similarity (TF-IDF cosine).';
    COMMENT ON COLUMN related.rank IS '1 is the most related.';
    COMMENT ON COLUMN related.run_id IS 'Run that wrote the list.';
    COMMENT ON TABLE article_feeds IS 'Every feed an article appeared in (one story, many feeds).';
    COMMENT ON COLUMN article_feeds.article_url IS 'The article (the original for folded duplicates).';
    COMMENT ON COLUMN article_feeds.feed_url IS 'A feed that carried it.';
    COMMENT ON COLUMN article_feeds.first_seen_at IS 'When it was first seen in that feed.';
    COMMENT ON COLUMN article_feeds.run_id IS 'Run that linked them.';
    """,
    # 5: where each metadata field came from
    """
    ALTER TABLE articles ADD COLUMN metadata_sources JSON;
    COMMENT ON COLUMN articles.metadata_sources IS 'Which source each metadata field came from: {"title": "feed"|"page"|"none", ...}.';
    """,
    # 6: why an article is not ok, which stages failed on it, and which process holds a run
    """
    ALTER TABLE articles ADD COLUMN reason VARCHAR;
    ALTER TABLE articles ADD COLUMN failed_stages VARCHAR[];
    ALTER TABLE runs ADD COLUMN host VARCHAR;
    ALTER TABLE runs ADD COLUMN pid INTEGER;
    UPDATE articles SET reason = coalesce(
        (SELECT f.reason FROM failures f WHERE f.article_url = articles.url ORDER BY f.failed_at DESC LIMIT 1),
        CASE status WHEN 'no_text' THEN 'extract.empty' WHEN 'not_html' THEN 'fetch.not_html'
                    WHEN 'enrich_failed' THEN 'enrich.failed' END)
    WHERE status <> 'ok';
    COMMENT ON COLUMN articles.status IS 'ok, or fetch_failed, not_html, no_text, enrich_failed (reason says why).';
    COMMENT ON COLUMN articles.reason IS 'Stable reason key of a status other than ok, e.g. fetch.http_404, enrich.crashed.';
    COMMENT ON COLUMN articles.failed_stages IS 'Enrichment stages that raised on an ok article (their fields are empty).';
    COMMENT ON COLUMN failures.stage IS 'poll, fetch, extract, enrich, link, or the enrichment stage that raised (summary, quotes, ...).';
    COMMENT ON COLUMN runs.status IS 'running, completed, finished_with_errors, or abandoned (killed; marked by a later run).';
    COMMENT ON COLUMN runs.host IS 'Host of the process that ran it.';
    COMMENT ON COLUMN runs.pid IS 'Process id that ran it: a running run whose process is gone was abandoned.';
    """,
    # 7: who said each key quote
    """
    ALTER TABLE articles ADD COLUMN key_quote_speakers VARCHAR[];
    COMMENT ON COLUMN articles.key_quote_speakers IS 'Speaker of each key quote, same order; NULL where the quote names none.';
    """,
    # comments on the migrations table itself (created by Store.migrate, before any migration)
    """
    COMMENT ON TABLE schema_migrations IS 'Applied schema migrations; the highest version is the schema version.';
    COMMENT ON COLUMN schema_migrations.version IS 'Migration number (position in enrich/store.py MIGRATIONS, from 1).';
    COMMENT ON COLUMN schema_migrations.applied_at IS 'When it was applied.';
    """,
    # feed management: pause a feed, keep the title the user gave it
    """
    ALTER TABLE feeds ADD COLUMN paused BOOLEAN DEFAULT false;
    ALTER TABLE feeds ADD COLUMN title_from_user BOOLEAN DEFAULT false;
    COMMENT ON COLUMN feeds.paused IS 'Paused by the user (enrich feeds pause): not polled until resumed.';
    COMMENT ON COLUMN feeds.title_from_user IS 'The title was given by the user (feeds rename, OPML); polls keep it.';
    """,
    # 10: the Prefect flow run behind each run, to find its logs and artifacts in Prefect's UI
    """
    ALTER TABLE runs ADD COLUMN flow_run_id VARCHAR;
    COMMENT ON COLUMN runs.flow_run_id IS 'Prefect flow-run id of the run (NULL when run without Prefect).';
    """,
    # 11 (after 10, the Prefect flow-run id): one outcome vocabulary (enrich/reasons.py). Every article
    # stored without text has a reason, and its failure is in failures: older runs never recorded
    # their enrich_failed articles there.
    """
    UPDATE articles SET reason = CASE status WHEN 'no_text' THEN 'extract.empty' WHEN 'not_html' THEN 'fetch.not_html'
                                             WHEN 'enrich_failed' THEN 'enrich.failed' END
    WHERE status <> 'ok' AND reason IS NULL;
    INSERT INTO failures (run_id, failed_at, stage, feed_url, article_url, reason, message)
    SELECT a.run_id, coalesce(a.enriched_at, a.first_seen_at),
           CASE a.status WHEN 'no_text' THEN 'extract' WHEN 'enrich_failed' THEN 'enrich' ELSE 'fetch' END,
           a.feed_url, a.url, a.reason, a.error
    FROM articles a
    WHERE a.status <> 'ok' AND a.reason IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM failures f WHERE f.article_url = a.url AND f.reason = a.reason
                      AND f.run_id IS NOT DISTINCT FROM a.run_id);
    COMMENT ON COLUMN articles.status IS 'ok, or the family of reason: fetch_failed (fetch.*), not_html (fetch.not_html), no_text (extract.empty), enrich_failed (enrich.failed, enrich.crashed).';
    COMMENT ON COLUMN articles.reason IS 'Stable reason key (enrich/reasons.py) of a status other than ok, e.g. fetch.http_404, enrich.crashed.';
    COMMENT ON COLUMN failures.reason IS 'Stable reason key (enrich/reasons.py), e.g. fetch.timeout, entry.bad_date, enrich.summary.';
    COMMENT ON COLUMN failures.stage IS 'poll, fetch, extract, enrich, store, link, or the enrichment stage that raised (summary, quotes, ...).';
    COMMENT ON TABLE failures IS 'Every failure of a feed, entry, header, page fetch, extraction, enrichment stage, store or link step, per run.';
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
# A failed article is tried again on later runs, but not forever: a 404 stays a 404.
MAX_ATTEMPTS = 3

# Article fields are columns of the same name, but for the stages that failed, stored by name.
# Runs this process began and has not finished: a running row with this process's id but not in
# here was left by an earlier flow in the same process that crashed (serve, tests).
_RUNS_HELD_HERE: set[str] = set()

ARTICLE_COLUMNS = tuple("failed_stages" if f.name == "stage_failures" else f.name for f in fields(Article))


def _article_row(article: Article) -> list:
    return [[f.stage for f in article.stage_failures] if name == "stage_failures" else getattr(article, name)
            for name in _ARTICLE_FIELDS]


_ARTICLE_FIELDS = tuple(f.name for f in fields(Article))


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EXPORT_FORMATS = {"jsonl": "json", "parquet": "parquet", "csv": "csv"}
# What text formats get instead of DuckDB's own spellings: ISO 8601 UTC times (JSON Lines, CSV), and
# JSON text for lists and structs (CSV has no nesting).
_ISO_UTC = "strftime(published_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ') AS published_at"
_NESTED = ("topics", "topic_scores", "summary", "key_quotes", "related")
EXPORT_REPLACE = {
    "jsonl": _ISO_UTC,
    "csv": ", ".join([_ISO_UTC, *(f"to_json({c}) AS {c}" for c in _NESTED)]),
}
# The statements ``enrich query`` runs: reads (SELECT, DESCRIBE, SHOW, SUMMARIZE, WITH) and EXPLAIN.
ANALYST_STATEMENTS = frozenset({"SELECT", "EXPLAIN"})
# The reader's record: one row per enriched article that is not a copy of another, related inline.
READER_SQL = """
    SELECT a.url, a.canonical_url, a.feed_url, f.title AS feed_title, a.title, a.author,
           coalesce(a.published_at, a.first_seen_at) AS published_at, a.language, a.kind,
           a.reading_minutes, a.word_count, coalesce(a.topics, []) AS topics,
           coalesce(a.topic_scores, []) AS topic_scores, a.summary, a.key_quotes, a.key_quote_speakers,
           a.feed_snippet, a.site_name, a.image_url, a.text_source,
           coalesce((SELECT list({'url': r.related_url, 'title': b.title, 'score': r.score} ORDER BY r.rank)
                     FROM related r JOIN articles b ON b.url = r.related_url
                     WHERE r.article_url = a.url), []) AS related
    FROM articles a LEFT JOIN feeds f ON f.url = a.feed_url
    WHERE a.status = 'ok' AND a.duplicate_of IS NULL
      AND coalesce(a.published_at, a.first_seen_at) >= ?
    ORDER BY coalesce(a.published_at, a.first_seen_at) DESC, a.url
"""


class StoreError(Exception):
    """The database cannot be used: locked by another writer, newer than this code, or corrupt."""


class StoreBusy(StoreError):
    """Another process holds the write lock on the database file."""


class QueryRefused(StoreError):
    """An analyst's statement that is not a single read: ``enrich query`` never writes."""


class QueryFailed(StoreError):
    """An analyst's query that DuckDB rejects (syntax, unknown column, ...)."""


@dataclass(frozen=True, slots=True)
class KnownArticle:
    content_hash: str | None
    status: str
    attempts: int


@dataclass(frozen=True, slots=True)
class StoredFeed:
    url: str
    title: str | None
    topic: str | None
    last_polled_at: datetime | None
    last_status: str | None
    consecutive_failures: int
    etag: str | None = None
    last_modified: str | None = None
    next_poll_at: datetime | None = None
    gone: bool = False
    language: str | None = None
    paused: bool = False

    def due(self, now: datetime) -> bool:
        return not self.gone and not self.paused and (self.next_poll_at is None or self.next_poll_at <= now)


class _Stoppable:
    """A connection whose queries, stopped by Ctrl-C or SIGTERM, raise KeyboardInterrupt again.

    DuckDB checks for signals while a query runs; when one arrives it stops the query and raises
    an ordinary Exception in place of the signal's own. Every
    ``except Exception`` that keeps a run going past one bad batch then swallowed the stop, and
    the run went on. Only a signal interrupts a query here (nothing calls ``interrupt()``).
    """

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    def execute(self, *args, **kwargs) -> duckdb.DuckDBPyConnection:
        with _signal_stops():
            return self._con.execute(*args, **kwargs)

    def executemany(self, *args, **kwargs) -> duckdb.DuckDBPyConnection:
        with _signal_stops():
            return self._con.executemany(*args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self._con, name)


@contextmanager
def _signal_stops() -> Iterator[None]:
    try:
        yield
    except (duckdb.InterruptException, RuntimeError) as exc:
        # DuckDB 2.0 raises a plain RuntimeError('Query interrupted'), older ones InterruptException.
        if isinstance(exc, duckdb.InterruptException) or str(exc) == "Query interrupted":
            raise KeyboardInterrupt("a database query was stopped by a signal") from exc
        raise


class Store:
    """A connection to the pipeline's DuckDB file. Use :func:`open_store` to get one."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = _Stoppable(con)

    # -- schema ---------------------------------------------------------------------------
    def schema_version(self) -> int:
        exists = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
        ).fetchone()[0]
        if not exists:
            return 0
        return self.con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0]

    def migrate(self) -> int:
        """Apply pending migrations, each in its own transaction; refuse a newer file."""
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ)"
        )
        version = self.schema_version()
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"database schema version {version} is newer than this code understands "
                f"({SCHEMA_VERSION}); upgrade enrich before using this file"
            )
        for number, sql in enumerate(MIGRATIONS[version:], start=version + 1):
            self.con.execute("BEGIN TRANSACTION")
            try:
                self.con.execute(sql)
                self.con.execute("INSERT INTO schema_migrations VALUES (?, now())", [number])
                self.con.execute("COMMIT")
            except Exception:
                self.con.execute("ROLLBACK")
                raise
        return SCHEMA_VERSION

    # -- feeds ----------------------------------------------------------------------------
    def add_feeds(self, urls: Iterable[str], topic: str | None = None) -> int:
        """Register feeds (existing ones are kept as they are); returns how many were new."""
        urls = list(dict.fromkeys(urls))
        if not urls:
            return 0
        before = self.con.execute("SELECT count(*) FROM feeds").fetchone()[0]
        self.con.execute(
            "INSERT INTO feeds (url, topic) SELECT unnest(?), ? ON CONFLICT (url) DO NOTHING", [urls, topic]
        )
        return self.con.execute("SELECT count(*) FROM feeds").fetchone()[0] - before

    def feeds(self, urls: Sequence[str] | None = None) -> list[StoredFeed]:
        """Stored feeds, all or those in ``urls``, with their polling state."""
        sql = """SELECT url, title, topic, last_polled_at, last_status, consecutive_failures,
                        etag, last_modified, next_poll_at, coalesce(gone, false), language, coalesce(paused, false)
                 FROM feeds"""
        if urls is None:
            rows = self.con.execute(sql + " ORDER BY url").fetchall()
        else:
            rows = self.con.execute(sql + " WHERE url IN (SELECT unnest(?)) ORDER BY url", [list(urls)]).fetchall()
        return [StoredFeed(*row) for row in rows]

    def record_polls(
        self, polls: Sequence[FeedPoll], run_id: str, at: datetime, next_polls: dict[str, datetime | None]
    ) -> None:
        """Store each feed's poll outcome: status, validators for conditional GET, next poll time.

        A 304 keeps the stored validators; a permanent redirect moves the feed (and its
        articles) to the new URL; a 410 marks it gone so it is never polled again.
        """
        if not polls:
            return
        self.add_feeds(p.feed_url for p in polls)
        columns = {
            "url": [p.feed_url for p in polls],
            "title": [p.title for p in polls],
            "language": [p.language for p in polls],
            "status": [("not_modified" if p.not_modified else "ok") if p.ok else ("gone" if p.gone else p.error_key)
                       for p in polls],
            "http_status": [p.http_status for p in polls],
            "ok": [p.ok for p in polls],
            "not_modified": [p.not_modified for p in polls],
            "error": [p.error for p in polls],
            "bozo": [p.bozo_reason for p in polls],
            "etag": [p.etag for p in polls],
            "last_modified": [p.last_modified for p in polls],
            "next_poll_at": [next_polls.get(p.feed_url) for p in polls],
            "gone": [p.gone for p in polls],
        }
        # One set-based UPDATE over unnested lists; executemany would run it once per feed.
        unnested = ", ".join(f"unnest(${name}::{kind}[]) AS {name}" for name, kind in (
            ("url", "VARCHAR"), ("title", "VARCHAR"), ("language", "VARCHAR"), ("status", "VARCHAR"),
            ("http_status", "INTEGER"), ("ok", "BOOLEAN"), ("not_modified", "BOOLEAN"), ("error", "VARCHAR"),
            ("bozo", "VARCHAR"), ("etag", "VARCHAR"), ("last_modified", "VARCHAR"),
            ("next_poll_at", "TIMESTAMPTZ"), ("gone", "BOOLEAN")))
        self.con.execute(
            f"""
            UPDATE feeds SET
                title = CASE WHEN feeds.title_from_user THEN feeds.title ELSE coalesce(p.title, feeds.title) END,
                language = coalesce(p.language, feeds.language),
                last_polled_at = $at,
                last_status = p.status,
                http_status = p.http_status,
                consecutive_failures = CASE WHEN p.ok THEN 0 ELSE feeds.consecutive_failures + 1 END,
                last_success_at = CASE WHEN p.ok THEN $at ELSE feeds.last_success_at END,
                last_error = p.error,
                bozo_reason = CASE WHEN p.not_modified THEN feeds.bozo_reason ELSE p.bozo END,
                etag = CASE WHEN p.not_modified THEN feeds.etag WHEN p.ok THEN p.etag ELSE feeds.etag END,
                last_modified = CASE WHEN p.not_modified THEN feeds.last_modified WHEN p.ok THEN p.last_modified
                                     ELSE feeds.last_modified END,
                next_poll_at = p.next_poll_at,
                gone = p.gone,
                run_id = $run_id
            FROM (SELECT {unnested}) AS p
            WHERE feeds.url = p.url
            """,
            {**columns, "at": at, "run_id": run_id},
        )
        for poll in polls:
            if poll.moved_to and poll.moved_to != poll.feed_url:
                self.move_feed(poll.feed_url, poll.moved_to)

    def link_feeds(self, pairs: Sequence[tuple[str, str]], run_id: str, at: datetime) -> None:
        """Remember every feed an article appeared in: one story syndicated twice is stored once."""
        pairs = list(dict.fromkeys(pairs))
        if pairs:
            # One set-based statement: executemany runs row by row (21 s for 4,000 rows here).
            self.con.execute(
                """INSERT INTO article_feeds SELECT unnest(?), unnest(?), ?, ? ON CONFLICT DO NOTHING""",
                [[a for a, _ in pairs], [f for _, f in pairs], at, run_id],
            )

    def move_feed(self, old: str, new: str) -> None:
        """Follow a permanent redirect: the feed's row and its articles now belong to ``new``."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            if self.con.execute("SELECT count(*) FROM feeds WHERE url = ?", [new]).fetchone()[0]:
                self.con.execute("DELETE FROM feeds WHERE url = ?", [old])
            else:
                self.con.execute("UPDATE feeds SET url = ? WHERE url = ?", [new, old])
            self.con.execute("UPDATE articles SET feed_url = ? WHERE feed_url = ?", [new, old])
            self.con.execute(
                """INSERT INTO article_feeds SELECT article_url, ?, first_seen_at, run_id FROM article_feeds
                   WHERE feed_url = ? ON CONFLICT DO NOTHING""", [new, old])
            self.con.execute("DELETE FROM article_feeds WHERE feed_url = ?", [old])
            self.con.execute("COMMIT")
        except Exception:
            self.con.execute("ROLLBACK")
            raise

    # -- articles -------------------------------------------------------------------------
    def known_articles(self, urls: Sequence[str]) -> dict[str, KnownArticle]:
        if not urls:
            return {}
        rows = self.con.execute(
            "SELECT url, content_hash, status, attempts FROM articles WHERE url IN (SELECT unnest(?))",
            [list(urls)],
        ).fetchall()
        return {url: KnownArticle(h, status, attempts) for url, h, status, attempts in rows}

    def upsert_articles(self, articles: Sequence[Article], run_id: str, chunk: int = 200) -> int:
        """Insert or update articles in batches; a second write of the same URL updates it.

        An ``enrich_failed`` record (our bug, not the article's state) never replaces an enriched
        one: the stored article stays as it was, and its changed content is tried again next run.
        """
        latest = {a.url: a for a in articles}  # one row per URL per statement
        rows = [(*_article_row(a), a.enriched_at, run_id) for a in latest.values()]
        columns = (*ARTICLE_COLUMNS, "first_seen_at", "run_id")
        placeholders = "(" + ", ".join("?" for _ in columns) + ")"
        updates = ", ".join(
            f"{c} = excluded.{c}" for c in columns if c not in {"url", "first_seen_at", "published_at"}
        )
        for start in range(0, len(rows), chunk):
            batch = rows[start : start + chunk]
            self.con.execute(
                f"""
                INSERT INTO articles ({", ".join(columns)}) VALUES {", ".join(placeholders for _ in batch)}
                ON CONFLICT (url) DO UPDATE SET {updates},
                    published_at = coalesce(excluded.published_at, articles.published_at),
                    attempts = CASE WHEN excluded.status = 'ok' THEN 1 ELSE articles.attempts + 1 END
                WHERE NOT (excluded.status = 'enrich_failed' AND articles.status = 'ok')
                """,
                [value for row in batch for value in row],
            )
        return len(rows)

    def link_candidates(self, since: datetime, exclude: Sequence[str] = ()) -> list[LinkCandidate]:
        """Enriched, non-duplicate articles published (or, when undated, first seen) since ``since``."""
        # Filters on plain columns, not on coalesce(published_at, first_seen_at): DuckDB pushes a
        # column filter into the scan and skips the vector and fingerprint blobs of older rows; on
        # the expression it read every row's blobs (bench/large_store.py, a 30-day window of a
        # 200,000-article store: +550 MiB and 1.1 s of CPU that way, +124 MiB and 0.2 s this way).
        select = """SELECT url, canonical_url, language, coalesce(published_at, first_seen_at), vector, fingerprint
                    FROM articles
                    WHERE status = 'ok' AND duplicate_of IS NULL AND url NOT IN (SELECT unnest($exclude))"""
        rows = self.con.execute(
            f"""{select} AND published_at >= $since
                UNION ALL {select} AND published_at IS NULL AND first_seen_at >= $since""",
            {"since": since, "exclude": list(exclude)},
        ).fetchall()
        return [LinkCandidate(*row) for row in rows]

    def related_lists(self, urls: Sequence[str]) -> dict[str, list[tuple[str, float]]]:
        rows = self.con.execute(
            """SELECT article_url, list((related_url, score) ORDER BY rank) FROM related
               WHERE article_url IN (SELECT unnest(?)) GROUP BY article_url""",
            [list(urls)],
        ).fetchall()
        return {url: [tuple(pair) for pair in items] for url, items in rows}

    def save_links(self, result: LinkResult, run_id: str, at: datetime) -> None:
        """Mark duplicates (their feeds now also carry the original) and replace changed related lists."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            if result.duplicates:
                # Two statements for all of them: a statement per duplicate cost 1.3 ms of CPU each
                # (bench/throughput.py at 1,000: 819 copies, 2.1 s of the run's linking step).
                copies = list(result.duplicates)
                originals = [match.url for match in result.duplicates.values()]
                self.con.execute(
                    """UPDATE articles SET duplicate_of = copies.original
                       FROM (SELECT unnest($copies) AS url, unnest($originals) AS original) AS copies
                       WHERE articles.url = copies.url""", {"copies": copies, "originals": originals})
                self.con.execute(
                    """INSERT INTO article_feeds
                       SELECT DISTINCT copies.original, af.feed_url, $at, $run_id
                       FROM article_feeds AS af
                       JOIN (SELECT unnest($copies) AS url, unnest($originals) AS original) AS copies
                         ON af.article_url = copies.url
                       ON CONFLICT DO NOTHING""", {"copies": copies, "originals": originals, "at": at, "run_id": run_id})
            if result.related:
                # Lists are rewritten in place, rank by rank, in one statement over column lists, and
                # cut to their new length: a new article can change thousands of stored lists
                # (bench/large_store.py --similar-percent 100: 82,020 rows). A statement per row
                # cost 12.6 s of CPU; deleting the lists and inserting them again 1.1 s, most of it
                # the commit's index work; writing over the same keys 0.3 s.
                rows = [(url, other, score, rank)
                        for url, ranked in result.related.items() for rank, (other, score) in enumerate(ranked, 1)]
                if rows:
                    urls, others, scores, ranks = (list(column) for column in zip(*rows, strict=True))
                    self.con.execute(
                        """INSERT INTO related SELECT unnest(?), unnest(?), unnest(?), unnest(?), ?
                           ON CONFLICT (article_url, rank) DO UPDATE
                           SET related_url = excluded.related_url, score = excluded.score, run_id = excluded.run_id""",
                        [urls, others, scores, ranks, run_id])
                self.con.execute(
                    """DELETE FROM related USING (SELECT unnest(?) AS url, unnest(?) AS length) AS lists
                       WHERE related.article_url = lists.url AND related.rank > lists.length""",
                    [list(result.related), [len(ranked) for ranked in result.related.values()]])
            self.con.execute("COMMIT")
        except Exception:
            self.con.execute("ROLLBACK")
            raise

    def record_failures(self, failures: Sequence[Failure], run_id: str, at: datetime) -> None:
        """Append one ``failures`` row per :class:`Failure`."""
        if failures:
            self.con.executemany(
                """INSERT INTO failures (run_id, failed_at, stage, feed_url, article_url, reason, message)
                   VALUES (?, ?, ?, ?, ?, ?, ?)""",
                [(run_id, at, f.stage, f.feed_url, f.article_url, f.reason, f.message) for f in failures],
            )

    # -- runs -----------------------------------------------------------------------------
    def begin_run(self, at: datetime | None = None, flow_run_id: str | None = None) -> str:
        """Open a run held by this process; :meth:`finish_run` closes it. ``flow_run_id`` is
        Prefect's id of the flow run doing it, if any."""
        run_id = uuid.uuid4().hex[:12]
        self.con.execute(
            "INSERT INTO runs (id, started_at, status, host, pid, flow_run_id) VALUES (?, ?, 'running', ?, ?, ?)",
            [run_id, at or datetime.now(UTC), socket.gethostname(), os.getpid(), flow_run_id],
        )
        _RUNS_HELD_HERE.add(run_id)
        return run_id

    def finish_run(self, run_id: str, counts: dict[str, int], status: str = "completed") -> None:
        self.con.execute(
            """UPDATE runs SET finished_at = ?, feeds_polled = ?, feeds_failed = ?, new_articles = ?,
               enriched = ?, failed = ?, status = ? WHERE id = ?""",
            [datetime.now(UTC), counts.get("feeds_polled", 0), counts.get("feeds_failed", 0),
             counts.get("new_articles", 0), counts.get("enriched", 0), counts.get("failed", 0),
             status, run_id],
        )
        _RUNS_HELD_HERE.discard(run_id)

    def abandoned_runs(self) -> list[str]:
        """Runs still marked running whose process is gone (killed, or crashed before closing them).

        The flow holds the file only for short spells, so another live run may be between two of
        them: a run is abandoned only when the process that began it no longer runs it. A run
        begun on another host cannot be checked from here and is left alone; one from before
        runs recorded their process is abandoned.
        """
        here, me = socket.gethostname(), os.getpid()
        rows = self.con.execute("SELECT id, host, pid FROM runs WHERE status = 'running'").fetchall()
        return [run_id for run_id, host, pid in rows
                if pid is None or (host == here and (run_id not in _RUNS_HELD_HERE if pid == me else not _alive(pid)))]

    def mark_abandoned(self, run_ids: Sequence[str], at: datetime) -> None:
        self.con.execute(
            "UPDATE runs SET status = 'abandoned', finished_at = ? WHERE id IN (SELECT unnest(?)) AND status = 'running'",
            [at, list(run_ids)],
        )

    def stored_by_runs(self, run_ids: Sequence[str]) -> list[LinkCandidate]:
        """The enriched, non-duplicate articles the given runs stored last, for linking them late."""
        rows = self.con.execute(
            """SELECT url, canonical_url, language, coalesce(published_at, first_seen_at), vector, fingerprint
               FROM articles WHERE status = 'ok' AND duplicate_of IS NULL AND run_id IN (SELECT unnest(?))""",
            [list(run_ids)],
        ).fetchall()
        return [LinkCandidate(*row) for row in rows]

    def query(self, sql: str, params: Sequence | None = None) -> list[tuple]:
        return self.con.execute(sql, params or []).fetchall()

    def reader_records(self, since: datetime | None = None, limit: int | None = None) -> list[dict]:
        """What the reader shows, one dict per enriched article, newest first, related inline."""
        sql = READER_SQL + (f" LIMIT {int(limit)}" if limit else "")
        cursor = self.con.execute(sql, [since or EPOCH])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    def export(self, out: Path, fmt: str, since: datetime | None = None) -> int:
        """Write the reader's records to ``out`` as JSON lines or Parquet (DuckDB's own COPY)."""
        if fmt not in EXPORT_FORMATS:
            raise ValueError(f"unknown export format {fmt!r}; use one of {sorted(EXPORT_FORMATS)}")
        out.parent.mkdir(parents=True, exist_ok=True)
        target = str(out).replace("'", "''")  # COPY takes a literal path, not a parameter
        select = f"SELECT * REPLACE ({EXPORT_REPLACE[fmt]}) FROM ({READER_SQL})" if fmt in EXPORT_REPLACE else READER_SQL
        self.con.execute(f"COPY ({select}) TO '{target}' (FORMAT {EXPORT_FORMATS[fmt]})", [since or EPOCH])
        return self.con.execute(f"SELECT count(*) FROM ({READER_SQL})", [since or EPOCH]).fetchone()[0]

    # -- analysts and feed management (enrich query, enrich feeds ...) -----------------------
    def analyst_query(self, sql: str) -> tuple[list[str], list[tuple]]:
        """Run one read-only statement for an analyst; returns column names and rows.

        Meant for a read-only connection; on top of that only one SELECT/EXPLAIN is accepted and
        file access is switched off, so neither COPY ... TO nor read_csv can touch the disk.
        """
        try:
            statements = self.con.extract_statements(sql)
        except duckdb.Error as exc:
            raise QueryFailed(str(exc)) from exc
        if len(statements) != 1:
            raise QueryRefused(f"one statement at a time, not {len(statements)}")
        kind = statements[0].type.name
        if kind not in ANALYST_STATEMENTS:
            raise QueryRefused(f"enrich query only reads; {kind} statements are refused")
        self.con.execute("SET enable_external_access = false")
        try:
            cursor = self.con.execute(sql)
            return [d[0] for d in cursor.description], cursor.fetchall()
        except duckdb.Error as exc:
            raise QueryFailed(str(exc)) from exc

    def add_feed(self, url: str, *, title: str | None = None, topic: str | None = None) -> bool:
        """Subscribe to one feed (an existing one is kept as it is); a title given here outlives polls."""
        return bool(self.con.execute(
            """INSERT INTO feeds (url, title, topic, title_from_user) VALUES (?, ?, ?, ?)
               ON CONFLICT (url) DO NOTHING RETURNING url""", [url, title, topic, title is not None]).fetchall())

    def remove_feed(self, url: str) -> bool:
        """Unsubscribe; the feed's articles stay (they are the reader's history)."""
        return self._changed("DELETE FROM feeds WHERE url = ?", [url])

    def set_feed_paused(self, url: str, paused: bool) -> bool:
        return self._changed("UPDATE feeds SET paused = ? WHERE url = ?", [paused, url])

    def set_feed_topic(self, url: str, topic: str | None) -> bool:
        return self._changed("UPDATE feeds SET topic = ? WHERE url = ?", [topic, url])

    def rename_feed(self, url: str, title: str) -> bool:
        return self._changed("UPDATE feeds SET title = ?, title_from_user = true WHERE url = ?", [title, url])

    def _changed(self, sql: str, params: list) -> bool:
        """Run an UPDATE/DELETE of one feed; whether a row matched."""
        return self.con.execute(sql, params).fetchone()[0] > 0


def release_run(run_id: str) -> None:
    """This process no longer holds ``run_id``: closed, or its flow crashed (a later run then
    finds it still running and marks it abandoned)."""
    _RUNS_HELD_HERE.discard(run_id)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


# -- the reader API's snapshot (enrich/api.py) ------------------------------------------------------
# The API never reads the pipeline's file in place: DuckDB lets one process write, and any reader,
# read-only or not, keeps that writer out. It serves a private copy instead, prepared once per copy:
# each reader's record as one JSON document beside the columns requests filter on. Measured on
# 100,000 articles (bench/api.py, CPU per page of 21): READER_SQL itself 800 ms (its related-articles
# subquery); the prepared table, ordering its whole rows 50 ms; the page's keys then their documents
# by index 11 ms.
API_TABLE = "api_articles"
API_PREPARE_SQL = f"""
    CREATE OR REPLACE TABLE {API_TABLE} AS
    SELECT sha256(r.url)[1:16] AS id, r.url, r.published_at, r.language, r.kind, r.feed_url, r.topics,
           lower(concat_ws(' ', a.title, a.text)) AS search_doc, to_json(r)::VARCHAR AS doc
    FROM ({READER_SQL}) r JOIN articles a ON a.url = r.url
    ORDER BY r.published_at DESC, r.url
"""
API_INDEX_SQL = f"CREATE UNIQUE INDEX {API_TABLE}_id ON {API_TABLE} (id)"
# Search looks for each word in the lower-cased title and text (the summary's sentences are in
# it), prepared once per snapshot: DuckDB's FTS extension would have to be downloaded, and
# ``contains`` over lower-cased text costs 180-210 ms CPU on 100,000 400-word texts where ILIKE
# costs 440-530 (bench/api.py). The term is lower-cased by the same function as the text.
API_TERM_SQL = "contains(search_doc, lower(?))"


@dataclass(frozen=True, slots=True)
class ArticleQuery:
    """Filters of ``GET /articles``; ``after`` is the (published_at, url) of the last card already seen."""

    topic: str | None = None
    language: str | None = None
    kind: str | None = None
    feed: str | None = None
    since: datetime | None = None
    terms: tuple[str, ...] = ()
    after: tuple[datetime, str] | None = None
    limit: int = 20


class ApiSnapshot:
    """Queries over a prepared private copy of the database; one per copy, shared by threads."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    @classmethod
    def prepare(cls, path: Path) -> ApiSnapshot:
        """Open the private copy at ``path`` (migrating it if older) and materialise the reader's records."""
        con = _connect(path, read_only=False, wait_seconds=0)
        try:
            con.execute("SET TimeZone = 'UTC'")
            Store(con).migrate()
            con.execute(API_PREPARE_SQL, [EPOCH])
            con.execute(API_INDEX_SQL)
        except Exception:
            con.close()
            raise
        return cls(con)

    def close(self) -> None:
        self._con.close()

    def _rows(self, sql: str, params: Sequence) -> list[dict]:
        cursor = self._con.cursor()  # one cursor per call: connections are not shared across threads
        try:
            result = cursor.execute(sql, params)
            names = [d[0] for d in result.description]
            return [dict(zip(names, row)) for row in result.fetchall()]
        finally:
            cursor.close()

    def _records(self, ids: Sequence[str]) -> list[dict]:
        """The reader's records of ``ids``, in the given order, as :meth:`Store.reader_records` has them."""
        if not ids:
            return []
        # A literal IN list is looked up in the index; a subquery would be a join over every row.
        rows = self._rows(f"SELECT id, doc FROM {API_TABLE} WHERE id IN ({', '.join('?' for _ in ids)})", ids)
        docs = {row["id"]: json.loads(row["doc"]) for row in rows}
        records = [docs[i] for i in ids if i in docs]
        for record in records:
            if record.get("published_at") is not None:
                record["published_at"] = datetime.fromisoformat(record["published_at"])
        return records

    def articles(self, query: ArticleQuery) -> list[dict]:
        """Records matching ``query``, newest first, ties by URL: the keyset the cursor continues."""
        where, params = [], []
        for column, value in (("language", query.language), ("kind", query.kind), ("feed_url", query.feed)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if query.topic is not None:
            where.append("list_contains(topics, ?)")
            params.append(query.topic)
        if query.since is not None:
            where.append("published_at >= ?")
            params.append(query.since)
        for term in query.terms:
            where.append(API_TERM_SQL)
            params.append(term)
        if query.after is not None:
            where.append("(published_at < ? OR (published_at = ? AND url > ?))")
            params += [query.after[0], query.after[0], query.after[1]]
        rows = self._rows(f"SELECT id FROM {API_TABLE}" + (" WHERE " + " AND ".join(where) if where else "")
                          + " ORDER BY published_at DESC, url LIMIT ?", [*params, query.limit])
        return self._records([row["id"] for row in rows])

    def article(self, article_id: str) -> dict | None:
        records = self._records([article_id])
        return records[0] if records else None

    def topic_counts(self) -> dict[str | None, int]:
        """Articles per stored topic (as spelled in the store) and the total under ``None``."""
        rows = self._rows(f"SELECT t AS topic, count(DISTINCT id) AS n FROM "
                          f"(SELECT id, unnest(topics) AS t FROM {API_TABLE}) GROUP BY t", [])
        total = self._rows(f"SELECT count(*) AS n FROM {API_TABLE}", [])[0]["n"]
        return {row["topic"]: row["n"] for row in rows} | {None: total}

    def language_counts(self) -> dict[str | None, int]:
        rows = self._rows(f"SELECT language, count(*) AS n FROM {API_TABLE} GROUP BY language ORDER BY language", [])
        return {row["language"]: row["n"] for row in rows}

    def feed_health(self) -> list[dict]:
        """Every subscribed feed with its polling state and how many of the reader's articles it gave."""
        return self._rows(
            f"""SELECT f.url, f.title, f.topic, f.language, f.added_at, f.last_polled_at, f.last_success_at,
                       f.last_status, f.http_status, f.consecutive_failures, f.last_error, f.bozo_reason,
                       f.next_poll_at, coalesce(f.gone, false) AS gone,
                       (SELECT count(*) FROM {API_TABLE} a WHERE a.feed_url = f.url) AS articles
                FROM feeds f ORDER BY f.url""", [])

    def last_run(self) -> dict | None:
        rows = self._rows("SELECT * FROM runs ORDER BY started_at DESC LIMIT 1", [])
        return rows[0] if rows else None


def _is_lock_error(exc: Exception) -> bool:
    return "lock" in str(exc).lower()


# Everything the pipeline needs is built into DuckDB. Left on, autoloading makes DuckDB fetch an
# extension from the internet whenever a file looks like another format (an SQLite file asks for
# sqlite_scanner): a surprise download, and a hang on a machine without network.
CONNECT_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
# A DuckDB file carries this magic at byte 8 of its header; SQLite's begins with its own string.
DUCKDB_MAGIC = (8, b"DUCK")
OTHER_FORMATS = ((b"SQLite format 3\x00", "an SQLite database"), (b"PAR1", "a Parquet file"))


def _check_format(path: Path) -> None:
    """Refuse an existing file that is not a DuckDB database, naming what it looks like."""
    try:
        with path.open("rb") as f:
            head = f.read(16)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc}") from exc
    at, magic = DUCKDB_MAGIC
    if not head or head[at : at + len(magic)] == magic:
        return  # empty (DuckDB writes a new database into it) or DuckDB
    kind = next((name for prefix, name in OTHER_FORMATS if head.startswith(prefix)), "some other kind of file")
    raise StoreError(f"{path} is not a DuckDB database (it looks like {kind}); give another --db path")


def _connect(path: Path, read_only: bool, wait_seconds: float) -> duckdb.DuckDBPyConnection:
    """Connect, waiting up to ``wait_seconds`` while another process holds the file's lock."""
    _check_format(path)
    deadline = time.monotonic() + wait_seconds
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=CONNECT_CONFIG)
        except duckdb.IOException as exc:
            if not _is_lock_error(exc):
                raise StoreError(f"cannot open {path}: {exc}") from exc
            if time.monotonic() + delay > deadline:
                raise StoreBusy(f"{path} is in use by another process (waited {wait_seconds:.0f}s)") from exc
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
        except duckdb.Error as exc:
            raise StoreError(f"cannot open {path}: {exc}") from exc


@contextmanager
def open_store(path: str | Path, *, read_only: bool = False, wait_seconds: float = 0.0) -> Iterator[Store]:
    """Open (creating and migrating if needed) the DuckDB file; closes it on exit.

    DuckDB lets one process write at a time, and a writer also keeps readers out, so every
    caller opens the file for short spells and waits up to ``wait_seconds`` for its turn.
    Raises :class:`StoreBusy` when the wait runs out, :class:`StoreError` when the file is not
    usable (corrupt, not a database, or newer than this code).
    """
    path = Path(path)
    if not read_only:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a file where a folder should be, no permission
            raise StoreError(f"cannot create the folder for {path}: {exc}") from exc
    elif not path.exists():
        raise StoreError(f"{path} does not exist")
    con = _connect(path, read_only, wait_seconds)
    try:
        con.execute("SET TimeZone = 'UTC'")
        store = Store(con)
        if not read_only:
            store.migrate()
        yield store
    finally:
        con.close()
