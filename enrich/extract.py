"""Main text and metadata of an article page, by trafilatura."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import trafilatura

from enrich.models import ExtractedPage

_OG_SITE_NAME = "//meta[@property='og:site_name']/@content"
_CANONICAL = "//link[@rel='canonical']/@href"
_HTML_LANG = re.compile(rb"<html[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3})", re.IGNORECASE)


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def html_lang(html: bytes | str) -> str | None:
    """The two-letter language the page declares on its <html> element, if any."""
    head = html[:4096] if isinstance(html, bytes) else html[:4096].encode("utf-8", "replace")
    match = _HTML_LANG.search(head)
    return match.group(1).decode().lower() if match else None


def _declared(tree, xpath: str) -> str | None:
    """The first non-empty value the page declares at ``xpath`` (an attribute), if any."""
    values = (value.strip() for value in tree.xpath(xpath))
    return next((value for value in values if value), None)


def extract_article(html: bytes | str, url: str | None = None) -> ExtractedPage:
    """Extract the main text (paragraphs separated by newlines) and metadata; empty text if none."""
    tree = trafilatura.load_html(html)
    if tree is None:
        return ExtractedPage(text="", html_lang=html_lang(html))
    doc = trafilatura.bare_extraction(
        tree,  # bare_extraction works on a copy, so the tree can be read again below
        with_metadata=True,
        include_comments=False,  # reader comments are not the article
        include_tables=True,
        include_images=False,
        deduplicate=False,
    )
    if doc is None:
        return ExtractedPage(text="", html_lang=html_lang(html))
    canonical = urljoin(url, doc.url) if (doc.url and url) else doc.url
    # trafilatura drops a relative canonical link (or falls back to og:url's host for it); it is
    # relative to the page we fetched, like any link on it.
    declared = _declared(tree, _CANONICAL)
    if url and declared and not urlsplit(declared).scheme:
        resolved = urljoin(url, declared)
        canonical = resolved if urlsplit(resolved).scheme in ("http", "https") else canonical
    return ExtractedPage(
        text=(doc.text or "").strip(),
        title=doc.title or None,
        author=doc.author or None,
        published_at=_date(doc.date),
        # trafilatura prefers the longer of og:site_name and the JSON-LD publisher, which names
        # the company ("Rundschau Verlag GmbH") rather than the site its readers know.
        site_name=_declared(tree, _OG_SITE_NAME) or doc.sitename or None,
        image_url=urljoin(url, doc.image) if (doc.image and url) else (doc.image or None),
        canonical_url=canonical or None,
        html_lang=html_lang(html),
    )
