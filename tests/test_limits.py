"""Numbers, dates and strings from the wild: each clamps or becomes None with a reason, none overflows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enrich import limits
from enrich.feeds import parse_feed
from enrich.politeness import HostLimiter, host_of
from enrich.related import window_start
from enrich.schedule import PollPolicy, max_age, next_poll_at, parse_retry_after, poll_interval
from enrich.urls import link_problem

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
HUGE = "99999999999999"  # past timedelta's range in seconds (8.64e13)


# -- item 1: cache numbers ---------------------------------------------------------------------
@pytest.mark.parametrize("header", [f"max-age={HUGE}", f"public, max-age={'9' * 5000}", f'max-age="{HUGE}"'])
def test_absurd_max_age_clamps_with_a_reason(header):
    parsed = limits.parse_max_age(header)
    assert parsed.value == limits.MAX_HINT
    assert parsed.problem.reason == "header.bad_max_age"
    assert max_age(header) == limits.MAX_HINT
    assert poll_interval(NOW, cache_control=header) == PollPolicy().max_interval


@pytest.mark.parametrize("header", ["max-age=-5", "max-age=1e9", "max-age=٣٠"])
def test_max_age_that_is_no_number_is_ignored_and_reported(header):
    parsed = limits.parse_max_age(header)
    assert parsed.value is None and parsed.problem.reason == "header.bad_max_age"


def test_huge_retry_after_clamps_and_scheduling_never_overflows():
    parsed = limits.parse_retry_after(HUGE, NOW)
    assert parsed.value == limits.MAX_HINT and parsed.problem.reason == "header.bad_retry_after"
    wait = parse_retry_after(HUGE, NOW)
    assert next_poll_at(NOW, ok=False, consecutive_failures=1, retry_after=wait) == NOW + PollPolicy().retry_after_cap
    far = limits.parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", NOW)
    assert far.value == limits.MAX_HINT and far.problem is not None
    assert limits.parse_retry_after("Mon, 01 Jan 0001 00:00:00 GMT", NOW).value == timedelta(0)
    garbage = limits.parse_retry_after("soon, maybe", NOW)
    assert garbage.value is None and garbage.problem.reason == "header.bad_retry_after"


def test_huge_ttl_clamps_with_a_reason():
    parsed = limits.parse_ttl(HUGE)
    assert parsed.value == limits.MAX_HINT.days * 24 * 60 and parsed.problem.reason == "feed.bad_ttl"
    assert limits.parse_ttl("60").value == 60 and limits.parse_ttl("60").problem is None
    assert limits.parse_ttl("an hour").value is None
    assert poll_interval(NOW, ttl_minutes=10**15) == PollPolicy().max_interval


# -- item 2: dates ---------------------------------------------------------------------------
@pytest.mark.parametrize("stated", [
    datetime(1, 1, 1, tzinfo=UTC),  # Go's zero time (Hugo)
    datetime(1970, 1, 1, tzinfo=UTC),  # the Unix epoch
    datetime(1, 1, 1, 3, tzinfo=UTC).replace(tzinfo=None),  # naive, taken as UTC
])
def test_dates_before_the_web_become_none_with_a_reason(stated):
    parsed = limits.plausible_datetime(stated, NOW)
    assert parsed.value is None and parsed.problem.reason == "entry.bad_date"


def test_dates_that_cannot_be_expressed_in_utc_become_none():
    west_of_year_one = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=-5)))
    east_of_year_max = datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=5)))
    assert limits.plausible_datetime(east_of_year_max, NOW).value == NOW
    assert limits.plausible_datetime(datetime.max.replace(tzinfo=timezone(timedelta(hours=-5))), NOW).value is None
    assert limits.plausible_datetime(west_of_year_one, NOW).value is None


def test_future_dates_clamp_to_now_and_only_far_ones_are_reported():
    soon = limits.plausible_datetime(NOW + timedelta(hours=3), NOW)
    assert soon.value == NOW and soon.problem is None
    far = limits.plausible_datetime(datetime(9999, 12, 31, tzinfo=UTC), NOW)
    assert far.value == NOW and far.problem.reason == "entry.bad_date"


@pytest.mark.parametrize("oldest", [datetime.min, datetime.min.replace(tzinfo=UTC), datetime(1, 1, 5, tzinfo=UTC),
                                    datetime.max.replace(tzinfo=UTC), NOW])
@pytest.mark.parametrize("days", [0, 30, 10**8])
def test_window_start_never_overflows(oldest, days):
    start = window_start(oldest, days)
    assert start <= oldest
    assert start.tzinfo == oldest.tzinfo


# -- item 3: links ---------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["http://a.example:99999999/x", "http://[::1/x", "http://a.example:-1/",
                                 "http://a.example:80a/", "http://", "http://exa mple.com/", "http://" + "a" * 9000])
def test_links_no_client_could_request_are_named(url):
    assert link_problem(url)


@pytest.mark.parametrize("url", ["http://a.example/x", "https://[::1]:8080/x", "http://ä.example/", "mailto:x@y.z"])
def test_usable_links_pass(url):
    assert link_problem(url) is None


def test_host_limiter_keys_a_link_with_an_unreadable_port_instead_of_raising():
    assert host_of("http://a.example:99999999/x") == "http://a.example:99999999"
    with HostLimiter(1).slot("http://a.example:99999999/x"):
        pass


# -- item 4: characters XML forbids -------------------------------------------------------------
def test_sanitize_replaces_forbidden_references_and_drops_control_bytes():
    body = b"<t>a&#xD800;b&#0;c&#x110000;d&#55296;e&#x1F600;f\x01g&amp;</t>"
    clean, count = limits.sanitize_feed_bytes(body)
    assert clean == b"<t>a&#xFFFD;b&#xFFFD;c&#xFFFD;d&#xFFFD;e&#x1F600;fg&amp;</t>"
    assert count == 5
    utf16 = "<t>&#xD800;</t>".encode("utf-16")
    assert limits.sanitize_feed_bytes(utf16) == (utf16, 0)


def test_clean_text_removes_surrogates_and_controls():
    assert limits.clean_text("a\ud800b\x00c\x85d\ufffee\tf\ng") == "abcde\tf\ng"


# -- item 6: length caps -------------------------------------------------------------------------
def test_caps_cut_at_a_boundary_and_keep_short_values_whole():
    title = "word " * 600_000  # a 3 MB title
    capped = limits.capped_title(title)
    assert len(capped) <= limits.MAX_TITLE_CHARS and capped.endswith("word…")
    assert limits.capped_title("A short title") == "A short title"
    author = ", ".join(f"Author Number{i}" for i in range(200))
    assert len(limits.capped_author(author)) <= limits.MAX_AUTHOR_CHARS
    text = "\n".join("A paragraph of text." * 20 for _ in range(2000))
    cut = limits.capped_text(text)
    assert len(cut) <= limits.MAX_TEXT_CHARS and text.startswith(cut[:-1])
    assert limits.cap_text("x" * 50, 10) == "x" * 9 + "…"  # no boundary: cut where it stands


def test_feed_titles_and_authors_are_capped_at_the_boundary():
    title = "headline " * 400_000
    body = (f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title><item><title>{title}</title>'
            f'<author>{"someone " * 10_000}</author><link>http://a.example/1</link></item></channel></rss>').encode()
    poll = parse_feed(body, "http://a.example/feed", content_type="application/rss+xml", now=NOW)
    assert len(poll.title) <= limits.MAX_TITLE_CHARS
    [entry] = poll.entries
    assert len(entry.title) <= limits.MAX_TITLE_CHARS and len(entry.author) <= limits.MAX_AUTHOR_CHARS


def test_validators_we_cannot_send_back_are_dropped():
    assert limits.validator('"abc"', "ETag").value == '"abc"'
    assert limits.validator("é" * 3, "ETag").value is None
    assert limits.validator("x" * 10_000, "ETag").problem.reason == "header.bad_validator"


# -- dates and lengths on the page side ------------------------------------------------------------
@pytest.mark.parametrize("stated", ["0001-01-01T00:00:00+05:00", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59-12:00",
                                    "1970-01-01T00:00:00Z"])
def test_page_dates_before_the_web_or_out_of_range_are_dropped_or_clamped(stated):
    from enrich.extract import extract_article

    html = (f'<html><head><meta property="article:published_time" content="{stated}"><title>T</title></head>'
            f"<body><article><p>{'The ferry crossed the bay again today. ' * 30}</p></article></body></html>")
    page = extract_article(html, "http://a.example/x")
    assert page.text
    assert page.published_at is None or limits.EARLIEST_PLAUSIBLE <= page.published_at <= datetime.now(UTC)


def test_enrichment_stores_at_most_the_text_cap(monkeypatch):
    from enrich.models import EnrichOptions, FeedEntry
    from enrich.pipeline import enrich_entry

    monkeypatch.setattr(limits, "MAX_TEXT_CHARS", 2_000)  # the wiring, not the size, is under test
    content = "".join(f"<p>Paragraph {i} tells how the ferry crossed the bay in the storm.</p>" for i in range(400))
    entry = FeedEntry("http://a.example/feed", "x", "http://a.example/feed#entry-x", None, "Ferry", None, None, None,
                      (), None, content, "hash")
    article = enrich_entry(entry, None, EnrichOptions())
    assert article.status == "ok" and article.text_source == "feed"
    assert len(article.text) <= 2_000 and article.text.startswith("Paragraph 0 tells")
    assert all(s in article.text for s in article.summary)


def test_a_page_stating_an_absurd_image_size_still_extracts():
    from enrich.extract import extract_article

    html = ("<html><head><title>T</title></head><body><article>"
            f"<p>{'The ferry crossed the bay again today. ' * 30}</p>"
            f'<img src="/a.jpg" width="{"9" * 5000}" height="{"9" * 5000}"></article></body></html>')
    page = extract_article(html, "http://a.example/x")
    assert page.text and page.image_count == 1


# -- properties: no value a server or feed can state makes a parser raise or leave its bounds -------
QUICK = settings(max_examples=200, derandomize=True, deadline=None)
offsets = st.timedeltas(min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59))
any_datetime = st.datetimes(timezones=st.one_of(st.none(), st.builds(timezone, offsets)))
header_text = st.one_of(st.text(max_size=60), st.integers(-(10**50), 10**50).map(str),
                        st.integers(0, 10**50).map(lambda n: f"max-age={n}"))


@QUICK
@given(header_text, any_datetime.map(lambda d: d.replace(tzinfo=UTC)))
def test_header_parsers_never_raise_and_stay_bounded(value, now):
    for parsed in (limits.parse_max_age(value), limits.parse_retry_after(value, now), limits.parse_ttl(value)):
        assert parsed.value is None or parsed.value >= (0 if isinstance(parsed.value, int) else timedelta(0))
    assert (limits.parse_max_age(value).value or timedelta(0)) <= limits.MAX_HINT
    assert (limits.parse_retry_after(value, now).value or timedelta(0)) <= limits.MAX_HINT
    assert (limits.parse_ttl(value).value or 0) <= limits.MAX_HINT.total_seconds() // 60


@QUICK
@given(any_datetime, st.integers(0, 10**10))
def test_dates_are_none_or_plausible_and_windows_never_overflow(when, days):
    parsed = limits.plausible_datetime(when, NOW).value
    assert parsed is None or limits.EARLIEST_PLAUSIBLE <= parsed <= NOW
    assert window_start(when, days) <= when


@QUICK
@given(st.binary(max_size=200), st.lists(st.integers(0, 2**40), max_size=5))
def test_sanitized_feed_bytes_hold_no_reference_xml_forbids(noise, codes):
    body = noise + b"".join(b"&#x%X;" % c for c in codes)
    clean, _ = limits.sanitize_feed_bytes(body)
    if not limits._ascii_compatible(body):  # UTF-16/32 is left alone
        assert clean == body
        return
    for match in limits._CHAR_REF.finditer(clean):
        assert limits._xml_char(int(match[1], 16) if match[1] else int(match[2]))


def test_page_titles_are_capped_at_the_boundary():
    from enrich.extract import extract_article

    html = (f"<html><head><title>{'headline ' * 30_000}</title></head><body><article>"
            f"<p>{'The ferry crossed the bay again today. ' * 30}</p></article></body></html>")
    page = extract_article(html, "http://a.example/x")
    assert page.text and page.title.startswith("headline") and len(page.title) <= limits.MAX_TITLE_CHARS
