"""When feeds are polled next: intervals from TTL, Cache-Control and posting rate; backoff; Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from enrich.schedule import PollPolicy, max_age, next_poll_at, parse_retry_after, poll_interval

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
POLICY = PollPolicy()


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def test_posting_rate_sets_the_interval():
    hourly = tuple(NOW - hours(i) for i in range(168))  # one entry an hour for a week
    assert poll_interval(NOW, entry_times=hourly) == hours(1)
    daily = tuple(NOW - timedelta(days=i) for i in range(7))
    assert poll_interval(NOW, entry_times=daily) == timedelta(days=1)


def test_quiet_feed_is_polled_at_the_maximum_interval():
    assert poll_interval(NOW, entry_times=(NOW - timedelta(days=30),)) == POLICY.max_interval
    assert poll_interval(NOW) == POLICY.max_interval


def test_publisher_hints_lengthen_but_never_beyond_the_bounds():
    busy = tuple(NOW - timedelta(minutes=10 * i) for i in range(1000))
    assert poll_interval(NOW, entry_times=busy) == POLICY.min_interval  # not every 10 minutes
    assert poll_interval(NOW, entry_times=busy, ttl_minutes=120) == hours(2)
    assert poll_interval(NOW, entry_times=busy, cache_control="public, max-age=10800") == hours(3)
    assert poll_interval(NOW, entry_times=busy, ttl_minutes=100_000) == POLICY.max_interval


def test_max_age_parsing():
    assert max_age("no-cache, max-age=60") == timedelta(seconds=60)
    assert max_age("private") is None and max_age(None) is None


@pytest.mark.parametrize("failures, expected", [(1, 15), (2, 30), (3, 60), (4, 120), (10, 1440), (50, 1440)])
def test_failing_feed_backs_off_exponentially_with_a_cap(failures, expected):
    assert next_poll_at(NOW, ok=False, consecutive_failures=failures) == NOW + timedelta(minutes=expected)


def test_retry_after_in_seconds_or_as_a_date_wins_when_longer():
    assert parse_retry_after("120", NOW) == timedelta(seconds=120)
    assert parse_retry_after("Wed, 25 Nov 2026 14:00:00 GMT", NOW) == hours(2)
    assert parse_retry_after("soon", NOW) is None
    assert next_poll_at(NOW, ok=False, consecutive_failures=1, retry_after=hours(2)) == NOW + hours(2)
    assert next_poll_at(NOW, ok=False, consecutive_failures=1, retry_after=timedelta(days=90)) == NOW + timedelta(days=1)


def test_healthy_feed_waits_its_interval_and_gone_feed_never_returns():
    assert next_poll_at(NOW, ok=True, consecutive_failures=0, interval=hours(3)) == NOW + hours(3)
    assert next_poll_at(NOW, ok=False, consecutive_failures=1, gone=True) is None


@pytest.mark.usefixtures("prefect_harness")
def test_flow_schedules_each_feed_by_its_own_rate(db_path, monkeypatch):
    from enrich.settings import Settings
    from enrich.sites import LoopbackSite, ok
    from enrich.store import open_store
    from flows.enrich_feeds import enrich_feeds

    monkeypatch.setenv("ENRICH_MIN_POLL_MINUTES", "15")
    monkeypatch.setenv("ENRICH_MAX_POLL_MINUTES", "1440")
    now = datetime.now(UTC)

    def feed(count: int, every: timedelta, ttl: str = "") -> bytes:
        items = "".join(
            f"<item><guid>{count}-{i}</guid><title>Entry {i}</title>"
            f"<description>Short note number {i} about the weather.</description>"
            f"<pubDate>{(now - every * i).strftime('%a, %d %b %Y %H:%M:%S GMT')}</pubDate></item>"
            for i in range(count))
        return f"<rss version='2.0'><channel><title>F</title>{ttl}{items}</channel></rss>".encode()

    with LoopbackSite({}) as site:
        site.routes.update({
            "/busy.xml": ok(feed(28, hours(6)), "application/rss+xml"),  # 28 a week: every 6 h
            "/ttl.xml": ok(feed(28, hours(6), "<ttl>720</ttl>"), "application/rss+xml"),  # asks for 12 h
        })
        enrich_feeds([site.url("/busy.xml"), site.url("/ttl.xml")], Settings(db_path=db_path))
        second = enrich_feeds([site.url("/busy.xml"), site.url("/ttl.xml")], Settings(db_path=db_path))
        forced = enrich_feeds([site.url("/busy.xml")], Settings(db_path=db_path), poll_all=True)
    assert (second.feeds_polled, second.feeds_skipped) == (0, 2)
    assert forced.feeds_polled == 1
    with open_store(db_path, read_only=True) as store:
        wait = {url: nxt - last for url, nxt, last in store.query("SELECT url, next_poll_at, last_polled_at FROM feeds")}
    assert abs(wait[site.url("/busy.xml")] - hours(6)) < timedelta(minutes=1)
    assert abs(wait[site.url("/ttl.xml")] - hours(12)) < timedelta(minutes=1)
