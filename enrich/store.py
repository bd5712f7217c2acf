"""The DuckDB store: the only module that talks to the database.

Migrations are an append-only list; the schema version is how many have run. Writes are batched
upserts keyed on the article URL, so running the pipeline twice stores nothing twice.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import astuple, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from enrich.linking import LinkCandidate, LinkResult
from enrich.models import Article, FeedPoll

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
)
SCHEMA_VERSION = len(MIGRATIONS)
# A failed article is tried again on later runs, but not forever: a 404 stays a 404.
MAX_ATTEMPTS = 3

ARTICLE_COLUMNS = tuple(f.name for f in fields(Article))


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EXPORT_FORMATS = {"jsonl": "json", "parquet": "parquet"}
# The reader's record: one row per enriched article that is not a copy of another, related inline.
READER_SQL = """
    SELECT a.url, a.canonical_url, a.feed_url, f.title AS feed_title, a.title, a.author,
           coalesce(a.published_at, a.first_seen_at) AS published_at, a.language, a.kind,
           a.reading_minutes, a.word_count, coalesce(a.topics, []) AS topics,
           coalesce(a.topic_scores, []) AS topic_scores, a.summary, a.key_quotes,
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

    def due(self, now: datetime) -> bool:
        return not self.gone and (self.next_poll_at is None or self.next_poll_at <= now)


class Store:
    """A connection to the pipeline's DuckDB file. Use :func:`open_store` to get one."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

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
        self.con.executemany(
            "INSERT INTO feeds (url, topic) VALUES (?, ?) ON CONFLICT (url) DO NOTHING",
            [(url, topic) for url in urls],
        )
        return self.con.execute("SELECT count(*) FROM feeds").fetchone()[0] - before

    def feeds(self, urls: Sequence[str] | None = None) -> list[StoredFeed]:
        """Stored feeds, all or those in ``urls``, with their polling state."""
        sql = """SELECT url, title, topic, last_polled_at, last_status, consecutive_failures,
                        etag, last_modified, next_poll_at, coalesce(gone, false), language
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
        self.con.executemany(
            """
            UPDATE feeds SET
                title = coalesce(?, title),
                language = coalesce(?, language),
                last_polled_at = ?,
                last_status = ?,
                http_status = ?,
                consecutive_failures = CASE WHEN ? THEN 0 ELSE consecutive_failures + 1 END,
                last_success_at = CASE WHEN ? THEN ? ELSE last_success_at END,
                last_error = ?,
                bozo_reason = CASE WHEN ? THEN bozo_reason ELSE ? END,
                etag = CASE WHEN ? THEN etag WHEN ? THEN ? ELSE etag END,
                last_modified = CASE WHEN ? THEN last_modified WHEN ? THEN ? ELSE last_modified END,
                next_poll_at = ?,
                gone = ?,
                run_id = ?
            WHERE url = ?
            """,
            [
                (p.title, p.language, at,
                 ("not_modified" if p.not_modified else "ok") if p.ok else ("gone" if p.gone else p.error_key),
                 p.http_status, p.ok, p.ok, at, p.error, p.not_modified, p.bozo_reason,
                 p.not_modified, p.ok, p.etag, p.not_modified, p.ok, p.last_modified,
                 next_polls.get(p.feed_url), p.gone, run_id, p.feed_url)
                for p in polls
            ],
        )
        for poll in polls:
            if poll.moved_to and poll.moved_to != poll.feed_url:
                self.move_feed(poll.feed_url, poll.moved_to)

    def link_feeds(self, pairs: Sequence[tuple[str, str]], run_id: str, at: datetime) -> None:
        """Remember every feed an article appeared in: one story syndicated twice is stored once."""
        pairs = list(dict.fromkeys(pairs))
        if pairs:
            self.con.executemany(
                "INSERT INTO article_feeds VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [(article, feed, at, run_id) for article, feed in pairs],
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
        """Insert or update articles in batches; a second write of the same URL updates it."""
        latest = {a.url: a for a in articles}  # one row per URL per statement
        rows = [(*astuple(a), a.enriched_at, run_id) for a in latest.values()]
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
                """,
                [value for row in batch for value in row],
            )
        return len(rows)

    def link_candidates(self, since: datetime, exclude: Sequence[str] = ()) -> list[LinkCandidate]:
        """Enriched, non-duplicate articles published (or first seen) since ``since``."""
        rows = self.con.execute(
            """SELECT url, canonical_url, language, coalesce(published_at, first_seen_at), vector, fingerprint
               FROM articles
               WHERE status = 'ok' AND duplicate_of IS NULL AND coalesce(published_at, first_seen_at) >= ?
                 AND url NOT IN (SELECT unnest(?))""",
            [since, list(exclude)],
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
            for url, match in result.duplicates.items():
                self.con.execute("UPDATE articles SET duplicate_of = ? WHERE url = ?", [match.url, url])
                self.con.execute(
                    """INSERT INTO article_feeds SELECT ?, feed_url, ?, ? FROM article_feeds WHERE article_url = ?
                       ON CONFLICT DO NOTHING""", [match.url, at, run_id, url])
            if result.related:
                self.con.execute("DELETE FROM related WHERE article_url IN (SELECT unnest(?))", [list(result.related)])
                rows = [(url, other, score, rank, run_id)
                        for url, ranked in result.related.items() for rank, (other, score) in enumerate(ranked, 1)]
                if rows:
                    self.con.executemany("INSERT INTO related VALUES (?, ?, ?, ?, ?)", rows)
            self.con.execute("COMMIT")
        except Exception:
            self.con.execute("ROLLBACK")
            raise

    def record_failures(self, failures: Sequence[tuple], run_id: str, at: datetime) -> None:
        """Append failure rows: (stage, feed_url, article_url, reason, message)."""
        if failures:
            self.con.executemany(
                "INSERT INTO failures VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(run_id, at, *f) for f in failures],
            )

    # -- runs -----------------------------------------------------------------------------
    def begin_run(self, at: datetime | None = None) -> str:
        run_id = uuid.uuid4().hex[:12]
        self.con.execute(
            "INSERT INTO runs (id, started_at, status) VALUES (?, ?, 'running')",
            [run_id, at or datetime.now(UTC)],
        )
        return run_id

    def finish_run(self, run_id: str, counts: dict[str, int], status: str = "completed") -> None:
        self.con.execute(
            """UPDATE runs SET finished_at = ?, feeds_polled = ?, feeds_failed = ?, new_articles = ?,
               enriched = ?, failed = ?, status = ? WHERE id = ?""",
            [datetime.now(UTC), counts.get("feeds_polled", 0), counts.get("feeds_failed", 0),
             counts.get("new_articles", 0), counts.get("enriched", 0), counts.get("failed", 0),
             status, run_id],
        )

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
        self.con.execute(f"COPY ({READER_SQL}) TO '{target}' (FORMAT {EXPORT_FORMATS[fmt]})", [since or EPOCH])
        return self.con.execute(f"SELECT count(*) FROM ({READER_SQL})", [since or EPOCH]).fetchone()[0]


def _is_lock_error(exc: Exception) -> bool:
    return "lock" in str(exc).lower()


def _connect(path: Path, read_only: bool, wait_seconds: float) -> duckdb.DuckDBPyConnection:
    """Connect, waiting up to ``wait_seconds`` while another process holds the file's lock."""
    deadline = time.monotonic() + wait_seconds
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
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
        path.parent.mkdir(parents=True, exist_ok=True)
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
