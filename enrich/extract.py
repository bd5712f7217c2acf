"""Main text and metadata of an article page, by trafilatura."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import urljoin

import trafilatura

from enrich.models import ExtractedPage

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


def extract_article(html: bytes | str, url: str | None = None) -> ExtractedPage:
    """Extract the main text (paragraphs separated by newlines) and metadata; empty text if none."""
    doc = trafilatura.bare_extraction(
        html,
        with_metadata=True,
        include_comments=False,  # reader comments are not the article
        include_tables=True,
        include_images=False,
        deduplicate=False,
    )
    if doc is None:
        return ExtractedPage(text="", html_lang=html_lang(html))
    canonical = urljoin(url, doc.url) if (doc.url and url) else doc.url
    return ExtractedPage(
        text=(doc.text or "").strip(),
        title=doc.title or None,
        author=doc.author or None,
        published_at=_date(doc.date),
        site_name=doc.sitename or None,
        image_url=urljoin(url, doc.image) if (doc.image and url) else (doc.image or None),
        canonical_url=canonical or None,
        html_lang=html_lang(html),
    )
