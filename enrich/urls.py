"""URL identity: one article, one URL, whatever tracking parameters a feed adds."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urldefrag, urljoin, urlsplit

from courlan import normalize_url

# A URL courlan would give back unchanged: http(s), a lower-case host without port or punycode, a
# path of characters it never quotes, no "//" or leading "/..", no query or fragment. Most stored
# URLs are; taking them as they are skips courlan's 6-us parse, 0.1 s of linking a 30-day window of
# 16,400 stored articles (bench/large_store.py). tests/test_urls.py holds it to courlan.
_ALREADY_CANONICAL = re.compile(r"https?://(?!.*xn--)[a-z0-9.-]+(?!/\.\.(?:/|$))(?:/(?!/)[A-Za-z0-9_.~!=:,%-]*)*")


def canonical_link(link: str, base: str | None = None) -> str:
    """Resolve ``link`` against ``base``, lower-case the host, drop the fragment and tracking params."""
    absolute = urljoin(base, link.strip()) if base else link.strip()
    return absolute if _ALREADY_CANONICAL.fullmatch(absolute) else _normalised(absolute)


def _normalised(absolute: str) -> str:
    try:
        # courlan's lenient mode strips utm_*, fbclid, gclid and friends, sorts the query and
        # lower-cases scheme and host; strict mode would also drop meaningful ids, so we don't use it.
        normalised = normalize_url(absolute)
    except (ValueError, AttributeError):
        normalised = absolute
    return urldefrag(normalised)[0]


# Browsers and servers cap URLs around 8-64 KB; a longer "link" is junk, not an address.
MAX_URL_CHARS = 8192


def link_problem(url: str) -> str | None:
    """Why no HTTP client could request ``url`` (None when one could): a port out of range, a
    malformed IPv6 literal, no host, whitespace or control characters in the host.

    Which schemes and addresses we may fetch is the SSRF guard's call (``enrich.netguard``), at
    fetch time; this only says whether the URL is an address at all.
    """
    if len(url) > MAX_URL_CHARS:
        return f"longer than {MAX_URL_CHARS} characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsing the port is the check: out of range or not a number raises
    except ValueError as exc:
        return str(exc)
    if parts.scheme in ("http", "https"):
        if not parts.hostname:
            return "no host"
        if any(c.isspace() or not c.isprintable() for c in parts.netloc):
            return "whitespace or control characters in the host"
    return None


def entry_identity(feed_url: str, entry_id: str) -> str:
    """A stable URL-shaped identity for an entry that has no link of its own."""
    digest = hashlib.sha256(f"{feed_url}\n{entry_id}".encode()).hexdigest()[:20]
    return f"{canonical_link(feed_url)}#entry-{digest}"
