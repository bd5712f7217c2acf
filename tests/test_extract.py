"""extract_article / html_lang: the article's own text and metadata, none of the page's furniture.

Must-contain snippets were picked by reading each demo page's article body; must-not-contain
snippets come from its cookie banner, newsletter box, comments, sidebar and footer.
"""

from __future__ import annotations

import html as htmllib
import json
import random
import re
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path

import lxml.html
import pytest
from conftest import SHARED_CORPORA

from enrich.extract import ArticleMetadata, choose_metadata, clean_text, extract_article, html_lang
from enrich.models import ExtractedPage

DEMO_SITE = Path(__file__).resolve().parents[1] / "data" / "demo" / "site"
DEMO_PAGES = sorted(DEMO_SITE.rglob("*.html"))
BASE = "http://127.0.0.1:1"

MUST_CONTAIN = {
    "cuaderno/equipaje-ligero-dos-semanas": [
        "alguien arrastra una maleta de 23 kilos por una escalera sin ascensor",
        "«Cuando no llevas nada que cuidar, miras más alrededor».",
    ],
    "cuaderno/mercado-arroces-valencia": [
        "Pepa Llorens llena sacos de arpillera con arroz.",
        "Pensamos seguirla al pie de la letra.",
    ],
    "cuaderno/potaje-fabes-casarredonda": [
        "el potaje de fabes no se cocina: se vigila.",
        "500 g de fabes secas",  # the ingredient list
        "que no las removamos con cuchara.",
    ],
    "cuaderno/tren-costa-puerto-alcandra": [
        "El primer tren del día sale de Puerto Alcandra a las 7:42",
        "«Y me parece muy bien».",
    ],
    "kissa/november-ferry-reading-diary": [
        "浅葱透子の長編『十一月の渡し舟』",
        "ただし、急いで読まないこと。",
    ],
    "kissa/record-night-vol12": [
        "十二回目になる「レコードの夜」を開いた。",
        "店の前の黒板でお知らせします。",
    ],
    "kissa/roasting-mandheling-notes": [
        "一キロ釜の小さな焙煎機が一台あるだけだ。",
        "焙煎ノートのページは、まだまだ増えていきそうだ。",
    ],
    "northwind/battery-recycling-yields": [
        "according to a study published on 9 November in the journal Sustainable Materials Review.",
        "recover just 50 percent of lithium by 2027.",
    ],
    "northwind/commit-messages-guide": [
        "in one memorable case shared with this publication, simply “ugh”.",
        "Limit export batch size to 500 rows",  # the <pre> example
        "Usually, that person is you.”",
    ],
    "northwind/lorawan-soil-sensors": [
        "a screwdriver pushed into the turf to feel for moisture.",
        "Tender documents for that phase are expected in early 2027.",
    ],
    "northwind/new-comet-catalogued": [
        "recorded a faint smudge of light creeping slowly across the background stars",
        "Each one we catalogue properly is a small piece of that story.”",
    ],
    "northwind/rust-build-times": [
        "walk to the bakery two streets away",
        "It means the compiler is no longer the thing everyone complains about at lunch.”",
    ],
    "stadtleben/hsg-lindenbrueck-derbysieg": [
        "Als die Schlusssirene ertönte, hielt es in der Auehalle niemanden mehr auf den Sitzen.",
        "Abfahrt ist um 14.30 Uhr an der Auehalle.",
    ],
    "stadtleben/klinikum-stroke-unit": [
        "Jede Minute, die wir auf der Straße sparen, ist Gehirn, das wir retten können",
        "Besucherinnen und Besucher können dort auch ihren Blutdruck messen lassen.",
    ],
    "stadtleben/mietspiegel-wohnungsbau": [
        "Die durchschnittliche Nettokaltmiete liegt demnach bei 9,42 Euro pro Quadratmeter.",
        "sich im Zweifel beraten lassen, rät der Mieterverein.",
    ],
    "stadtleben/stadtrat-haushalt-radwege": [
        "Mit 31 zu 18 Stimmen bei zwei Enthaltungen",
        "über die Details der Planung unterrichten.",
    ],
}
# Cookie banners, newsletter boxes, comments, footers, ads, sidebars of each site.
MUST_NOT_CONTAIN = {
    "northwind": ["We use cookies", "Subscribe", "newsletter", "All rights reserved", "Share this story",
                  "Related stories", "Join the discussion", "Advertisement", "Sign in", "Comments ("],
    "cuaderno": ["Utilizamos cookies", "Suscríbete", "boletín", "Todos los derechos reservados", "Comentarios",
                 "Te puede interesar", "Publicidad", "Compartir", "Iniciar sesión", "Responder"],
    "stadtleben": ["Wir verwenden Cookies", "abonnieren", "Newsletter", "Alle Rechte vorbehalten", "Kommentare",
                   "Mehr zum Thema", "Anzeige", "Netiquette", "Antworten"],
    "kissa": ["クッキー", "All rights reserved", "コメント", "スポンサーリンク", "関連記事", "プライバシーポリシー",
              "プロフィール", "アーカイブ"],
}
ARTICLE_BODY = (
    "//article//div[contains(@class,'article-body') or contains(@class,'post-body') "
    "or contains(@class,'entry-content')]"
)
# Everything around the article: consent banners, sign-up boxes, comments, sidebars, footers.
FURNITURE = (
    "//*[contains(@class,'cookie') or contains(@id,'cookie') or contains(@class,'newsletter') "
    "or contains(@class,'signup') or contains(@class,'comment') or contains(@class,'footer') "
    "or contains(@id,'footer') or contains(@class,'related') or contains(@class,'share') "
    "or contains(@class,'advert') or contains(@class,'ad-') or contains(@class,'sidebar') "
    "or contains(@class,'widget') or contains(@class,'breadcrumb') or contains(@class,'tags')]"
    " | //footer | //nav | //aside"
)


def _key(page: Path) -> str:
    return f"{page.parent.name}/{page.stem}"


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@lru_cache(maxsize=None)
def demo_html(page: Path) -> bytes:
    return page.read_bytes().replace(b"{{DEMO_BASE}}", BASE.encode())


@lru_cache(maxsize=None)
def demo_extract(page: Path):
    return extract_article(demo_html(page), f"{BASE}/{_key(page)}.html")


def test_every_demo_page_has_snippets():
    assert sorted(MUST_CONTAIN) == sorted(_key(p) for p in DEMO_PAGES)


@pytest.mark.parametrize("page", DEMO_PAGES, ids=_key)
def test_article_text_is_there(page):
    raw = _norm(htmllib.unescape(demo_html(page).decode("utf-8")))
    text = demo_extract(page).text
    for snippet in MUST_CONTAIN[_key(page)]:
        assert snippet in raw, f"typo in the test: {snippet!r} is not on the page"
        assert snippet in text, snippet


@pytest.mark.parametrize("page", DEMO_PAGES, ids=_key)
def test_page_furniture_is_not(page):
    raw = demo_html(page).decode("utf-8")
    text = demo_extract(page).text
    present = [s for s in MUST_NOT_CONTAIN[page.parent.name] if s in raw]
    assert len(present) >= 5, "the page should carry most of its site's furniture"
    assert [s for s in present if s in text] == []


@pytest.mark.parametrize("page", DEMO_PAGES, ids=_key)
def test_every_body_paragraph_and_no_furniture(page):
    tree = lxml.html.fromstring(demo_html(page))
    [body] = tree.xpath(ARTICLE_BODY)
    text = _norm(demo_extract(page).text)
    paragraphs = [_norm(el.text_content()) for el in body.iter("p", "li", "pre")]
    assert paragraphs and [p for p in paragraphs if p not in text] == []
    furniture = [
        _norm(sub.text_content())
        for el in tree.xpath(FURNITURE)
        if el is not body and body not in el.iterancestors()
        for sub in el.iter("p", "li", "h2", "h3", "span", "small", "label", "a", "figcaption")
    ]
    furniture = [f for f in furniture if len(f) >= 12]  # "Reply" or "Home" may well be words of the article
    assert len(furniture) >= 20
    assert [f for f in furniture if f in text] == []


def _declared(tree, xpath: str) -> str | None:
    found = tree.xpath(xpath)
    return found[0].strip() if found else None


@pytest.mark.parametrize("page", DEMO_PAGES, ids=_key)
def test_metadata_matches_what_the_page_declares(page):
    tree = lxml.html.fromstring(demo_html(page))
    ld = json.loads(tree.xpath("//script[@type='application/ld+json']/text()")[0])
    author = ld["author"][0] if isinstance(ld["author"], list) else ld["author"]
    result = demo_extract(page)
    assert result.title == _declared(tree, "//meta[@property='og:title']/@content")
    assert result.title == _norm(tree.xpath("//h1")[0].text_content())
    assert result.author == author["name"]
    assert result.site_name == _declared(tree, "//meta[@property='og:site_name']/@content")
    assert result.image_url == _declared(tree, "//meta[@property='og:image']/@content")
    assert result.canonical_url == _declared(tree, "//link[@rel='canonical']/@href")
    assert result.canonical_url == f"{BASE}/{_key(page)}.html"  # absolute
    assert result.html_lang == tree.get("lang")
    assert result.published_at is not None and result.published_at.tzinfo is not None
    assert result.published_at.date() == date.fromisoformat(ld["datePublished"][:10])


def test_metadata_of_one_page_by_hand():
    page = extract_article(demo_html(DEMO_SITE / "northwind" / "rust-build-times.html"))
    assert page.title == "How One Compiler Team Cut Rust Build Times by 41 Percent"
    assert page.author == "Helena Marsh"
    assert page.site_name == "Northwind Tech Journal"
    assert page.image_url == f"{BASE}/northwind/img/rust-build-times.jpg"
    assert page.canonical_url == f"{BASE}/northwind/rust-build-times.html"
    assert page.html_lang == "en"
    assert page.published_at.date() == date(2026, 11, 10)


def test_site_name_is_the_sites_not_the_publishers():
    # The page says og:site_name "Stadtleben Rundschau"; its JSON-LD publisher is the company.
    page = demo_extract(DEMO_SITE / "stadtleben" / "klinikum-stroke-unit.html")
    assert page.site_name == "Stadtleben Rundschau"


OWN_PAGE = """<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8"><title>Night Ferry Timetable Changes | Harbour Notes</title>
<meta property="og:title" content="Night Ferry Timetable Changes">
<meta property="og:site_name" content="Harbour Notes">
<meta property="og:image" content="/img/ferry.jpg">
<link rel="canonical" href="/notes/night-ferry.html">
</head><body><main><article><h1>Night Ferry Timetable Changes</h1>
<p>The night ferry across the bay will leave twenty minutes later from the first of March, the harbour office said on Monday.</p>
<p>Passengers who commute from the islands asked for the change last autumn, because the old departure came too early for late shifts at the hospital.</p>
<p>The last ferry back will stay at half past eleven, and the fares do not change this year.</p>
</article></main></body></html>"""


def test_relative_canonical_and_image_are_made_absolute():
    page = extract_article(OWN_PAGE, "https://harbour.example/notes/night-ferry.html?ref=rss")
    assert page.canonical_url == "https://harbour.example/notes/night-ferry.html"
    assert page.image_url == "https://harbour.example/img/ferry.jpg"
    assert page.html_lang == "en"
    assert page.site_name == "Harbour Notes"
    assert "leave twenty minutes later" in page.text
    assert page.text.count("\n") >= 2  # one paragraph per line


def test_without_a_page_url_a_relative_canonical_is_not_reported_as_if_absolute():
    canonical = extract_article(OWN_PAGE).canonical_url
    assert canonical is None or canonical.startswith(("http://", "https://"))


def test_bytes_and_str_give_the_same_result():
    raw = demo_html(DEMO_SITE / "cuaderno" / "mercado-arroces-valencia.html")
    assert extract_article(raw) == extract_article(raw.decode("utf-8"))


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        b"",
        "   ",
        "<html></html>",
        b"<html></html>",
        "<html><head><title>Only a title</title></head><body></body></html>",
        "\x00\x00\x00",
        b"\xff\xfe\x00<\x00h\x00t",
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj",
        bytes(random.Random(7).randrange(256) for _ in range(5000)),
    ],
)
def test_garbage_gives_empty_text_without_exception(garbage):
    page = extract_article(garbage, "https://example.org/x")
    assert page.text == ""


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ('<!DOCTYPE html><html lang="en-GB">', "en"),
        ("<HTML LANG=de>", "de"),
        ('<html class="no-js" lang="pt-BR">', "pt"),
        ('<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="es">', "es"),
        ('<html lang="zh-Hant-TW">', "zh"),
        (b'<html lang="ja">', "ja"),
        ("<!doctype html><html>", None),
        ('<html lang="">', None),
        ("", None),
    ],
)
def test_html_lang(head, expected):
    assert html_lang(head) == expected


# -- clean-up, rescue, images, the stated time ------------------------------------------------------

def test_clean_text_drops_the_headline_and_furniture_lines():
    text = "\n".join([
        "Night Ferry Timetable Changes",  # the headline again
        "The night ferry across the bay will leave twenty minutes later from March, the harbour office said.",
        "Related: Harbour office opens new ticket hall",
        "Passengers asked for the change last autumn because the old departure was too early for late shifts.",
        "READ MORE: Ferry fares frozen for 2027",
        "___",
        "The last ferry back will stay at half past eleven, and the fares do not change this year.",
        "(Reporting by Ann Example; editing by Bo Sample)",
        "Sign up for our morning newsletter",
    ])
    cleaned = clean_text(text, "Night Ferry Timetable Changes").splitlines()
    assert cleaned == [
        "The night ferry across the bay will leave twenty minutes later from March, the harbour office said.",
        "Passengers asked for the change last autumn because the old departure was too early for late shifts.",
        "The last ferry back will stay at half past eleven, and the fares do not change this year.",
    ]


def test_clean_text_keeps_furniture_words_inside_the_story():
    # Mid-article, "newsletter" and "subscribe" are the story; only the edges hold sign-up boxes.
    text = "\n".join([
        "The Harbour Gazette is older than most of its readers.",
        "It was founded by two fishermen in 1923.",
        "The paper launched its first newsletter in 1998.",
        "Readers could subscribe by post for two pounds a year.",
        "Within a month, 4,000 had done so.",
        "The editor still keeps the first letter.",
        "It hangs in the newsroom today.",
        "Nobody remembers who wrote it.",
    ])
    assert clean_text(text) == text


def test_a_page_the_precise_pass_misses_is_rescued():
    # The article sits in a table layout with little markup: the precision-leaning pass keeps only
    # the notice above it, the recall-leaning pass finds the story.
    story = " ".join(f"Paragraph {i} of the story tells the reader about the harbour and its ferries." for i in range(12))
    html = f"""<html><body><div class="notice"><p>This copy is for your personal, non-commercial use only.</p></div>
    <table><tr><td><font>{story}</font></td></tr></table></body></html>"""
    page = extract_article(html)
    assert "Paragraph 11 of the story" in page.text


@pytest.mark.parametrize("page", DEMO_PAGES, ids=_key)
def test_images_are_counted_inside_the_article_only(page):
    tree = lxml.html.fromstring(demo_html(page))
    [body] = tree.xpath(ARTICLE_BODY)
    assert len(tree.xpath("//img")) > len(body.xpath(".//img"))  # logos and ads outside
    assert demo_extract(page).image_count == len(body.xpath(".//img")) >= 1


def test_icons_pixels_and_repeats_are_not_images():
    paragraphs = "".join(f"<p>Paragraph {i} of the story tells the reader about the harbour and its ferries.</p>" for i in range(8))
    html = f"""<html><body><article><h1>Ferries</h1>{paragraphs[:300]}
    <img src="/a.jpg" width="800" height="450"><img src="/a.jpg"><img data-src="/b.jpg" src="data:image/gif;base64,R0lGOD">
    <img src="/pixel.gif" width="1" height="1"><img src="/icon.png" width="24">{paragraphs[300:]}</article></body></html>"""
    assert extract_article(html).image_count == 2  # a.jpg once, b.jpg by its lazy source


def test_the_stated_time_of_day_is_kept():
    page = demo_extract(DEMO_SITE / "northwind" / "rust-build-times.html")
    assert page.published_at == datetime(2026, 11, 10, 9, 30, tzinfo=UTC)
    assert page.published_precision == "datetime"


def test_a_page_with_a_date_only_says_so():
    html = OWN_PAGE.replace("</head>", '<meta property="article:published_time" content="2026-03-01"></head>')
    page = extract_article(html, "https://harbour.example/notes/night-ferry.html")
    assert page.published_at == datetime(2026, 3, 1, tzinfo=UTC)
    assert page.published_precision == "date"


def test_a_stated_time_in_another_zone_is_converted_to_utc():
    html = OWN_PAGE.replace("</head>", '<meta property="article:published_time" content="2026-03-01T18:45:00+01:00"></head>')
    page = extract_article(html)
    assert page.published_at == datetime(2026, 3, 1, 17, 45, tzinfo=UTC)
    assert page.published_precision == "datetime"


def test_a_json_ld_time_about_something_else_is_ignored():
    # The JSON-LD describes an embedded video published years before the article's date.
    html = OWN_PAGE.replace("</head>", """<meta property="article:published_time" content="2026-03-01">
    <script type="application/ld+json">{"@type": "VideoObject", "datePublished": "2019-05-02T10:00:00Z"}</script></head>""")
    page = extract_article(html)
    assert page.published_precision == "date" and page.published_at.date() == date(2026, 3, 1)



@pytest.mark.parametrize(
    ("head", "body", "expected"),
    [
        # A <meta> declaration wins over an element in the text, wherever each stands.
        ('<meta property="og:published_time" content="2026-03-01T08:00:00Z">',
         '<time itemprop="datePublished" datetime="2026-03-01T09:00:00Z">1 March</time>', 8),
        ('<meta itemprop="datePublished" content="2026-03-01T10:00:00Z">',
         '<time itemprop="datePublished" datetime="2026-03-01T09:00:00Z">1 March</time>', 10),
        # Without one, the element's datetime, then its content.
        ('', '<time itemprop="datePublished" datetime="2026-03-01T09:00:00Z">1 March</time>', 9),
        ('', '<span itemprop="datePublished" content="2026-03-01T11:00:00Z">1 March</span>', 11),
        # A <meta> stating the day only gives way to an element stating the time.
        ('<meta property="article:published_time" content="2026-03-01">',
         '<time itemprop="datePublished" datetime="2026-03-01T12:00:00Z">1 March</time>', 12),
    ],
)
def test_the_stated_time_comes_from_the_most_trusted_declaration(head, body, expected):
    html = OWN_PAGE.replace("</head>", head + "</head>").replace("</h1>", "</h1>" + body, 1)
    page = extract_article(html)
    assert page.published_precision == "datetime"
    assert page.published_at == datetime(2026, 3, 1, expected, tzinfo=UTC)

# -- choose_metadata: feed or page ------------------------------------------------------------------

PAGE = ExtractedPage(
    text="...",
    title="Night Ferry Timetable Changes From March",
    author="Ann Example",
    published_at=datetime(2026, 3, 1, 17, 45, tzinfo=UTC),
    published_precision="datetime",
    site_name="Harbour Notes",
    image_url="https://harbour.example/img/ferry.jpg",
)


def test_the_feed_wins_when_it_is_as_good():
    feed = ArticleMetadata(title="Night ferry: new timetable", author="Bo Sample",
                           published_at=datetime(2026, 3, 1, 17, 40, tzinfo=UTC))
    values, sources = choose_metadata(feed, PAGE)
    assert values.title == "Night ferry: new timetable" and values.author == "Bo Sample"
    assert values.published_at == datetime(2026, 3, 1, 17, 40, tzinfo=UTC)
    # The feed states no site name or image: the page's, and the record says so.
    assert (values.site_name, values.image_url) == (PAGE.site_name, PAGE.image_url)
    assert sources == {"title": "feed", "author": "feed", "published_at": "feed", "site_name": "page", "image_url": "page"}


def test_the_page_wins_where_the_feed_is_visibly_worse():
    feed = ArticleMetadata(
        title="Night Ferry Timetable Changes…",  # cut off
        author="noreply@blogger.com",  # nobody
        published_at=datetime(2026, 3, 1, tzinfo=UTC),  # a bare date
        site_name="harbour.example RSS",
        image_url="https://harbour.example/thumb/ferry-150.jpg",
    )
    values, sources = choose_metadata(feed, PAGE)
    assert values.title == PAGE.title
    assert values.author == "Ann Example"
    assert values.published_at == PAGE.published_at
    assert values.site_name == "Harbour Notes" and values.image_url == PAGE.image_url
    assert set(sources.values()) == {"page"}


@pytest.mark.parametrize("author", ["admin", "Staff", "Harbour Notes", "editor@harbour.example"])
def test_placeholder_feed_authors_give_way(author):
    values, sources = choose_metadata(ArticleMetadata(author=author), PAGE)
    assert (values.author, sources["author"]) == ("Ann Example", "page")


def test_a_page_date_on_another_day_does_not_replace_the_feeds():
    feed = ArticleMetadata(published_at=datetime(2026, 2, 27, tzinfo=UTC))
    values, sources = choose_metadata(feed, PAGE)
    assert (values.published_at, sources["published_at"]) == (feed.published_at, "feed")


def test_without_a_page_everything_comes_from_the_feed_or_nowhere():
    values, sources = choose_metadata(ArticleMetadata(title="  A   title "), None)
    assert values == ArticleMetadata(title="A title")
    assert sources == {"title": "feed", "author": "none", "published_at": "none", "site_name": "none",
                       "image_url": "none"}


def test_demo_feed_and_pages_agree_where_both_state_a_value():
    # The demo feeds state title, author and a full date; the pages repeat them.
    import feedparser

    for feed_path in sorted((DEMO_SITE / "feeds").glob("*.xml")):
        for entry in feedparser.parse(feed_path.read_bytes().replace(b"{{DEMO_BASE}}", BASE.encode())).entries:
            link = entry.get("link", "")
            if not link.startswith(BASE):
                continue
            page = demo_extract(DEMO_SITE / (link[len(BASE) + 1 :]))
            values, sources = choose_metadata(ArticleMetadata(title=entry.title, author=entry.get("author")), page)
            assert sources["title"] == "feed" and values.title == page.title
            assert values.author == page.author


# -- metadata: our reading of trafilatura's steps stays trafilatura's ----------------------------------

# The author is not among them: enrich.bylines reads it (tests/test_bylines.py).
_METADATA_FIELDS = ("title", "url", "date", "sitename", "image")


def _metadata_pages() -> list[bytes]:
    pages = [demo_html(page) for page in DEMO_PAGES]
    root = SHARED_CORPORA / "article-extraction-benchmark" / "html"
    if root.exists():  # every 6th page of the benchmark as well, when it is on this machine
        import gzip

        pages += [gzip.decompress(path.read_bytes()) for path in sorted(root.glob("*.html.gz"))[::6]]
    return pages


def test_page_metadata_gives_what_trafilatura_extract_metadata_gives():
    # _page_metadata repeats trafilatura's extract_metadata minus the fields never read, for speed;
    # a trafilatura upgrade that changes those steps must show up here.
    import trafilatura

    from enrich.extract import _page_metadata

    for html in _metadata_pages():
        tree = trafilatura.load_html(html)
        ours, theirs = _page_metadata(tree), trafilatura.extract_metadata(tree)
        for name in _METADATA_FIELDS:
            assert getattr(ours, name) == getattr(theirs, name), (name, getattr(theirs, "url", None))


# The extraction quality floor (above plain trafilatura) is in tests/test_quality_floors.py.


# -- inline words: trafilatura's section filters must not take words out of a sentence --------------

_FILLER = "<p>" + "The programme ran on weekday afternoons for more than two decades. " * 6 + "</p>"


@pytest.mark.parametrize(
    "inline",
    [
        '<span class="link"><a href="/people/maury">the talk show host</a></span>',
        '<span class="related">the talk show host</span>',
        '<a class="meta" href="/people/maury">the talk show host</a>',
        '<span style="border-bottom: 1px dotted">the talk show host</span>',
        '<span class="text-bottom">the talk show host</span>',
        "<time>the talk show host</time>",
    ],
)
def test_inline_words_inside_a_sentence_are_kept(inline):
    html = (f"<html><body><article><h1>Povich</h1>{_FILLER}<p>Maury Povich, {inline}, is best known for his "
            f"long-running daytime programme.</p>{_FILLER}</article></body></html>")
    page = extract_article(html)
    assert "Maury Povich, the talk show host, is best known" in page.text
    assert extract_article(html).signals == page.signals  # the page is read again unchanged


def test_hidden_inline_text_stays_out():
    html = (f"<html><body><article><h1>Povich</h1>{_FILLER}<p>Maury Povich<span style=\"display:none\"> (opens in a "
            f"new window)</span>, the host, is best known for his long-running programme.</p>{_FILLER}"
            "</article></body></html>")
    assert "opens in a new window" not in extract_article(html).text


def test_the_page_keeps_its_attributes_for_the_metadata():
    html = (f"<html><body><article><h1>Povich</h1>{_FILLER}<p>Written for the weekend edition by "
            '<span class="byline">Jane Roe</span> with help from the archive team and its volunteers.</p>'
            f"{_FILLER}</article></body></html>")
    import trafilatura

    from enrich.extract import _extract_text

    tree = trafilatura.load_html(html)
    _extract_text(tree, recall=False)
    assert tree.xpath("//span[@class='byline']")


def test_inline_elements_are_found_by_name_as_the_paragraphs_descendants_are():
    from lxml import etree

    from enrich.extract import (
        _INLINE_IN_PARAGRAPH,
        _INLINE_TAGS,
        _PARAGRAPH_TAGS,
        _SECTION_ATTRIBUTES,
    )

    # The readable form: inline elements below a paragraph, each once, in document order.
    below_paragraphs = etree.XPath(
        "//*[" + " or ".join(f"self::{tag}" for tag in _PARAGRAPH_TAGS) + "]//*[self::time or ("
        + " or ".join(f"self::{tag}" for tag in _INLINE_TAGS) + ") and ("
        + " or ".join(f"@{name}" for name in _SECTION_ATTRIBUTES) + ")]"
    )
    tree = lxml.html.fromstring(
        "<html><body><time>outside</time><span class='x'>outside</span>"
        "<ul><li>one <a class='l' href='/a'>link</a><ul><li><em id='e'>nested</em> <b>bare</b>"
        "<span style='color: red'><i class='i'>inner</i></span></li></ul></li></ul>"
        "<p>text <time datetime='2026-01-01'>Monday</time> <mark class='m'>marked</mark> <u>plain</u></p>"
        "<table><tr><td><strong class='s'>cell</strong></td></tr></table>"
        "<blockquote><p><span class='q'>quoted</span></p></blockquote><dl><dd><a id='d'>term</a></dd></dl>"
        "<div><span class='x'>in a div</span></div></body></html>"
    )
    found = _INLINE_IN_PARAGRAPH(tree)
    assert found == below_paragraphs(tree)
    assert [element.text for element in found] == [
        "link", "nested", None, "inner", "Monday", "marked", "cell", "quoted", "term",
    ]
