"""End to end: the Prefect flow against loopback servers, asserting on the DuckDB rows it leaves."""

from __future__ import annotations

from pathlib import Path

import pytest

from enrich.demo import DEMO_SITE, demo_feed_urls
from enrich.settings import Settings
from enrich.sites import LoopbackSite, ok, slow, status
from enrich.store import open_store
from tests.flow import enrich_feeds

pytestmark = pytest.mark.usefixtures("prefect_harness")

LONG_FEED_CONTENT = "<p>" + " ".join(
    f"Paragraph {i} explains how the night market in the harbour district reopened after the storm, "
    f"with {i * 3} stalls selling grilled fish and rice cakes." for i in range(1, 12)
) + "</p>"


def rss(base: str, items: list[str]) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        f"<title>Trouble &amp; Co</title><link>{base}/</link><language>en</language>"
        + "".join(items)
        + "</channel></rss>"
    )


def item(guid: str, title: str, link: str | None, description: str = "", content: str = "") -> str:
    parts = [f"<guid isPermaLink=\"false\">{guid}</guid>", f"<title>{title}</title>",
             "<pubDate>Mon, 16 Nov 2026 10:00:00 GMT</pubDate>"]
    if link:
        parts.append(f"<link>{link}</link>")
    if description:
        parts.append(f"<description><![CDATA[{description}]]></description>")
    if content:
        parts.append(f"<content:encoded><![CDATA[{content}]]></content:encoded>")
    return "<item>" + "".join(parts) + "</item>"


@pytest.fixture
def trouble_site():
    good_page = (DEMO_SITE / "northwind" / "rust-build-times.html").read_bytes()
    with LoopbackSite({}) as site:
        good_page = good_page.replace(b"{{DEMO_BASE}}", site.base.encode())
        b = site.base
        site.routes.update({
            "/feed.xml": ok(rss(b, [
                item("good", "Build times", f"{b}/good.html?utm_source=rss&utm_medium=feed", "Teaser."),
                item("gone", "A page that is gone", f"{b}/missing.html"),
                item("broken", "A server that keeps failing", f"{b}/error.html"),
                item("slow", "A server too slow", f"{b}/slow.html"),
                item("pdf", "A PDF, not a page", f"{b}/report.pdf"),
                item("empty", "An empty page", f"{b}/empty.html"),
                item("teaser", "Page gone, content in the feed", f"{b}/missing-too.html",
                     "Short teaser.", LONG_FEED_CONTENT),
                item("nolink", "No link at all", None, "", LONG_FEED_CONTENT.replace("night market", "ferry")),
            ]), "application/rss+xml"),
            "/broken.xml": ok(b"<rss><channel><title>oops</title><item><titl", "application/xml"),
            "/good.html": ok(good_page),
            "/error.html": status(500, b"<h1>boom</h1>"),
            "/slow.html": slow(2.0, ok("<html><body><p>too late</p></body></html>")),
            "/report.pdf": ok(b"%PDF-1.7 binary", "application/pdf"),
            "/empty.html": ok("<html><head><title>x</title></head><body></body></html>"),
        })
        yield site


def _rows(db: Path, sql: str, params=None):
    with open_store(db, read_only=True) as store:
        return store.query(sql, params)


def test_flow_enriches_demo_feeds_and_records_every_failure(trouble_site, demo_base, db_path, monkeypatch):
    monkeypatch.setenv("ENRICH_READ_TIMEOUT", "0.5")
    site = trouble_site
    feeds = demo_feed_urls(demo_base) + [site.url("/feed.xml"), site.url("/broken.xml"), site.url("/gone.xml")]

    report = enrich_feeds(feeds, Settings(db_path=db_path))

    assert report.feeds_polled == 7
    assert report.feeds_failed == 2
    assert report.new_articles == 17 + 8
    by_url = {r[0]: r[1:] for r in _rows(db_path, "SELECT url, status, text_source, error FROM articles")}
    assert len(by_url) == 25

    # The good page: tracking parameters gone from its identity, enriched from the page.
    assert by_url[site.url("/good.html")][:2] == ("ok", "page")
    # Failures are per article, with a reason, and the run went on.
    assert by_url[site.url("/missing.html")][0] == "fetch_failed"
    assert "404" in by_url[site.url("/missing.html")][2]
    assert by_url[site.url("/error.html")][0] == "fetch_failed"
    assert by_url[site.url("/slow.html")][0] == "fetch_failed"
    assert by_url[site.url("/report.pdf")][0] == "not_html"
    assert by_url[site.url("/empty.html")][0] == "no_text"
    # Degrade, don't drop: the feed's own content stands in for a missing page.
    assert by_url[site.url("/missing-too.html")][:2] == ("ok", "feed")
    nolink = [u for u in by_url if u.startswith(site.base) and "#entry-" in u]
    assert len(nolink) == 1 and by_url[nolink[0]][:2] == ("ok", "feed")

    # Transient errors were retried (1 try + ENRICH_FETCH_RETRIES=2 retries); a 404 was not.
    assert site.hits["/error.html"] == 3
    assert site.hits["/missing.html"] == 1

    reasons = {r[0] for r in _rows(db_path, "SELECT reason FROM failures")}
    assert {"fetch.http_404", "fetch.http_500", "fetch.timeout", "fetch.not_html", "feed.malformed",
            "extract.empty"} <= reasons
    feed_status = dict(_rows(db_path, "SELECT url, last_status FROM feeds"))
    assert feed_status[site.url("/broken.xml")] == "feed.malformed"
    assert feed_status[site.url("/gone.xml")] == "fetch.http_404"
    assert all(feed_status[u] == "ok" for u in demo_feed_urls(demo_base))
    run = _rows(db_path, "SELECT status, feeds_polled, enriched, failed FROM runs")
    assert run == [("completed", 7, report.enriched, report.failed)]
    assert report.enriched + report.failed == 25


def test_demo_articles_are_fully_enriched_and_second_run_changes_nothing(demo_base, db_path):
    first = enrich_feeds(demo_feed_urls(demo_base), Settings(db_path=db_path))
    assert (first.new_articles, first.enriched, first.failed) == (17, 17, 0)

    rows = _rows(db_path, """
        SELECT url, language, text, summary, key_quotes, reading_minutes, word_count, feed_snippet,
               text_source, title, published_at, enriched_at
        FROM articles""")
    assert len(rows) == 17
    assert {r[1] for r in rows} == {"en", "es", "de", "ja"}
    for url, lang, text, summary, quotes, minutes, words, snippet, source, title, published, _ in rows:
        assert title and published is not None, url
        assert 1 <= len(summary) <= 3, url
        assert all(s in text for s in summary), url
        assert all(q in text for q in quotes), url
        assert not set(summary) & set(quotes), url
        assert minutes >= 1 and words > 0
        assert snippet and len(snippet) <= 300 and "<" not in snippet
        if source == "page":
            assert 1 <= len(quotes) <= 5, url  # issue 12: fewer rather than filler
    assert sum(r[8] == "page" for r in rows) == 16  # every linked entry came from its page
    sources = _rows(db_path, "SELECT metadata_sources->>'title', metadata_sources->>'site_name' FROM articles")
    assert all(title in ("feed", "page") for title, _ in sources)
    assert sum(site == "page" for _, site in sources) == 16  # the page names its site; the feed entry doesn't

    second = enrich_feeds(demo_feed_urls(demo_base), Settings(db_path=db_path))
    assert (second.new_articles, second.enriched, second.failed) == (0, 0, 0)
    again = _rows(db_path, "SELECT url, enriched_at FROM articles")
    assert sorted(again) == sorted((r[0], r[11]) for r in rows)
    assert _rows(db_path, "SELECT count(*) FROM runs WHERE status = 'completed'") == [(2,)]


def test_changed_entry_is_re_enriched(db_path):
    body = {"text": LONG_FEED_CONTENT}
    with LoopbackSite({}) as site:
        site.routes["/feed.xml"] = lambda _req: (200, {"Content-Type": "application/rss+xml"},
                                                  rss(site.base, [item("x", "Story", None, "", body["text"])]).encode())
        enrich_feeds([site.url("/feed.xml")], Settings(db_path=db_path))
        enrich_feeds([site.url("/feed.xml")], Settings(db_path=db_path))
        assert _rows(db_path, "SELECT count(*) FROM runs WHERE new_articles = 1") == [(1,)]
        body["text"] = LONG_FEED_CONTENT.replace("grilled fish", "roasted chestnuts")
        report = enrich_feeds([site.url("/feed.xml")], Settings(db_path=db_path))
    assert report.new_articles == 1
    (text,) = _rows(db_path, "SELECT text FROM articles")[0]
    assert "roasted chestnuts" in text
    assert _rows(db_path, "SELECT count(*) FROM articles") == [(1,)]


def test_private_addresses_are_refused_without_the_setting(demo_base, db_path, monkeypatch):
    monkeypatch.setenv("ENRICH_ALLOW_PRIVATE_NETWORKS", "false")
    report = enrich_feeds(demo_feed_urls(demo_base)[:1], Settings(db_path=db_path))
    assert report.feeds_failed == 1
    assert _rows(db_path, "SELECT last_status FROM feeds") == [("fetch.blocked_address",)]
