"""Polite, incremental polling, end to end: conditional GET, backoff, Retry-After, moves, gone, robots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from enrich.settings import Settings
from enrich.sites import LoopbackSite, ok, status
from enrich.store import open_store
from tests.flow import enrich_feeds
from tests.test_flow import LONG_FEED_CONTENT, item, rss

pytestmark = pytest.mark.usefixtures("prefect_harness")

PAGE = "<html><head><title>T</title></head><body><article>" + "".join(
    f"<p>Sentence {i} of a page about tide tables, harbour pilots and the {i} ships they guided last winter.</p>"
    for i in range(12)
) + "</article></body></html>"


def feed_with_etag(site: LoopbackSite, body: str, etag: str = '"v1"'):
    def handler(req):
        if req.headers.get("If-None-Match") == etag:
            return 304, {"ETag": etag}, b""
        return 200, {"Content-Type": "application/rss+xml", "ETag": etag,
                     "Last-Modified": "Mon, 16 Nov 2026 10:00:00 GMT"}, body.encode()
    return handler


def feed_state(db, url):
    with open_store(db, read_only=True) as store:
        return next(f for f in store.feeds() if f.url == url)


def test_second_poll_is_a_304_with_no_fetch_and_no_enrichment(db_path):
    with LoopbackSite({}) as site:
        body = rss(site.base, [item("a", "A", site.url("/a.html"), "Teaser"), item("b", "B", site.url("/b.html"))])
        site.routes.update({"/feed.xml": feed_with_etag(site, body), "/a.html": ok(PAGE), "/b.html": ok(PAGE)})
        first = enrich_feeds([site.url("/feed.xml")], Settings(db_path=db_path))
        second = enrich_feeds([site.url("/feed.xml")], Settings(db_path=db_path))
    assert first.new_articles == 2
    assert (second.feeds_polled, second.feeds_not_modified, second.new_articles) == (1, 1, 0)
    assert site.hits["/a.html"] == 1 and site.hits["/b.html"] == 1
    state = feed_state(db_path, site.url("/feed.xml"))
    assert state.etag == '"v1"' and state.last_modified == "Mon, 16 Nov 2026 10:00:00 GMT"
    assert state.last_status == "not_modified"


def test_retry_after_is_honoured_across_runs(db_path):
    with LoopbackSite({}) as site:
        site.routes["/feed.xml"] = lambda _r: (429, {"Retry-After": "3600", "Content-Type": "text/plain"}, b"slow down")
        before = datetime.now(UTC)
        first = enrich_feeds([site.url("/feed.xml")], Settings(db_path=db_path))
        second = enrich_feeds([site.url("/feed.xml")], Settings(db_path=db_path))
    assert first.feeds_failed == 1
    assert site.hits["/feed.xml"] == 1  # asked to wait: not retried in the run, not polled in the next
    assert second.feeds_skipped == 1 and second.feeds_polled == 0
    state = feed_state(db_path, site.url("/feed.xml"))
    assert state.last_status == "fetch.http_429"
    assert state.next_poll_at >= before + timedelta(minutes=59)


def test_failing_feed_backs_off(db_path):
    with LoopbackSite({"/feed.xml": status(500)}) as site:
        enrich_feeds([site.url("/feed.xml")], Settings(db_path=db_path))
        hits_after_first = site.hits["/feed.xml"]
        second = enrich_feeds([site.url("/feed.xml")], Settings(db_path=db_path))
    assert hits_after_first == 3  # one try and two retries within the run
    assert second.feeds_skipped == 1 and site.hits["/feed.xml"] == hits_after_first
    state = feed_state(db_path, site.url("/feed.xml"))
    assert state.consecutive_failures == 1
    assert state.next_poll_at > datetime.now(UTC) + timedelta(minutes=10)
    with open_store(db_path, read_only=True) as store:
        assert store.query("SELECT count(*), min(reason) FROM failures WHERE stage = 'poll'") == [(1, "fetch.http_500")]


def test_permanent_redirect_moves_the_feed(db_path):
    with LoopbackSite({}) as site:
        site.routes.update({
            "/old.xml": lambda _r: (301, {"Location": "/new.xml"}, b""),
            "/new.xml": ok(rss(site.base, [item("n", "Moved story", None, "", LONG_FEED_CONTENT)]), "application/rss+xml"),
        })
        enrich_feeds([site.url("/old.xml")], Settings(db_path=db_path))
        with open_store(db_path, read_only=True) as store:
            feeds = [f.url for f in store.feeds()]
            article_feeds = store.query("SELECT DISTINCT feed_url FROM articles")
        assert feeds == [site.url("/new.xml")]
        assert article_feeds == [(site.url("/new.xml"),)]
        report = enrich_feeds(None, Settings(db_path=db_path))  # the stored feeds: the new URL is polled
    assert report.feeds_polled == 1 and site.hits["/old.xml"] == 1 and site.hits["/new.xml"] == 2


def test_temporary_redirect_keeps_the_feed_url(db_path):
    with LoopbackSite({}) as site:
        site.routes.update({
            "/feed.xml": lambda _r: (302, {"Location": "/today.xml"}, b""),
            "/today.xml": ok(rss(site.base, []), "application/rss+xml"),
        })
        enrich_feeds([site.url("/feed.xml")], Settings(db_path=db_path))
    assert feed_state(db_path, site.url("/feed.xml")).last_status == "ok"


def test_gone_feed_is_never_polled_again(db_path):
    with LoopbackSite({"/feed.xml": status(410)}) as site:
        enrich_feeds([site.url("/feed.xml")], Settings(db_path=db_path))
        second = enrich_feeds([site.url("/feed.xml")], Settings(db_path=db_path))
    assert site.hits["/feed.xml"] == 1 and second.feeds_skipped == 1
    state = feed_state(db_path, site.url("/feed.xml"))
    assert state.gone and state.last_status == "gone" and state.next_poll_at is None


def test_robots_txt_is_obeyed_for_pages(db_path):
    with LoopbackSite({}) as site:
        site.routes.update({
            "/robots.txt": ok("User-agent: enrich\nDisallow: /private/\n", "text/plain"),
            "/feed.xml": ok(rss(site.base, [
                item("p", "Private", site.url("/private/p.html"), "", LONG_FEED_CONTENT),
                item("o", "Open", site.url("/open.html")),
            ]), "application/rss+xml"),
            "/private/p.html": ok(PAGE),
            "/open.html": ok(PAGE),
        })
        enrich_feeds([site.url("/feed.xml")], Settings(db_path=db_path))
    assert site.hits["/private/p.html"] == 0 and site.hits["/open.html"] == 1
    assert site.hits["/robots.txt"] == 1
    with open_store(db_path, read_only=True) as store:
        rows = dict(store.query("SELECT url, text_source FROM articles"))
        reasons = [r[0] for r in store.query("SELECT reason FROM failures")]
    assert rows[site.url("/private/p.html")] == "feed"  # degrade: the feed's own content
    assert rows[site.url("/open.html")] == "page"
    assert reasons == ["fetch.robots_disallowed"]


def test_same_story_in_two_feeds_with_tracking_params_is_stored_once(db_path):
    with LoopbackSite({}) as site:
        link = site.url("/story.html")
        site.routes.update({
            "/one.xml": ok(rss(site.base, [item("1", "Story", link + "?utm_source=one&utm_medium=rss")]), "application/rss+xml"),
            "/two.xml": ok(rss(site.base, [item("x-99", "Story", link + "?fbclid=abc#comments")]), "application/rss+xml"),
            "/story.html": ok(PAGE),
        })
        report = enrich_feeds([site.url("/one.xml"), site.url("/two.xml")], Settings(db_path=db_path))
    assert report.new_articles == 1 and site.hits["/story.html"] == 1
    with open_store(db_path, read_only=True) as store:
        assert store.query("SELECT url FROM articles") == [(link,)]
        assert sorted(store.query("SELECT feed_url FROM article_feeds WHERE article_url = ?", [link])) == [
            (site.url("/one.xml"),), (site.url("/two.xml"),)]
