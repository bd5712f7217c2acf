"""The enrichment of one entry, stage after stage: pure, no I/O, no orchestration."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from enrich.dedup import text_fingerprint
from enrich.extract import ArticleMetadata, choose_metadata, extract_article
from enrich.kind import classify_kind
from enrich.language import SCRIPT_LANGUAGES, are_close, can_be_written_in, detect_language
from enrich.limits import capped_text
from enrich.models import (
    Article,
    EnrichJob,
    EnrichOptions,
    ExtractedPage,
    FeedEntry,
    FetchResult,
    LanguageGuess,
    ReadingTime,
    StageFailure,
)
from enrich.quotes import pick_quotes
from enrich.readingtime import estimate_reading_time
from enrich.reasons import ENRICH_FAILED, EXTRACT_EMPTY, STAGE_REASONS, article_status
from enrich.related import article_vector
from enrich.sentences import split_sentences
from enrich.snippet import html_to_text, make_snippet
from enrich.summarize import summarize
from enrich.text import word_count
from enrich.topics import TopicResult, classify_topics

log = logging.getLogger(__name__)
T = TypeVar("T")

# Page text shorter than this, or much shorter than the feed's own full content, means the
# extractor found a teaser or a paywall stub; the feed's content is then the better text.
MIN_PAGE_WORDS = 40
MIN_PAGE_SHARE_OF_FEED = 0.6
# Under this many words langdetect guesses; a declared language is more trustworthy ...
SHORT_TEXT_WORDS = 20
# ... unless langdetect is sure on enough words: at >= 0.99 on 5 words it is wrong 3.7% of the
# time on the langid corpus, about as often as a page declares a language it is not written in.
MIN_WORDS_TO_OVERRULE = 5
SURE_CONFIDENCE = 0.99
# What a failed stage leaves in its field: the values an article without text has.
UNDETERMINED = LanguageGuess("und", 0.0)
NO_READING_TIME = ReadingTime(minutes=1, units=0, unit="words")
NO_TOPICS = TopicResult((), ())


def choose_text(page: ExtractedPage | None, feed_text: str) -> tuple[str, str]:
    """The article text and where it came from: ``page``, ``feed`` or ``none``."""
    page_text = page.text if page else ""
    page_words, feed_words = word_count(page_text), word_count(feed_text)
    if page_words >= MIN_PAGE_WORDS and page_words >= MIN_PAGE_SHARE_OF_FEED * feed_words:
        return page_text, "page"
    if feed_text:
        return feed_text, "feed"
    if page_text:
        return page_text, "page"
    return "", "none"


def choose_language(
    text: str, declared: tuple[str | None, ...], min_confidence: float, *, title: str | None = None
) -> LanguageGuess:
    """The text's language; for short or unsure texts, the first language the sources declare.

    A short text (< 20 words) is read together with the title. The declaration is skipped when
    the text's writing system rules it out (Cyrillic text is not "en"), and overruled on a short
    text only by a script that decides alone or a sure guess (>= 0.99 on 5+ words) for a language
    that is no close relative of the declared one.
    """
    words = word_count(text)
    probe = f"{title}\n{text}" if title and words < SHORT_TEXT_WORDS and title not in text else text
    guess = detect_language(probe, min_confidence=min_confidence)
    fallback = next(
        (code for code in declared if code and code != "und" and can_be_written_in(code, probe)), None
    )
    if fallback is None or guess.code == fallback:
        return guess
    if guess.code == "und":
        return LanguageGuess(fallback, 0.0)
    if word_count(probe) >= SHORT_TEXT_WORDS:
        return guess
    decided_by_script = guess.code in SCRIPT_LANGUAGES.values() and guess.confidence == 1.0
    sure = word_count(probe) >= MIN_WORDS_TO_OVERRULE and guess.confidence >= SURE_CONFIDENCE
    if decided_by_script or (sure and not are_close(guess.code, fallback)):
        return guess
    return LanguageGuess(fallback, 0.0)


def _failure_reason(fetch: FetchResult | None) -> str:
    """Reason key of an article without text: why its page failed, else that nothing had text."""
    if fetch is None or fetch.ok or not fetch.error_key:
        return EXTRACT_EMPTY
    return fetch.error_key


class _Stages:
    """Runs each stage guarded: a stage that raises leaves its field at a safe empty value and is
    recorded, so one stage's bug costs the article that field, never the rest of its record."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.failures: list[StageFailure] = []

    def run(self, stage: str, empty: T, compute: Callable[[], T]) -> T:
        try:
            return compute()
        except Exception as exc:  # noqa: BLE001 - recorded with the article, the other stages go on
            message = f"{type(exc).__name__}: {exc}"
            log.warning("article %s: stage %s failed: %s", self.url, stage, message)
            self.failures.append(StageFailure(stage, STAGE_REASONS[stage], message))
            return empty


def enrich_entry(
    entry: FeedEntry,
    fetch: FetchResult | None,
    options: EnrichOptions,
    *,
    feed_language: str | None = None,
    feed_topic: str | None = None,
    now: datetime | None = None,
) -> Article:
    """Turn a feed entry and its fetched page (None when it has no link) into an :class:`Article`.

    Every stage runs guarded (see :class:`_Stages`): the article keeps whatever the others found
    and lists the stages that failed in ``stage_failures``.
    """
    now = now or datetime.now(UTC)
    stages = _Stages(entry.url)
    # 1. Text: the page's main text, or the feed's own content when the page gives nothing better.
    page = stages.run("extract", None, lambda: extract_article(fetch.body, fetch.final_url)) \
        if fetch is not None and fetch.ok and fetch.body else None
    feed_text = stages.run("feed_text", "", lambda: html_to_text(entry.content_html, paragraphs=True)
                           or html_to_text(entry.summary_html, paragraphs=True))
    text, source = choose_text(page, feed_text)
    text = capped_text(text)  # every later stage, and the row, costs at most the cap (enrich.limits)

    # 2. Language, then everything that depends on it.
    # Metadata: the feed's values unless the page's are better (full title, real author, time of day).
    feed_meta = ArticleMetadata(title=entry.title, author=entry.author, published_at=entry.published_at)
    meta, meta_sources = stages.run("metadata", (feed_meta, None), lambda: choose_metadata(feed_meta, page))
    title = meta.title
    probe = text if text else " ".join(filter(None, [title, feed_text]))
    declared = ((page.html_lang if page else None), feed_language)
    language = stages.run("language", UNDETERMINED, lambda: choose_language(
        probe, declared, options.language_min_confidence, title=title))
    lang = language.code
    images = page.image_count if page is not None and source == "page" else 0  # the feed's text has none counted
    reading = stages.run("reading_time", NO_READING_TIME, lambda: estimate_reading_time(
        text, lang, words_per_minute=options.words_per_minute, cjk_chars_per_minute=options.cjk_chars_per_minute,
        images=images,
    ))
    sentences = stages.run("sentences", [], lambda: split_sentences(text, lang, options.spacy_model) if text else [])
    summary = stages.run("summary", (), lambda: summarize(
        sentences, lang, max_sentences=options.summary_sentences, title=title))
    quotes = stages.run("quotes", (), lambda: pick_quotes(
        sentences, lang, exclude=summary, count=options.quote_count, model=options.spacy_model))

    # 3. What it is about, what kind of piece, and what it resembles (for related and duplicates).
    topics = stages.run("topics", NO_TOPICS, lambda: classify_topics(
        text, title=title, language=lang, tags=entry.tags, feed_topic=feed_topic))
    decision = stages.run("kind", None, lambda: classify_kind(
        text, title=title, tags=entry.tags, language=lang, signals=page and page.signals) if text else None)
    if decision is not None:  # why this kind, for whoever asks why an article is "Opinion"
        log.debug("article %s: kind %s by rule %s", entry.url, decision.kind, decision.rule)
    vector = stages.run("vector", None, lambda: article_vector(text, title, lang).to_bytes() if text else None)
    fingerprint = stages.run("fingerprint", None, lambda: text_fingerprint(text) if text else None)
    snippet = stages.run("snippet", "", lambda: make_snippet(
        entry.summary_html, entry.content_html, max_chars=options.snippet_chars))

    fetch_error = fetch.error if fetch is not None and not fetch.ok else None
    reason = None if text else _failure_reason(fetch)
    return Article(
        url=entry.url,
        feed_url=entry.feed_url,
        entry_id=entry.entry_id,
        link=entry.link,
        canonical_url=page.canonical_url if page else None,
        title=title,
        author=meta.author,
        published_at=meta.published_at,
        updated_at=entry.updated_at,
        site_name=meta.site_name,
        image_url=meta.image_url,
        tags=entry.tags,
        language=lang,
        language_confidence=round(language.confidence, 4),
        word_count=reading.units,
        reading_minutes=reading.minutes,
        text=text,
        text_source=source,
        summary=summary,
        key_quotes=tuple(q.text for q in quotes),
        key_quote_speakers=tuple(q.speaker for q in quotes),
        feed_snippet=snippet,
        topics=topics.topics,
        content_hash=entry.content_hash,
        fetched_at=now if fetch is not None else None,
        enriched_at=now,
        http_status=fetch.http_status if fetch is not None else None,
        status=article_status(reason),
        error=fetch_error if fetch_error else (None if text else "no article text in the page or the feed"),
        topic_scores=tuple(round(x, 4) for x in topics.scores),
        kind=decision.kind if decision is not None else None,
        vector=vector,
        fingerprint=fingerprint,
        metadata_sources=json.dumps(meta_sources, sort_keys=True) if meta_sources is not None else None,
        reason=reason,
        stage_failures=tuple(stages.failures),
    )


def enrich_job(job: EnrichJob, options: EnrichOptions) -> Article:
    """:func:`enrich_entry` for one job; a bug in a stage costs that article (recorded), not its batch."""
    try:
        return enrich_entry(job.entry, job.page, options, feed_language=job.feed_language, feed_topic=job.feed_topic)
    except Exception as exc:  # recorded as the article's status, with the message
        log.exception("article %s: enrichment failed outside its stages", job.entry.url)
        return job.failed(f"{type(exc).__name__}: {exc}", datetime.now(UTC), ENRICH_FAILED)
