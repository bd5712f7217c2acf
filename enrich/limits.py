"""Bounds on what the network sends: numbers and dates parsed in one place, clamped or refused, and caps
on the lengths of the strings we store.

Every number and date a feed or a server states goes through a parser here. An absurd value (a
max-age of three million years, an entry dated 0001-01-01) is clamped or becomes None, and the
parser says why with a :class:`Problem` the caller records; nothing downstream can overflow.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Generic, TypeVar

from enrich.models import Problem
from enrich.reasons import (
    ENTRY_BAD_DATE,
    FEED_BAD_TTL,
    HEADER_BAD_MAX_AGE,
    HEADER_BAD_RETRY_AFTER,
    HEADER_BAD_VALIDATOR,
)

T = TypeVar("T")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# -- numbers ----------------------------------------------------------------------------------
# Caching hints longer than a year mean "forever", which no scheduler should take literally; the
# scheduler bounds them again by its own (much shorter) policy. A year also keeps every value far
# inside timedelta's range (999,999,999 days), whatever unit it is stated in.
MAX_HINT = timedelta(days=365)
# More digits than this is no number of seconds anyone meant (10^12 s is 31,700 years), and
# Python refuses to parse integers of more than 4,300 digits at all.
MAX_DIGITS = 12

# -- dates ------------------------------------------------------------------------------------
# No web page or feed entry was published before the web (1991; RSS dates from 1999). Earlier
# dates are what broken generators emit for "no date": Go's zero time (Hugo's 0001-01-01) and
# the Unix epoch (1970-01-01), so they become None rather than sorting an article into 1970.
EARLIEST_PLAUSIBLE = datetime(1990, 1, 1, tzinfo=UTC)
# A date this far ahead of now is not a scheduled post or a clock skew but garbage (year 9999);
# it is clamped to now like any future date, and also reported.
FUTURE_SLACK = timedelta(days=2)

# -- lengths ----------------------------------------------------------------------------------
# Headlines run to about 100 characters; feeds that put a whole micro-post in <title> (Mastodon,
# Bluesky bridges) stay under 500. Past 1,000 it is a page pasted into the title.
MAX_TITLE_CHARS = 1_000
# Room for a long byline of a dozen names (science and data journalism); arXiv-style lists of
# hundreds of authors are cut at a name boundary.
MAX_AUTHOR_CHARS = 500
# The longest long-reads run to about 30,000 words (~200,000 characters of English); 300,000
# characters keeps every real article whole while a 5 MB page of junk text no longer multiplies
# into every stage (sentences, quotes, topics) and every export.
MAX_TEXT_CHARS = 300_000


@dataclass(frozen=True, slots=True)
class Bounded(Generic[T]):
    """A value as we will use it (None when refused), and the problem with what was sent, if any."""

    value: T | None
    problem: Problem | None = None


def _seconds(text: str, what: str, reason: str, cap: timedelta) -> Bounded[timedelta]:
    digits = text.strip()
    if not digits.isascii() or not digits.isdigit():
        return Bounded(None, Problem(reason, f"{what} is not a number of seconds: {digits[:80]!r}"))
    if len(digits) > MAX_DIGITS or int(digits) > cap.total_seconds():
        return Bounded(cap, Problem(reason, f"{what} of {digits[:40]} seconds clamped to {cap.days} days"))
    return Bounded(timedelta(seconds=int(digits)))


def parse_max_age(cache_control: str | None) -> Bounded[timedelta]:
    """The max-age of a Cache-Control header, at most :data:`MAX_HINT`."""
    for part in (cache_control or "").split(","):
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "max-age":
            return _seconds(value.strip().strip('"'), "Cache-Control max-age", HEADER_BAD_MAX_AGE, MAX_HINT)
    return Bounded(None)


def parse_retry_after(value: str | None, now: datetime) -> Bounded[timedelta]:
    """Retry-After as a delay: delta-seconds or an HTTP date (RFC 9110 §10.2.3), at most :data:`MAX_HINT`."""
    value = (value or "").strip()
    if not value:
        return Bounded(None)
    if value.isascii() and value.isdigit():
        return _seconds(value, "Retry-After", HEADER_BAD_RETRY_AFTER, MAX_HINT)
    try:
        when = parsedate_to_datetime(value)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        delay = when - now
    except (TypeError, ValueError, IndexError, OverflowError):
        return Bounded(None, Problem(HEADER_BAD_RETRY_AFTER, f"Retry-After is neither seconds nor a date: {value[:80]!r}"))
    if delay > MAX_HINT:
        return Bounded(MAX_HINT, Problem(HEADER_BAD_RETRY_AFTER, f"Retry-After {value[:80]!r} clamped to {MAX_HINT.days} days"))
    return Bounded(max(timedelta(0), delay))


def parse_ttl(value: object) -> Bounded[int]:
    """An RSS ``<ttl>`` in minutes, at most :data:`MAX_HINT`; None when absent or not a number."""
    text = str(value or "").strip()
    if not text:
        return Bounded(None)
    cap = int(MAX_HINT.total_seconds() // 60)
    if not text.isascii() or not text.isdigit():
        return Bounded(None, Problem(FEED_BAD_TTL, f"<ttl> is not a number of minutes: {text[:80]!r}"))
    if len(text) > MAX_DIGITS or int(text) > cap:
        return Bounded(cap, Problem(FEED_BAD_TTL, f"<ttl> of {text[:40]} minutes clamped to {MAX_HINT.days} days"))
    return Bounded(int(text))


def plausible_datetime(when: datetime | None, now: datetime | None, what: str = "date") -> Bounded[datetime]:
    """``when`` in UTC, None before :data:`EARLIEST_PLAUSIBLE`, clamped to ``now`` when in the future.

    Publishers schedule posts and misconfigure clocks; a date in the future would pin an article
    to the top of a chronological reader, so it becomes the time we saw it. Only a date more than
    :data:`FUTURE_SLACK` ahead is reported.
    """
    if when is None:
        return Bounded(None)
    try:
        when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    except (OverflowError, ValueError):  # year 1 west of UTC, year 9999 east of it
        return Bounded(None, Problem(ENTRY_BAD_DATE, f"{what} out of range: {when!r}"))
    if when < EARLIEST_PLAUSIBLE:
        return Bounded(None, Problem(ENTRY_BAD_DATE, f"{what} {when.date().isoformat()} is before the web; taken as no date"))
    if now is not None and when > now:
        far = when - now > FUTURE_SLACK
        problem = Problem(ENTRY_BAD_DATE, f"{what} {when.date().isoformat()} is in the future; taken as now") if far else None
        return Bounded(now, problem)
    return Bounded(when)


def date_from_struct(struct, now: datetime | None, what: str = "date") -> Bounded[datetime]:
    """A feedparser ``*_parsed`` time tuple (UTC) as an aware datetime, through :func:`plausible_datetime`."""
    if not struct:
        return Bounded(None)
    try:
        # timegm normalises what a tuple may hold (a leap second, hour 24) as feedparser means it.
        when = _EPOCH + timedelta(seconds=calendar.timegm(struct))
    except (OverflowError, ValueError, TypeError):
        return Bounded(None, Problem(ENTRY_BAD_DATE, f"{what} is not a calendar date: {tuple(struct)[:6]}"))
    return plausible_datetime(when, now, what)


# An ETag or Last-Modified is sent back verbatim in If-None-Match / If-Modified-Since; real ones
# are under 100 characters. Longer ones, or ones with characters a header cannot carry, are dropped
# (the next poll is then unconditional, which is merely slower).
MAX_VALIDATOR_CHARS = 512
_SENDABLE = re.compile(r"[\x20-\x7e]*")


def validator(value: str | None, what: str) -> Bounded[str]:
    """A conditional-GET validator we can send back, or None with the reason."""
    if not value:
        return Bounded(None)
    if len(value) > MAX_VALIDATOR_CHARS or not _SENDABLE.fullmatch(value):
        return Bounded(None, Problem(HEADER_BAD_VALIDATOR, f"{what} dropped: not a short printable ASCII value"))
    return Bounded(value)


# -- strings ----------------------------------------------------------------------------------
# Characters XML forbids and no text needs: C0 controls but tab and newlines, C1 controls, lone
# surrogates (a parser that decodes &#xD800; hands one over, and nothing can encode it), and the
# non-characters U+FFFE/U+FFFF.
_UNUSABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def clean_text(value: str | None) -> str | None:
    """``value`` without the characters no text can use; None stays None."""
    return _UNUSABLE.sub("", value) if value else value


def cap_text(value: str | None, limit: int) -> str | None:
    """``value`` cut to at most ``limit`` characters, at a line or word boundary when one is near."""
    if value is None or len(value) <= limit:
        return value
    head = value[: limit - 1]
    # A cut within the last fifth is at a boundary; a text without one is cut where it stands.
    for boundary in ("\n", " "):
        at = head.rfind(boundary)
        if at >= limit * 4 // 5:
            return head[:at].rstrip() + "…"
    return head + "…"


def capped_title(value: str | None) -> str | None:
    return cap_text(clean_text(value), MAX_TITLE_CHARS)


def capped_author(value: str | None) -> str | None:
    return cap_text(clean_text(value), MAX_AUTHOR_CHARS)


def capped_text(value: str) -> str:
    """Article text cut to :data:`MAX_TEXT_CHARS`, at a paragraph when one is near."""
    return cap_text(value, MAX_TEXT_CHARS) or ""


# XML 1.0 allows only these code points (§2.2); a character reference to any other one (&#xD800;,
# &#0;, &#x110000;) makes feedparser's fallback parser raise instead of skipping it.
def _xml_char(code: int) -> bool:
    return code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF


_CHAR_REF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,16})|([0-9]{1,20}));")
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _ascii_compatible(body: bytes) -> bool:
    # UTF-16 and UTF-32 feeds (rare) carry NUL bytes in every character; we leave them alone.
    return not (body.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in body[:64])


def sanitize_feed_bytes(body: bytes) -> tuple[bytes, int]:
    """Feed bytes without characters XML forbids, and how many were replaced.

    Character references to forbidden code points become U+FFFD; raw control bytes are dropped.
    Both are safe in any ASCII-compatible encoding: no byte below 0x20 is part of a multi-byte
    character in UTF-8, the ISO-8859 family, Shift-JIS, GB18030 or Big5.
    """
    if not _ascii_compatible(body):
        return body, 0
    replaced = 0

    def fix(match: re.Match) -> bytes:
        nonlocal replaced
        code = int(match[1], 16) if match[1] else int(match[2])
        if _xml_char(code):
            return match[0]
        replaced += 1
        return b"&#xFFFD;"

    body = _CHAR_REF.sub(fix, body)
    body, dropped = _CONTROL_BYTES.subn(b"", body)
    return body, replaced + dropped
