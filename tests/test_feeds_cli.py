"""Feed management like Miniflux: add checks and discovers, topics are validated, feeds can be
removed, paused, re-topicked and renamed, and OPML keeps titles and categories both ways."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from enrich.models import FeedPoll
from enrich.opml import parse_opml
from enrich.sites import LoopbackSite, ok, status
from enrich.store import open_store
from flows.cli import app

runner = CliRunner()

RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>Loopback Notes</title>
<link>http://example.invalid/</link><description>d</description>
<item><title>One</title><link>http://example.invalid/1</link><guid>1</guid></item>
<item><title>Two</title><link>http://example.invalid/2</link><guid>2</guid></item>
</channel></rss>"""
ATOM = """<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Atom Side</title>
<id>urn:x</id><updated>2026-11-24T11:00:00Z</updated>
<entry><title>A</title><id>urn:a</id><link href="http://example.invalid/a"/><updated>2026-11-24T11:00:00Z</updated></entry>
</feed>"""


def page(*links: str) -> str:
    return f"<!doctype html><html><head><title>Blog</title>{''.join(links)}</head><body><p>Hello</p></body></html>"


@pytest.fixture(scope="module")
def site():
    routes = {
        "/feed.xml": ok(RSS, "application/rss+xml"),
        "/blog/": ok(page('<link rel="stylesheet" href="/s.css">',
                          '<link rel="alternate" type="application/atom+xml" title="Atom" href="../atom.xml">')),
        "/atom.xml": ok(ATOM, "application/atom+xml"),
        "/broken-links/": ok(page('<link rel="alternate" type="application/rss+xml" href="/missing.xml">')),
        "/json-only/": ok(page('<link rel="alternate" type="application/feed+json" href="/feed.json">')),
        "/plain/": ok(page()),
        "/gone.xml": status(410),
    }
    with LoopbackSite(routes) as running:
        yield running


def add(db_path, *args):
    return runner.invoke(app, ["feeds", "add", *args, "--db", str(db_path)])


def stored(db_path):
    with open_store(db_path, read_only=True) as store:
        return {f.url: f for f in store.feeds()}


def test_add_checks_that_the_url_is_a_feed(site, db_path):
    result = add(db_path, site.url("/feed.xml"), "--topic", "technology")
    assert result.exit_code == 0, result.output
    assert "Loopback Notes: 2 entries" in result.output
    assert stored(db_path)[site.url("/feed.xml")].topic == "Technology"  # the topic's own spelling


def test_add_discovers_the_feed_a_page_links_to(site, db_path):
    result = add(db_path, site.url("/blog/"))
    assert result.exit_code == 0, result.output
    assert list(stored(db_path)) == [site.url("/atom.xml")]  # the feed, resolved against the page
    assert f"found the feed {site.url('/atom.xml')}" in result.output


@pytest.mark.parametrize(("path", "says"), [
    ("/plain/", "links to none"),
    ("/broken-links/", "none readable"),
    ("/json-only/", "JSON Feed"),
    ("/gone.xml", "http_410"),
    ("/nothing-here", "http_404"),
])
def test_add_refuses_what_is_not_a_feed(site, db_path, path, says):
    result = add(db_path, site.url(path))
    assert result.exit_code == 2
    assert says in result.output and "--no-check" in result.output
    assert not db_path.exists()


def test_no_check_adds_without_fetching(site, db_path):
    before = sum(site.hits.values())
    assert add(db_path, site.url("/plain/"), "--no-check").exit_code == 0
    assert sum(site.hits.values()) == before
    assert list(stored(db_path)) == [site.url("/plain/")]


def test_a_misspelt_topic_exits_2_with_a_suggestion(db_path):
    result = add(db_path, "https://a.example/feed.xml", "--no-check", "--topic", "Technolgy")
    assert result.exit_code == 2
    assert "Did you mean 'Technology'?" in result.output
    assert not db_path.exists()
    unrelated = add(db_path, "https://a.example/feed.xml", "--no-check", "--topic", "Zzyzx")
    assert unrelated.exit_code == 2 and "unknown topic" in unrelated.output and "Did you mean" not in unrelated.output


def test_remove_pause_resume_set_topic_rename(db_path):
    url = "https://a.example/feed.xml"
    assert add(db_path, url, "--no-check").exit_code == 0

    def feeds(*args):
        return runner.invoke(app, ["feeds", *args, "--db", str(db_path)])

    assert feeds("pause", url).exit_code == 0
    assert stored(db_path)[url].paused
    assert not stored(db_path)[url].due(datetime.now(UTC))
    assert "paused" in feeds("list").output
    assert feeds("resume", url).exit_code == 0
    assert not stored(db_path)[url].paused and stored(db_path)[url].due(datetime.now(UTC))

    assert feeds("set-topic", url, "sience").exit_code == 2
    assert feeds("set-topic", url, "Science").exit_code == 0
    assert stored(db_path)[url].topic == "Science"
    assert feeds("set-topic", url, "none").exit_code == 0
    assert stored(db_path)[url].topic is None

    assert feeds("rename", url, "My Feed").exit_code == 0
    with open_store(db_path) as store:  # a poll brings the feed's own title: the user's stays
        store.record_polls([FeedPoll(url, ok=True, title="Their Title")], "r1", datetime.now(UTC), {})
    assert stored(db_path)[url].title == "My Feed"

    listing = json.loads(feeds("list", "--json").stdout)
    assert [(f["url"], f["title"], f["paused"]) for f in listing] == [(url, "My Feed", False)]

    assert feeds("remove", url).exit_code == 0
    assert stored(db_path) == {}
    missing = feeds("pause", url)
    assert missing.exit_code == 2 and "no such feed" in missing.output


def test_a_paused_feed_is_not_polled_by_a_run(site, db_path, prefect_harness):
    url = site.url("/feed.xml")
    assert add(db_path, url).exit_code == 0
    assert runner.invoke(app, ["feeds", "pause", url, "--db", str(db_path)]).exit_code == 0
    hits = site.hits["/feed.xml"]
    result = runner.invoke(app, ["run", "--all", "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    assert site.hits["/feed.xml"] == hits
    assert stored(db_path)[url].last_polled_at is None


def test_opml_import_keeps_titles_and_categories_and_export_writes_them_back(db_path, tmp_path):
    opml = tmp_path / "subs.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><head><title>mine</title></head><body>'
        '<outline text="Science" title="Science">'
        '<outline type="rss" text="Space Weekly" xmlUrl="https://s.example/rss"/>'
        '<outline type="rss" title="Lab Notes" text="ignored when title is set" xmlUrl="https://l.example/atom"/>'
        '</outline>'
        '<outline type="rss" text="Loose Feed" xmlUrl="https://x.example/feed"/>'
        '</body></opml>')
    assert runner.invoke(app, ["feeds", "import-opml", str(opml), "--db", str(db_path)]).exit_code == 0
    expected = {("https://s.example/rss", "Space Weekly", "Science"), ("https://l.example/atom", "Lab Notes", "Science"),
                ("https://x.example/feed", "Loose Feed", None)}
    assert {(f.url, f.title, f.topic) for f in stored(db_path).values()} == expected
    out = tmp_path / "out.opml"
    assert runner.invoke(app, ["feeds", "export-opml", "--out", str(out), "--db", str(db_path)]).exit_code == 0
    assert {(s.url, s.title, s.category) for s in parse_opml(out.read_bytes())} == expected
