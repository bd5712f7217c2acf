"""The reader preview: HTML rendered from the demo flow's records, read as text and in a real browser.

The demo database is built by running the real flow once against the demo corpus on loopback; the
site is rendered from ``Store.reader_records()`` exactly as ``enrich preview`` does. Hand-built
records cover what the demo corpus does not (hostile titles and URLs, related articles, topics).
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import lxml.html
import pytest

from enrich.preview import (
    ALL_TOPICS,
    INDEX_PAGE,
    TOPICS,
    article_page,
    article_slug,
    format_age,
    render_site,
    safe_href,
    topic_page,
)
from enrich.store import open_store

CHROMIUM = Path("/usr/bin/chromium")
# Debian's chromium, driven by playwright without its bundled browsers; nothing may leave loopback.
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DEMO_ARTICLES = 17


# -- the demo database (tests/conftest.py builds it once per session) ----------------------------
@pytest.fixture(scope="module")
def records(demo_db) -> list[dict]:
    with open_store(demo_db, read_only=True) as store:
        return store.reader_records()


@pytest.fixture(scope="module")
def now(records) -> datetime:
    """Four days and three hours after the newest article, so its age reads "4d ago"."""
    return max(r["published_at"] for r in records) + timedelta(days=4, hours=3)


@pytest.fixture(scope="module")
def site(records, now, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    render_site(records, out, now=now)
    return out


# -- reading the HTML -----------------------------------------------------------------------------
def parse(path: Path) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(path.read_bytes())


def text(element: lxml.html.HtmlElement) -> str:
    """Visible-ish text with whitespace collapsed, entities decoded."""
    return " ".join(element.text_content().split())


def squash(value: str) -> str:
    return " ".join(value.split())


def card_links(page: lxml.html.HtmlElement) -> list[str]:
    return page.xpath('//li[contains(@class, "card")]//h2/a/@href')


def tab_names(page: lxml.html.HtmlElement) -> list[str]:
    return [a.text for a in page.xpath('//nav[@class="tabs"]/a')]


def tab_topics(record: dict) -> set[str]:
    canonical = {t.casefold(): t for t in TOPICS}
    return {canonical[t.casefold()] for t in record["topics"] if t.casefold() in canonical}


# -- the demo site --------------------------------------------------------------------------------
def test_demo_database_has_the_whole_corpus(records):
    assert len(records) == DEMO_ARTICLES
    assert {r["language"] for r in records} == {"en", "es", "de", "ja"}


def test_every_article_has_a_page(records, site):
    pages = sorted((site / "articles").glob("*.html"))
    expected = sorted(article_page(r["url"]) for r in records)
    assert [p.relative_to(site).as_posix() for p in pages] == expected
    assert len({article_slug(r["url"]) for r in records}) == DEMO_ARTICLES
    assert all(re.fullmatch(r"[0-9a-f]{16}\.html", p.name) for p in pages)


def test_render_site_returns_every_file_it_wrote(records, now, tmp_path):
    written = render_site(records, tmp_path, now=now)
    assert len(written) == 1 + len(TOPICS) + DEMO_ARTICLES
    assert written[0] == tmp_path / INDEX_PAGE
    assert sorted(written) == sorted(p for p in tmp_path.rglob("*") if p.is_file())


def test_rendering_is_deterministic(records, now, site, tmp_path):
    render_site(records, tmp_path, now=now)
    for path in site.rglob("*.html"):
        assert (tmp_path / path.relative_to(site)).read_bytes() == path.read_bytes(), path


def test_index_lists_all_articles_newest_first(records, site):
    index = parse(site / INDEX_PAGE)
    assert card_links(index) == [article_page(r["url"]) for r in records]
    published = [r["published_at"] for r in records]
    assert published == sorted(published, reverse=True)
    assert text(index.xpath("//h1")[0]) == ALL_TOPICS
    assert f"{DEMO_ARTICLES} articles, newest first." in text(index)


def test_index_cards_show_what_the_reader_lists(records, site, now):
    cards = parse(site / INDEX_PAGE).xpath('//li[contains(@class, "card")]')
    for record, card in zip(records, cards, strict=True):
        shown = text(card)
        assert card.get("lang") == record["language"]
        assert squash(record["title"]) in shown
        assert record["author"] in shown
        assert format_age(record["published_at"], now) in shown
        assert f"{record['reading_minutes']} min read" in shown
        assert squash(record["feed_snippet"] or record["summary"][0]) in shown
    assert "4d ago" in text(cards[0])  # the newest, by the choice of `now`


def test_every_page_has_all_twenty_tabs(site):
    for path in [site / INDEX_PAGE, *site.glob("topic-*.html"), *site.glob("articles/*.html")]:
        assert tab_names(parse(path)) == [ALL_TOPICS, *TOPICS], path


def test_topic_pages_list_their_articles_or_say_they_are_empty(records, site):
    for topic in TOPICS:
        page = parse(site / topic_page(topic))
        expected = [article_page(r["url"]) for r in records if topic in tab_topics(r)]
        assert page.xpath('//nav[@class="tabs"]/a[@aria-current="page"]')[0].text == topic
        assert card_links(page) == expected
        if not expected:
            assert f"No articles in {topic} yet." in text(page)


def test_article_pages_show_every_field_the_reader_needs(records, site, now):
    for record in records:
        page = parse(site / article_page(record["url"]))
        shown = text(page.xpath("//main")[0])
        assert page.get("lang") == record["language"]
        assert text(page.xpath("//h1")[0]) == squash(record["title"])
        assert f"By {record['author']}" in shown
        assert format_age(record["published_at"], now) in shown
        assert f"{record['reading_minutes']} min read" in shown
        language = record["language"] + (f" · {record['kind']}" if record["kind"] else "")
        assert text(page.xpath('//span[@class="language"]')[0]) == language
        for topic in record["topics"]:
            assert topic in shown
        if not record["topics"]:
            assert "No topics yet." in shown
        headings = [text(h) for h in page.xpath("//section/h2")]
        assert headings == ["Summary", f"Key quotes · {len(record['key_quotes'])} pulled",
                            "Snippet from the RSS feed", "You might also want to read"]
        assert record["summary"] and record["key_quotes"] and record["feed_snippet"]
        assert [text(li) for li in page.xpath('//section[@class="summary"]//li')] == [
            squash(s) for s in record["summary"]]
        assert [text(q) for q in page.xpath("//blockquote")] == [squash(q) for q in record["key_quotes"]]
        assert squash(record["feed_snippet"]) in text(page.xpath('//section[@class="snippet"]')[0])
        related = page.xpath('//section[@class="related"]//a/@href')
        assert related == [f"{article_slug(r['url'])}.html" for r in record["related"]]
        if not record["related"]:
            assert "No related articles yet." in shown
        original = record["canonical_url"] or record["url"]
        assert page.xpath('//a[@class="original-link"]/@href') == [original]


def test_pages_are_utf8_with_the_articles_language(records, site):
    for record in records:
        raw = (site / article_page(record["url"])).read_bytes()
        assert raw.startswith(b"<!DOCTYPE html>\n<html lang=\"" + record["language"].encode() + b'"')
        assert b'<meta charset="utf-8">' in raw
        assert html.escape(record["title"]) in raw.decode("utf-8")  # characters as they are, not &#...;


# -- hand-built records ---------------------------------------------------------------------------
HOSTILE_TITLE = "<script>alert(1)</script>"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def make_record(url: str, **fields) -> dict:
    """A reader record as ``Store.reader_records`` returns it, with harmless defaults."""
    base = {
        "url": url, "canonical_url": None, "feed_url": "https://feeds.example/rss",
        "feed_title": "Example feed", "title": "A title", "author": "A. Author",
        "published_at": NOW - timedelta(hours=3), "language": "en",
        "kind": None, "reading_minutes": 2, "word_count": 400, "topics": [], "topic_scores": [],
        "summary": ["One sentence."], "key_quotes": ["A quote."], "feed_snippet": "A snippet.",
        "site_name": None, "image_url": None, "text_source": "page", "related": [],
    }
    return base | fields


HOSTILE = make_record(
    "javascript:alert(1)",
    title=HOSTILE_TITLE,
    feed_title=HOSTILE_TITLE,
    author='"><img src=x onerror=alert(2)>',
    canonical_url="JaVaScRiPt:alert(3)",
    language='en" onmouseover="alert(4)',
    kind="<b>Insight</b>",
    topics=["Technology", "<i>weird</i>"],
    summary=["</li><script>alert(5)</script>"],
    key_quotes=["</blockquote><iframe src=javascript:alert(6)>"],
    feed_snippet="<style>body{display:none}</style>",
    related=[
        {"url": "java\tscript:alert(7)", "title": "<u>tab trick</u>", "score": 0.9},
        {"url": " javascript:alert(8)", "title": "space trick", "score": 0.8},
        {"url": "data:text/html,<script>alert(9)</script>", "title": "data URL", "score": 0.7},
        {"url": "https://elsewhere.example/a?x=1&y=<2>", "title": "fine", "score": 0.6},
    ],
)


def test_hostile_record_renders_as_text(tmp_path):
    render_site([HOSTILE], tmp_path, now=NOW)
    page_path = tmp_path / article_page(HOSTILE["url"])
    raw = page_path.read_text(encoding="utf-8")
    for path in tmp_path.rglob("*.html"):
        source = path.read_text(encoding="utf-8").lower()
        assert "<script" not in source and "<iframe" not in source and "<img" not in source, path
        hrefs = "".join(re.findall(r'href="([^"]*)"', source))
        assert "javascript:" not in re.sub(r"[\x00-\x20]", "", hrefs), path
        doc = parse(path)
        assert not doc.xpath("//script | //iframe | //img | //b | //i | //u")
        elements = [el for el in doc.iter() if isinstance(el.tag, str)]
        assert not [name for el in elements for name in el.attrib if name.startswith("on")], path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw
    page = parse(page_path)
    assert text(page.xpath("//h1")[0]) == HOSTILE_TITLE
    assert page.get("lang") == "und"  # a malformed language code is not copied into the attribute
    assert text(page.xpath('//span[@class="language"]')[0]) == HOSTILE["language"] + " · <b>Insight</b>"
    assert not page.xpath('//a[@class="original-link"]')
    assert "No link to the original" in text(page)
    related = page.xpath('//section[@class="related"]//a/@href')
    assert related == ["https://elsewhere.example/a?x=1&y=<2>"]  # the only http(s) one
    assert [text(li) for li in page.xpath('//section[@class="related"]//li')] == [
        "<u>tab trick</u>", "space trick", "data URL", "fine"]
    assert text(page.xpath("//blockquote")[0]) == HOSTILE["key_quotes"][0]


def test_related_articles_link_to_their_pages(tmp_path):
    first = make_record("https://news.example/a", title="First", topics=["technology", "Science"],
                        kind="Insight", published_at=NOW - timedelta(days=4, hours=1))
    second = make_record("https://news.example/b", title="Second", published_at=NOW - timedelta(minutes=5),
                         related=[{"url": first["url"], "title": "First", "score": 0.42},
                                  {"url": "https://news.example/gone", "title": None, "score": 0.1}])
    render_site([first, second], tmp_path, now=NOW)  # oldest first on purpose: the renderer sorts

    index = parse(tmp_path / INDEX_PAGE)
    assert card_links(index) == [article_page(second["url"]), article_page(first["url"])]
    page = parse(tmp_path / article_page(second["url"]))
    assert page.xpath('//section[@class="related"]//a/@href') == [
        f"{article_slug(first['url'])}.html", "https://news.example/gone"]
    assert "https://news.example/gone" in text(page.xpath('//section[@class="related"]')[0])
    assert "5m ago" in text(page)
    first_page = parse(tmp_path / article_page(first["url"]))
    assert text(first_page.xpath('//span[@class="language"]')[0]) == "en · Insight"
    assert "4d ago" in text(first_page)
    assert first_page.xpath('//ul[@class="topics"]//a/@href') == [
        "../" + topic_page("Technology"), "../" + topic_page("Science")]
    assert card_links(parse(tmp_path / topic_page("Technology"))) == [article_page(first["url"])]
    assert card_links(parse(tmp_path / topic_page("Science"))) == [article_page(first["url"])]
    assert card_links(parse(tmp_path / topic_page("Sports"))) == []


def test_no_records_still_renders_every_tab(tmp_path):
    written = render_site([], tmp_path, now=NOW)
    assert len(written) == 1 + len(TOPICS)
    assert "No articles yet." in text(parse(tmp_path / INDEX_PAGE))
    assert "No articles in Personal yet." in text(parse(tmp_path / topic_page("Personal")))


@pytest.mark.parametrize(("ago", "expected"), [
    (timedelta(days=4, hours=23), "4d ago"),
    (timedelta(hours=3, minutes=59), "3h ago"),
    (timedelta(minutes=12), "12m ago"),
    (timedelta(seconds=59), "just now"),
    (timedelta(hours=-2), "just now"),  # a clock a little ahead is not "in 2h"
])
def test_format_age(ago, expected):
    assert format_age(NOW - ago, NOW) == expected
    assert format_age((NOW - ago).replace(tzinfo=None), NOW) == expected  # naive means UTC


@pytest.mark.parametrize(("url", "allowed"), [
    ("https://example.org/a?b=1#c", True),
    ("HTTP://EXAMPLE.ORG/", True),
    ("javascript:alert(1)", False),
    ("JavaScript:alert(1)", False),
    ("java\tscript:alert(1)", False),
    (" https://example.org/", False),
    ("data:text/html,hi", False),
    ("vbscript:msgbox", False),
    ("//example.org/no-scheme", False),
    ("https:no-host", False),
    ("ftp://example.org/file", False),
    ("", False),
    (None, False),
])
def test_safe_href(url, allowed):
    assert safe_href(url) == (url if allowed else None)


# -- in a real browser ----------------------------------------------------------------------------
@pytest.fixture
def served_site(site) -> Iterator[str]:
    """The rendered site over HTTP on 127.0.0.1, the way a reader's web server would serve it."""
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format, *args):  # noqa: A002 - http.server's signature
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(site)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def browser_page():
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium "
                    "(CI installs it: apt-get update && apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            dialogs, off_loopback = [], []
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

            def loopback_only(route):
                if route.request.url.startswith(("http://127.0.0.1:", "file://")):
                    return route.continue_()
                off_loopback.append(route.request.url)
                return route.abort()

            page.route("**/*", loopback_only)
            page.set_default_timeout(10_000)
            yield page
            assert dialogs == [], "a page ran script"
            assert off_loopback == [], "a page tried to leave 127.0.0.1"
        finally:
            browser.close()


def test_browser_index_topic_tab_and_article(browser_page, served_site, records, now, tmp_path):
    from playwright.sync_api import expect

    page = browser_page
    page.goto(served_site)
    expect(page.locator("h1")).to_have_text(ALL_TOPICS)
    expect(page.locator("li.card")).to_have_count(DEMO_ARTICLES)
    expect(page.locator("nav.tabs a")).to_have_count(1 + len(TOPICS))
    expect(page.locator("li.card h2 a").first).to_have_text(records[0]["title"])
    page.screenshot(path=str(tmp_path / "index.png"))

    # The busiest topic tab; while the demo has no topics, any tab shows its empty state.
    counts = {t: sum(t in tab_topics(r) for r in records) for t in TOPICS}
    topic = max(TOPICS, key=lambda t: counts[t])
    tabs = page.get_by_role("navigation", name="Topics")
    tabs.get_by_role("link", name=topic, exact=True).click()
    expect(page).to_have_url(served_site + topic_page(topic))
    expect(page.locator("h1")).to_have_text(topic)
    expect(page.locator('nav.tabs a[aria-current="page"]')).to_have_text(re.compile(f"^{topic}"))
    if counts[topic]:
        expect(page.locator("li.card")).to_have_count(counts[topic])
        listed = [r for r in records if topic in tab_topics(r)]
    else:
        expect(page.get_by_text(f"No articles in {topic} yet.")).to_be_visible()
        tabs.get_by_role("link", name=ALL_TOPICS, exact=True).click()
        expect(page).to_have_url(served_site + INDEX_PAGE)
        listed = records

    # Open the top article of the listing.
    chosen = listed[0]
    page.locator("li.card h2 a").first.click()
    expect(page).to_have_url(served_site + article_page(chosen["url"]))
    expect(page.locator("h1")).to_have_text(chosen["title"])
    expect(page).to_have_title(re.compile(re.escape(chosen["title"])))
    main = page.locator("main")
    expect(main.locator("span.author")).to_have_text(f"By {chosen['author']}")
    expect(main.locator("span.age")).to_have_text(format_age(chosen["published_at"], now))
    expect(main.locator("span.reading")).to_have_text(f"{chosen['reading_minutes']} min read")
    kind = f" · {chosen['kind']}" if chosen["kind"] else ""
    expect(main.locator("span.language")).to_have_text(chosen["language"] + kind)
    for visible in (chosen["summary"][0], chosen["key_quotes"][0], chosen["feed_snippet"]):
        expect(main.get_by_text(squash(visible), exact=False).first).to_be_visible()
    quotes = f"Key quotes · {len(chosen['key_quotes'])} pulled"
    for heading in ("Summary", quotes, "Snippet from the RSS feed", "You might also want to read"):
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    original = chosen["canonical_url"] or chosen["url"]
    expect(page.locator("a.original-link")).to_have_attribute("href", original)
    expect(page.locator("html")).to_have_attribute("lang", chosen["language"])
    screenshot = tmp_path / "article.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 10_000
    print(f"screenshots: {tmp_path / 'index.png'} {screenshot}")

    # Related articles, when the stage has produced them, lead to their own pages.
    if chosen["related"]:
        first = chosen["related"][0]
        page.locator("section.related a").first.click()
        expect(page).to_have_url(served_site + article_page(first["url"]))
        expect(page.locator("h1")).to_have_text(first["title"])
    else:
        expect(page.get_by_text("No related articles yet.")).to_be_visible()


def test_browser_shows_a_hostile_title_as_text(browser_page, tmp_path):
    from playwright.sync_api import expect

    render_site([HOSTILE], tmp_path, now=NOW)
    page = browser_page
    page.goto((tmp_path / INDEX_PAGE).as_uri())  # file:// works as well as http for static pages
    title_link = page.locator("li.card h2 a")
    expect(title_link).to_have_text(HOSTILE_TITLE)
    title_link.click()
    expect(page).to_have_url((tmp_path / article_page(HOSTILE["url"])).as_uri())
    expect(page.locator("h1")).to_have_text(HOSTILE_TITLE)
    assert page.locator("script").count() == 0
    assert page.locator("a.original-link").count() == 0
    assert page.evaluate("document.querySelectorAll('a[href^=\"javascript\" i]').length") == 0
    page.screenshot(path=str(tmp_path / "hostile.png"), full_page=True)
