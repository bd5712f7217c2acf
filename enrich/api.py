"""The read-only JSON API (``enrich api``): articles, topics, feed health and the enriched feeds.

DuckDB lets one process write a file, and while any other process has it open, even read-only, the
writer cannot get in. So the API never reads the pipeline's file in place. It serves a private copy
(a *snapshot*): a background thread looks at the file every :data:`CHECK_SECONDS`; when it changed
and no one is writing, it opens it read-only for as long as a file copy takes, copies it, prepares
the copy (:meth:`enrich.store.ApiSnapshot.prepare`) and swaps it in. While a run holds the file, the
API keeps answering from the last snapshot and says so in ``X-Enrich-Stale``; requests never wait
for the writer, and the writer waits at most one copy for the API.

Every answer carries a strong ETag (a hash of the body) and honours ``If-None-Match`` with 304.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, Query, Request
from fastapi.responses import Response

from enrich.feedout import (
    FEED_ITEMS,
    atom_feed,
    feed_scopes,
    json_dumps,
    json_feed,
    quotes_with_speakers,
    rfc3339,
    scope_named,
)
from enrich.preview import ALL_TOPICS, TOPICS, article_slug
from enrich.store import ApiSnapshot, ArticleQuery, StoreBusy, StoreError, open_store

log = logging.getLogger("enrich.api")

# How often the refresher looks at the database file; a reader sees a run's batch about this late.
CHECK_SECONDS = 1.0
# Preparing a snapshot costs CPU (3 s for 100,000 articles, bench/api.py); during a run the file
# changes with every batch, so the refresher waits long enough to spend at most this share of the
# time preparing. Small stores refresh every check; large ones lag a run by a few seconds more.
REFRESH_SHARE = 0.2
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# More search terms than this are refused: each one is a scan of every stored text.
MAX_TERMS = 8
_CANONICAL_TOPIC = {topic.casefold(): topic for topic in TOPICS}
ATOM_TYPE = "application/atom+xml; charset=utf-8"
JSON_FEED_TYPE = "application/feed+json; charset=utf-8"
JSON_TYPE = "application/json"
HTML_TYPE = "text/html; charset=utf-8"
# The index page is text and links only.
CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


class Unavailable(Exception):
    """No snapshot could be taken yet: the file is missing, unusable, or has been busy since start."""


# -- snapshots ------------------------------------------------------------------------------------
@dataclass(eq=False)
class _Held:
    snapshot: ApiSnapshot
    path: Path
    taken_at: datetime
    signature: tuple
    users: int = 0
    retired: bool = False

    def dispose(self) -> None:
        self.snapshot.close()
        self.remove_files(self.path)

    @staticmethod
    def remove_files(path: Path) -> None:
        for suffix in ("", ".wal"):
            Path(str(path) + suffix).unlink(missing_ok=True)


@dataclass
class SnapshotKeeper:
    """Keeps a fresh private copy of ``db_path`` and lends it to requests."""

    db_path: Path
    check_seconds: float = CHECK_SECONDS
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="enrich-api-")))
    _current: _Held | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _generation: int = 0
    _not_before: float = 0.0
    busy_since: datetime | None = None
    behind_since: datetime | None = None  # the file changed after the snapshot being served
    last_error: str | None = None

    def start(self) -> None:
        self.refresh()
        self._thread = threading.Thread(target=self._loop, name="enrich-api-snapshots", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            held, self._current = self._current, None
        if held is not None:
            held.retired = True
            if held.users == 0:
                held.dispose()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def _loop(self) -> None:
        while not self._stop.wait(self.check_seconds):
            try:
                self.refresh()
            except Exception:  # a bad copy must not kill the refresher; the last snapshot stays
                log.exception("snapshot refresh of %s failed", self.db_path)

    def _signature(self) -> tuple:
        stats = []
        for suffix in ("", ".wal"):
            try:
                st = os.stat(str(self.db_path) + suffix)
                stats.append((st.st_mtime_ns, st.st_size, st.st_ino))
            except FileNotFoundError:
                stats.append(None)
        return tuple(stats)

    def refresh(self) -> bool:
        """Take a new snapshot if the file changed and is free; True when one was taken."""
        if self._current is not None:
            if self._signature() == self._current.signature:
                return False
            self.behind_since = self.behind_since or datetime.now(UTC)
            if time.monotonic() < self._not_before:
                return False
        self._generation += 1
        target = self.workdir / f"snapshot-{self._generation}.duckdb"
        try:
            # Holding a read-only connection keeps writers out, so the copy is of a settled file.
            with open_store(self.db_path, read_only=True, wait_seconds=0):
                signature = self._signature()
                shutil.copyfile(self.db_path, target)
                wal = Path(str(self.db_path) + ".wal")
                if wal.exists():
                    shutil.copyfile(wal, str(target) + ".wal")
        except StoreBusy:
            self.busy_since = self.busy_since or datetime.now(UTC)
            return False
        except StoreError as exc:
            self.last_error = str(exc)
            return False
        taken_at = datetime.now(UTC)
        started = time.monotonic()
        try:
            snapshot = ApiSnapshot.prepare(target)
        except StoreError as exc:  # e.g. a file from newer code; the last good snapshot stays
            self.last_error = str(exc)
            _Held.remove_files(target)
            return False
        held = _Held(snapshot, target, taken_at, signature)
        self._not_before = time.monotonic() + (time.monotonic() - started) / REFRESH_SHARE
        with self._lock:
            old, self._current = self._current, held
            self.busy_since = self.behind_since = None
            self.last_error = None
            if old is not None:
                old.retired = True
                if old.users == 0:
                    old.dispose()
        return True

    def acquire(self) -> _Held:
        with self._lock:
            if self._current is None:
                reason = self.last_error or (f"{self.db_path} has been busy since {self.busy_since:%H:%M:%S}"
                                             if self.busy_since else f"no snapshot of {self.db_path} yet")
                raise Unavailable(reason)
            self._current.users += 1
            return self._current

    def release(self, held: _Held) -> None:
        with self._lock:
            held.users -= 1
            dispose = held.retired and held.users == 0
        if dispose:
            held.dispose()


# -- cards ----------------------------------------------------------------------------------------
def card(record: Mapping) -> dict:
    """The API's article: the reader's record with ids, ISO times and quotes with their speakers."""
    return {
        "id": article_slug(record["url"]),
        "url": record["url"],
        "canonical_url": record.get("canonical_url"),
        "title": record.get("title"),
        "author": record.get("author"),
        "published_at": rfc3339(record["published_at"]) if record.get("published_at") else None,
        "language": record.get("language"),
        "kind": record.get("kind"),
        "reading_minutes": record.get("reading_minutes"),
        "word_count": record.get("word_count"),
        "topics": list(record.get("topics") or ()),
        "topic_scores": [round(float(s), 4) for s in record.get("topic_scores") or ()],
        "summary": list(record.get("summary") or ()),
        "key_quotes": quotes_with_speakers(record),
        "feed_snippet": record.get("feed_snippet"),
        "feed": {"url": record.get("feed_url"), "title": record.get("feed_title")},
        "site_name": record.get("site_name"),
        "image_url": record.get("image_url"),
        "text_source": record.get("text_source"),
        "related": [{"id": article_slug(r["url"]), "url": r["url"], "title": r.get("title"),
                     "score": round(float(r["score"]), 4)} for r in record.get("related") or ()],
    }


def encode_cursor(record: Mapping) -> str:
    raw = json.dumps([record["published_at"].isoformat(), record["url"]]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (published_at, url) a cursor carries; ValueError when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        when, url = json.loads(raw)
        return datetime.fromisoformat(when), str(url)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise ValueError(f"not a cursor from this API: {cursor!r}") from exc


def canonical_topic(topic: str) -> str:
    """The tab's spelling of ``topic``; ValueError naming the 19 when it is not one of them."""
    found = _CANONICAL_TOPIC.get(topic.strip().casefold())
    if found is None:
        raise ValueError(f"unknown topic {topic!r}; topics are: {', '.join(TOPICS)}")
    return found


def parse_since(value: str) -> datetime:
    """A date (``2026-11-01``) or ISO 8601 time; naive times are UTC."""
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"since must be an ISO 8601 date or time, not {value!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when


def search_terms(q: str | None) -> tuple[str, ...]:
    terms = tuple(dict.fromkeys(t for t in (q or "").split() if t))
    if len(terms) > MAX_TERMS:
        raise ValueError(f"at most {MAX_TERMS} search terms, got {len(terms)}")
    return terms


# -- responses ------------------------------------------------------------------------------------
def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = [c.strip().removeprefix("W/") for c in if_none_match.split(",")]
    return "*" in candidates or etag in candidates


def respond(request: Request, body: bytes, media_type: str, held: _Held | None, status: int = 200,
            keeper: SnapshotKeeper | None = None) -> Response:
    """The body with its ETag, or 304 when the client already has it."""
    tag = etag_of(body)
    headers = {"ETag": tag, "Cache-Control": "no-cache"}
    if held is not None:
        headers["X-Enrich-Snapshot"] = rfc3339(held.taken_at)
    if keeper is not None and keeper.behind_since is not None:
        headers["X-Enrich-Stale"] = "the database changed at " + rfc3339(keeper.behind_since)
    if status == 200 and _matches(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers=headers)
    return Response(body, status_code=status, media_type=media_type, headers=headers)


def _json(document: object) -> bytes:
    return json.dumps(document, ensure_ascii=False, default=_default).encode("utf-8")


def _default(value: object) -> object:
    if isinstance(value, datetime):
        return rfc3339(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _error(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    return Response(_json({"error": message}), status_code=status, media_type=JSON_TYPE, headers=headers)


# -- the application ------------------------------------------------------------------------------
def create_app(db_path: Path, *, check_seconds: float = CHECK_SECONDS) -> FastAPI:
    """The ASGI app serving ``db_path``; snapshots start and stop with the app's lifespan."""
    keeper = SnapshotKeeper(Path(db_path), check_seconds=check_seconds)

    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        keeper.start()
        try:
            yield
        finally:
            keeper.stop()

    app = FastAPI(title="enrich", version="1", lifespan=lifespan,
                  description="Read-only API over the enriched articles: the reader's cards, topic tabs, "
                              "feed health and enriched Atom / JSON Feed feeds.")
    app.state.keeper = keeper

    def with_snapshot(request: Request, build) -> Response:
        try:
            held = keeper.acquire()
        except Unavailable as exc:
            return _error(503, f"no data yet: {exc}", {"Retry-After": "1"})
        try:
            outcome = build(held.snapshot, held)
        except ValueError as exc:
            return _error(400, str(exc))
        finally:
            keeper.release(held)
        if isinstance(outcome, Response):
            return outcome
        body, media_type = outcome
        return respond(request, body, media_type, held, keeper=keeper)

    @app.get("/articles", summary="Cards, newest first, filtered; follow next_cursor for more")
    def list_articles(
        request: Request,
        topic: Annotated[str | None, Query(description="One of the 19 topic tabs (any case).")] = None,
        language: Annotated[str | None, Query(description="ISO 639-1 code, e.g. en.")] = None,
        kind: Annotated[str | None, Query(description="News, Insight, Opinion, Guide, Review, Announcement, Personal.")] = None,
        feed: Annotated[str | None, Query(description="Feed URL the article came from.")] = None,
        since: Annotated[str | None, Query(description="Published on or after this ISO 8601 date or time.")] = None,
        q: Annotated[str | None, Query(description="Words that must all occur in the title, summary or text (case-insensitive).")] = None,
        cursor: Annotated[str | None, Query(description="next_cursor of the previous page.")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    ) -> Response:
        def build(snapshot: ApiSnapshot, _held):
            query = ArticleQuery(
                topic=canonical_topic(topic) if topic else None, language=language, kind=kind, feed=feed,
                since=parse_since(since) if since else None, terms=search_terms(q),
                after=decode_cursor(cursor) if cursor else None, limit=limit + 1)
            records = snapshot.articles(query)
            page = records[:limit]
            next_cursor = encode_cursor(page[-1]) if len(records) > limit else None
            return _json({"articles": [card(r) for r in page], "next_cursor": next_cursor}), JSON_TYPE

        return with_snapshot(request, build)

    @app.get("/articles/{article_id}", summary="One card with its related articles")
    def get_article(request: Request, article_id: str) -> Response:
        def build(snapshot: ApiSnapshot, _held):
            record = snapshot.article(article_id)
            if record is None:
                return _error(404, f"no article with id {article_id!r}")
            return _json(card(record)), JSON_TYPE

        return with_snapshot(request, build)

    @app.get("/topics", summary="The reader's tabs with their article counts")
    def get_topics(request: Request) -> Response:
        def build(snapshot: ApiSnapshot, _held):
            return _json({"topics": topic_tabs(snapshot.topic_counts())}), JSON_TYPE

        return with_snapshot(request, build)

    @app.get("/feeds", summary="Subscribed feeds and their health; the last run")
    def get_feeds(request: Request) -> Response:
        def build(snapshot: ApiSnapshot, _held):
            languages = [{"language": code} for code in snapshot.language_counts() if code]
            scopes = feed_scopes(languages)
            return _json({"feeds": snapshot.feed_health(), "last_run": snapshot.last_run(),
                          "enriched_feeds": [f"/feeds/{s.name}.{ext}" for s in scopes
                                             for ext in ("atom", "json")]}), JSON_TYPE

        return with_snapshot(request, build)

    @app.get("/feeds/{name}.atom", summary="An enriched Atom 1.0 feed: all, topic-<slug>, language-<code>")
    def get_atom(request: Request, name: str) -> Response:
        return with_snapshot(request, lambda snapshot, held: _feed(request, snapshot, held, name, "atom"))

    @app.get("/feeds/{name}.json", summary="An enriched JSON Feed 1.1: all, topic-<slug>, language-<code>")
    def get_json_feed(request: Request, name: str) -> Response:
        return with_snapshot(request, lambda snapshot, held: _feed(request, snapshot, held, name, "json"))

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:  # browsers ask; an empty answer keeps a 404 out of their consoles
        return Response(status_code=204)

    @app.get("/", summary="A page linking the feeds and the API", include_in_schema=False)
    def index(request: Request) -> Response:
        def build(snapshot: ApiSnapshot, _held):
            return index_page(topic_tabs(snapshot.topic_counts())), HTML_TYPE

        response = with_snapshot(request, build)
        response.headers["Content-Security-Policy"] = CSP
        return response

    return app


def _feed(request: Request, snapshot: ApiSnapshot, held: _Held, name: str, fmt: str):
    scope = scope_named(name, [])
    if scope is None:
        return _error(404, f"no feed named {name!r}; see /feeds for the list")
    records = snapshot.articles(ArticleQuery(topic=scope.topic, language=scope.language, limit=FEED_ITEMS))
    self_url = str(request.url.replace(query=""))
    home = str(request.base_url)

    def own_page(record: Mapping) -> str:  # for an entry that had no link of its own
        return f"{home}articles/{article_slug(record['url'])}"

    if fmt == "atom":
        body = atom_feed(records, scope, now=held.taken_at, feed_url=self_url, home_page_url=home, page_url=own_page)
        return body, ATOM_TYPE
    document = json_feed(records, scope, feed_url=self_url, home_page_url=home, page_url=own_page)
    return json_dumps(document), JSON_FEED_TYPE


def topic_tabs(counts: Mapping[str | None, int]) -> list[dict]:
    """All Topics and the 19 tabs in the reader's order, each with its count (0 for an empty tab)."""
    per_tab = dict.fromkeys(TOPICS, 0)
    for topic, n in counts.items():
        tab = _CANONICAL_TOPIC.get(str(topic).casefold()) if topic is not None else None
        if tab:
            per_tab[tab] += n
    tabs = [{"name": ALL_TOPICS, "count": counts.get(None, 0), "articles": "/articles", "feed": "/feeds/all.atom"}]
    for scope in feed_scopes([])[1:1 + len(TOPICS)]:
        tabs.append({"name": scope.topic, "count": per_tab[scope.topic],
                     "articles": f"/articles?topic={scope.topic}", "feed": f"/feeds/{scope.name}.atom"})
    return tabs


def index_page(tabs: list[dict]) -> bytes:
    """A plain page for people and feed readers: every feed (with autodiscovery links) and the API docs."""
    e = html.escape
    alternates = "".join(
        f'<link rel="alternate" type="application/atom+xml" title="{e(t["name"])}" href="{e(t["feed"])}">'
        for t in tabs)
    rows = "".join(
        f'<li><a href="{e(t["articles"])}">{e(t["name"])}</a> <span class="count">{t["count"]}</span> · '
        f'<a href="{e(t["feed"])}">Atom</a> · <a href="{e(t["feed"].removesuffix(".atom") + ".json")}">JSON Feed</a></li>'
        for t in tabs)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>enrich API</title>
{alternates}
<style>body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 42rem; margin: 2rem auto; padding: 0 1rem; }}
.count {{ color: #5f6b7a; }}</style>
</head>
<body>
<h1>enrich API</h1>
<p>Read-only JSON: <a href="/articles">/articles</a>, <a href="/topics">/topics</a>, <a href="/feeds">/feeds</a>;
documentation at <a href="/docs">/docs</a> (OpenAPI: <a href="/openapi.json">/openapi.json</a>).</p>
<h2>Topics and their feeds</h2>
<ul class="tabs">{rows}</ul>
</body>
</html>
""".encode()
