"""Same story, many feeds; related articles; topics and kind: end to end through the flow."""

from __future__ import annotations

import pytest

from enrich.related import MIN_RELATED_SCORE
from enrich.settings import Settings
from enrich.sites import LoopbackSite, ok
from enrich.store import open_store
from tests.flow import enrich_feeds
from tests.test_flow import item, rss

pytestmark = pytest.mark.usefixtures("prefect_harness")

STORY = " ".join(
    f"The harbour authority said on Tuesday that dredging of berth {i} would start in March, "
    f"after divers found {i * 7} metres of silt where the ferries turn." for i in range(1, 16)
)


def page(text: str, extra: str = "") -> str:
    paragraphs = "".join(f"<p>{s.strip()}.</p>" for s in text.split(".") if s.strip())
    return f"<html><head><title>Dredging</title></head><body><article>{paragraphs}{extra}</article></body></html>"


def test_syndicated_story_is_stored_once_with_both_feeds(db_path):
    edited = STORY.replace("on Tuesday", "on Tuesday morning")
    with LoopbackSite({}) as site:
        site.routes.update({
            "/a.xml": ok(rss(site.base, [item("a1", "Dredging to start", site.url("/news/dredging.html"))]),
                         "application/rss+xml"),
            "/b.xml": ok(rss(site.base, [item("b1", "Harbour dredging", site.url("/wire/77.html"))]),
                         "application/rss+xml"),
            "/news/dredging.html": ok(page(STORY)),
            "/wire/77.html": ok(page(edited, "<p>Follow us for more harbour news and updates every day.</p>")),
        })
        enrich_feeds([site.url("/a.xml")], Settings(db_path=db_path))
        report = enrich_feeds([site.url("/b.xml")], Settings(db_path=db_path))
    assert report.duplicates == 1
    with open_store(db_path, read_only=True) as store:
        records = store.reader_records()
        duplicate = store.query("SELECT duplicate_of FROM articles WHERE url = ?", [site.url("/wire/77.html")])
        feeds = store.query("SELECT feed_url FROM article_feeds WHERE article_url = ? ORDER BY feed_url",
                            [site.url("/news/dredging.html")])
        related_to_copy = store.query("SELECT count(*) FROM related WHERE related_url = ? OR article_url = ?",
                                      [site.url("/wire/77.html")] * 2)
    assert [r["url"] for r in records] == [site.url("/news/dredging.html")]
    assert duplicate == [(site.url("/news/dredging.html"),)]
    assert feeds == [(site.url("/a.xml"),), (site.url("/b.xml"),)]
    assert related_to_copy == [(0,)]


def test_demo_articles_have_topics_kind_and_related(demo_db):
    with open_store(demo_db, read_only=True) as store:
        records = store.reader_records()
        self_links = store.query("SELECT count(*) FROM related WHERE article_url = related_url")
    assert len(records) == 17
    for record in records:
        assert 1 <= len(record["topics"]) <= 3, record["title"]
        assert len(record["topic_scores"]) == len(record["topics"])
        assert record["kind"] in {"News", "Insight", "Opinion", "Guide", "Review", "Announcement", "Personal"}
        assert len(record["related"]) <= 5
        assert all(r["url"] != record["url"] for r in record["related"])
    by_title = {r["title"]: r for r in records}
    assert by_title["HSG Lindenbrück gewinnt Derby und übernimmt die Tabellenspitze"]["topics"][0] == "Sports"
    assert by_title["Las fabes de Casarredonda, a fuego lento y sin prisas"]["topics"][0] == "Food"
    # Related means about the same thing: the demo's articles share sites, not stories, so a link
    # is rare, and never weaker than the floor.
    assert all(r["score"] >= MIN_RELATED_SCORE for record in records for r in record["related"])
    assert self_links == [(0,)]
