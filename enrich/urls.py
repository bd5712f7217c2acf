"""URL identity: one article, one URL, whatever tracking parameters a feed adds."""

from __future__ import annotations

import hashlib
from urllib.parse import urldefrag, urljoin

from courlan import normalize_url


def canonical_link(link: str, base: str | None = None) -> str:
    """Resolve ``link`` against ``base``, lower-case the host, drop the fragment and tracking params."""
    absolute = urljoin(base, link.strip()) if base else link.strip()
    try:
        # courlan's lenient mode strips utm_*, fbclid, gclid and friends, sorts the query and
        # lower-cases scheme and host; strict mode would also drop meaningful ids, so we don't use it.
        normalised = normalize_url(absolute)
    except (ValueError, AttributeError):
        normalised = absolute
    return urldefrag(normalised)[0]


def entry_identity(feed_url: str, entry_id: str) -> str:
    """A stable URL-shaped identity for an entry that has no link of its own."""
    digest = hashlib.sha256(f"{feed_url}\n{entry_id}".encode()).hexdigest()[:20]
    return f"{canonical_link(feed_url)}#entry-{digest}"
