"""enrich_entry and its choices: which text, which language, and what an entry ends as.

Pages come from the demo corpus as its server sends them; fetch failures are FetchResults built
by hand, shaped like the ones fetch.py returns.
"""

from __future__ import annotations

import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import lxml.html
import pytest
from lxml import etree

from enrich.models import ExtractedPage, FeedEntry, FetchResult
from enrich.pipeline import EnrichOptions, choose_language, choose_text, enrich_entry
from enrich.readingtime import estimate_reading_time
from enrich.settings import Settings
from enrich.urls import canonical_link, entry_identity

DEMO_SITE = Path(__file__).resolve().parents[1] / "data" / "demo" / "site"
ARTICLE_BODY = "//article//div[contains(@class,'article-body') or contains(@class,'post-body') or contains(@class,'entry-content')]"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
OPTIONS = EnrichOptions()
FEED = "https://feeds.example/northwind.rss.xml"

# One page per demo site, with the site's language from CORPUS_SPEC.md.
DEMO_ARTICLES = [
    ("northwind/rust-build-times.html", "en"),
    ("cuaderno/mercado-arroces-valencia.html", "es"),
    ("stadtleben/klinikum-stroke-unit.html", "de"),
    ("kissa/record-night-vol12.html", "ja"),
]


def _words(n: int) -> str:
    return " ".join(f"word{i}" for i in range(n))


def make_entry(*, link=None, title="A title", summary_html=None, content_html=None, entry_id="entry-1") -> FeedEntry:
    return FeedEntry(
        feed_url=FEED,
        entry_id=entry_id,
        url=canonical_link(link) if link else entry_identity(FEED, entry_id),
        link=link,
        title=title,
        author=None,
        published_at=None,
        updated_at=None,
        tags=("Technology",),
        summary_html=summary_html,
        content_html=content_html,
        content_hash="0" * 64,
    )


def failed_fetch(url: str, key: str, message: str, status: int | None = None) -> FetchResult:
    return FetchResult(url=url, final_url=url, ok=False, http_status=status, error_key=key, error=message)


def _featherlint_content() -> str:
    """content:encoded of the demo feed's one item without a link."""
    root = etree.parse(str(DEMO_SITE / "feeds" / "northwind.rss.xml"))
    for item in root.iter("item"):
        if item.find("link") is None:
            return item.findtext("{http://purl.org/rss/1.0/modules/content/}encoded")
    raise AssertionError("the demo feed lost its item without a link")


def _served(demo_base: str, path: str) -> bytes:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, never a proxy
    with opener.open(f"{demo_base}/{path}", timeout=5) as response:
        return response.read()


def assert_text_products(article) -> None:
    """Summary and quotes are verbatim pieces of the text, and never the same sentence."""
    assert article.summary, "a summary"
    for sentence in (*article.summary, *article.key_quotes):
        assert sentence in article.text
    assert not set(article.summary) & set(article.key_quotes)
    assert len(article.summary) <= OPTIONS.summary_sentences
    assert len(article.key_quotes) <= OPTIONS.quote_count
    reading = estimate_reading_time(article.text, article.language)
    # Images in the page add time (Medium's rule), never words.
    assert article.word_count == reading.units and article.reading_minutes >= reading.minutes


# -- choose_text ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("page_words", "feed_words", "source"),
    [
        (50, 0, "page"),
        (50, 20, "page"),
        (60, 100, "page"),  # exactly 0.6 of the feed's full text
        (59, 100, "feed"),  # a teaser or a paywall stub next to the feed's full text
        (39, 10, "feed"),  # under 40 words the page is no article
        (39, 0, "page"),  # ... but better than nothing
        (0, 10, "feed"),
    ],
)
def test_choose_text(page_words, feed_words, source):
    page_text, feed_text = _words(page_words), _words(feed_words)
    text, chosen = choose_text(ExtractedPage(text=page_text), feed_text)
    assert chosen == source
    assert text == (page_text if source == "page" else feed_text)


def test_choose_text_without_a_page_or_any_text():
    assert choose_text(None, _words(5)) == (_words(5), "feed")
    assert choose_text(None, "") == ("", "none")
    assert choose_text(ExtractedPage(text=""), "") == ("", "none")


# -- choose_language -----------------------------------------------------------------------------

def test_short_text_takes_the_declared_language():
    guess = choose_language("Guten Morgen", ("de", "en"), 0.7)
    assert guess.code == "de"


def test_first_real_declaration_wins_and_und_is_skipped():
    assert choose_language("2026", ("und", "ja"), 0.7).code == "ja"
    assert choose_language("2026", (None, "es"), 0.7).code == "es"


def test_long_text_is_detected_whatever_the_page_declares():
    text = (
        "The city council approved money for three new cycle lanes after a long debate on Thursday "
        "evening, and work on the first of them is expected to begin early next spring."
    )
    assert choose_language(text, ("de", "de"), 0.7).code == "en"


def test_a_declaration_the_script_rules_out_is_skipped():
    # A Russian headline from a page whose CMS says "en" for everything; the feed says "ru".
    assert choose_language("Дорога домой", ("en", "ru"), 0.7).code == "ru"
    # Nothing plausible declared: the text alone decides (two words, no telltale letter: und).
    assert choose_language("Дорога домой", ("en",), 0.7).code == "und"


def test_a_script_of_its_own_overrules_a_wrong_declaration():
    assert choose_language("서울시 자전거 도로 예산 승인", ("en",), 0.7).code == "ko"


def test_a_sure_guess_on_a_short_text_overrules_an_unrelated_declaration():
    german = "Der Stadtrat hat am Donnerstagabend das Geld für drei neue Radwege bewilligt."
    assert choose_language(german, ("en",), 0.7).code == "de"
    # ... but not a close relative's: langdetect mixes Danish and Norwegian up.
    assert choose_language("Det synes jeg også, vi skal gøre her.", ("no",), 0.7).code == "no"


def test_the_title_helps_a_short_text():
    # Two words alone are undetermined; with the headline there is enough German to go on.
    assert choose_language("Guten Morgen", (None,), 0.7).code == "und"
    title = "Stadtrat bewilligt Geld für drei neue Radwege nach langer Debatte"
    assert choose_language("Guten Morgen", (None,), 0.7, title=title).code == "de"


def test_nothing_declared_and_nothing_to_detect():
    assert choose_language("", (None, None), 0.7).code == "und"


# -- enrich_entry on demo pages --------------------------------------------------------------------

@pytest.mark.parametrize(("path", "language"), DEMO_ARTICLES, ids=[p for p, _ in DEMO_ARTICLES])
def test_enrich_a_demo_page(demo_base, path, language):
    url = f"{demo_base}/{path}"
    body = _served(demo_base, path)
    fetch = FetchResult(url=url, final_url=url, ok=True, http_status=200,
                        content_type="text/html; charset=utf-8", body=body, encoding="utf-8")
    article = enrich_entry(make_entry(link=url, summary_html="A <b>short</b> summary &amp;amp; more."),
                           fetch, OPTIONS, feed_language=language, now=NOW)
    assert article.status == "ok" and article.error is None
    assert article.text_source == "page"
    assert article.language == language
    assert article.canonical_url == url
    assert article.http_status == 200
    assert article.fetched_at == NOW and article.enriched_at == NOW
    assert article.feed_snippet == "A short summary & more."
    assert 1 <= len(article.key_quotes) <= 5  # issue 12: no filler, every demo article quotes someone or a figure
    assert_text_products(article)
    # Reading time counts the figures inside the article body, not the logo or the ads.
    figures = len(lxml.html.fromstring(body).xpath(ARTICLE_BODY + "//img"))
    assert figures >= 1
    assert article.reading_minutes == estimate_reading_time(article.text, language, images=figures).minutes
    # Furniture stays out of the stored text.
    for chrome in ("All rights reserved", "Alle Rechte vorbehalten", "Todos los derechos", "Subscribe"):
        assert chrome not in article.text


def test_options_reach_the_stages(demo_base):
    path = "northwind/rust-build-times.html"
    url = f"{demo_base}/{path}"
    fetch = FetchResult(url=url, final_url=url, ok=True, http_status=200, body=_served(demo_base, path))
    options = EnrichOptions.from_settings(
        Settings(words_per_minute=100, summary_sentences=1, quote_count=3, snippet_chars=20)
    )
    assert (options.words_per_minute, options.summary_sentences, options.quote_count) == (100, 1, 3)
    summary = "Engineers at Corvane Systems spent nine months profiling a Rust monorepo."
    article = enrich_entry(make_entry(link=url, summary_html=summary), fetch, options, now=NOW)
    assert len(article.summary) == 1
    assert len(article.key_quotes) == 3
    assert article.reading_minutes == estimate_reading_time(article.text, "en", words_per_minute=100, images=1).minutes
    assert article.feed_snippet == "Engineers at…"


# -- entries without a usable page -------------------------------------------------------------------

def test_entry_without_a_link_uses_the_feed_content():
    content = _featherlint_content()
    entry = make_entry(title="Northwind Releases Featherlint", content_html=content, entry_id="northwind-2026-048")
    article = enrich_entry(entry, None, OPTIONS, feed_language="en", now=NOW)
    assert article.status == "ok" and article.error is None
    assert article.text_source == "feed"
    assert article.language == "en"
    assert article.url == entry_identity(FEED, "northwind-2026-048")
    assert article.fetched_at is None and article.http_status is None and article.canonical_url is None
    assert "Northwind Media today released Featherlint" in article.text
    assert "<p>" not in article.text and "\n" in article.text  # one paragraph per line
    assert_text_products(article)


def test_entry_with_nothing_is_no_text():
    article = enrich_entry(make_entry(title="Untitled"), None, OPTIONS, now=NOW)
    assert article.status == "no_text"
    assert article.text == "" and article.text_source == "none"
    assert article.summary == () and article.key_quotes == ()
    assert article.word_count == 0 and article.reading_minutes == 1
    assert article.error  # says why


def test_failed_fetch_with_feed_content_degrades_to_the_feed():
    url = "https://northwind.example/gone.html"
    fetch = failed_fetch(url, "fetch.http_404", "HTTP 404 Not Found", status=404)
    entry = make_entry(link=url, content_html=_featherlint_content())
    article = enrich_entry(entry, fetch, OPTIONS, feed_language="en", now=NOW)
    assert article.status == "ok"
    assert article.text_source == "feed"
    assert article.error == "HTTP 404 Not Found"  # the page's failure is still on record
    assert article.http_status == 404
    assert_text_products(article)


def test_failed_fetch_without_feed_content_is_fetch_failed():
    url = "https://northwind.example/gone.html"
    fetch = failed_fetch(url, "fetch.http_404", "HTTP 404 Not Found", status=404)
    article = enrich_entry(make_entry(link=url), fetch, OPTIONS, now=NOW)
    assert article.status == "fetch_failed"
    assert article.error == "HTTP 404 Not Found"
    assert article.text == "" and article.summary == ()


def test_not_html_is_its_own_status():
    url = "https://northwind.example/report.pdf"
    fetch = failed_fetch(url, "fetch.not_html", "not an HTML page: application/pdf", status=200)
    article = enrich_entry(make_entry(link=url), fetch, OPTIONS, now=NOW)
    assert article.status == "not_html"
    assert article.error == "not an HTML page: application/pdf"


def test_not_html_with_feed_content_still_gives_an_article():
    url = "https://northwind.example/report.pdf"
    fetch = failed_fetch(url, "fetch.not_html", "not an HTML page: application/pdf", status=200)
    article = enrich_entry(make_entry(link=url, content_html=_featherlint_content()), fetch, OPTIONS, now=NOW)
    assert article.status == "ok" and article.text_source == "feed"


def test_page_without_article_text_falls_back_to_the_feed():
    url = "https://northwind.example/empty.html"
    fetch = FetchResult(url=url, final_url=url, ok=True, http_status=200, body=b"<html><body></body></html>")
    article = enrich_entry(make_entry(link=url, content_html=_featherlint_content()), fetch, OPTIONS, now=NOW)
    assert article.status == "ok" and article.text_source == "feed"
    nothing = enrich_entry(make_entry(link=url), fetch, OPTIONS, now=NOW)
    assert nothing.status == "no_text" and nothing.error


TEASER_PAGE = b"""<html lang="en"><head><title>Featherlint | Northwind Tech Journal</title>
<meta property="og:site_name" content="Northwind Tech Journal"></head><body><article>
<h1>Northwind Releases Featherlint</h1>
<p>Northwind Media today released Featherlint, its feed validation toolkit, as open source.</p>
<p>Subscribers can read the full story, with interviews, in our members' edition.</p>
</article></body></html>"""


def test_teaser_page_loses_to_the_full_feed_text_but_keeps_its_metadata():
    url = "https://northwind.example/featherlint.html"
    fetch = FetchResult(url=url, final_url=url, ok=True, http_status=200, body=TEASER_PAGE)
    article = enrich_entry(make_entry(link=url, content_html=_featherlint_content()), fetch, OPTIONS, now=NOW)
    assert article.text_source == "feed"
    assert "The first community call for contributors" in article.text
    assert article.site_name == "Northwind Tech Journal"
