"""Who said each key quote: from the quote stage through the article record and DuckDB to the reader's "— Name"."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import lxml.html

import enrich.store
from enrich.models import FeedEntry, FetchResult
from enrich.pipeline import EnrichOptions, enrich_entry
from enrich.preview import article_page, render_site
from enrich.store import MIGRATIONS, open_store
from tests.test_store import make_article

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DEMO_PAGE = Path(__file__).resolve().parents[1] / "data" / "demo" / "site" / "northwind" / "battery-recycling-yields.html"
QUOTES = (
    "“The new bridge will open in March and carry 12,000 cars a day,” said Helga Brandt.",
    "“Nobody told us the cost would double,” one resident complained after the meeting.",
)


def test_the_pipeline_keeps_each_quotes_speaker_beside_it():
    url = "http://127.0.0.1:1/northwind/battery-recycling-yields.html"
    body = DEMO_PAGE.read_bytes().replace(b"{{DEMO_BASE}}", b"http://127.0.0.1:1")
    entry = FeedEntry(feed_url="http://127.0.0.1:1/feed.xml", entry_id="e1", url=url, link=url, title="Batteries",
                      author=None, published_at=None, updated_at=None, tags=(), summary_html=None,
                      content_html=None, content_hash="0" * 64)
    fetch = FetchResult(url=url, final_url=url, ok=True, http_status=200, content_type="text/html", body=body)
    article = enrich_entry(entry, fetch, EnrichOptions(), now=NOW)
    assert len(article.key_quote_speakers) == len(article.key_quotes) >= 3
    named = [(q, s) for q, s in zip(article.key_quotes, article.key_quote_speakers) if s]
    assert named, "the demo article quotes named people"
    assert all(speaker in quote for quote, speaker in named)


def test_speakers_round_trip_with_nulls_where_unknown(db_path):
    with open_store(db_path) as store:
        store.upsert_articles([make_article(key_quotes=QUOTES, key_quote_speakers=("Helga Brandt", None))],
                              store.begin_run())
        [record] = store.reader_records()
        comment = store.query("SELECT comment FROM duckdb_columns() WHERE column_name = 'key_quote_speakers'")
    assert record["key_quotes"] == list(QUOTES)
    assert record["key_quote_speakers"] == ["Helga Brandt", None]
    assert comment and "same order" in comment[0][0]


def test_a_file_from_before_the_column_is_upgraded_and_its_articles_still_read(db_path, monkeypatch):
    mine = next(i for i, sql in enumerate(MIGRATIONS) if "key_quote_speakers" in sql)
    monkeypatch.setattr(enrich.store, "MIGRATIONS", MIGRATIONS[:mine])
    monkeypatch.setattr(enrich.store, "SCHEMA_VERSION", mine)
    with open_store(db_path) as store:
        store.query("""INSERT INTO articles (url, feed_url, status, first_seen_at, key_quotes, title)
                       VALUES ('https://news.example/old', 'https://news.example/feed.xml', 'ok', now(), ?, 'Old')""",
                    [list(QUOTES)])
    monkeypatch.undo()
    with open_store(db_path) as store:
        [record] = store.reader_records()
    assert record["key_quotes"] == list(QUOTES) and record["key_quote_speakers"] is None


def _rendered(tmp_path, record: dict) -> lxml.html.HtmlElement:
    render_site([record], tmp_path, now=NOW)
    return lxml.html.parse(str(tmp_path / article_page(record["url"]))).getroot()


def test_the_reader_prints_the_speaker_after_the_quote(tmp_path, db_path):
    with open_store(db_path) as store:
        store.upsert_articles([make_article(key_quotes=QUOTES, key_quote_speakers=("Helga Brandt", None))],
                              store.begin_run())
        [record] = store.reader_records()
    page = _rendered(tmp_path, record)
    quotes = page.xpath("//section[@class='quotes']//blockquote")
    assert [q.text_content() for q in quotes] == list(QUOTES)
    assert [c.text_content() for c in page.xpath("//section[@class='quotes']//figcaption")] == ["— Helga Brandt"]
    assert quotes[0].getnext().tag == "figcaption"  # right after its own quote


def test_a_hostile_speaker_is_escaped_and_missing_speakers_print_nothing(tmp_path, db_path):
    hostile = "<script>alert(1)</script>"
    with open_store(db_path) as store:
        store.upsert_articles([replace(make_article(), key_quotes=QUOTES, key_quote_speakers=(hostile,))],
                              store.begin_run())
        [record] = store.reader_records()
    page = _rendered(tmp_path, record)
    assert not page.xpath("//script[contains(., 'alert')]")
    assert [c.text_content() for c in page.xpath("//figcaption")] == [f"— {hostile}"]
    assert len(page.xpath("//section[@class='quotes']//blockquote")) == 2
