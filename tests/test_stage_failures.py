"""One stage's failure never costs the others: each stage of enrich_entry is made to raise in turn.

The article is a real demo page (Northwind's build-times post) fetched as fetch.py would hand it
over; the stage is broken by replacing its function in enrich.pipeline with one that raises.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from enrich import pipeline
from enrich.demo import DEMO_SITE
from enrich.models import EnrichJob, EnrichOptions, FeedEntry, FetchResult, StageFailure
from enrich.reasons import ENRICH_FAILED, STAGE_REASONS, STAGES

PAGE_URL = "https://northwind.example/posts/rust-build-times.html"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
FEED_CONTENT = "<p>" + " ".join(
    f"Sentence {i} of the feed's own copy says the build farm got faster after the cache moved." for i in range(12)
) + "</p>"


def _entry() -> FeedEntry:
    return FeedEntry(
        feed_url="https://northwind.example/feed.xml", entry_id="build-times", url=PAGE_URL, link=PAGE_URL,
        title="Build times", author="Ada", published_at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC), updated_at=None,
        tags=("Programming",), summary_html="<p>How we halved our build times.</p>", content_html=FEED_CONTENT,
        content_hash="1" * 64,
    )


def _page() -> FetchResult:
    body = (DEMO_SITE / "northwind" / "rust-build-times.html").read_bytes().replace(
        b"{{DEMO_BASE}}", b"https://northwind.example")
    return FetchResult(PAGE_URL, PAGE_URL, ok=True, http_status=200, content_type="text/html", body=body,
                       encoding="utf-8")


def _enrich():
    return pipeline.enrich_entry(_entry(), _page(), EnrichOptions(), now=NOW)


@pytest.fixture(scope="module")
def healthy():
    article = _enrich()
    assert article.status == "ok" and not article.stage_failures
    return article


def _boom(*_args, **_kwargs):
    raise RuntimeError("boom")


# stage -> the function enrich.pipeline calls for it, and the fields it alone fills (with their
# empty value when it fails).
BROKEN = {
    "extract": ("extract_article", {"text_source": "feed", "canonical_url": None}),
    "feed_text": ("html_to_text", {}),
    "metadata": ("choose_metadata", {"metadata_sources": None, "site_name": None}),
    "language": ("choose_language", {"language": "und", "language_confidence": 0.0}),
    "reading_time": ("estimate_reading_time", {"word_count": 0, "reading_minutes": 1}),
    "sentences": ("split_sentences", {"summary": (), "key_quotes": ()}),
    "summary": ("summarize", {"summary": ()}),
    "quotes": ("pick_quotes", {"key_quotes": ()}),
    "topics": ("classify_topics", {"topics": (), "topic_scores": ()}),
    "kind": ("classify_kind", {"kind": None}),
    "vector": ("article_vector", {"vector": None}),
    "fingerprint": ("text_fingerprint", {"fingerprint": None}),
    "snippet": ("make_snippet", {"feed_snippet": ""}),
}
# Fields no stage computes: what every broken article must still carry as the healthy one does.
ALWAYS_KEPT = ("url", "feed_url", "entry_id", "link", "tags", "content_hash", "http_status", "published_at")


def test_every_guarded_stage_is_tested_here():
    assert set(BROKEN) == set(STAGES)


@pytest.mark.parametrize("stage", STAGES)
def test_a_failing_stage_costs_only_its_own_fields(stage, healthy, monkeypatch):
    function, emptied = BROKEN[stage]
    monkeypatch.setattr(pipeline, function, _boom)
    article = _enrich()

    assert article.status == "ok", "an article with text stays usable"
    assert article.reason is None and article.text
    assert article.stage_failures == (StageFailure(stage, STAGE_REASONS[stage], "RuntimeError: boom"),)
    for name, empty in emptied.items():
        assert getattr(article, name) == empty, name
    for name in ALWAYS_KEPT:
        assert getattr(article, name) == getattr(healthy, name), name
    # Every field the broken stage does not feed keeps the healthy article's value.
    independent = {"kind", "vector", "fingerprint", "feed_snippet", "topics", "summary", "key_quotes"}
    downstream = {  # stages whose input the broken one provides
        "extract": independent, "feed_text": set(), "metadata": independent, "language": independent,
        "sentences": {"summary", "key_quotes"}, "summary": {"key_quotes"},
    }.get(stage, set())
    for name in independent - set(emptied) - downstream:
        assert getattr(article, name) == getattr(healthy, name), name


def test_stage_reason_keys_are_enrich_dot_stage():
    assert all(STAGE_REASONS[stage] == f"enrich.{stage}" for stage in STAGES)


def test_two_failing_stages_are_both_recorded(monkeypatch):
    monkeypatch.setattr(pipeline, "summarize", _boom)
    monkeypatch.setattr(pipeline, "classify_kind", lambda *a, **k: 1 / 0)
    article = _enrich()
    assert [(f.stage, f.reason) for f in article.stage_failures] == [
        ("summary", "enrich.summary"), ("kind", "enrich.kind")]
    assert "ZeroDivisionError" in article.stage_failures[1].message
    assert article.status == "ok" and article.key_quotes and article.topics


def test_a_failure_outside_any_stage_fails_the_record_with_its_reason(monkeypatch):
    monkeypatch.setattr(pipeline, "choose_text", _boom)
    article = pipeline.enrich_job(EnrichJob(_entry(), _page()), EnrichOptions())
    assert (article.status, article.reason, article.error) == ("enrich_failed", ENRICH_FAILED, "RuntimeError: boom")
    assert article.title == "Build times" and article.content_hash == "1" * 64, "the entry's own data is kept"


def test_article_without_text_says_why_with_a_reason_key():
    gone = FetchResult(PAGE_URL, PAGE_URL, ok=False, http_status=404, error_key="fetch.http_404", error="HTTP 404")
    bare = FeedEntry(**{**{f: getattr(_entry(), f) for f in FeedEntry.__slots__}, "summary_html": None,
                        "content_html": None})
    assert pipeline.enrich_entry(bare, gone, EnrichOptions(), now=NOW).reason == "fetch.http_404"
    empty = pipeline.enrich_entry(bare, None, EnrichOptions(), now=NOW)
    assert (empty.status, empty.reason) == ("no_text", "extract.empty")
