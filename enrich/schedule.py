"""When to poll a feed next: back off from failing feeds, honour Retry-After, forget gone ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from enrich import limits


@dataclass(frozen=True)
class PollPolicy:
    # A failing feed waits base * 2^(failures-1), capped: 15 min, 30 min, 1 h, ... 1 day. Miniflux
    # and FreshRSS back off on the same order; a day keeps a dead feed from costing anything
    # while a feed that comes back is picked up within a day.
    backoff_base: timedelta = timedelta(minutes=15)
    backoff_cap: timedelta = timedelta(days=1)
    # A Retry-After longer than this is treated as this: a misconfigured header must not
    # silence a feed for a month.
    retry_after_cap: timedelta = timedelta(days=1)
    # A healthy feed is polled again after the interval its publisher and its posting rate
    # suggest, bounded: never more often than min_interval, never less often than max_interval.
    min_interval: timedelta = timedelta(minutes=15)
    max_interval: timedelta = timedelta(days=1)


# Posting rate: like Miniflux, a feed that posted n entries in the last week is polled every
# week / n, so a feed posting hourly is polled hourly and a weekly blog about daily.
RATE_WINDOW = timedelta(days=7)


def max_age(cache_control: str | None) -> timedelta | None:
    """The max-age of a Cache-Control header, if any (bounded: :func:`enrich.limits.parse_max_age`)."""
    return limits.parse_max_age(cache_control).value


def poll_interval(
    now: datetime,
    *,
    ttl_minutes: int | None = None,
    cache_control: str | None = None,
    entry_times: tuple[datetime, ...] = (),
    policy: PollPolicy = PollPolicy(),
) -> timedelta:
    """How long to wait before polling a healthy feed again.

    The longest of what the publisher asks (RSS <ttl>, Cache-Control max-age) and what its
    posting rate suggests, within the policy's bounds.
    """
    recent = [t for t in entry_times if now - t <= RATE_WINDOW]
    by_rate = RATE_WINDOW / len(recent) if recent else policy.max_interval
    # Hints longer than the longest interval count as the longest: no <ttl> can overflow timedelta.
    ttl = timedelta(minutes=min(ttl_minutes, policy.max_interval // timedelta(minutes=1))) if ttl_minutes else None
    asked = [d for d in (ttl, max_age(cache_control)) if d]
    wanted = max([by_rate, *asked])
    return max(policy.min_interval, min(policy.max_interval, wanted))


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """Retry-After as a delay: delta-seconds or an HTTP date (RFC 9110 §10.2.3), bounded by
    :func:`enrich.limits.parse_retry_after`."""
    return limits.parse_retry_after(value, now).value


def next_poll_at(
    now: datetime,
    *,
    ok: bool,
    consecutive_failures: int,
    retry_after: timedelta | None = None,
    gone: bool = False,
    interval: timedelta = timedelta(0),
    policy: PollPolicy = PollPolicy(),
) -> datetime | None:
    """The earliest time the feed should be polled again; None means never (HTTP 410 Gone).

    ``interval`` is the healthy feed's :func:`poll_interval`; a failing feed backs off instead.
    """
    if gone:
        return None
    wait = interval if ok else timedelta(0)
    if not ok and consecutive_failures > 0:
        # The exponent is capped too: a feed dead for months must not overflow timedelta.
        wait = min(policy.backoff_cap, policy.backoff_base * 2 ** min(consecutive_failures - 1, 20))
    if retry_after is not None:
        wait = max(wait, min(retry_after, policy.retry_after_cap))
    return now + wait
