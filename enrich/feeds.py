"""Feed polling: fetch a feed, parse it with feedparser, convert entries to :class:`FeedEntry`."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from functools import lru_cache

import feedparser

from enrich import limits
from enrich.fetch import FetchOptions, fetch, with_retries
from enrich.limits import capped_author, capped_title, clean_text
from enrich.models import FeedEntry, FeedPoll, Problem
from enrich.reasons import (
    ENTRY_BAD_URL,
    ENTRY_UNREADABLE,
    FEED_INVALID_CHARS,
    FEED_MALFORMED,
    FEED_PARSER_CRASHED,
    FEED_UNPARSEABLE,
)
from enrich.urls import canonical_link, entry_identity, link_problem

log = logging.getLogger(__name__)

FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"


def _content_hash(*parts: str | None) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update((part or "").encode("utf-8", "replace"))
        h.update(b"\x00")
    return h.hexdigest()


class BadEntry(Exception):
    """An entry that cannot be used as it stands; it is dropped and recorded, the feed is kept."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _link(raw_link: str, feed_url: str) -> str:
    """The entry's link made absolute and canonical; :class:`BadEntry` if no client could fetch it."""
    try:
        link = canonical_link(raw_link, feed_url)
    except ValueError as exc:  # urljoin refuses a malformed IPv6 literal
        raise BadEntry(Problem(ENTRY_BAD_URL, f"unusable link {raw_link[:200]!r}: {exc}", raw_link[:2000])) from None
    if (why := link_problem(link)) is not None:
        raise BadEntry(Problem(ENTRY_BAD_URL, f"unusable link {raw_link[:200]!r}: {why}", raw_link[:2000]))
    return link


def _entry(raw, feed_url: str, now: datetime) -> tuple[FeedEntry | None, list[Problem]]:
    """The entry as a :class:`FeedEntry` (None when it has nothing in it), and what was wrong with its fields."""
    raw_link = clean_text(raw.get("link")) or None
    link = _link(raw_link, feed_url) if raw_link else None
    content = None
    if raw.get("content"):
        content = clean_text(max((c.get("value") or "" for c in raw["content"]), key=len)) or None
    summary = clean_text(raw.get("summary")) or None
    title = capped_title(raw.get("title")) or None
    entry_id = clean_text(raw.get("id")) or link or _content_hash(title, summary, content)[:32]
    if not (link or content or summary or title):
        return None, []
    url = link or entry_identity(feed_url, entry_id)
    updated = limits.date_from_struct(raw.get("updated_parsed"), now, "updated date")
    published = limits.date_from_struct(raw.get("published_parsed"), now, "published date")
    # feedparser mirrors one date into the other when a feed states only one: report it once.
    problem = published.problem or updated.problem
    problems = [replace(problem, url=url)] if problem else []
    if not link and any(not x.get("href") for x in raw.get("links", []) if x.get("rel") == "alternate"):
        # feedparser empties a link it cannot resolve (a malformed IPv6 literal): the entry is
        # kept with its feed content, and the lost link is reported.
        problems.append(Problem(ENTRY_BAD_URL, "the entry's link is malformed and was dropped by the parser", url))
    tags = tuple(dict.fromkeys(clean_text(t.get("term")).strip() for t in raw.get("tags", []) if t.get("term")))
    # The hash takes the date as stated, not as clamped: a clamped future date moves with every
    # poll, so the entry would look changed (and be enriched again) on every run.
    stated = limits.date_from_struct(raw.get("updated_parsed"), None).value
    entry = FeedEntry(
        feed_url=feed_url,
        entry_id=entry_id,
        url=url,
        link=link,
        title=title,
        author=capped_author(raw.get("author")) or None,
        published_at=published.value or updated.value,
        updated_at=updated.value,
        tags=tuple(t for t in tags if t),
        summary_html=summary,
        content_html=content,
        content_hash=_content_hash(title, link, summary, content, stated and stated.isoformat()),
    )
    return entry, problems


def _entries(raw_entries, feed_url: str, now: datetime) -> tuple[tuple[FeedEntry, ...], list[Problem]]:
    """Every usable entry; each unusable one costs itself alone and is recorded."""
    entries, problems = [], []
    for raw in raw_entries:
        try:
            entry, found = _entry(raw, feed_url, now)
        except BadEntry as exc:
            problems.append(exc.problem)
            continue
        except Exception as exc:  # noqa: BLE001 - a field we did not foresee: this entry only, recorded
            log.exception("feed %s: unreadable entry", feed_url)
            link = raw.get("link") if isinstance(raw.get("link"), str) else None
            problems.append(Problem(ENTRY_UNREADABLE, f"{type(exc).__name__}: {exc}"[:500], link))
            continue
        problems.extend(found)
        if entry is not None:
            entries.append(entry)
    return tuple(entries), problems


def parse_feed(
    body: bytes, feed_url: str, *, content_type: str | None = None, now: datetime | None = None
) -> FeedPoll:
    """Parse RSS 0.9x/1.0/2.0 or Atom bytes (feedparser 6.0 reads no JSON Feed) into a :class:`FeedPoll`."""
    now = now or datetime.now(UTC)
    headers = {"content-location": feed_url}
    if content_type:
        headers["content-type"] = content_type
    body, replaced = limits.sanitize_feed_bytes(body)
    problems = [Problem(FEED_INVALID_CHARS, f"{replaced} characters XML forbids were replaced")] if replaced else []
    try:
        parsed = feedparser.parse(body, response_headers=headers)
    except Exception as exc:  # noqa: BLE001 - feedparser's own bug on some input; the feed fails, not the run
        log.exception("feed %s: feedparser crashed", feed_url)
        return FeedPoll(feed_url, ok=False, error_key=FEED_PARSER_CRASHED,
                        error=f"the feed parser failed on this feed: {type(exc).__name__}: {exc}"[:500])
    bozo = None
    if parsed.get("bozo"):
        exc = parsed.get("bozo_exception")
        bozo = f"{type(exc).__name__}: {exc}" if exc else "malformed feed"
    entries, found = _entries(parsed.entries, feed_url, now)
    problems += found
    feed = parsed.get("feed", {})
    if not entries and not parsed.get("version"):
        return FeedPoll(
            feed_url, ok=False, error_key=FEED_UNPARSEABLE,
            error=f"not a feed, or too broken to read: {bozo or 'no entries and no feed format'}",
            bozo_reason=bozo, problems=tuple(problems),
        )
    # feedparser also sets bozo for well-formed XML with a non-XML Content-Type or a wrong charset
    # label (its ThingsNobodyCaresAboutButMe); those say nothing about the XML, so they don't count.
    broken = bozo and not isinstance(parsed.get("bozo_exception"), feedparser.ThingsNobodyCaresAboutButMe)
    if not entries and broken:
        # A well-formed empty feed is fine; a broken one that yields nothing is a failure to report.
        return FeedPoll(feed_url, ok=False, error_key=FEED_MALFORMED,
                        error=f"malformed feed with no readable entries: {bozo}", bozo_reason=bozo,
                        problems=tuple(problems))
    language = (clean_text(feed.get("language")) or "").split("-")[0].lower()[:16] or None
    ttl = limits.parse_ttl(feed.get("ttl"))
    problems += [ttl.problem] if ttl.problem else []
    return FeedPoll(
        feed_url, ok=True, title=capped_title(feed.get("title")) or None, language=language,
        entries=entries, bozo_reason=bozo, ttl_minutes=ttl.value, problems=tuple(problems),
    )


def poll_feed(
    feed_url: str, options: FetchOptions, *, etag: str | None = None, last_modified: str | None = None
) -> tuple[FeedPoll, bool]:
    """Fetch (conditionally, given the stored validators) and parse one feed.

    The flag says whether a failure is worth retrying within this run. A 304 is an ok poll
    with no entries and costs no parsing.
    """
    headers = {"Accept": FEED_ACCEPT}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    result = fetch(feed_url, options, headers=headers)
    # The scheduler reads Retry-After and max-age through the same bounded parsers; here we note
    # what was wrong with them. Validators we only echo back, so they need only be sendable.
    checked = (
        limits.parse_retry_after(result.headers.get("retry-after"), datetime.now(UTC)),
        limits.parse_max_age(result.headers.get("cache-control")),
        etag := limits.validator(result.headers.get("etag"), "ETag"),
        last_modified := limits.validator(result.headers.get("last-modified"), "Last-Modified"),
    )
    header_problems = tuple(c.problem for c in checked if c.problem)
    state = dict(
        http_status=result.http_status,
        etag=etag.value,
        last_modified=last_modified.value,
        retry_after=result.headers.get("retry-after"),
        cache_control=result.headers.get("cache-control"),
        moved_to=result.permanent_redirect,
    )
    if not result.ok:
        poll = FeedPoll(feed_url, ok=False, error_key=result.error_key, error=result.error,
                        gone=result.http_status == 410, problems=header_problems, **state)
        return poll, result.retryable
    if result.http_status == 304:
        return FeedPoll(feed_url, ok=True, not_modified=True, problems=header_problems, **state), False
    # After a permanent redirect the entries belong to (and resolve against) the new URL; the
    # poll keeps the old one so the store can find the feed and move it.
    poll = parse_feed(result.body, result.permanent_redirect or feed_url, content_type=result.content_type)
    return replace(poll, feed_url=feed_url, problems=header_problems + poll.problems, **state), False


def poll_feed_retrying(
    feed_url: str, options: FetchOptions, *, etag: str | None = None, last_modified: str | None = None,
    retries: int = 0, retry_delay: float = 2.0,
) -> FeedPoll:
    """:func:`poll_feed`, tried again after a transient failure (as pages are: :func:`with_retries`)."""
    poll, _retryable = with_retries(lambda: poll_feed(feed_url, options, etag=etag, last_modified=last_modified),
                                    lambda outcome: outcome[1], retries, retry_delay)
    return poll


@lru_cache(maxsize=4)
def _poll_pool(workers: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="poll")


def poll_feeds(
    feeds: Sequence[tuple[str, str | None, str | None]], options: FetchOptions, *, retries: int = 0,
    retry_delay: float = 2.0,
) -> list[FeedPoll]:
    """Poll (url, etag, last_modified) feeds concurrently, in order; at most ``options.concurrency``
    polls are in flight in this process, however many callers ask at once (they share one pool)."""
    return list(_poll_pool(options.concurrency).map(
        lambda feed: poll_feed_retrying(feed[0], options, etag=feed[1], last_modified=feed[2], retries=retries,
                                        retry_delay=retry_delay),
        feeds,
    ))
