"""What a page's markup says about the kind of piece it is: schema.org types, sections, kickers, its URL.

Publishers label their pieces in the markup long before the text gives them away: a JSON-LD
``OpinionNewsArticle``, ``article:section`` "Commentary", an "OPINION" kicker over the headline,
a URL under ``/opinion/``. ``read_page_signals`` collects those statements as they are written;
``enrich.kind`` decides what they mean.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from lxml import etree

from enrich.jsonld import json_ld_items
from enrich.models import PageSignals

# At most this many values of each signal are kept: a page states its own type and section once or
# twice; long lists are other items' (a site's navigation, a feed of related stories).
MAX_VALUES = 12
# A kicker or a headline's prefix is a label: a few words at most ("Opinion", "Fact Check").
KICKER_MAX_WORDS = 4
# How far up from the headline a kicker may sit: the headline's parent, grandparent ... up to this.
KICKER_LEVELS = 3

_SECTION_META = etree.XPath(
    "//meta[@property='article:section' or @name='article:section' or @property='og:article:section'"
    " or @name='section' or @name='parsely-section']/@content",
    smart_strings=False,
)
_OG_TYPE = etree.XPath("//meta[@property='og:type']/@content", smart_strings=False)
_MICRODATA_TYPES = etree.XPath(
    "/descendant::*[@itemscope and not(@itemprop)]/@itemtype", smart_strings=False
)
_KICKER_CLASS = re.compile(r"(?:^|[\s_-])(?:kicker|eyebrow|overline|rubric)(?:$|[\s_-])", re.IGNORECASE)
# "OPINION: ...", "Column | ...", "Análisis: ...": a label before the headline's own words.
_HEADLINE_PREFIX = re.compile(r"^\s*([^\W\d_][\w'’&. -]{0,30}?)\s*[:|]\s+\S")
_TITLES = ("//h1", "//meta[@property='og:title']/@content", "//title")
# A writer's role as bylines and signatures state it: "Opinion Columnist", "정덕현 칼럼니스트".
COLUMNIST_WORDS = (
    "columnist", "op-ed contributor", "opinion writer", "editorial board", "kolumnist", "gastautor", "columnista",
    "articulista", "chroniqueur", "chroniqueuse", "éditorialiste", "editorialista", "colunista", "felietonista",
    "колумнист", "обозреватель", "칼럼니스트", "논설위원", "コラムニスト", "論説委員", "专栏作家", "评论员",
)  # fmt: skip
ROLE_MAX_WORDS = 6
# Case-sensitive over lower-cased text, behind a lookahead on the words' first characters: a
# case-insensitive alternation tests every position of the page against every word.
_COLUMNIST = re.compile(
    "(?=[" + re.escape("".join(sorted({w[0] for w in COLUMNIST_WORDS}))) + "])(?:"
    + "|".join(re.escape(word) for word in COLUMNIST_WORDS) + ")"
)
# ("/descendant::" steps mean what "//" would; libxml2 runs them faster.)
_VISIBLE_TEXT = etree.XPath(
    "/descendant::body/descendant::text()[not(ancestor::a or ancestor::nav or ancestor::script"
    " or ancestor::style or ancestor::option or ancestor::button or ancestor::noscript)]",
    smart_strings=False,
)
# The body's text less the scripts' and style sheets' (two thirds of it on the benchmark's pages),
# links and menus included: a columnist word nowhere in it is in none of the visible lines either,
# and one test of the parent costs far less than the seven of the ancestors above.
_BODY_TEXT = etree.XPath(
    "/descendant::body/descendant::text()[not(parent::script or parent::style)]", smart_strings=False
)
_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "gov", "ac", "edu", "or", "ne", "go"})


def _strings(value) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, str):
                yield item


def _type_name(value: str) -> str:
    """``https://schema.org/OpinionNewsArticle`` -> ``OpinionNewsArticle``."""
    return value.rstrip("/").rsplit("/", 1)[-1].strip()


def _unique(values: Iterator[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for value in values:
        value = " ".join(value.split())
        if value and value.casefold() not in {v.casefold() for v in seen}:
            seen[value] = None
        if len(seen) >= MAX_VALUES:
            break
    return tuple(seen)


def site_name_of(host: str | None) -> str | None:
    """The name a host carries: ``www.ascom.com`` -> ``ascom``, ``news.bbc.co.uk`` -> ``bbc``."""
    labels = [label for label in (host or "").lower().split(".") if label and label != "www"]
    if len(labels) < 2:
        return None
    name = labels[-2]
    if name in _SECOND_LEVEL and len(labels) >= 3:
        name = labels[-3]
    return name


def _alnum(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _kickers(tree, host: str | None) -> Iterator[str]:
    # 1. Labels over the headline: elements classed kicker, eyebrow, rubric ... near the first <h1>.
    headline = next(iter(tree.xpath("//h1")), None)
    if headline is not None:
        scope = headline
        for _ in range(KICKER_LEVELS):
            parent = scope.getparent()
            if parent is None:
                break
            scope = parent
        for element in scope.iter():
            if not isinstance(element.tag, str) or not _KICKER_CLASS.search(element.get("class") or ""):
                continue
            text = " ".join(element.text_content().split())
            if 0 < len(text.split()) <= KICKER_MAX_WORDS:
                yield text
    # 2. A label the headline itself opens with ("OPINION: Why the city ...").
    site = _alnum(host or "")
    for xpath in _TITLES:
        for found in tree.xpath(xpath)[:1]:
            text = found if isinstance(found, str) else found.text_content()
            match = _HEADLINE_PREFIX.match(" ".join(str(text).split()))
            # "The Space Review: Seeking a bigger role" names the site, not the kind of piece.
            if match and len(match.group(1).split()) <= KICKER_MAX_WORDS and _alnum(match.group(1)) not in site:
                yield match.group(1)


def _author_roles(tree) -> Iterator[str]:
    """Short lines of the page's own text that call a writer a columnist, in any language we list.

    Links, navigation and scripts are skipped: a menu's "Columnists" names the site's sections.
    """
    # Most pages name no columnist at all: a look for each word in the body's text settles those
    # (24 of the benchmark's 181 pages hold one, 4 in a visible line of their own). str's substring
    # search is twice as fast as the pattern here; no word holds the newline the text nodes are
    # joined with, so none is found across two of them.
    body = "\n".join(_BODY_TEXT(tree)).lower()
    if not any(word in body for word in COLUMNIST_WORDS):
        return
    for node in _VISIBLE_TEXT(tree):
        text = " ".join(str(node).split())
        if 0 < len(text.split()) <= ROLE_MAX_WORDS and _COLUMNIST.search(text.lower()):
            yield text


def read_page_signals(tree, url: str | None = None, canonical_url: str | None = None) -> PageSignals:
    """The kind-related statements of a parsed page (an lxml tree); ``url`` is where it was fetched."""
    items = list(json_ld_items(tree))
    types = (_type_name(t) for item in items for t in _strings(item.get("@type")))
    # Microdata: the page's top-level items are those that are no property of another item.
    microdata = (_type_name(t) for t in _MICRODATA_TYPES(tree))
    sections = (
        *(str(value) for value in _SECTION_META(tree)),
        *(s for item in items for key in ("articleSection", "genre") for s in _strings(item.get(key))),
    )
    og_type = next((str(value).strip() for value in _OG_TYPE(tree) if str(value).strip()), None)
    address = urlsplit(url or canonical_url or "")
    return PageSignals(
        schema_types=_unique(iter((*types, *microdata))),
        sections=_unique(iter(sections)),
        og_type=og_type,
        kickers=_unique(_kickers(tree, address.hostname)),
        author_roles=_unique(_author_roles(tree)),
        url_path=address.path or None,
        host=address.hostname,
    )
