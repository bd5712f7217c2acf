"""Main text and metadata of an article page, by trafilatura, and the choice between page and feed metadata.

The cascade, top to bottom:

1. main extractor: trafilatura leaning to precision, reader comments excluded;
2. clean-up: the repeated headline and the lines of page furniture trafilatura lets through
   ("Related: ...", "Sign up for our newsletter", "___", reporting credits) are dropped;
3. rescue: when that leaves less than an article, a recall-leaning pass is tried and kept if it
   finds much more;
4. metadata: trafilatura's, plus the full publication timestamp the page states, and the count
   of content images in the article's container (reading time counts them).

Settings and filters were chosen by measurement on the article-extraction benchmark
(``bench/extraction.py``; figures in the README).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, time, timedelta
from urllib.parse import urljoin, urlsplit

import trafilatura
from htmldate import find_date
from lxml import etree
from trafilatura.metadata import (
    META_URL,
    examine_meta,
    extract_meta_json,
    extract_sitename,
    extract_title,
    extract_url,
)
from trafilatura.settings import DEFAULT_CONFIG, Document, set_date_params

from enrich.boilerplate import peel_boilerplate
from enrich.bylines import format_authors, page_authors, person_names
from enrich.jsonld import json_ld_objects
from enrich.limits import capped_author, capped_title, plausible_datetime
from enrich.models import ExtractedPage
from enrich.pagesignals import read_page_signals
from enrich.text import mixed_script_word_count, words
from enrich.titles import cut_off, page_title

# XPaths compiled once, with plain strings for attribute values (lxml's "smart" strings, which
# keep their parent element, cost more to make).
_OG_SITE_NAME = etree.XPath("//meta[@property='og:site_name']/@content", smart_strings=False)
_CANONICAL = etree.XPath("//link[@rel='canonical']/@href", smart_strings=False)
_HTML_LANG = re.compile(rb"<html[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3})", re.IGNORECASE)

# 1. The main extractor. Measured on the benchmark's 181 pages (F1, P/R):
#    trafilatura defaults 0.953 (0.928/0.978); include_comments=False 0.960; favor_precision
#    as well 0.964 (0.958/0.971); deduplicate=True cost 0.003 and include_tables=False 0.007;
#    no_fallback=True 0.946; favor_recall 0.952. include_images=True puts captions into the
#    text (precision 0.945), so images are counted on the page instead (step 4).
EXTRACTION_OPTIONS = dict(
    favor_precision=True,
    include_comments=False,  # reader comments are not the article
    include_tables=True,
    include_images=False,
    deduplicate=False,
    # trafilatura drops scripts and style sheets itself, but only after some of its XPaths have
    # walked them on the raw page (the precise pass's readability check among them). Pruned first:
    # extract_article's result the same on the 181 benchmark pages (with and without URL) and the
    # demo pages, 0.2-0.6 ms a page less (of 22).
    prune_xpath="//script|//style",
)
# 3. A page whose cleaned text is shorter than this is no article (the pipeline's own floor is
#    40 words too); a recall-leaning pass that finds more than RESCUE_GAIN times as many words
#    replaces it. On the benchmark this rescues a page whose precise pass kept only its
#    "personal, non-commercial use" notice; longer texts are never second-guessed.
RESCUE_BELOW_WORDS = 40
RESCUE_GAIN = 2.0

# 2. Page furniture, line by line. Written from the benchmark's pages with the most false
#    positives and the usual news-site chrome; every pattern only removes a whole line.
# A line announcing other content ("Related: ...", "READ MORE: ...", "More:") anywhere in the text.
_LINK_LINE = re.compile(
    r"^\W*(?:related(?: posts?| stories| articles| coverage)?|read more|read also|see more|see also|more|also|"
    r"also on \S+|don'?t miss|most read(?: in [\w ]+)?|you may also like|leggi anche|lesen sie auch|"
    r"mehr zum thema|lee también|leia também|veja também|saiba mais)\b\s*[:|….!]*",
    re.IGNORECASE,
)
_LINK_LINE_MAX_WORDS = 25
# ... which must then be a bare label or a label with a colon or bar before its headline.
_LABEL_ONLY = re.compile(r"^\W*\w+(?: \w+){0,4}\W*$")
# Lines that are never article text, wherever they stand.
_ALWAYS = re.compile(
    r"^\W*(?:_{3,}|comments?|\d+ comments?|tags?|share(?: this)?|advertisement|anzeige|publicidad)\W*$",
    re.IGNORECASE,
)

# 4. The publication time of day: trafilatura (htmldate) states the date only. Asked for the time
#    as well (outputformat "%Y-%m-%dT%H:%M:%S%z"), htmldate gives it on 120 of the 197 pages of
#    bench/card.py where this reading gives 153, and a different day on some; so we read it here.
# Where a page states it, first first: (element, or None for any, attribute, its value, attribute read).
_PUBLISHED_DECLARATIONS = (
    ("meta", "property", "article:published_time", "content"),
    ("meta", "name", "article:published_time", "content"),
    ("meta", "property", "og:published_time", "content"),
    ("meta", "itemprop", "datePublished", "content"),
    (None, "itemprop", "datePublished", "datetime"),
    (None, "itemprop", "datePublished", "content"),
)
# The elements the declarations of each element name read (None: any element, with the itemprop
# the last two declarations look for), in document order; each walk made once and only when
# reached: most pages state the time in a <meta>, and testing every element for the itemprop costs
# 0.3 ms a page where finding the <meta> elements by name costs a tenth of that.
_PUBLISHED_ELEMENTS = {
    "meta": etree.XPath("//meta"),
    None: etree.XPath("/descendant::*[@itemprop='datePublished']"),
}
_LD_ARTICLE_TYPES = re.compile(r"article|posting|report|newsarticle|webpage", re.IGNORECASE)
_HAS_TIME = re.compile(r"\d[T ]\d{1,2}:\d{2}")
# A stated timestamp whose day is further than this from trafilatura's date describes something
# else (a JSON-LD block about a video, a template's default).
_TIMESTAMP_AGREEMENT = timedelta(days=1)
# Images smaller than this in a stated width or height are icons, avatars or tracking pixels.
MIN_IMAGE_SIDE = 50
_IMAGE_SOURCES = ("data-src", "data-lazy-src", "data-original", "src")
# Elements that hold an article paragraph, searched to find the article's container on the page.
# (Found by lxml's iter() in one walk, in document order: half the time of an XPath union.)
_CONTAINER_PARAGRAPH_TAGS = ("p", "li", "blockquote", "pre", "dd", "td", "h2", "h3")
# Inline elements inside a paragraph, whose section-like class must not cost the sentence its words
# (see _inline_text_kept); the paragraph must hold this many words besides the element's own.
_PARAGRAPH_TAGS = ("p", "li", "blockquote", "dd", "td")
_INLINE_TAGS = ("span", "a", "em", "strong", "b", "i", "u", "mark")
_SECTION_ATTRIBUTES = ("class", "id", "style")
# Every <time>, and every inline element with one of those attributes, inside a paragraph. One
# union of searches by name, each element then tested for a paragraph above it, finds the same
# elements in the same order as "paragraphs' descendants that are ..." in a third of the time
# (0.4 ms a page against 1.1, process time on the 181 benchmark pages): libxml2 finds elements by
# name fast, and nested list items made it walk their descendants once per level. (The
# "/descendant::" steps mean what "//" would; libxml2 runs them a third faster.)
_IN_PARAGRAPH = "[" + " or ".join(f"ancestor::{tag}" for tag in _PARAGRAPH_TAGS) + "]"
_SECTION_LIKE = "[" + " or ".join(f"@{name}" for name in _SECTION_ATTRIBUTES) + "]"
_INLINE_IN_PARAGRAPH = etree.XPath(
    " | ".join(
        [
            f"/descendant::time{_IN_PARAGRAPH}",
            *(f"/descendant::{tag}{_SECTION_LIKE}{_IN_PARAGRAPH}" for tag in _INLINE_TAGS),
        ]
    )
)
_HIDDEN = re.compile(
    r"hidden|sr-only|screen-reader|visually-hidden|display:\s*none|visibility:\s*hidden", re.IGNORECASE
)
_RUNNING_TEXT_MIN_WORDS = 8


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return plausible_datetime(parsed, None).value  # in UTC; None before the web or out of range


def html_lang(html: bytes | str) -> str | None:
    """The two-letter language the page declares on its <html> element, if any."""
    head = html[:4096] if isinstance(html, bytes) else html[:4096].encode("utf-8", "replace")
    match = _HTML_LANG.search(head)
    return match.group(1).decode().lower() if match else None


def _declared(tree, xpath: etree.XPath) -> str | None:
    """The first non-empty value the page declares at ``xpath`` (an attribute), if any."""
    values = (str(value).strip() for value in xpath(tree))
    return next((value for value in values if value), None)


def _norm(text: str) -> str:
    return " ".join(words(text.lower()))


def _is_furniture(line: str) -> bool:
    if _ALWAYS.match(line):
        return True
    if len(line.split()) <= _LINK_LINE_MAX_WORDS and _LINK_LINE.match(line):
        return bool(
            _LABEL_ONLY.match(line) or re.search(r"[:|]", line[:40]) or line.lower().lstrip().startswith("also on")
        )
    return False


def clean_text(text: str, title: str | None = None) -> str:
    """Extracted text without the repeated headline and lines of page furniture, one paragraph per line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if lines and title and _norm(lines[0]) == _norm(title):
        lines = lines[1:]  # the headline is metadata, not the first paragraph
    # Furniture inside the text, line by line; then what sits at its two ends (enrich.boilerplate).
    return peel_boilerplate("\n".join(line for line in lines if not _is_furniture(line)))


def _page_metadata(tree) -> Document | None:
    """trafilatura's ``extract_metadata`` (2.3) less the fields nobody here reads; None where it fails.

    The author is not read: ``enrich.bylines`` finds people's names where trafilatura returned
    newsrooms, roles and dates with them.

    ``bare_extraction(with_metadata=True)`` spent 3 of its 10 ms of metadata per page on
    categories, tags and the licence, and ran again for a rescue pass. These are its steps, in its
    order, for the fields ``extract_article`` uses; tests/test_extract.py checks they still give
    what ``trafilatura.extract_metadata`` gives. The public ``extract_metadata`` itself costs 6.1 ms a
    page against these steps' 1.3 (process time, the 181 benchmark pages, warm), mostly the author
    and the categories, so these steps stay, with trafilatura's version bounded in pyproject.toml.
    """
    try:
        return _metadata_steps(tree)
    except (TypeError, ValueError):  # bare_extraction discarded such a page, and so do we
        return None


def _metadata_steps(tree) -> Document:
    metadata = examine_meta(tree)
    try:
        metadata = extract_meta_json(tree, metadata)
    except Exception:  # trafilatura's own guard: bugs in its JSON-LD parser
        pass
    metadata.title = metadata.title or extract_title(tree)
    metadata.url = metadata.url or extract_url(tree)
    date_params = set_date_params(DEFAULT_CONFIG.getboolean("DEFAULT", "EXTENSIVE_DATE_SEARCH"))
    metadata.date = find_date(tree, **{**date_params, "url": metadata.url})
    if not metadata.sitename:
        metadata.sitename = extract_sitename(tree)
    if metadata.sitename:
        metadata.sitename = metadata.sitename.lstrip("@")
        if metadata.sitename and "." not in metadata.sitename and not metadata.sitename[0].isupper():
            metadata.sitename = metadata.sitename.title()
    elif metadata.url and (match := META_URL.match(metadata.url)):
        metadata.sitename = match[1]
    metadata.clean_and_trim()
    return metadata


@contextmanager
def _inline_text_kept(tree) -> Iterator[None]:
    """The page with its inline elements disguised as plain spans while the block lasts.

    trafilatura discards sections by class, id and style ("related", "meta", "link", "bottom",
    a border ...), and its XPaths match spans and links as well as blocks: ``Povich, <span
    class="link"><a>the host</a></span>, is best known`` came out as "Povich, , is best known".
    It also deletes every ``<time>``, so "on <time>Monday</time>" lost its day. Inside a
    paragraph's running text such an element is part of the sentence, so for the extraction it
    loses those attributes (and a ``<time>`` becomes a ``<span>``); all is put back after it, as
    the metadata reads them (bylines are found by class). Elements hidden from readers are left
    alone and stay dropped.
    """
    changed, words = [], {}
    for element in _INLINE_IN_PARAGRAPH(tree):
        # The word count first: it passes over three elements in four on the benchmark's pages.
        paragraph = next(element.iterancestors(*_PARAGRAPH_TAGS), None)
        if paragraph is None:
            continue
        if paragraph not in words:  # a paragraph with several links is counted once
            words[paragraph] = len(paragraph.text_content().split())
        if words[paragraph] - len(element.text_content().split()) < _RUNNING_TEXT_MIN_WORDS:
            continue  # a byline or a date standing alone, not words of a sentence
        attributes = {
            name: value for name in _SECTION_ATTRIBUTES if (value := element.get(name)) is not None
        }
        if _HIDDEN.search(" ".join(attributes.values())) or element.get("aria-hidden") == "true":
            continue
        changed.append((element, element.tag, attributes))
        for name in attributes:
            del element.attrib[name]
        if element.tag == "time":
            element.tag = "span"
    try:
        yield
    finally:
        for element, tag, attributes in changed:
            element.tag = tag
            element.attrib.update(attributes)


def _extract_text(tree, *, recall: bool) -> str | None:
    """trafilatura's main text, not yet cleaned; None when it finds none."""
    options = {**EXTRACTION_OPTIONS, "favor_precision": not recall, "favor_recall": recall}
    # Metadata is read once, by _page_metadata, rather than by each pass.
    with _inline_text_kept(tree):
        doc = trafilatura.bare_extraction(tree, with_metadata=False, **options)
    return None if doc is None else (doc.text or "")


def _published_candidates(tree) -> Iterator[str]:
    """Stated publication times, most trusted first; read lazily, as the first with a time of day wins."""
    found = {}
    for tag, attribute, value, read in _PUBLISHED_DECLARATIONS:
        if tag not in found:
            found[tag] = _PUBLISHED_ELEMENTS[tag](tree)
        for element in found[tag]:
            if element.get(attribute) == value:
                stated = element.get(read)
                if stated is not None:
                    yield stated
    for obj in json_ld_objects(tree):
        kind = obj.get("@type", "")
        kind = " ".join(kind) if isinstance(kind, list) else str(kind)
        if _LD_ARTICLE_TYPES.search(kind) and isinstance(obj.get("datePublished"), str):
            yield obj["datePublished"]


def _stated_timestamp(tree) -> datetime | None:
    """The publication time with a time of day, from meta tags or JSON-LD, in the page's own zone."""
    for value in _published_candidates(tree):
        value = str(value).strip()
        if not _HAS_TIME.search(value):
            continue
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            continue
        if plausible_datetime(parsed, None).value is None:  # Go's zero time, the epoch, out of range
            continue
        # A time without a zone is taken as UTC, as trafilatura's bare dates are.
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed
    return None


def _published(doc_date: str | None, stated: datetime | None) -> tuple[datetime | None, str | None]:
    """Publication time (UTC) and its precision: the stated timestamp when its day agrees with trafilatura's."""
    day = _date(doc_date)
    if stated is not None and (day is None or abs(stated.date() - day.date()) <= _TIMESTAMP_AGREEMENT):
        return stated.astimezone(UTC), "datetime"
    return (day, "date") if day is not None else (None, None)


def _image_side(value: str | None) -> int | None:
    match = re.match(r"\s*(\d+)", value or "")
    if not match:
        return None
    # Python refuses to parse more than 4,300 digits; any side past a billion pixels is just "large".
    digits = match.group(1)
    return int(digits) if len(digits) <= 9 else 10**9


def _holds(element, phrase: str, word: str) -> bool:
    """Does the element's text, normalised by :func:`_norm`, hold ``phrase`` (normalised too)?

    ``word`` is a run of ``phrase`` without a space: wherever ``phrase`` is in the normalised text,
    ``word`` lies inside one of its words, so inside the lowercased text. Testing that first spares
    most elements the normalisation (it took 0.6 ms a page).
    """
    content = element.text_content()
    return word in content.lower() and phrase in _norm(content)


def _container(tree, text: str):
    """The smallest element of the page holding the first and the last paragraph of ``text``."""
    lines = [line for line in text.splitlines() if len(line) >= 20]
    if not lines:
        return None
    first, last = _norm(lines[0])[:60], _norm(lines[-1])[-60:]
    if not first or not last:
        return None
    # The first element holding the first paragraph and the last holding the last paragraph,
    # each searched from its own end of the page.
    elements = list(tree.getroottree().iter(*_CONTAINER_PARAGRAPH_TAGS))
    first_word, last_word = max(first.split(), key=len), max(last.split(), key=len)
    start = next((e for e in elements if _holds(e, first, first_word)), None)
    end = next((e for e in reversed(elements) if _holds(e, last, last_word)), None)
    if start is None or end is None:
        return None
    ancestors = {id(a): a for a in start.iterancestors()}
    if start is end:
        return start.getparent()
    if any(a is start for a in end.iterancestors()):
        return start
    return next((a for a in end.iterancestors() if id(a) in ancestors), None)


def count_images(tree, text: str) -> int:
    """Content images in the element that holds the article's text; icons and pixels excluded."""
    container = _container(tree, text)
    if container is None:
        return 0
    seen: set[str] = set()
    for img in container.iter("img"):
        source = next((img.get(a) for a in _IMAGE_SOURCES if img.get(a) and not img.get(a).startswith("data:")), None)
        sides = [s for s in (_image_side(img.get("width")), _image_side(img.get("height"))) if s is not None]
        if source and not any(side < MIN_IMAGE_SIDE for side in sides):
            seen.add(source)
    return len(seen)


def card_metadata(tree, doc: Document, url: str | None = None) -> dict[str, object]:
    """The page's title, author, publication time and site name, as the reader's card shows them.

    ``doc`` is :func:`_page_metadata` of the same tree. The title loses the site's name
    (``enrich.titles``), the author is people only (``enrich.bylines``).
    """
    published_at, precision = _published(doc.date, _stated_timestamp(tree))
    # Never in the future, like the feed's dates: a page dated 9999 must not top the reader forever.
    published_at = plausible_datetime(published_at, datetime.now(UTC)).value
    # trafilatura prefers the longer of og:site_name and the JSON-LD publisher, which names the
    # company ("Rundschau Verlag GmbH") rather than the site its readers know.
    site_name = _declared(tree, _OG_SITE_NAME) or doc.sitename or None
    headlines = [" ".join(h.text_content().split()) for h in tree.iter("h1")]
    page_url = url or doc.url
    return {
        "title": capped_title(page_title(capped_title(doc.title), headlines=headlines, site_name=site_name,
                                         url=page_url)),
        "author": capped_author(format_authors(page_authors(tree, site_name=site_name, url=page_url))),
        "published_at": published_at,
        "published_precision": precision,
        "site_name": site_name,
    }


def extract_article(html: bytes | str, url: str | None = None) -> ExtractedPage:
    """Extract the main text (paragraphs separated by newlines) and metadata; empty text if none."""
    tree = trafilatura.load_html(html)
    if tree is None:
        return ExtractedPage(text="", html_lang=html_lang(html))
    # 1-2. Precise pass, cleaned (bare_extraction works on a copy, so the tree can be read again).
    precise = _extract_text(tree, recall=False)
    doc = _page_metadata(tree) if precise is not None else None
    text = clean_text(precise, doc.title) if doc is not None else ""
    # 3. Rescue a page the precise pass found (almost) nothing in.
    if mixed_script_word_count(text) < RESCUE_BELOW_WORDS and (recalled := _extract_text(tree, recall=True)) is not None:
        rescue = doc if doc is not None else _page_metadata(tree)
        rescued = clean_text(recalled, rescue.title) if rescue is not None else ""
        if mixed_script_word_count(rescued) > RESCUE_GAIN * mixed_script_word_count(text):
            doc, text = rescue, rescued
    if doc is None:
        return ExtractedPage(text="", html_lang=html_lang(html))
    # 4. Metadata.
    canonical = urljoin(url, doc.url) if (doc.url and url) else doc.url
    # trafilatura drops a relative canonical link (or falls back to og:url's host for it); it is
    # relative to the page we fetched, like any link on it.
    declared = _declared(tree, _CANONICAL)
    if url and declared and not urlsplit(declared).scheme:
        resolved = urljoin(url, declared)
        canonical = resolved if urlsplit(resolved).scheme in ("http", "https") else canonical
    return ExtractedPage(
        text=text,
        **card_metadata(tree, doc, url),
        image_url=urljoin(url, doc.image) if (doc.image and url) else (doc.image or None),
        canonical_url=canonical or None,
        html_lang=html_lang(html),
        image_count=count_images(tree, text) if text else 0,
        signals=read_page_signals(tree, url, canonical or None),
    )


# -- page or feed: which metadata to keep ---------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ArticleMetadata:
    """The metadata fields that both the feed entry and the page may state."""

    title: str | None = None
    author: str | None = None
    published_at: datetime | None = None  # aware UTC
    site_name: str | None = None
    image_url: str | None = None


METADATA_FIELDS = tuple(f.name for f in fields(ArticleMetadata))


def _clean(value):
    if isinstance(value, str):
        value = " ".join(value.split())
    return value or None


def _date_only(value: datetime) -> bool:
    return value.timetz().replace(tzinfo=None) == time(0, 0)


def choose_metadata(
    entry_values: ArticleMetadata, page: ExtractedPage | None
) -> tuple[ArticleMetadata, dict[str, str]]:
    """The better of the feed's and the page's value for each field, and which one was used.

    Sources are ``feed``, ``page`` or ``none`` per field. The feed is the publisher's own
    statement and wins by default, except where it is visibly worse:

    - title: the page's when the feed's is cut off (an ellipsis, or stopped mid-word) and the
      page's is its full form; a feed title the page only adds its site's name to is kept;
    - author: the people the feed's names ("By Ann Example, Staff Writer" -> "Ann Example"),
      the page's when it names nobody (an e-mail address, "admin", "Staff", the site's name);
    - published_at: the page's when the feed's is a bare date (midnight) and the page states
      the time of day on the same day;
    - site_name, image_url: the page's (og:site_name names the site readers know; og:image is the
      article's lead image, where a feed has at most a thumbnail), the feed's without one.
    """
    feed = ArticleMetadata(**{name: _clean(getattr(entry_values, name)) for name in METADATA_FIELDS})
    found = ArticleMetadata(
        **{name: _clean(getattr(page, name)) if page is not None else None for name in METADATA_FIELDS}
    )
    chosen: dict[str, object] = {}
    sources: dict[str, str] = {}

    def take(name: str, use_page: bool) -> None:
        feed_value, page_value = getattr(feed, name), getattr(found, name)
        if feed_value is not None and (not use_page or page_value is None):
            chosen[name], sources[name] = feed_value, "feed"
        elif page_value is not None:
            chosen[name], sources[name] = page_value, "page"
        else:
            chosen[name], sources[name] = None, "none"

    site_page_first = found.site_name is not None
    take("site_name", site_page_first)
    site_name = chosen["site_name"]
    take("title", bool(feed.title and found.title and cut_off(feed.title, found.title)))
    if feed.author:
        feed = replace(feed, author=format_authors(person_names(feed.author, site_name=site_name)))
    take("author", False)
    page_time_is_better = bool(
        feed.published_at
        and found.published_at
        and page is not None
        and page.published_precision == "datetime"
        and _date_only(feed.published_at)
        and feed.published_at.date() == found.published_at.date()
    )
    take("published_at", page_time_is_better)
    take("image_url", True)
    return ArticleMetadata(**chosen), sources

