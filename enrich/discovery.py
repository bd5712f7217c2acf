"""Checking a URL before subscribing to it: is it a feed, or a page that links to one?

Feed autodiscovery as browsers and readers (Miniflux, FreshRSS) do it: a page names its feeds in
``<link rel="alternate" type="application/rss+xml|atom+xml|feed+json" href="...">``.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

import lxml.html
from lxml import etree

from enrich.feeds import FEED_ACCEPT, parse_feed
from enrich.fetch import FetchOptions, fetch

# Link types a page announces feeds with. feedparser (the poller) reads the first two; a JSON
# Feed is recognised so that we can say why it is not subscribed, rather than call the page feedless.
POLLABLE_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml")
JSON_FEED_TYPES = ("application/feed+json", "application/json")


@dataclass(frozen=True, slots=True)
class FeedLink:
    url: str
    type: str
    title: str | None = None


@dataclass(frozen=True, slots=True)
class FeedCheck:
    """The outcome of checking a URL: the feed to store (maybe discovered from a page), or why not."""

    url: str  # the feed to subscribe to: the given URL, or the feed its page links to
    ok: bool
    title: str | None = None
    entries: int = 0
    discovered_from: str | None = None  # the page the feed was found on
    error: str | None = None


def feed_links(html: bytes, page_url: str) -> list[FeedLink]:
    """The feeds a page announces, in document order, as absolute URLs (``<base href>`` honoured)."""
    try:
        root = lxml.html.fromstring(html)
    except (etree.ParserError, ValueError):
        return []
    base = urljoin(page_url, (root.xpath("string(//base/@href)") or "").strip())
    links: list[FeedLink] = []
    for link in root.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").split(";")[0].strip().lower()
        href = (link.get("href") or "").strip()
        if "alternate" in rel and href and kind in (*POLLABLE_TYPES, *JSON_FEED_TYPES):
            url = urljoin(base, href)
            if url.startswith(("http://", "https://")) and url not in {found.url for found in links}:
                links.append(FeedLink(url, kind, (link.get("title") or "").strip() or None))
    return links


def _read_feed(url: str, options: FetchOptions) -> tuple[FeedCheck, bytes, str | None]:
    result = fetch(url, options, headers={"Accept": f"{FEED_ACCEPT}, text/html;q=0.8"})
    if not result.ok:
        return FeedCheck(url, ok=False, error=f"{result.error_key}: {result.error}"), b"", None
    poll = parse_feed(result.body, url, content_type=result.content_type)
    final = result.final_url or url
    if poll.ok:
        return FeedCheck(url, ok=True, title=poll.title, entries=len(poll.entries)), result.body, final
    return FeedCheck(url, ok=False, error=poll.error), result.body, final


def check_feed(url: str, options: FetchOptions) -> FeedCheck:
    """Fetch ``url``: a readable feed is itself; a page is searched for the feeds it links to."""
    check, body, final = _read_feed(url, options)
    if check.ok or not body:
        return check
    links = feed_links(body, final or url)
    pollable = [link for link in links if link.type in POLLABLE_TYPES]
    tried = []
    for link in pollable:
        found, _, _ = _read_feed(link.url, options)
        if found.ok:
            return FeedCheck(link.url, ok=True, title=found.title or link.title, entries=found.entries,
                             discovered_from=url)
        tried.append(f"{link.url} ({found.error})")
    if tried:
        return FeedCheck(url, ok=False, error="the page links to feeds, none readable: " + "; ".join(tried))
    if links:
        return FeedCheck(url, ok=False, error=f"the page offers only a JSON Feed ({links[0].url}), which the poller "
                                              "(feedparser) cannot read; subscribe to an RSS or Atom feed")
    return FeedCheck(url, ok=False, error=f"not a feed, and the page links to none ({check.error})")
