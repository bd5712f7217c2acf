"""Records that cross a stage boundary. Frozen, so a stage cannot mutate what it was handed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from enrich.reasons import ENRICH_FAILED, article_status

if TYPE_CHECKING:  # the store reads and writes these records without loading linking's numpy and scipy
    from enrich.dedup import DuplicateMatch


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One entry of a feed, converted from feedparser's dict at the boundary."""

    feed_url: str
    entry_id: str
    url: str  # identity: normalised link, or a stable id for entries without one
    link: str | None
    title: str | None
    author: str | None
    published_at: datetime | None  # aware UTC
    updated_at: datetime | None
    tags: tuple[str, ...]
    summary_html: str | None
    content_html: str | None
    content_hash: str


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with one entry, field or header of a feed: a stable reason key and a message.

    The entry or value it concerns was dropped, clamped or emptied; the rest of the feed was used.
    """

    reason: str  # e.g. entry.bad_url, entry.bad_date, header.bad_max_age
    message: str
    url: str | None = None  # the entry's link or identity, when it concerns one entry


@dataclass(frozen=True, slots=True)
class FeedPoll:
    """What polling one feed produced: its entries, or why there are none."""

    feed_url: str
    ok: bool
    title: str | None = None
    language: str | None = None
    entries: tuple[FeedEntry, ...] = ()
    http_status: int | None = None
    bozo_reason: str | None = None
    error_key: str | None = None
    error: str | None = None
    not_modified: bool = False  # HTTP 304: nothing to parse, nothing new
    etag: str | None = None
    last_modified: str | None = None
    retry_after: str | None = None  # the header as sent, for the scheduler
    moved_to: str | None = None  # where a permanent redirect (301/308) says the feed now lives
    gone: bool = False  # HTTP 410: stop polling
    ttl_minutes: int | None = None  # RSS <ttl>: how long the publisher says to cache the feed
    cache_control: str | None = None  # the response's Cache-Control header
    problems: tuple[Problem, ...] = ()  # entries dropped and values clamped or emptied, with why


@dataclass(frozen=True, slots=True)
class FetchResult:
    """An HTTP fetch: the decoded body, or a stable reason key and message."""

    url: str
    final_url: str | None
    ok: bool
    http_status: int | None = None
    content_type: str | None = None
    body: bytes = b""
    encoding: str | None = None
    error_key: str | None = None  # e.g. fetch.timeout, fetch.http_404, fetch.not_html
    error: str | None = None
    retryable: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    permanent_redirect: str | None = None  # final URL when every redirect hop was 301/308

    @property
    def text(self) -> str:
        return self.body.decode(self.encoding or "utf-8", errors="replace")


@dataclass(frozen=True, slots=True)
class PageSignals:
    """What a page's markup says about the kind of piece it is (read by enrich.kind before the text)."""

    schema_types: tuple[str, ...] = ()  # schema.org @type of its top-level items (JSON-LD incl. @graph, microdata)
    sections: tuple[str, ...] = ()  # article:section, JSON-LD articleSection and genre
    og_type: str | None = None
    kickers: tuple[str, ...] = ()  # short labels over the headline ("Opinion"), a headline's "OPINION:" prefix
    author_roles: tuple[str, ...] = ()  # short lines naming a writer's role ("Opinion Columnist")
    url_path: str | None = None  # the path of the page's URL (as fetched, else its canonical URL)
    host: str | None = None  # ... and its host name, to tell a company's post about itself


@dataclass(frozen=True, slots=True)
class ExtractedPage:
    """Main text and metadata trafilatura found in a page."""

    text: str
    title: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    site_name: str | None = None
    image_url: str | None = None
    canonical_url: str | None = None
    html_lang: str | None = None
    # "datetime" when the page states the time of day (article:published_time, JSON-LD
    # datePublished), "date" when only the day is known; None without a date.
    published_precision: str | None = None
    image_count: int = 0  # content images inside the article's container, for reading time
    signals: PageSignals = PageSignals()


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    code: str  # ISO 639-1, or "und"
    confidence: float


@dataclass(frozen=True, slots=True)
class ReadingTime:
    minutes: int
    units: int  # words, or characters for scripts without spaces
    unit: str  # "words" | "chars"


@dataclass(frozen=True, slots=True)
class StageFailure:
    """A stage that raised while enriching an article: its field was left empty, the rest kept."""

    stage: str  # e.g. "summary"
    reason: str  # stable key, enrich.<stage> (enrich.reasons)
    message: str


@dataclass(frozen=True, slots=True)
class Failure:
    """One row of ``failures``: what failed in which stage of a run, with its stable reason key.

    ``stage`` is poll, fetch, extract, enrich, store, link, or the enrichment stage that raised
    (summary, quotes, ...); ``reason`` is a key of enrich.reasons.
    """

    stage: str
    reason: str
    message: str | None
    feed_url: str | None = None
    article_url: str | None = None


@dataclass(frozen=True, slots=True)
class Article:
    """One enriched article: the row the reader and analysts consume."""

    url: str
    feed_url: str
    entry_id: str
    link: str | None
    canonical_url: str | None
    title: str | None
    author: str | None
    published_at: datetime | None
    updated_at: datetime | None
    site_name: str | None
    image_url: str | None
    tags: tuple[str, ...]
    language: str
    language_confidence: float
    word_count: int
    reading_minutes: int
    text: str
    text_source: str  # "page" | "feed" | "none"
    summary: tuple[str, ...]
    key_quotes: tuple[str, ...]
    feed_snippet: str
    topics: tuple[str, ...]
    content_hash: str
    fetched_at: datetime | None
    enriched_at: datetime
    http_status: int | None
    status: str  # enrich.reasons.STATUSES: "ok", or the family of ``reason`` (article_status)
    error: str | None
    topic_scores: tuple[float, ...] = ()
    kind: str | None = None  # News, Insight, Opinion, Guide, Review, Announcement, Personal
    vector: bytes | None = None  # hashed term vector for related articles (enrich.related)
    fingerprint: bytes | None = None  # MinHash of the text for near-duplicates (enrich.dedup)
    metadata_sources: str | None = None  # JSON: field -> "feed" | "page" | "none"
    reason: str | None = None  # why the status is not ok, as a stable key (enrich.reasons); None when ok
    stage_failures: tuple[StageFailure, ...] = ()  # stages that raised; their fields are empty
    key_quote_speakers: tuple[str | None, ...] = ()  # who said each key quote, None where unknown


@dataclass(frozen=True, slots=True)
class EnrichOptions:
    """The settings the text stages read; small and picklable, so worker processes get a copy."""

    words_per_minute: int = 230
    cjk_chars_per_minute: int = 500
    summary_sentences: int = 3
    quote_count: int = 4
    snippet_chars: int = 300
    language_min_confidence: float = 0.70
    spacy_model: str | None = None

    @classmethod
    def from_settings(cls, settings) -> EnrichOptions:
        return cls(**{name: getattr(settings, name) for name in cls.__dataclass_fields__})


@dataclass(frozen=True, slots=True)
class EnrichJob:
    """One entry to enrich: the entry, its fetched page (None without a link) and its feed's hints."""

    entry: FeedEntry
    page: FetchResult | None
    feed_language: str | None = None
    feed_topic: str | None = None

    def failed(self, error: str, now: datetime, reason: str = ENRICH_FAILED) -> Article:
        """The record of an entry whose enrichment broke: kept, with the reason, for the next run to retry."""
        entry, page = self.entry, self.page
        return Article(
            url=entry.url, feed_url=entry.feed_url, entry_id=entry.entry_id, link=entry.link, canonical_url=None,
            title=entry.title, author=entry.author, published_at=entry.published_at, updated_at=entry.updated_at,
            site_name=None, image_url=None, tags=entry.tags, language="und", language_confidence=0.0,
            word_count=0, reading_minutes=1, text="", text_source="none", summary=(), key_quotes=(),
            feed_snippet="", topics=(), content_hash=entry.content_hash,
            fetched_at=now if page is not None else None, enriched_at=now,
            http_status=page.http_status if page is not None else None,
            status=article_status(reason), error=error, reason=reason,
        )


@dataclass(frozen=True, slots=True)
class LinkCandidate:
    """An article as linking needs it: identity, language, time, and its two fingerprints."""

    url: str
    canonical_url: str | None
    language: str
    published_at: datetime  # coalesce(published, first seen)
    vector: bytes | None
    fingerprint: bytes | None


@dataclass(frozen=True)
class LinkResult:
    duplicates: dict[str, DuplicateMatch] = field(default_factory=dict)  # new url -> the original
    related: dict[str, list[tuple[str, float]]] = field(default_factory=dict)  # url -> new top list
