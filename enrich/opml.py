"""OPML subscription lists and plain feed lists."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

_COMMENT = re.compile(r"(?:^|\s)#")


@dataclass(frozen=True, slots=True)
class Subscription:
    url: str
    title: str | None = None
    category: str | None = None  # the enclosing outline's text; becomes the feed's default topic


class FeedListError(ValueError):
    """A feed list or OPML file that cannot be read."""


def parse_opml(data: bytes) -> list[Subscription]:
    """Feeds of an OPML document, with the text of their enclosing outline as category."""
    # No network, no entities: an OPML file is data, never a reason to fetch or expand anything.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, recover=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise FeedListError(f"not valid OPML: {exc}") from exc
    subscriptions: list[Subscription] = []
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if not url:
            continue
        parent = outline.getparent()
        category = None
        if parent is not None and parent.tag == "outline" and not parent.get("xmlUrl"):
            category = parent.get("text") or parent.get("title")
        subscriptions.append(Subscription(url, outline.get("title") or outline.get("text"), category))
    return subscriptions


def read_feed_list(path: Path) -> list[Subscription]:
    """Read an OPML file or a text file with one feed URL per line (``#`` starts a comment)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FeedListError(f"cannot read {path}: {exc}") from exc
    head = data.lstrip()[:200].lower()
    if path.suffix.lower() in {".opml", ".xml"} or head.startswith(b"<?xml") or b"<opml" in head:
        return parse_opml(data)
    subscriptions = []
    # utf-8-sig: editors on Windows start text files with a byte-order mark.
    for number, line in enumerate(data.decode("utf-8-sig", "replace").splitlines(), start=1):
        # "#" inside a URL is its fragment; a comment after a URL is set off by whitespace.
        line = _COMMENT.split(line, maxsplit=1)[0].strip()
        if not line:
            continue
        if not line.startswith(("http://", "https://")):
            raise FeedListError(f"{path}:{number}: not an http(s) URL: {line!r}")
        subscriptions.append(Subscription(line))
    return subscriptions


def write_opml(subscriptions: list[Subscription], title: str = "enrich subscriptions") -> bytes:
    """An OPML 2.0 document of ``subscriptions``, grouped into one outline per category (topic)."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = title
    body = etree.SubElement(root, "body")
    groups: dict[str | None, etree._Element] = {}
    for sub in sorted(subscriptions, key=lambda s: (s.category or "", s.title or "", s.url)):
        parent = body
        if sub.category:
            if sub.category not in groups:
                groups[sub.category] = etree.SubElement(body, "outline", text=sub.category, title=sub.category)
            parent = groups[sub.category]
        name = sub.title or sub.url
        etree.SubElement(parent, "outline", type="rss", text=name, title=name, xmlUrl=sub.url)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)

