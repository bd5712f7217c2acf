"""The feed snippet: the entry's description as clean, short plain text."""

from __future__ import annotations

import html
import re

import lxml.html
from lxml import etree

_SPACE = re.compile(r"\s+")
_BLOCK_TAGS = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr"}


def html_to_text(fragment: str | None, *, paragraphs: bool = False) -> str:
    """Strip tags and decode entities (twice-escaped ones too), collapsing whitespace.

    With ``paragraphs`` each block element ends a line, the shape trafilatura gives page text.
    """
    if not fragment or not fragment.strip():
        return ""
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return _SPACE.sub(" ", html.unescape(fragment)).strip()
    separator = "\n" if paragraphs else " "
    for bad in root.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag in _BLOCK_TAGS:
            el.tail = separator + (el.tail or "")
    # Feeds often escape their HTML twice ("&amp;amp;"); one more unescape is harmless otherwise.
    text = html.unescape(root.text_content())
    if paragraphs:
        lines = (_SPACE.sub(" ", line).strip() for line in text.split("\n"))
        return "\n".join(line for line in lines if line)
    return _SPACE.sub(" ", text).strip()


def make_snippet(summary_html: str | None, content_html: str | None = None, *, max_chars: int = 300) -> str:
    """Plain-text snippet of at most ``max_chars``, cut at a word boundary with an ellipsis."""
    text = html_to_text(summary_html) or html_to_text(content_html)
    if len(text) <= max_chars:
        return text
    cut = text[: max_chars - 1]
    if " " in cut and not text[max_chars - 1].isspace():
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.-–—") + "…"
