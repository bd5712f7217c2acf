"""``enrich api``: a real uvicorn server on 127.0.0.1 over the demo flow's DuckDB file, read with httpx.

The database is the one the demo flow writes (shared with test_preview.py), copied so this module
can hold its write lock. A writer in another process shows the API answering while a run writes.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import jsonschema
import pytest
import uvicorn
from typer.testing import CliRunner

from enrich.api import create_app, decode_cursor, encode_cursor
from enrich.feedout import item_id
from enrich.feeds import poll_feed
from enrich.fetch import FetchOptions
from enrich.preview import ALL_TOPICS, TOPICS, article_slug
from enrich.store import open_store
from tests.test_preview import CHROMIUM, CHROMIUM_ARGS, DEMO_ARTICLES

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((Path(__file__).parent / "fixtures" / "jsonfeed-1.1.schema.json").read_text())
# The refresher looks at the file this often in tests (1 s in production).
CHECK_SECONDS = 0.1


@pytest.fixture(scope="module")
def db(demo_db, tmp_path_factory) -> Path:
    """A copy of the demo database in which at least one article has related articles.

    The related lists are the linking stage's; should the demo run find none, two are written the
    way it writes them, so the card's related articles are tested either way.
    """
    path = tmp_path_factory.mktemp("api") / "enriched.duckdb"
    shutil.copyfile(demo_db, path)
    with open_store(path) as store:
        if not store.query("SELECT count(*) FROM related")[0][0]:
            urls = [r["url"] for r in store.reader_records()]
            store.query("INSERT INTO related VALUES (?, ?, 0.42, 1, 'test'), (?, ?, 0.21, 2, 'test')",
                        [urls[0], urls[1], urls[0], urls[2]])
    return path


@pytest.fixture(scope="module")
def records(db) -> list[dict]:
    with open_store(db, read_only=True) as store:
        return store.reader_records()


@contextmanager
def serving(db: Path) -> Iterator[str]:
    """The API served by uvicorn on a free loopback port, in a thread of this process."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(create_app(db, check_seconds=CHECK_SECONDS), log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture(scope="module")
def base(db) -> Iterator[str]:
    with serving(db) as url:
        yield url


@pytest.fixture(scope="module")
def client(base) -> httpx.Client:
    with httpx.Client(base_url=base, timeout=10) as c:
        yield c


def all_pages(client: httpx.Client, **params) -> list[dict]:
    cards, cursor = [], None
    while True:
        page = client.get("/articles", params={**params, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        body = page.json()
        cards += body["articles"]
        cursor = body["next_cursor"]
        if cursor is None:
            return cards


# -- articles -----------------------------------------------------------------------------------------
def test_articles_are_the_readers_records_newest_first(client, records):
    body = client.get("/articles", params={"limit": 100}).json()
    cards = body["articles"]
    assert body["next_cursor"] is None
    assert len(cards) == len(records) == DEMO_ARTICLES
    assert [c["url"] for c in cards] == [r["url"] for r in records]
    for card, record in zip(cards, records, strict=True):
        assert card["id"] == article_slug(record["url"])
        assert card["title"] == record["title"] and card["author"] == record["author"]
        assert card["published_at"] == record["published_at"].strftime("%Y-%m-%dT%H:%M:%SZ")
        assert card["summary"] == record["summary"]
        assert [q["text"] for q in card["key_quotes"]] == record["key_quotes"]
        assert card["topics"] == record["topics"] and card["language"] == record["language"]
        assert card["reading_minutes"] == record["reading_minutes"] and card["kind"] == record["kind"]
        assert card["feed"] == {"url": record["feed_url"], "title": record["feed_title"]}
        assert card["feed_snippet"] == record["feed_snippet"]


def test_cursor_pages_walk_every_article_once_in_order(client, records):
    cards = all_pages(client, limit=4)
    assert [c["url"] for c in cards] == [r["url"] for r in records]
    first = client.get("/articles", params={"limit": 4}).json()
    assert len(first["articles"]) == 4
    published, url = decode_cursor(first["next_cursor"])
    assert url == first["articles"][-1]["url"]
    assert published.strftime("%Y-%m-%dT%H:%M:%SZ") == first["articles"][-1]["published_at"]


@pytest.mark.parametrize("name", ["topic", "language", "kind", "feed"])
def test_each_filter_returns_exactly_the_matching_articles(client, records, name):
    field = {"topic": "topics", "feed": "feed_url"}.get(name, name)
    values = {v for r in records for v in (r[field] if name == "topic" else [r[field]]) if v}
    assert values
    for value in values:
        cards = all_pages(client, **{name: value}, limit=3)
        expected = [r["url"] for r in records if (value in r[field] if name == "topic" else r[field] == value)]
        assert [c["url"] for c in cards] == expected, value


def test_since_and_topic_in_any_case(client, records):
    middle = sorted(r["published_at"] for r in records)[len(records) // 2]
    cards = all_pages(client, since=middle.isoformat())
    assert [c["url"] for c in cards] == [r["url"] for r in records if r["published_at"] >= middle]
    topic = records[0]["topics"][0]
    assert all_pages(client, topic=topic.upper()) == all_pages(client, topic=topic)


def test_search_finds_words_of_the_title_summary_and_text_in_any_case(client, db, records):
    with open_store(db, read_only=True) as store:
        texts = dict(store.query("SELECT url, text FROM articles"))
    target = next(r for r in records if r["language"] == "de")
    word = max(texts[target["url"]].split(), key=len).strip(".,;:!?\"'()»«„“")
    cards = all_pages(client, q=word.upper())
    expected = [r["url"] for r in records if word.lower() in (texts[r["url"]] + " " + (r["title"] or "")).lower()]
    assert target["url"] in [c["url"] for c in cards]
    assert [c["url"] for c in cards] == expected
    japanese = next(r for r in records if r["language"] == "ja")
    assert japanese["url"] in [c["url"] for c in all_pages(client, q=japanese["title"][:4])]
    assert client.get("/articles", params={"q": "zzqqxx-no-such-word"}).json()["articles"] == []
    # Wildcard characters are searched for, not used as wildcards.
    assert client.get("/articles", params={"q": "%"}).json()["articles"] == [
        c for c in all_pages(client) if "%" in texts[c["url"]] + (c["title"] or "")]


@pytest.mark.parametrize(("params", "fragment"), [
    ({"topic": "Technolgy"}, "unknown topic"),
    ({"since": "last tuesday"}, "ISO 8601"),
    ({"cursor": "not-a-cursor"}, "not a cursor"),
    ({"q": " ".join(f"w{i}" for i in range(20))}, "at most"),
])
def test_bad_parameters_are_a_400_that_says_why(client, params, fragment):
    response = client.get("/articles", params=params)
    assert response.status_code == 400
    assert fragment in response.json()["error"]


def test_limit_out_of_range_is_refused(client):
    assert client.get("/articles", params={"limit": 0}).status_code == 422
    assert client.get("/articles", params={"limit": 1000}).status_code == 422


# -- one article, topics, feeds -----------------------------------------------------------------------
def test_one_card_has_everything_and_its_related_articles_resolve(client, records):
    with_related = next(r for r in records if r["related"])
    card = client.get(f"/articles/{article_slug(with_related['url'])}").json()
    assert card["url"] == with_related["url"]
    assert [r["url"] for r in card["related"]] == [r["url"] for r in with_related["related"]]
    for related in card["related"]:
        other = client.get(f"/articles/{related['id']}")
        assert other.status_code == 200 and other.json()["url"] == related["url"]


def test_an_unknown_article_is_a_404(client):
    response = client.get("/articles/0000000000000000")
    assert response.status_code == 404 and "no article" in response.json()["error"]


def test_topics_are_the_20_tabs_with_their_counts(client, records):
    tabs = client.get("/topics").json()["topics"]
    assert [t["name"] for t in tabs] == [ALL_TOPICS, *TOPICS]
    assert tabs[0]["count"] == len(records)
    for tab in tabs[1:]:
        assert tab["count"] == sum(tab["name"] in r["topics"] for r in records), tab["name"]
        assert tab["count"] == len(all_pages(client, topic=tab["name"]))


def test_feeds_report_their_health(client, db):
    body = client.get("/feeds").json()
    with open_store(db, read_only=True) as store:
        stored = store.feeds()
    assert [f["url"] for f in body["feeds"]] == [f.url for f in stored]
    assert {f["last_status"] for f in body["feeds"]} == {"ok"}
    assert sum(f["articles"] for f in body["feeds"]) == DEMO_ARTICLES
    assert body["last_run"]["status"] == "completed"
    assert "/feeds/language-ja.atom" in body["enriched_feeds"]


# -- ETag ---------------------------------------------------------------------------------------------
def test_etag_and_304(client):
    first = client.get("/articles", params={"limit": 5})
    tag = first.headers["etag"]
    again = client.get("/articles", params={"limit": 5}, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
    other = client.get("/articles", params={"limit": 6}, headers={"If-None-Match": tag})
    assert other.status_code == 200 and other.headers["etag"] != tag
    assert client.get("/topics", headers={"If-None-Match": f'W/{tag}, "x"'}).status_code == 200


# -- enriched feeds -----------------------------------------------------------------------------------
def test_our_poller_reads_the_served_atom_feed_back_identically(base, client):
    options = FetchOptions(user_agent="enrich-test", allow_private=True)
    poll, _ = poll_feed(f"{base}/feeds/all.atom", options)
    assert poll.ok and poll.bozo_reason is None, poll.error
    cards = client.get("/articles", params={"limit": 100}).json()["articles"]
    assert [e.entry_id for e in poll.entries] == [item_id({"url": c["url"]}) for c in cards]
    for entry, card in zip(poll.entries, cards, strict=True):
        assert (entry.title, entry.author, entry.tags) == (card["title"], card["author"], tuple(card["topics"]))
        assert entry.published_at.strftime("%Y-%m-%dT%H:%M:%SZ") == card["published_at"]
        own_page = f"{base}/articles/{card['id']}"
        assert entry.link == (own_page if "#entry-" in card["url"] else card["url"])
    # A reader polling again with the validators it got is told nothing changed.
    again, _ = poll_feed(f"{base}/feeds/all.atom", options, etag=poll.etag)
    assert again.ok and again.not_modified and again.http_status == 304


def test_served_json_feeds_validate(client):
    for name in ("all", "topic-technology", "language-es", "language-pt"):
        response = client.get(f"/feeds/{name}.json")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/feed+json")
        document = response.json()
        jsonschema.validate(document, SCHEMA)
        assert document["feed_url"].endswith(f"/feeds/{name}.json")
    assert client.get("/feeds/nonsense.json").status_code == 404
    assert client.get("/feeds/topic-technolgy.atom").status_code == 404


def test_openapi_documents_every_endpoint(client):
    spec = client.get("/openapi.json").json()
    for path in ("/articles", "/articles/{article_id}", "/topics", "/feeds", "/feeds/{name}.atom", "/feeds/{name}.json"):
        assert path in spec["paths"], path
    names = {p["name"] for p in spec["paths"]["/articles"]["get"]["parameters"]}
    assert {"topic", "language", "kind", "feed", "since", "q", "cursor", "limit"} <= names
    assert client.get("/docs").status_code == 200


# -- a run writing meanwhile --------------------------------------------------------------------------
WRITER = """
import sys
from enrich.store import open_store
with open_store(sys.argv[1], wait_seconds=10) as store:
    store.query("UPDATE articles SET title = 'Qwxzv, rewritten during a run' WHERE url = ?", [sys.argv[2]])
    print("holding", flush=True)
    sys.stdin.readline()
"""


def test_answers_from_its_snapshot_while_a_run_writes_then_catches_up(client, db, records):
    target = records[0]
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(db), target["url"]], cwd=ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "holding"
        stale = None
        for _ in range(100):  # the refresher notices the file changed and cannot get in
            response = client.get(f"/articles/{article_slug(target['url'])}")
            assert response.status_code == 200
            if "x-enrich-stale" in response.headers:
                stale = response
                break
            time.sleep(CHECK_SECONDS / 2)
        assert stale is not None, "the API never said it was serving a stale snapshot"
        assert stale.json()["title"] == target["title"]
        assert client.get("/articles", params={"q": "QWXZV"}).json()["articles"] == []
    finally:
        writer.communicate("done\n", timeout=30)
    assert writer.returncode == 0
    for _ in range(200):
        response = client.get(f"/articles/{article_slug(target['url'])}")
        if response.json()["title"] == "Qwxzv, rewritten during a run":
            break
        time.sleep(CHECK_SECONDS / 2)
    assert response.json()["title"] == "Qwxzv, rewritten during a run"
    assert "x-enrich-stale" not in response.headers
    assert [c["url"] for c in client.get("/articles", params={"q": "qwxzv"}).json()["articles"]] == [target["url"]]


def test_a_writer_gets_the_file_while_the_api_runs(client, db):
    client.get("/topics")
    with open_store(db, wait_seconds=5) as store:  # waits at most for one snapshot copy
        assert store.schema_version() > 0


def test_no_database_yet_is_a_503_to_retry_then_data_once_it_exists(db, tmp_path):
    later = tmp_path / "later.duckdb"
    with serving(later) as url, httpx.Client(base_url=url, timeout=10) as c:
        response = c.get("/articles")
        assert response.status_code == 503 and response.headers["retry-after"] == "1"
        assert "does not exist" in response.json()["error"]
        shutil.copyfile(db, later)
        for _ in range(100):
            if (response := c.get("/topics")).status_code == 200:
                break
            time.sleep(CHECK_SECONDS)
        assert response.json()["topics"][0]["count"] == DEMO_ARTICLES


# -- the command --------------------------------------------------------------------------------------
def test_command_refuses_a_missing_database_and_listens_on_loopback_by_default(tmp_path):
    from flows.cli import app

    runner = CliRunner()
    missing = tmp_path / "typo.duckdb"
    result = runner.invoke(app, ["api", "--db", str(missing)])
    assert result.exit_code == 2
    assert "typo.duckdb" in result.output and not missing.exists()
    help_text = runner.invoke(app, ["api", "--help"], terminal_width=200).output
    assert "127.0.0.1" in help_text


def test_cursor_round_trip():
    from datetime import UTC, datetime

    record = {"published_at": datetime(2026, 11, 1, 8, tzinfo=UTC), "url": "https://x.example/a?b=1"}
    assert decode_cursor(encode_cursor(record)) == (record["published_at"], record["url"])


# -- a browser ----------------------------------------------------------------------------------------
def test_the_index_page_in_chromium(base, client):
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium "
                    "(CI installs it: apt-get update && apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    tabs = client.get("/topics").json()["topics"]
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            response = page.goto(base + "/")
            assert response.status == 200
            assert "script-src" not in response.headers["content-security-policy"]
            items = page.locator("ul.tabs li")
            assert items.count() == len(tabs) == 20
            for i, tab in enumerate(tabs):
                assert items.nth(i).locator(".count").inner_text() == str(tab["count"])
            assert page.locator('link[rel="alternate"][type="application/atom+xml"]').count() == 20
            with page.expect_navigation() as navigation:
                page.locator("ul.tabs li").nth(1).get_by_role("link", name=TOPICS[0]).click()
            assert navigation.value.status == 200
            assert page.url.endswith(f"/articles?topic={TOPICS[0]}")
            assert problems == []
        finally:
            browser.close()
