"""Every stable reason key, with what it means, and the article statuses they map to, in one place.

A reason key names what went wrong with a feed, an entry, a header, a page or an article. Keys are
stored in ``failures.reason``, ``articles.reason`` and ``feeds.last_status``, so a key never changes
once released; new ones are added here (and the README's table, ``python -m enrich.reasons``).
Code refers to the constants below, never to a key spelled out (tests/test_reasons.py checks).
"""

from __future__ import annotations

import sys

REASONS: dict[str, str] = {}


def _reason(key: str, meaning: str) -> str:
    if key in REASONS:
        raise ValueError(f"reason key {key} registered twice")
    REASONS[key] = meaning
    return key


# -- feeds: the whole feed failed (poll stage) -------------------------------------------------------
FEED_UNPARSEABLE = _reason("feed.unparseable", "not a feed, or too broken to read")
FEED_MALFORMED = _reason("feed.malformed", "malformed feed with no readable entries")
FEED_PARSER_CRASHED = _reason("feed.parser_crashed", "the feed parser raised on this feed")
POLL_CRASHED = _reason("poll.crashed", "the feed's poll task crashed (our bug); retried next run")
# ... or part of it was dropped, clamped or replaced, and the rest used
FEED_INVALID_CHARS = _reason("feed.invalid_chars", "characters XML forbids were replaced before parsing")
FEED_BAD_TTL = _reason("feed.bad_ttl", "the feed's `<ttl>` is not a number of minutes, or clamped to a year")

# -- entries of a feed: that entry or field alone -----------------------------------------------------
ENTRY_BAD_URL = _reason("entry.bad_url", "the entry's link is one no client could request; entry or link dropped")
ENTRY_BAD_DATE = _reason("entry.bad_date", "a date before 1990, far in the future or no calendar date")
ENTRY_UNREADABLE = _reason("entry.unreadable", "reading the entry raised; that entry alone was dropped")

# -- response headers of a feed: the value is dropped or clamped -------------------------------------
HEADER_BAD_MAX_AGE = _reason("header.bad_max_age", "Cache-Control max-age not a number, or clamped to a year")
HEADER_BAD_RETRY_AFTER = _reason("header.bad_retry_after", "Retry-After neither seconds nor a date, or clamped")
HEADER_BAD_VALIDATOR = _reason("header.bad_validator", "ETag or Last-Modified too long or not printable ASCII")

# -- fetching a feed or a page ------------------------------------------------------------------------
FETCH_TIMEOUT = _reason("fetch.timeout", "no connection, no byte or no whole response in time (retried)")
FETCH_CONNECT = _reason("fetch.connect", "the connection failed or broke (retried)")
FETCH_DNS = _reason("fetch.dns", "the host name does not resolve")
FETCH_BAD_URL = _reason("fetch.bad_url", "the URL cannot be requested (no host, bad port)")
FETCH_IDNA = _reason("fetch.idna", "the host name is not valid IDNA 2008")
FETCH_BLOCKED_SCHEME = _reason("fetch.blocked_scheme", "a scheme other than http(s)")
FETCH_BLOCKED_ADDRESS = _reason("fetch.blocked_address", "a loopback, private, link-local or reserved address")
FETCH_REDIRECTS = _reason("fetch.redirects", "more redirects than ENRICH_MAX_REDIRECTS")
FETCH_TOO_LARGE = _reason("fetch.too_large", "the body (after decompression) exceeds ENRICH_MAX_PAGE_BYTES")
FETCH_DECODING = _reason("fetch.decoding", "a content encoding that is unsupported or broken")
FETCH_NOT_HTML = _reason("fetch.not_html", "the page is not HTML (its content type, or its bytes)")
FETCH_ROBOTS_DISALLOWED = _reason("fetch.robots_disallowed", "the site's robots.txt disallows the page")
# One key per HTTP status: fetch.http_404, fetch.http_503, ... (see http_status_reason).
FETCH_HTTP = _reason("fetch.http_<status>", "the server answered with this HTTP error status")
_HTTP_PREFIX = FETCH_HTTP.removesuffix("<status>")
_FETCH_PREFIX = FETCH_HTTP.split(".")[0] + "."

# -- extraction and enrichment of an article ----------------------------------------------------------
EXTRACT_EMPTY = _reason("extract.empty", "no article text in the page or the feed")
ENRICH_FAILED = _reason("enrich.failed", "the article's record broke outside any stage (a worker died); retried")
ENRICH_CRASHED = _reason("enrich.crashed", "the batch's fetch-and-enrich task raised; its articles are retried")

# The stages of enrich_entry that run guarded: when one raises, its field is left empty, the
# article keeps the rest, and the failure is recorded as enrich.<stage>.
STAGES = (
    "extract", "feed_text", "metadata", "language", "reading_time", "sentences", "summary", "quotes",
    "topics", "kind", "vector", "fingerprint", "snippet",
)
STAGE_REASONS = {stage: _reason(f"enrich.{stage}", f"the {stage} stage raised; its field is left empty")
                 for stage in STAGES}

# -- the run's own bookkeeping ------------------------------------------------------------------------
STORE_FAILED = _reason("store.failed", "the database refused the article's row; retried next run")
LINK_FAILED = _reason("link.failed", "duplicates and related lists could not be updated; the run ends with errors")


def http_status_reason(status: int) -> str:
    """The key of an HTTP error status: ``fetch.http_404``."""
    return f"{_HTTP_PREFIX}{int(status)}"


def is_registered(key: str | None) -> bool:
    """Whether ``key`` is a reason of this registry (``fetch.http_<status>`` for any status)."""
    if key in REASONS:
        return True
    status = key.removeprefix(_HTTP_PREFIX) if key else ""
    return bool(key) and key.startswith(_HTTP_PREFIX) and status.isdigit() and len(status) == 3


# -- what an article's status says, and the reasons that lead to each ---------------------------------
STATUS_OK = "ok"
STATUS_FETCH_FAILED = "fetch_failed"  # the page could not be fetched (a fetch.* reason)
STATUS_NOT_HTML = "not_html"  # the page is not a web page (fetch.not_html)
STATUS_NO_TEXT = "no_text"  # fetched, or no link, but no text anywhere (extract.empty)
STATUS_ENRICH_FAILED = "enrich_failed"  # our failure, not the article's (enrich.failed, enrich.crashed)
STATUSES = (STATUS_OK, STATUS_FETCH_FAILED, STATUS_NOT_HTML, STATUS_NO_TEXT, STATUS_ENRICH_FAILED)


def article_status(reason: str | None) -> str:
    """The ``articles.status`` of an article that failed for ``reason`` (``ok`` for None).

    The status is the reason's family, so a reader can filter on a handful of values and an
    analyst can still tell a 404 from a timeout by ``articles.reason``.
    """
    if reason is None:
        return STATUS_OK
    if reason == FETCH_NOT_HTML:
        return STATUS_NOT_HTML
    if reason == EXTRACT_EMPTY:
        return STATUS_NO_TEXT
    if reason in (ENRICH_FAILED, ENRICH_CRASHED):
        return STATUS_ENRICH_FAILED
    if reason.startswith(_FETCH_PREFIX):
        return STATUS_FETCH_FAILED
    raise ValueError(f"{reason!r} is no reason an article is stored without text")


def markdown_table() -> str:
    """The README's table of reason keys (``python -m enrich.reasons`` prints it); the stages' keys
    share one row."""
    stage_keys = set(STAGE_REASONS.values())
    stages = ", ".join(f"`{stage}`" for stage in STAGES)
    rows = []
    for key, meaning in REASONS.items():
        if key not in stage_keys:
            rows.append(f"| `{key}` | {meaning} |")
        elif key == STAGE_REASONS[STAGES[0]]:
            rows.append(f"| `enrich.<stage>` | the stage raised on this article: its field is left empty, the rest "
                        f"kept ({stages}) |")
    return "\n".join(["| reason | meaning |", "|---|---|", *rows])


if __name__ == "__main__":
    sys.stdout.write(markdown_table() + "\n")
