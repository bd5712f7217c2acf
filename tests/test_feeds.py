"""parse_feed on real feeds (../shared/corpora/feeds) and on small self-describing fixtures; poll_feed
against pytest-httpserver on 127.0.0.1.

Fixtures live in tests/fixtures/feeds/; each opens with a "Description: ... Expect: ..." comment.
"""

from __future__ import annotations

import gzip
import json
import re
import socket
import tracemalloc
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from enrich.feeds import parse_feed, poll_feed
from enrich.fetch import FetchOptions
from enrich.models import FeedEntry, FeedPoll
from enrich.netguard import BlockedURL, check_url
from enrich.urls import entry_identity

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "feeds"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "feeds"
FEED_URL = "http://127.0.0.1:8000/blog/feed.xml"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
OPTIONS = FetchOptions(user_agent="enrich-tests/1.0", connect_timeout=1, read_timeout=0.5, allow_private=True)
CYRILLIC = re.compile(r"[\u0400-\u04FF]")


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse_fixture(name: str, **kw) -> FeedPoll:
    kw.setdefault("content_type", "application/rss+xml")
    kw.setdefault("now", NOW)
    return parse_feed(fixture(name), FEED_URL, **kw)


def text_fields(poll: FeedPoll) -> list[str]:
    """Every string a poll carries, for must-not-contain checks."""
    fields = [poll.title, poll.error, poll.bozo_reason]
    for e in poll.entries:
        fields += [e.url, e.link, e.title, e.author, e.summary_html, e.content_html, e.entry_id, *e.tags]
    return [f for f in fields if f]


def assert_entry_invariants(entry: FeedEntry, now: datetime) -> None:
    assert entry.url and entry.url.startswith(("http://", "https://")), entry.url
    assert entry.entry_id
    assert len(entry.content_hash) == 64
    for when in (entry.published_at, entry.updated_at):
        if when is not None:
            assert when.utcoffset() == timedelta(0), f"{when!r} is not aware UTC"
            assert when <= now, f"{when} is in the future"


def url(server: HTTPServer, path: str) -> str:
    return f"http://127.0.0.1:{server.port}{path}"


# -- the shared corpus of real feeds ----------------------------------------------------------------
def _manifest() -> list:
    path = CORPUS / "MANIFEST.json"
    if not path.exists():
        return [pytest.param(None, id="corpus-absent")]
    return [pytest.param(item, id=Path(item["file"]).name) for item in json.loads(path.read_text())]


def _corpus_bytes(item: dict) -> bytes:
    from conftest import shared_or_skip

    if item is None:
        shared_or_skip("feeds/MANIFEST.json")
    # MANIFEST.json names files "selected/<name>", but they sit directly in feeds/: accept both.
    relative = f"feeds/{item['file']}"
    if not (CORPUS / item["file"]).exists():
        relative = f"feeds/{Path(item['file']).name}"
    data = shared_or_skip(relative).read_bytes()
    return gzip.decompress(data) if relative.endswith(".gz") else data


@pytest.mark.parametrize("item", _manifest())
def test_every_corpus_feed_parses_to_valid_entries(item):
    body = _corpus_bytes(item)
    name = Path(item["file"]).name
    feed_url = item["feed_url"] or f"http://127.0.0.1:8000/{name}"
    now = datetime.now(UTC)

    poll = parse_feed(body, feed_url, now=now)

    if name.endswith(".json"):
        # feedparser 6.0 reads XML only; the manifest lists this JSON Feed as the negative case.
        assert not poll.ok and poll.error_key == "feed.unparseable" and poll.entries == ()
        return
    if name.startswith("MALFORMED_"):
        assert poll.bozo_reason, "a malformed feed must say what is wrong with it"
        if poll.entries:
            assert poll.ok
        else:
            assert not poll.ok and poll.error_key in {"feed.malformed", "feed.unparseable"} and poll.error
    else:
        assert poll.ok, poll.error
        assert poll.entries, "a real feed with items produced no entries"
        assert poll.title
    stated = re.search(r"(\d+) (?:items|entries)", item["description"])
    if stated:
        assert len(poll.entries) == int(stated.group(1))
    for entry in poll.entries:
        assert_entry_invariants(entry, now)
        assert entry.feed_url == feed_url
        assert "utm_" not in entry.url
        assert "#" not in entry.url or "#entry-" in entry.url


def test_windows_1251_feed_decodes_to_cyrillic():
    poll = parse_feed(_corpus_bytes({"file": "selected/nodefp_oren_ru_windows1251.rss.xml"}),
                      "http://127.0.0.1:8000/oren.xml", now=NOW)
    assert poll.ok
    assert poll.title.startswith("Новости Оренбурга")
    assert len(poll.entries) == 10
    for entry in poll.entries:
        assert CYRILLIC.search(entry.title), entry.title
        assert "\ufffd" not in entry.title and "Ð" not in entry.title  # no replacement chars, no mojibake
    assert any(e.title == "ЧОПовцы в Оренбурге избили молодого человека" for e in poll.entries)


def test_gzipped_corpus_feed_served_with_content_encoding_polls_ok(httpserver: HTTPServer):
    raw = _corpus_bytes({"file": "selected/nodefp_nshipster_invalid_chars.rss.xml.gz"})
    httpserver.expect_request("/nshipster.xml").respond_with_data(
        gzip.compress(raw), content_type="application/rss+xml", headers={"Content-Encoding": "gzip"})
    options = replace(OPTIONS, max_bytes=5_000_000)

    poll, retryable = poll_feed(url(httpserver, "/nshipster.xml"), options)

    assert poll.ok, poll.error
    assert poll.title == "NSHipster" and len(poll.entries) == 25
    assert retryable is False


# -- fixtures: links and identity -------------------------------------------------------------------
def test_relative_links_resolve_against_the_feed_url():
    poll = parse_fixture("relative_links.rss.xml")
    assert poll.ok
    assert [e.url for e in poll.entries] == [
        "http://127.0.0.1:8000/2025/01/root-relative.html",
        "http://127.0.0.1:8000/blog/posts/path-relative.html",
        "http://127.0.0.1:8000/parent.html",
    ]
    assert all(e.link == e.url for e in poll.entries)


def test_entry_without_link_gets_an_identity_url_and_keeps_its_content():
    poll = parse_fixture("no_link.rss.xml")
    assert poll.ok and len(poll.entries) == 1
    entry = poll.entries[0]
    guid = "urn:uuid:7d1c2f0e-5b7a-4f41-9a57-0c2e7cf0a001"
    assert entry.link is None
    assert entry.entry_id == guid
    assert entry.url == entry_identity(FEED_URL, guid)
    assert entry.url.startswith(FEED_URL + "#entry-")
    assert "first boat leaves at 06:10" in entry.content_html
    assert entry.summary_html == "The ferry timetable changes on Monday."
    assert entry.title == "A note with no page of its own"


def test_identity_of_a_linkless_entry_is_stable_across_polls():
    first = parse_fixture("no_link.rss.xml").entries[0]
    later = parse_fixture("no_link.rss.xml", now=NOW + timedelta(days=1)).entries[0]
    assert first.url == later.url


def test_tracking_parameters_are_stripped_so_one_article_has_one_url():
    poll = parse_fixture("tracking_params.rss.xml")
    newsletter, social, other = poll.entries
    assert newsletter.url == social.url == "http://127.0.0.1:8000/story.html"
    assert other.url == "http://127.0.0.1:8000/read?id=7"
    for entry in poll.entries:
        assert not re.search(r"utm_|fbclid", entry.url)


# -- fixtures: dates ----------------------------------------------------------------------------------
def test_future_dates_are_clamped_to_now():
    poll = parse_fixture("future_date.rss.xml")
    scheduled, updated, past = poll.entries
    assert scheduled.published_at == NOW and scheduled.updated_at == NOW
    assert updated.published_at == NOW and updated.updated_at == NOW
    assert past.published_at == datetime(2025, 1, 3, 12, 0, tzinfo=UTC)
    for entry in poll.entries:
        assert_entry_invariants(entry, NOW)


def test_missing_or_unreadable_dates_are_none():
    poll = parse_fixture("missing_dates.atom.xml", content_type="application/atom+xml")
    assert poll.ok and len(poll.entries) == 2
    for entry in poll.entries:
        assert entry.published_at is None and entry.updated_at is None
        assert entry.url.startswith("http://127.0.0.1:8000/")


def test_offsets_are_converted_to_utc():
    entry = parse_fixture("relative_links.rss.xml").entries[0]  # Mon, 06 Jan 2025 10:00:00 +0100
    assert entry.published_at == datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
    assert entry.published_at.tzinfo is UTC


# -- fixtures: encodings --------------------------------------------------------------------------------
@pytest.mark.parametrize("content_type", [None, "application/rss+xml", "text/xml"])
def test_latin1_feed_decodes(content_type):
    poll = parse_fixture("latin1.rss.xml", content_type=content_type)
    assert poll.ok
    assert poll.title == "Café crème à la française"
    assert poll.entries[0].title == "Über die Straße: Grüße aus Köln"
    assert poll.entries[0].summary_html == "Déjà vu, naïve façade, £5"
    assert not any("\ufffd" in f for f in text_fields(poll))


@pytest.mark.parametrize("content_type", [None, "application/rss+xml", "application/xml"])
def test_shift_jis_feed_decodes(content_type):
    poll = parse_fixture("shift_jis.rss.xml", content_type=content_type)
    assert poll.ok
    assert poll.title == "日本語のニュース"
    assert poll.entries[0].title == "東京は晴れ、気温は二十度"
    assert poll.entries[0].summary_html == "明日も晴れる見込みです。"
    assert not any("\ufffd" in f for f in text_fields(poll))


# -- fixtures: hostile XML -------------------------------------------------------------------------------
def test_external_entities_are_not_expanded():
    poll = parse_fixture("xxe_external_entity.rss.xml")
    fields = text_fields(poll)
    assert fields, "the feed should still be read"
    passwd = Path("/etc/passwd")
    first_line = passwd.read_text().splitlines()[0] if passwd.exists() else "root:x:0:0"
    for field in fields:
        assert "root:" not in field and first_line not in field


def test_external_parameter_entity_is_never_fetched():
    # A listener on loopback stands in for the attacker's DTD server; the parser must not call it.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.setblocking(False)
        port = listener.getsockname()[1]
        body = fixture("xxe_external_entity.rss.xml").replace(b"127.0.0.1:9/", f"127.0.0.1:{port}/".encode())
        assert f":{port}/evil.dtd".encode() in body

        parse_feed(body, FEED_URL, content_type="application/rss+xml", now=NOW)

        # A connection made during parsing would be waiting in the backlog by now.
        with pytest.raises(BlockingIOError):
            listener.accept()


def test_billion_laughs_completes_without_expanding():
    tracemalloc.start()
    try:
        poll = parse_fixture("billion_laughs.rss.xml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Full expansion is 3 GB; even one level too many would be megabytes per field.
    assert peak < 50_000_000, f"peak {peak / 1e6:.0f} MB"
    assert all(len(f) < 10_000 for f in text_fields(poll))
    assert not any("lollollol" in f for f in text_fields(poll))


# -- fixtures: not feeds, broken feeds, empty feeds ------------------------------------------------------------
@pytest.mark.parametrize("body, content_type", [
    (fixture("not_a_feed.html"), "text/html; charset=utf-8"),
    (fixture("not_a_feed.html"), None),
    (bytes(range(256)) * 16, "application/octet-stream"),
    (b"\x89PNG\r\n\x1a\n" + bytes(200), None),
    (b"", None),
    (b"   \n\t  ", "application/rss+xml"),
    (b'{"hello": "world"}', "application/json"),
], ids=["html", "html-untyped", "binary", "png", "empty", "whitespace", "json"])
def test_things_that_are_not_feeds_are_unparseable(body, content_type):
    poll = parse_feed(body, FEED_URL, content_type=content_type, now=NOW)
    assert not poll.ok
    assert poll.error_key == "feed.unparseable"
    assert poll.error
    assert poll.entries == ()


def test_malformed_but_recoverable_feed_keeps_its_entries_and_says_why():
    poll = parse_fixture("malformed_recoverable.rss.xml")
    assert poll.ok
    assert poll.bozo_reason
    assert [e.url for e in poll.entries] == ["http://127.0.0.1:8000/cod.html", "http://127.0.0.1:8000/peas.html"]


def test_broken_feed_with_no_readable_entries_is_a_failure():
    poll = parse_feed(b"<rss><channel><title>oops</title><item><titl", FEED_URL,
                      content_type="application/xml", now=NOW)
    assert not poll.ok
    assert poll.error_key in {"feed.malformed", "feed.unparseable"}
    assert poll.bozo_reason


@pytest.mark.parametrize("content_type", [None, "text/html", "text/plain", "application/rss+xml"])
def test_well_formed_empty_feed_is_ok_whatever_its_content_type(content_type):
    # An empty channel is a new or quiet feed, not a broken one: the only "bozo" complaint here is
    # about the Content-Type (feedparser flags anything not XML-typed), which says nothing about the XML.
    poll = parse_fixture("empty_channel.rss.xml", content_type=content_type)
    assert poll.ok, poll.error
    assert poll.entries == ()
    assert poll.title == "Nothing yet"


# -- content hash -----------------------------------------------------------------------------------------
def test_content_hash_is_stable_for_the_same_input():
    first = parse_fixture("relative_links.rss.xml")
    again = parse_fixture("relative_links.rss.xml", now=NOW + timedelta(hours=1))
    assert [e.content_hash for e in first.entries] == [e.content_hash for e in again.entries]
    assert len({e.content_hash for e in first.entries}) == len(first.entries)


def test_content_hash_of_a_future_dated_entry_does_not_change_between_polls():
    # The clamped date moves with every poll; the hash must not, or the entry looks "changed" and is
    # re-enriched on every run.
    first = parse_fixture("future_date.rss.xml", now=NOW)
    later = parse_fixture("future_date.rss.xml", now=NOW + timedelta(hours=6))
    assert [e.content_hash for e in first.entries] == [e.content_hash for e in later.entries]


@pytest.mark.parametrize("old, new", [
    (b"A note with no page of its own", b"A note with a new title"),
    (b"the first boat leaves at 06:10", b"the first boat leaves at 06:40"),
    (b"The ferry timetable changes on Monday.</description>", b"The timetable changes on Tuesday.</description>"),
    (b"Thu, 09 Jan 2025 08:30:00 GMT", b"Fri, 10 Jan 2025 08:30:00 GMT"),
], ids=["title", "content", "summary", "date"])
def test_content_hash_changes_when_the_entry_changes(old, new):
    original = fixture("no_link.rss.xml")
    assert old in original
    before = parse_feed(original, FEED_URL, content_type="application/rss+xml", now=NOW).entries[0]
    after = parse_feed(original.replace(old, new), FEED_URL, content_type="application/rss+xml", now=NOW).entries[0]
    assert before.url == after.url  # same entry (same guid)...
    assert before.content_hash != after.content_hash  # ...whose content changed


# -- poll_feed over HTTP ---------------------------------------------------------------------------------
def test_poll_feed_fetches_and_parses(httpserver: HTTPServer):
    httpserver.expect_request("/feed.xml").respond_with_data(
        fixture("relative_links.rss.xml"), content_type="application/rss+xml; charset=utf-8")
    poll, retryable = poll_feed(url(httpserver, "/feed.xml"), OPTIONS)

    assert poll.ok and retryable is False
    assert poll.http_status == 200
    assert poll.title == "Relative links"
    assert poll.entries[0].url == url(httpserver, "/2025/01/root-relative.html")
    request, _ = httpserver.log[-1]
    assert "application/rss+xml" in request.headers["Accept"]
    assert request.headers["User-Agent"] == "enrich-tests/1.0"


def test_poll_feed_decodes_a_latin1_feed_served_without_charset(httpserver: HTTPServer):
    httpserver.expect_request("/latin1.xml").respond_with_data(
        fixture("latin1.rss.xml"), content_type="application/xml")
    poll, _ = poll_feed(url(httpserver, "/latin1.xml"), OPTIONS)
    assert poll.ok and poll.title == "Café crème à la française"


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_poll_feed_server_error_is_retryable(httpserver: HTTPServer, status):
    httpserver.expect_request("/feed.xml").respond_with_data("oops", status=status, content_type="text/plain")

    poll, retryable = poll_feed(url(httpserver, "/feed.xml"), OPTIONS)

    assert not poll.ok
    assert retryable is True
    assert poll.http_status == status
    assert poll.error_key == f"fetch.http_{status}"
    assert poll.entries == ()


@pytest.mark.parametrize("status", [404, 410, 403])
def test_poll_feed_client_error_is_not_retryable(httpserver: HTTPServer, status):
    httpserver.expect_request("/gone.xml").respond_with_data("gone", status=status, content_type="text/plain")

    poll, retryable = poll_feed(url(httpserver, "/gone.xml"), OPTIONS)

    assert not poll.ok
    assert retryable is False
    assert poll.http_status == status
    assert poll.error_key == f"fetch.http_{status}"


def test_poll_feed_of_an_html_page_is_unparseable_not_retryable(httpserver: HTTPServer):
    httpserver.expect_request("/moved.xml").respond_with_data(fixture("not_a_feed.html"), content_type="text/html")
    poll, retryable = poll_feed(url(httpserver, "/moved.xml"), OPTIONS)
    assert not poll.ok and retryable is False
    assert poll.error_key == "feed.unparseable"
    assert poll.http_status == 200


def test_poll_feed_of_an_empty_feed_served_as_text_html_is_ok(httpserver: HTTPServer):
    httpserver.expect_request("/quiet.xml").respond_with_data(
        fixture("empty_channel.rss.xml"), content_type="text/html")
    poll, retryable = poll_feed(url(httpserver, "/quiet.xml"), OPTIONS)
    assert poll.ok, poll.error
    assert poll.entries == () and poll.http_status == 200 and retryable is False


def test_poll_feed_follows_a_moved_feed(httpserver: HTTPServer):
    httpserver.expect_request("/old.xml").respond_with_data("", status=301, headers={"Location": "/new.xml"})
    httpserver.expect_request("/new.xml").respond_with_data(fixture("tracking_params.rss.xml"),
                                                            content_type="application/rss+xml")
    poll, _ = poll_feed(url(httpserver, "/old.xml"), OPTIONS)
    assert poll.ok and poll.http_status == 200 and len(poll.entries) == 3


def test_poll_feed_refused_by_the_guard_is_not_retryable():
    strict = replace(OPTIONS, allow_private=False)
    with pytest.raises(BlockedURL):  # precondition: were the guard broken, fail here, before connecting
        check_url("http://169.254.169.254/latest/meta-data/", allow_private=False)
    poll, retryable = poll_feed("http://169.254.169.254/latest/meta-data/", strict)
    assert not poll.ok and retryable is False
    assert poll.error_key == "fetch.blocked_address"
    assert poll.http_status is None
