"""Feed polling: fetch a feed, parse it with feedparser, convert entries to :class:`FeedEntry`."""

from __future__ import annotations

import calendar
import hashlib
from dataclasses import replace
from datetime import UTC, datetime

import feedparser

from enrich.fetch import FetchOptions, fetch
from enrich.models import FeedEntry, FeedPoll
from enrich.urls import canonical_link, entry_identity

FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"


def _utc(struct, now: datetime | None) -> datetime | None:
    if not struct:
        return None
    try:
        when = datetime.fromtimestamp(calendar.timegm(struct), tz=UTC)
    except (OverflowError, ValueError, TypeError):
        return None
    # Publishers schedule posts and misconfigure clocks; a date in the future would pin an
    # article to the top of a chronological reader, so it is clamped to the time we saw it.
    return min(when, now) if now else when


def _content_hash(*parts: str | None) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update((part or "").encode("utf-8", "replace"))
        h.update(b"\x00")
    return h.hexdigest()


def _entry(raw, feed_url: str, now: datetime) -> FeedEntry | None:
    link = raw.get("link") or None
    link = canonical_link(link, feed_url) if link else None
    content = None
    if raw.get("content"):
        content = max((c.get("value") or "" for c in raw["content"]), key=len) or None
    summary = raw.get("summary") or None
    title = raw.get("title") or None
    entry_id = raw.get("id") or link or _content_hash(title, summary, content)[:32]
    if not (link or content or summary or title):
        return None
    updated = _utc(raw.get("updated_parsed"), now)
    published = _utc(raw.get("published_parsed"), now) or updated
    tags = tuple(dict.fromkeys(t.get("term").strip() for t in raw.get("tags", []) if t.get("term")))
    # The hash takes the date as stated, not as clamped: a clamped future date moves with every
    # poll, so the entry would look changed (and be enriched again) on every run.
    stated = _utc(raw.get("updated_parsed"), None)
    return FeedEntry(
        feed_url=feed_url,
        entry_id=entry_id,
        url=link or entry_identity(feed_url, entry_id),
        link=link,
        title=title,
        author=raw.get("author") or None,
        published_at=published,
        updated_at=updated,
        tags=tags,
        summary_html=summary,
        content_html=content,
        content_hash=_content_hash(title, link, summary, content, stated and stated.isoformat()),
    )


def parse_feed(
    body: bytes, feed_url: str, *, content_type: str | None = None, now: datetime | None = None
) -> FeedPoll:
    """Parse RSS 0.9x/1.0/2.0 or Atom bytes (feedparser 6.0 reads no JSON Feed) into a :class:`FeedPoll`."""
    now = now or datetime.now(UTC)
    headers = {"content-location": feed_url}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(body, response_headers=headers)
    bozo = None
    if parsed.get("bozo"):
        exc = parsed.get("bozo_exception")
        bozo = f"{type(exc).__name__}: {exc}" if exc else "malformed feed"
    entries = tuple(e for e in (_entry(raw, feed_url, now) for raw in parsed.entries) if e)
    feed = parsed.get("feed", {})
    if not entries and not parsed.get("version"):
        return FeedPoll(
            feed_url, ok=False, error_key="feed.unparseable",
            error=f"not a feed, or too broken to read: {bozo or 'no entries and no feed format'}",
            bozo_reason=bozo,
        )
    # feedparser also sets bozo for well-formed XML with a non-XML Content-Type or a wrong charset
    # label (its ThingsNobodyCaresAboutButMe); those say nothing about the XML, so they don't count.
    broken = bozo and not isinstance(parsed.get("bozo_exception"), feedparser.ThingsNobodyCaresAboutButMe)
    if not entries and broken:
        # A well-formed empty feed is fine; a broken one that yields nothing is a failure to report.
        return FeedPoll(feed_url, ok=False, error_key="feed.malformed",
                        error=f"malformed feed with no readable entries: {bozo}", bozo_reason=bozo)
    language = (feed.get("language") or "").split("-")[0].lower() or None
    ttl = str(feed.get("ttl") or "").strip()
    return FeedPoll(
        feed_url, ok=True, title=feed.get("title") or None, language=language,
        entries=entries, bozo_reason=bozo, ttl_minutes=int(ttl) if ttl.isdigit() else None,
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
    state = dict(
        http_status=result.http_status,
        etag=result.headers.get("etag"),
        last_modified=result.headers.get("last-modified"),
        retry_after=result.headers.get("retry-after"),
        cache_control=result.headers.get("cache-control"),
        moved_to=result.permanent_redirect,
    )
    if not result.ok:
        poll = FeedPoll(feed_url, ok=False, error_key=result.error_key, error=result.error,
                        gone=result.http_status == 410, **state)
        return poll, result.retryable
    if result.http_status == 304:
        return FeedPoll(feed_url, ok=True, not_modified=True, **state), False
    # After a permanent redirect the entries belong to (and resolve against) the new URL; the
    # poll keeps the old one so the store can find the feed and move it.
    poll = parse_feed(result.body, result.permanent_redirect or feed_url, content_type=result.content_type)
    return replace(poll, feed_url=feed_url, **state), False
