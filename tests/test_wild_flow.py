"""End to end: a feed poisoned with every wild input of issue 13 beside a healthy one, through the real
flow, loopback servers and DuckDB. Twice: each run completes, nothing healthy is lost, every bad value is
in ``failures`` with its reason key."""

from __future__ import annotations

from pathlib import Path

import pytest

from enrich.demo import DEMO_SITE
from enrich.reasons import is_registered
from enrich.settings import Settings
from enrich.sites import LoopbackSite, ok
from enrich.store import open_store
from tests.flow import enrich_feeds

pytestmark = pytest.mark.usefixtures("prefect_harness")

HUGE = "99999999999999"
PARAGRAPHS = "".join(
    f"<p>Paragraph {i}: the river ferry in the old harbour kept running through the winter storms, carrying "
    f"{i * 7} passengers a day between the two banks while the bridge was being repaired.</p>" for i in range(1, 10)
)


def feed(base: str, items: list[str], ttl: str | None = None) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Wild</title>'
        f"<link>{base}/</link><language>en</language>" + (f"<ttl>{ttl}</ttl>" if ttl else "")
        + "".join(items) + "</channel></rss>"
    ).encode()


def item(guid: str, title: str, link: str | None, date: str = "Mon, 16 Nov 2026 10:00:00 GMT",
         content: str = "") -> str:
    parts = [f'<guid isPermaLink="false">{guid}</guid>', f"<title>{title}</title>", f"<pubDate>{date}</pubDate>"]
    if link:
        parts.append(f"<link>{link}</link>")
    if content:
        parts.append(f"<content:encoded><![CDATA[{content}]]></content:encoded>")
    return "<item>" + "".join(parts) + "</item>"


@pytest.fixture
def wild_site():
    page = (DEMO_SITE / "northwind" / "rust-build-times.html").read_bytes()
    with LoopbackSite({}) as site:
        b = site.base
        page = page.replace(b"{{DEMO_BASE}}", b.encode())
        poisoned = feed(b, [
            item("go-zero", "Undated by Hugo", f"{b}/zero.html", date="Mon, 01 Jan 0001 00:00:00 +0000"),
            item("port", "A link with port 99999999", "http://127.0.0.1:99999999/x.html"),
            item("ipv6", "A broken IPv6 link", "http://[::1/x.html", content=PARAGRAPHS),
            item("surrogate", "Broken &#xD800; character", None, content=PARAGRAPHS.replace("ferry", "tram")),
            item("year-9999", "Dated in the far future", f"{b}/future.html", date="Fri, 31 Dec 9999 23:59:59 GMT"),
        ], ttl=HUGE)
        healthy = feed(b, [item("h1", "Build times", f"{b}/good.html"),
                           item("h2", "Ferries", None, content=PARAGRAPHS.replace("ferry", "ferry boat"))])
        site.routes.update({
            "/poisoned.xml": lambda _req: (200, {"Content-Type": "application/rss+xml",
                                                 "Cache-Control": f"max-age={HUGE}", "Retry-After": HUGE,
                                                 "ETag": '"v1"'}, poisoned),
            "/healthy.xml": ok(healthy, "application/rss+xml"),
            "/good.html": ok(page),
            "/zero.html": ok(page.replace(b"Build", b"Zero-date build")),
            "/future.html": ok(page.replace(b"Build", b"Future build")),
        })
        yield site


def _rows(db: Path, sql: str):
    with open_store(db, read_only=True) as store:
        return store.query(sql)


def test_a_poisoned_feed_costs_only_its_bad_entries_twice_in_a_row(wild_site, db_path, monkeypatch):
    monkeypatch.setenv("ENRICH_WORKER_PROCESSES", "0")  # the stages in this process: no pool to start for 6 entries
    site = wild_site
    feeds = [site.url("/poisoned.xml"), site.url("/healthy.xml")]

    first = enrich_feeds(feeds, Settings(db_path=db_path), poll_all=True)

    assert (first.feeds_polled, first.feeds_failed) == (2, 0)
    stored = dict(_rows(db_path, "SELECT url, status FROM articles"))
    # Healthy: both of the healthy feed's entries and every usable entry of the poisoned one.
    assert stored[site.url("/good.html")] == "ok"
    assert stored[site.url("/zero.html")] == "ok"
    assert stored[site.url("/future.html")] == "ok"
    linkless = [u for u in stored if "#entry-" in u]
    assert len(linkless) == 3  # the healthy feed's, the surrogate one's, the broken-IPv6 one's (link dropped)
    assert all(stored[u] == "ok" for u in linkless)
    assert len(stored) == 6  # only the port-99999999 entry is gone, and it is recorded
    assert _rows(db_path, "SELECT count(*) FROM articles WHERE published_at < '1990-01-01'") == [(0,)]
    assert _rows(db_path, "SELECT count(*) FROM articles WHERE published_at > now()") == [(0,)]
    (title,) = _rows(db_path, "SELECT title FROM articles WHERE title LIKE 'Broken%'")[0]
    assert title == "Broken \ufffd character"

    failures = _rows(db_path, "SELECT stage, feed_url, article_url, reason FROM failures")
    reasons = {r[3] for r in failures}
    assert {"entry.bad_url", "entry.bad_date", "feed.bad_ttl", "header.bad_max_age", "header.bad_retry_after",
            "feed.invalid_chars"} <= reasons
    assert all(is_registered(r) for r in reasons), reasons
    assert ("poll", site.url("/poisoned.xml"), "http://127.0.0.1:99999999/x.html", "entry.bad_url") in failures
    assert all(r[1] == site.url("/poisoned.xml") for r in failures)  # the healthy feed has none

    # Scheduled, not crashed: the huge hints were clamped (the tests' policy bounds them to now).
    polled = dict(_rows(db_path, "SELECT url, last_status FROM feeds"))
    assert polled == {site.url("/poisoned.xml"): "ok", site.url("/healthy.xml"): "ok"}
    assert _rows(db_path, "SELECT count(*) FROM feeds WHERE next_poll_at IS NULL") == [(0,)]

    second = enrich_feeds(feeds, Settings(db_path=db_path), poll_all=True)
    assert second.new_articles == 0 and second.feeds_failed == 0
    assert _rows(db_path, "SELECT status FROM runs") == [("completed",), ("completed",)]
    assert _rows(db_path, "SELECT count(*) FROM articles") == [(6,)]


def test_record_polls_schedules_a_feed_it_cannot_reason_about_and_records_the_one_beside_it(db_path):
    """A poll that still breaks the scheduler (here a naive date, which no parser of ours makes) costs
    that feed its computed interval, never the run."""
    from datetime import UTC, datetime, timedelta

    from enrich.models import FeedEntry, FeedPoll
    from flows.enrich_feeds import record_polls

    def entry(feed: str, n: int, published: datetime) -> FeedEntry:
        return FeedEntry(feed, f"e{n}", f"{feed}#entry-{n}", None, f"Entry {n}", None, published, None, (), None,
                         "<p>Text.</p>", f"hash{n}")

    settings = Settings(db_path=db_path, min_poll_minutes=30, max_poll_minutes=60)
    now = datetime.now(UTC)
    odd = FeedPoll("https://odd.example/feed", ok=True, entries=(entry("https://odd.example/feed", 1, datetime(2026, 1, 1)),))
    fine = FeedPoll("https://fine.example/feed", ok=True, entries=(entry("https://fine.example/feed", 2, now),))
    with open_store(db_path) as store:
        run_id = store.begin_run(now)

    fresh = record_polls(settings, run_id, [], [odd, fine])

    assert {e.entry_id for e in fresh} == {"e1", "e2"}
    next_polls = dict(_rows(db_path, "SELECT url, next_poll_at FROM feeds"))
    assert next_polls["https://odd.example/feed"] - now <= timedelta(minutes=31)  # the shortest interval
    assert next_polls["https://fine.example/feed"] - now >= timedelta(minutes=59)  # its own, as computed
