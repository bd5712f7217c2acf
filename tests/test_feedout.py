"""Enriched feeds: Atom and JSON Feed of the demo flow's records, read back by our own poller.

The records come from the real demo database (the flow run once against the demo corpus, shared
with test_preview.py); hand-built records cover what the corpus does not: hostile text, missing
fields, quote speakers.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest
from lxml import etree
from typer.testing import CliRunner

from enrich.feedout import (
    ALL,
    ATOM_NS,
    ENRICH_NS,
    FEED_ITEMS,
    FEEDS_DIR,
    atom_feed,
    feed_documents,
    feed_scopes,
    item_id,
    json_feed,
    quotes_with_speakers,
    scope_named,
    summary_text,
)
from enrich.feeds import parse_feed
from enrich.preview import TOPICS, article_slug
from enrich.store import open_store

SCHEMA = json.loads((Path(__file__).parent / "fixtures" / "jsonfeed-1.1.schema.json").read_text())
ATOM_TYPE = "application/atom+xml"
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
A = f"{{{ATOM_NS}}}"


@pytest.fixture(scope="module")
def records(demo_db) -> list[dict]:
    with open_store(demo_db, read_only=True) as store:
        return store.reader_records()


def record(**changes) -> dict:
    base = {
        "url": "https://news.example/2026/story", "canonical_url": None, "feed_url": "https://news.example/feed",
        "feed_title": "News", "title": "A story", "author": "Ann Author",
        "published_at": datetime(2026, 11, 20, 9, 30, tzinfo=UTC), "language": "en", "kind": "News",
        "reading_minutes": 4, "word_count": 900, "topics": ["Science", "Health"], "topic_scores": [0.7, 0.2],
        "summary": ["First sentence.", "Second sentence."], "key_quotes": ["“We did it,” she said.", "It works."],
        "feed_snippet": "The snippet.", "site_name": "News", "image_url": None, "text_source": "page",
        "related": [],
    }
    return base | changes


def validate_json_feed(document: dict) -> None:
    jsonschema.validate(document, SCHEMA)


def assert_atom_required_elements(body: bytes) -> etree._Element:
    """RFC 4287: feed id, title, updated (one each) and an author; entry id, title, updated; a link."""
    root = etree.fromstring(body)
    assert root.tag == f"{A}feed"
    for name in ("id", "title", "updated"):
        assert len(root.findall(f"{A}{name}")) == 1, name
    assert root.find(f"{A}author/{A}name").text
    for entry in root.findall(f"{A}entry"):
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"{A}{name}")) == 1, name
        # An alternate link, or content (an entry that had no link of its own has none to give).
        link = entry.find(f"{A}link[@rel='alternate']")
        assert (link is not None and link.get("href").startswith("http")) or entry.find(f"{A}content") is not None
        # RFC 3339 times
        datetime.fromisoformat(entry.find(f"{A}updated").text)
    return root


# -- the demo records ---------------------------------------------------------------------------------
def page(record: dict) -> str:
    return f"http://127.0.0.1/articles/{article_slug(record['url'])}"


def test_atom_of_the_demo_reads_back_identically(records):
    body = atom_feed(records, now=NOW, page_url=page)
    assert_atom_required_elements(body)
    poll = parse_feed(body, "http://127.0.0.1/feeds/all.atom", content_type=ATOM_TYPE)
    assert poll.ok and poll.bozo_reason is None
    assert len(poll.entries) == len(records) == 17
    for entry, rec in zip(poll.entries, records, strict=True):
        assert entry.entry_id == item_id(rec)
        # An entry that had no link of its own links to our page of it.
        assert entry.url == entry.link == (page(rec) if "#entry-" in rec["url"] else rec["url"])
        assert entry.title == rec["title"]
        assert entry.author == rec["author"]
        assert entry.published_at == rec["published_at"]
        assert entry.tags == tuple(rec["topics"])
        assert entry.summary_html == summary_text(rec)
        for quote in rec["key_quotes"]:
            assert _html_text(quote) in entry.content_html
        assert f"{rec['reading_minutes']} min read" in entry.content_html


def test_json_feed_of_the_demo_validates_and_carries_every_field(records):
    document = json_feed(records, page_url=page)
    validate_json_feed(document)
    assert [item["id"] for item in document["items"]] == [item_id(r) for r in records]
    for item, rec in zip(document["items"], records, strict=True):
        assert item["url"] == (page(rec) if "#entry-" in rec["url"] else rec["url"])
        assert item["title"] == rec["title"]
        assert item["date_published"] == rec["published_at"].strftime("%Y-%m-%dT%H:%M:%SZ")
        assert item["tags"] == rec["topics"] and item["language"] == rec["language"]
        assert item.get("authors", [{}])[0].get("name") == rec["author"]
        extension = item["_enrich"]
        assert extension["id"] == article_slug(rec["url"])
        assert [q["text"] for q in extension["key_quotes"]] == rec["key_quotes"]
        assert extension["summary"] == rec["summary"]
        assert extension["reading_minutes"] == rec["reading_minutes"]
        assert extension["kind"] == rec["kind"] and extension["language"] == rec["language"]
        assert [r["url"] for r in extension["related"]] == [r["url"] for r in rec["related"]]


def test_every_scope_is_valid_newest_first_and_selects_its_own(records):
    scopes = feed_scopes(records)
    names = [s.name for s in scopes]
    assert names[0] == "all" and len([n for n in names if n.startswith("topic-")]) == len(TOPICS) == 19
    assert {n for n in names if n.startswith("language-")} == {"language-en", "language-es", "language-de",
                                                               "language-ja"}
    for scope in scopes:
        document = json_feed(records, scope)
        validate_json_feed(document)
        items = document["items"]
        times = [i["date_published"] for i in items]
        assert times == sorted(times, reverse=True)
        if scope.topic:
            assert all(scope.topic in i["tags"] for i in items)
            assert len(items) == sum(scope.topic in r["topics"] for r in records)
        if scope.language:
            assert document["language"] == scope.language
            assert {i["language"] for i in items} == {scope.language}
        poll = parse_feed(atom_feed(records, scope, now=NOW), f"http://127.0.0.1/{scope.name}.atom",
                          content_type=ATOM_TYPE)
        assert poll.ok and poll.bozo_reason is None
        assert [e.entry_id for e in poll.entries] == [i["id"] for i in items]


def test_the_same_records_give_the_same_bytes(records):
    assert atom_feed(records, now=NOW) == atom_feed(list(records), now=NOW + timedelta(days=1))
    assert feed_documents(records, now=NOW) == feed_documents(records, now=NOW)


def test_preview_writes_the_feeds_beside_the_html(demo_db, tmp_path):
    from flows.cli import app

    result = CliRunner().invoke(app, ["preview", "--out", str(tmp_path), "--db", str(demo_db)])
    assert result.exit_code == 0, result.output
    feeds = tmp_path / FEEDS_DIR
    assert (tmp_path / "index.html").exists()
    assert "feeds/all.atom" in (tmp_path / "index.html").read_text()
    for name in ("all", "topic-technology", "language-ja"):
        validate_json_feed(json.loads((feeds / f"{name}.json").read_text()))
        poll = parse_feed((feeds / f"{name}.atom").read_bytes(), "http://x/", content_type=ATOM_TYPE)
        assert poll.ok and poll.bozo_reason is None


# -- hand-built records -------------------------------------------------------------------------------
def test_quotes_carry_their_speakers_when_the_store_has_them():
    assert quotes_with_speakers(record()) == [{"text": "“We did it,” she said.", "speaker": None},
                                              {"text": "It works.", "speaker": None}]
    with_speakers = record(key_quote_speakers=["Jane Doe", None])
    assert quotes_with_speakers(with_speakers)[0] == {"text": "“We did it,” she said.", "speaker": "Jane Doe"}
    # A speakers list shorter than the quotes (an older row) leaves the rest unknown.
    assert quotes_with_speakers(record(key_quote_speakers=["Jane Doe"]))[1]["speaker"] is None

    root = etree.fromstring(atom_feed([with_speakers], now=NOW))
    quotes = root.findall(f"{A}entry/{{{ENRICH_NS}}}quote")
    assert [(q.text, q.get("speaker")) for q in quotes] == [("“We did it,” she said.", "Jane Doe"), ("It works.", None)]
    assert "— Jane Doe" in root.find(f"{A}entry/{A}content").text
    item = json_feed([with_speakers])["items"][0]
    assert item["_enrich"]["key_quotes"][0]["speaker"] == "Jane Doe"
    assert "— Jane Doe" in item["content_html"]


def test_hostile_text_stays_text_and_the_xml_stays_well_formed():
    nasty = record(title="<script>alert(1)</script> & \x01\x0bbell", author="Eve <eve@example.org>",
                   summary=["A ]]> sentence with \x00 NUL."], key_quotes=['"</blockquote><img src=x>"'],
                   topics=["Science", "Made-up <b>"], key_quote_speakers=["Mallory & co"])
    body = atom_feed([nasty], now=NOW)
    assert_atom_required_elements(body)
    poll = parse_feed(body, "http://127.0.0.1/feeds/all.atom", content_type=ATOM_TYPE)
    assert poll.bozo_reason is None
    entry = poll.entries[0]
    assert entry.title == "<script>alert(1)</script> & bell"
    assert entry.author == "Eve <eve@example.org>"
    assert entry.summary_html == "A ]]> sentence with  NUL."
    assert "&lt;/blockquote&gt;&lt;img src=x&gt;" in entry.content_html
    assert "<img" not in entry.content_html
    assert entry.tags == ("Science", "Made-up <b>")
    document = json_feed([nasty])
    validate_json_feed(document)
    assert "<img" not in document["items"][0]["content_html"]


def test_missing_fields_are_left_out_not_invented():
    bare = record(url="https://news.example/bare", title=None, author=None, published_at=None, summary=None,
                  key_quotes=None, topics=[], kind=None, reading_minutes=None, language="und", feed_snippet=None)
    body = atom_feed([bare], now=NOW)
    assert_atom_required_elements(body)
    entry = parse_feed(body, "http://127.0.0.1/all.atom", content_type=ATOM_TYPE).entries[0]
    assert entry.author is None  # the feed-level author is not pinned on the entry
    assert entry.updated_at == NOW and entry.published_at == NOW
    item = json_feed([bare])["items"][0]
    validate_json_feed(json_feed([bare]))
    assert "authors" not in item and "date_published" not in item and "language" not in item
    assert item["_enrich"]["key_quotes"] == []


def test_a_link_that_is_not_http_is_not_offered_as_the_original():
    linkless = record(url="https://news.example/feed#entry-1a2b", canonical_url="javascript:alert(1)")
    item = json_feed([linkless])["items"][0]
    assert item["id"] == item_id(linkless) and "url" not in item
    assert json_feed([linkless | {"canonical_url": "https://news.example/page"}])["items"][0]["url"] == (
        "https://news.example/page")
    evil = record(url="javascript:alert(1)", canonical_url="https://news.example/real")
    assert json_feed([evil])["items"][0]["url"] == "https://news.example/real"


def test_a_feed_holds_the_newest_items_only():
    many = [record(url=f"https://news.example/{i}", published_at=NOW - timedelta(minutes=i))
            for i in range(FEED_ITEMS + 30)]
    items = json_feed(many, ALL)["items"]
    assert len(items) == FEED_ITEMS and items[0]["url"] == "https://news.example/0"


def test_scope_names():
    assert scope_named("topic-science", []).topic == "Science"
    assert scope_named("language-pt", []).language == "pt"
    assert scope_named("topic-nonsense", []) is None
    assert scope_named("language-../../etc", []) is None


def _html_text(value: str) -> str:
    import html

    return html.escape(value)
