"""Enriched feeds: the reader's records as Atom 1.0 and JSON Feed 1.1, for any feed reader.

Pure: takes the dicts :meth:`enrich.store.Store.reader_records` returns (already newest first,
duplicates folded) and returns bytes or a dict; no I/O. Every item carries the title, author, a
link to the original, the publication time, the summary, the key quotes with their speakers, the
topics as categories, the language, the reading time and the kind. Atom readers see those in the
entry's HTML content and as ``enrich:`` extension elements; JSON Feed readers in the ``_enrich``
extension object (JSON Feed 1.1 reserves keys starting with an underscore for extensions).

Feeds come in three scopes: everything, one per topic tab, one per language present.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from lxml import etree

from enrich.preview import TOPICS, article_page, article_slug, safe_href, topic_slug

ATOM_NS = "http://www.w3.org/2005/Atom"
ENRICH_NS = "https://github.com/enrich/enrich/ns/feed"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
# Readers fetch whole feeds on every poll; 100 entries is what Miniflux and most publishers cap at.
FEED_ITEMS = 100
# Atom ids must be absolute IRIs that never change; a tag URI (RFC 4151) names the feed, not where it
# happens to be hosted, so moving the site does not make readers see every item again.
TAG_PREFIX = "tag:enrich.local,2026:"
GENERATOR = "enrich"
# Where `enrich preview` writes the feeds (beside the HTML) and where the API serves them.
FEEDS_DIR = "feeds"
FEED_AUTHOR = "enrich"
# An ISO 639 code; "und" (undetermined) says nothing a reader could use, so it is left out.
_LANGUAGE = re.compile(r"^(?!und$)[a-z]{2,3}$")
# XML 1.0 forbids most control characters even as references; strangers' feeds carry them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CANONICAL_TOPIC = {topic.casefold(): topic for topic in TOPICS}
# Our own page of an article, for an entry that had no link of its own.
PageUrl = Callable[[Mapping], str]


@dataclass(frozen=True, slots=True)
class FeedScope:
    """One enriched feed: its file stem (``all``, ``topic-technology``, ``language-en``) and title."""

    name: str
    title: str
    topic: str | None = None
    language: str | None = None

    def selects(self, record: Mapping) -> bool:
        if self.topic is not None:
            return self.topic in _tab_topics(record)
        if self.language is not None:
            return record.get("language") == self.language
        return True


ALL = FeedScope("all", "enrich · all articles")


def feed_scopes(records: Sequence[Mapping]) -> list[FeedScope]:
    """All articles, each of the 19 topic tabs (an empty one still has a feed), each language present."""
    languages = sorted({r["language"] for r in records if _LANGUAGE.match(str(r.get("language") or ""))})
    return ([ALL]
            + [FeedScope(f"topic-{topic_slug(t)}", f"enrich · {t}", topic=t) for t in TOPICS]
            + [FeedScope(f"language-{code}", f"enrich · language {code}", language=code) for code in languages])


def scope_named(name: str, records: Sequence[Mapping]) -> FeedScope | None:
    """The scope whose file stem is ``name``; a language scope exists even when it has no items yet."""
    for scope in feed_scopes(records):
        if scope.name == name:
            return scope
    if name.startswith("language-") and _LANGUAGE.match(name.removeprefix("language-")):
        code = name.removeprefix("language-")
        return FeedScope(name, f"enrich · language {code}", language=code)
    return None


def select(records: Sequence[Mapping], scope: FeedScope, limit: int = FEED_ITEMS) -> list[Mapping]:
    """The scope's records, newest first (the order they come in), at most ``limit``."""
    return [r for r in records if scope.selects(r)][:limit]


# -- one item, shared by both formats -------------------------------------------------------------
def quotes_with_speakers(record: Mapping) -> list[dict]:
    """Key quotes as ``{"text", "speaker"}``; speaker None when unknown or the store has no speakers."""
    quotes = list(record.get("key_quotes") or ())
    speakers = list(record.get("key_quote_speakers") or ())
    speakers += [None] * (len(quotes) - len(speakers))
    return [{"text": q, "speaker": s or None} for q, s in zip(quotes, speakers, strict=False)]


def original_link(record: Mapping) -> str | None:
    """The article's own http(s) address: the entry link (the stored URL), else the page's canonical URL.

    An entry without a link is stored as ``<feed URL>#entry-<hash>`` (:func:`enrich.urls.entry_identity`);
    that names the entry, not a page, so it is no link to the original.
    """
    url = record.get("url")
    if url and urlsplit(url).fragment.startswith("entry-"):
        url = None
    return safe_href(url) or safe_href(record.get("canonical_url"))


def item_id(record: Mapping) -> str:
    """The item's id in both formats: a tag URI ending in the API's article id, never a fetchable URL.

    Not the article URL itself: readers (feedparser among them) take a URL-shaped id of an entry
    without a link for its link, which for a linkless entry would be the feed it came from.
    """
    return f"{TAG_PREFIX}article/{article_slug(record['url'])}"


def item_link(record: Mapping, page_url: PageUrl | None) -> str | None:
    """The original, else (an entry that never had a link) our own page of the article, if we have one."""
    return original_link(record) or (page_url(record) if page_url else None)


def preview_page(record: Mapping) -> str:
    """The article's page of ``enrich preview``, relative to the feeds' folder beside it."""
    return f"../{article_page(record['url'])}"


def summary_text(record: Mapping) -> str:
    """The summary sentences as one paragraph; the feed's snippet when there is no summary."""
    return " ".join(record.get("summary") or ()) or (record.get("feed_snippet") or "")


def item_html(record: Mapping) -> str:
    """The item's body for readers that show HTML: summary, key quotes with speakers, reading facts."""
    parts = []
    if record.get("summary"):
        parts.append("<p>" + html.escape(" ".join(record["summary"])) + "</p>")
    quotes = quotes_with_speakers(record)
    for quote in quotes:
        cite = f"<footer>— {html.escape(quote['speaker'])}</footer>" if quote["speaker"] else ""
        parts.append(f"<blockquote><p>{html.escape(quote['text'])}</p>{cite}</blockquote>")
    facts = [f"{int(record['reading_minutes'])} min read"] if record.get("reading_minutes") is not None else []
    facts += [str(record[k]) for k in ("language", "kind") if record.get(k)]
    if record.get("topics"):
        facts.append(", ".join(str(t) for t in record["topics"]))
    if facts:
        parts.append("<p><small>" + html.escape(" · ".join(facts)) + "</small></p>")
    return "".join(parts) or "<p></p>"


def enrich_extension(record: Mapping) -> dict:
    """The ``_enrich`` object: what a reader needs beyond JSON Feed's own fields."""
    return {
        "id": article_slug(record["url"]),
        "summary": list(record.get("summary") or ()),
        "key_quotes": quotes_with_speakers(record),
        "topics": list(record.get("topics") or ()),
        "topic_scores": [round(float(s), 4) for s in record.get("topic_scores") or ()],
        "language": record.get("language"),
        "reading_minutes": record.get("reading_minutes"),
        "word_count": record.get("word_count"),
        "kind": record.get("kind"),
        "feed_snippet": record.get("feed_snippet"),
        "feed_url": record.get("feed_url"),
        "feed_title": record.get("feed_title"),
        "site_name": record.get("site_name"),
        "canonical_url": record.get("canonical_url"),
        "related": [{"id": article_slug(r["url"]), "url": r["url"], "title": r.get("title"),
                     "score": round(float(r["score"]), 4)} for r in record.get("related") or ()],
    }


# -- JSON Feed 1.1 --------------------------------------------------------------------------------
def json_feed(records: Sequence[Mapping], scope: FeedScope = ALL, *, feed_url: str | None = None,
              home_page_url: str | None = None, page_url: PageUrl | None = None) -> dict:
    """A JSON Feed 1.1 document (a dict ready for ``json.dumps``) of the scope's newest records.

    ``page_url`` gives our own page of an article whose entry had no link (see :func:`item_link`).
    """
    document: dict = {"version": JSON_FEED_VERSION, "title": scope.title}
    if home_page_url:
        document["home_page_url"] = home_page_url
    if feed_url:
        document["feed_url"] = feed_url
    if scope.language:
        document["language"] = scope.language
    document["authors"] = [{"name": FEED_AUTHOR}]
    document["items"] = [_json_item(r, page_url) for r in select(records, scope)]
    return document


def _json_item(record: Mapping, page_url: PageUrl | None) -> dict:
    item: dict = {"id": item_id(record)}
    if link := item_link(record, page_url):
        item["url"] = link
    if record.get("title"):
        item["title"] = _clean(record["title"])
    item["content_html"] = _clean(item_html(record))
    if summary := summary_text(record):
        item["summary"] = _clean(summary)
    if record.get("image_url") and safe_href(record["image_url"]):
        item["image"] = record["image_url"]
    if record.get("published_at") is not None:
        item["date_published"] = rfc3339(record["published_at"])
    if record.get("author"):
        item["authors"] = [{"name": _clean(record["author"])}]
    if record.get("topics"):
        item["tags"] = [str(t) for t in record["topics"]]
    if record.get("language") and _LANGUAGE.match(record["language"]):
        item["language"] = record["language"]
    item["_enrich"] = enrich_extension(record)
    return item


# -- Atom 1.0 -------------------------------------------------------------------------------------
def atom_feed(records: Sequence[Mapping], scope: FeedScope = ALL, *, now: datetime, feed_url: str | None = None,
              home_page_url: str | None = None, page_url: PageUrl | None = None) -> bytes:
    """An Atom 1.0 document (UTF-8 bytes) of the scope's newest records.

    ``updated`` is the newest item's time (``now`` for an empty feed), so the same records give the
    same bytes and conditional GETs work.
    """
    items = select(records, scope)
    a = _AtomBuilder()
    root = etree.Element(a.q("feed"), nsmap={None: ATOM_NS, "enrich": ENRICH_NS})
    if scope.language:
        root.set("{http://www.w3.org/XML/1998/namespace}lang", scope.language)
    a.text(root, "id", TAG_PREFIX + "feeds/" + scope.name)
    a.text(root, "title", scope.title)
    dates = [r["published_at"] for r in items if r.get("published_at") is not None]
    a.text(root, "updated", rfc3339(max(dates, key=_aware) if dates else now))
    author = etree.SubElement(root, a.q("author"))
    a.text(author, "name", FEED_AUTHOR)
    a.text(root, "generator", GENERATOR)
    if feed_url:
        etree.SubElement(root, a.q("link"), rel="self", href=feed_url, type="application/atom+xml")
    if home_page_url:
        etree.SubElement(root, a.q("link"), rel="alternate", href=home_page_url, type="text/html")
    for record in items:
        root.append(_atom_entry(a, record, now, page_url))
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


class _AtomBuilder:
    @staticmethod
    def q(name: str, ns: str = ATOM_NS) -> str:
        return f"{{{ns}}}{name}"

    def text(self, parent, name: str, value: object, ns: str = ATOM_NS, **attributes: str):
        element = etree.SubElement(parent, self.q(name, ns), **attributes)
        element.text = _clean(str(value))
        return element


def _atom_entry(a: _AtomBuilder, record: Mapping, now: datetime, page_url: PageUrl | None):
    entry = etree.Element(a.q("entry"))
    if record.get("language") and _LANGUAGE.match(record["language"]):
        entry.set("{http://www.w3.org/XML/1998/namespace}lang", record["language"])
    a.text(entry, "id", item_id(record))
    a.text(entry, "title", record.get("title") or "(untitled)", type="text")
    published = record.get("published_at")
    a.text(entry, "updated", rfc3339(published if published is not None else now))
    if published is not None:
        a.text(entry, "published", rfc3339(published))
    if record.get("author"):
        author = etree.SubElement(entry, a.q("author"))
        a.text(author, "name", record["author"])
    if link := item_link(record, page_url):
        etree.SubElement(entry, a.q("link"), rel="alternate", href=link, type="text/html")
    for topic in dict.fromkeys(str(t) for t in record.get("topics") or ()):
        etree.SubElement(entry, a.q("category"), term=_clean(topic))
    if summary := summary_text(record):
        a.text(entry, "summary", summary, type="text")
    a.text(entry, "content", item_html(record), type="html")
    extension = enrich_extension(record)
    for name in ("id", "language", "kind", "reading_minutes", "word_count"):
        if extension[name] is not None:
            a.text(entry, name.replace("_", "-"), extension[name], ns=ENRICH_NS)
    for quote in extension["key_quotes"]:
        element = a.text(entry, "quote", quote["text"], ns=ENRICH_NS)
        if quote["speaker"]:
            element.set("speaker", _clean(quote["speaker"]))
    return entry


# -- values ---------------------------------------------------------------------------------------
def rfc3339(when: datetime) -> str:
    """UTC, to the second, with a ``Z``: what both Atom and JSON Feed ask for."""
    return _aware(when).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _clean(value: str) -> str:
    return _NOT_XML.sub("", value)


def _tab_topics(record: Mapping) -> set[str]:
    return {_CANONICAL_TOPIC[t.casefold()] for t in map(str, record.get("topics") or ()) if t.casefold() in _CANONICAL_TOPIC}


def feed_documents(records: Sequence[Mapping], *, now: datetime) -> dict[str, bytes]:
    """Every scope's feed in both formats, by file name (``all.atom``, ``topic-art.json``...), for
    ``enrich preview``. In Atom a linkless entry links to its preview page, relative to the feed (Atom
    resolves relative links against the document); JSON Feed has no base URL, so there it has none."""
    documents = {}
    for scope in feed_scopes(records):
        documents[f"{scope.name}.atom"] = atom_feed(records, scope, now=now, page_url=preview_page)
        documents[f"{scope.name}.json"] = json_dumps(json_feed(records, scope))
    return documents


def json_dumps(document: dict) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")
