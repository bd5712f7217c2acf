"""When to poll a feed next: back off from failing feeds, honour Retry-After, forget gone ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime


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


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """Retry-After as a delay: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(timedelta(0), when - now)


def next_poll_at(
    now: datetime,
    *,
    ok: bool,
    consecutive_failures: int,
    retry_after: timedelta | None = None,
    gone: bool = False,
    policy: PollPolicy = PollPolicy(),
) -> datetime | None:
    """The earliest time the feed should be polled again; None means never (HTTP 410 Gone)."""
    if gone:
        return None
    wait = timedelta(0)
    if not ok and consecutive_failures > 0:
        wait = min(policy.backoff_cap, policy.backoff_base * 2 ** (consecutive_failures - 1))
    if retry_after is not None:
        wait = max(wait, min(retry_after, policy.retry_after_cap))
    return now + wait
