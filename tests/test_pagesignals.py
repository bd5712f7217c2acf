"""Page signals, read from small pages written for this test, and the kind each one leads to.

Each page reproduces one way publishers label a piece (a JSON-LD type, possibly inside @graph,
microdata, article:section, a kicker over the headline, an "OPINION:" headline prefix, a
columnist's byline, a URL path) around the same neutral report, so only the signal can decide.
Every kind is reached through ``extract_article`` and ``classify_kind``, as the pipeline does.
"""

from __future__ import annotations

import json

import pytest

from enrich.extract import extract_article
from enrich.kind import KINDS, classify_kind
from enrich.models import PageSignals

REPORT = (
    "<p>The regional rail operator will run extra trains on the northern line from Monday, after weeks of "
    "complaints about overcrowding at peak times.</p>"
    "<p>Four additional services will leave the central station between seven and nine in the morning, "
    "a spokesperson said on Friday.</p>"
    "<p>The operator has leased six carriages from a neighbouring network while new trains are being built "
    "at the works outside the city.</p>"
    "<p>Passenger groups welcomed the change but said the evening rush still needed attention from the "
    "operator and the city council.</p>"
)
FIRST_PERSON = (
    "<p>We took the early train to the coast on Saturday and I spent the whole ride with my nose against the "
    "window. I had packed too much, as I always do, and my bag barely fit under the seat.</p>"
    "<p>The carriages were new and quiet. I read my book for an hour, then I gave up and watched the fields "
    "go by. My daughter counted cows and I lost count of how many times she asked if we were there yet.</p>"
    "<p>By the time we reached the harbour I had decided that the train is the only way I want to travel "
    "this summer. I will write about the walk along the cliffs next week.</p>"
)


def page(*, head: str = "", title: str = "Extra trains for the northern line", before_title: str = "",
         body: str = REPORT, after: str = "") -> str:
    return (
        f"<html lang='en'><head><title>{title}</title>{head}</head><body><article><header>{before_title}"
        f"<h1>{title}</h1></header>{body}{after}</article></body></html>"
    )


def json_ld(data: dict) -> str:
    return f"<script type='application/ld+json'>{json.dumps(data)}</script>"


def meta(prop: str, content: str) -> str:
    return f"<meta property='{prop}' content='{content}'>"


PAGES = {
    "opinion: schema.org OpinionNewsArticle": (
        page(head=json_ld({"@context": "https://schema.org", "@type": "OpinionNewsArticle", "headline": "x"})),
        "https://example.org/2026/11/30/extra-trains", "Opinion", "schema.opinion"),
    "opinion: article:section Commentary": (
        page(head=meta("article:section", "Commentary")), "https://example.org/a/1", "Opinion", "section.opinion"),
    "opinion: JSON-LD articleSection in @graph": (
        page(head=json_ld({"@graph": [{"@type": "WebPage"},
                                      {"@type": "NewsArticle", "articleSection": ["Meinung"]}]})),
        "https://example.de/a/1", "Opinion", "section.opinion"),
    "opinion: kicker over the headline": (
        page(before_title="<span class='article__kicker'>Op-Ed</span>"), "https://example.org/a/1", "Opinion",
        "kicker.opinion"),
    "opinion: OPINION: headline prefix": (
        page(title="OPINION: Extra trains are not enough"), "https://example.org/a/1", "Opinion", "kicker.opinion"),
    "opinion: a columnist's byline": (
        page(before_title="<p class='byline'>By Jane Roe</p><p>Opinion Columnist</p>"),
        "https://example.org/a/1", "Opinion", "byline.columnist"),
    "opinion: /opinion/ path": (page(), "https://example.org/opinion/extra-trains", "Opinion", "path.opinion"),
    "opinion: Spanish /opinion/ section word": (page(), "https://example.es/opinion/trenes", "Opinion", "path.opinion"),
    "opinion: French tribune kicker": (
        page(before_title="<div class='rubric'>Tribune</div>"), "https://example.fr/a/1", "Opinion", "kicker.opinion"),
    "review: schema.org Review": (
        page(head=json_ld({"@type": "Review", "itemReviewed": {"@type": "Product", "name": "x"}})),
        "https://example.org/a/1", "Review", "schema.review"),
    "review: a -review slug": (page(), "https://example.org/7908/northern-line-trains-review/", "Review",
                               "path.review"),
    "review: section Reviews": (page(head=meta("article:section", "Reviews")), "https://example.org/a/1", "Review",
                                "section.review"),
    "guide: schema.org HowTo": (page(head=json_ld({"@type": "HowTo", "name": "x"})), "https://example.org/a/1",
                                "Guide", "schema.guide"),
    "guide: schema.org Recipe in microdata": (
        page(body=f"<div itemscope itemtype='https://schema.org/Recipe'>{REPORT}</div>"), "https://example.org/a/1",
        "Guide", "schema.guide"),
    "guide: /how-to/ path": (page(), "https://example.org/how-to/ride-the-northern-line", "Guide", "path.guide"),
    "insight: schema.org AnalysisNewsArticle": (
        page(head=json_ld([{"@type": "AnalysisNewsArticle", "headline": "x"}])), "https://example.org/a/1",
        "Insight", "schema.insight"),
    "insight: ClaimReview (a fact check)": (page(head=json_ld({"@type": "ClaimReview"})), "https://example.org/a/1",
                                            "Insight", "schema.insight"),
    "insight: Analysis kicker": (page(before_title="<span class='eyebrow'>Analysis</span>"),
                                 "https://example.org/a/1", "Insight", "kicker.insight"),
    "insight: /fact-check/ path": (page(), "https://example.org/fact-check/trains", "Insight", "path.insight"),
    "announcement: /press-releases/ path": (page(), "https://example.com/press-releases/extra-trains",
                                            "Announcement", "path.announcement"),
    "announcement: a company announcing itself": (
        page(title="Nordrail announces extra trains for the northern line"), "https://www.nordrail.com/news/1",
        "Announcement", "title.own_announcement"),
    "personal: a blog post in the first person": (
        page(head=json_ld({"@type": "BlogPosting"}), title="A day at the coast", body=FIRST_PERSON),
        "https://example.net/2026/11/a-day-at-the-coast", "Personal", "text.first_person"),
    # The type states what this piece is; a section may only be the site's area of it.
    "news: schema.org ReportageNewsArticle in an Analysis section": (
        page(head=json_ld({"@type": "ReportageNewsArticle"}) + meta("article:section", "Analysis")),
        "https://example.org/a/1", "News", "schema.news"),
    "news: a plain report": (page(head=json_ld({"@type": "NewsArticle"})), "https://example.org/news/trains", "News",
                             "default"),
}  # fmt: skip

@pytest.mark.parametrize("name", sorted(PAGES))
def test_each_signal_decides_the_kind(name):
    html, url, kind, rule = PAGES[name]
    extracted = extract_article(html, url)
    assert extracted.text, "the page must have an article"
    decision = classify_kind(extracted.text, title=extracted.title, language="en", signals=extracted.signals)
    assert (decision.kind, decision.rule) == (kind, rule)


def test_every_kind_is_reached_by_a_page():
    assert {kind for _, _, kind, _ in PAGES.values()} == set(KINDS)


def test_the_same_pages_without_their_signals_are_news():
    for name, (html, url, kind, _) in PAGES.items():
        if kind in ("Personal",) or "own_announcement" in PAGES[name][3] or "prefix" in name:
            continue  # decided by the text or title, which stay
        extracted = extract_article(html)
        assert classify_kind(extracted.text, title=extracted.title).kind == "News", name


def test_the_reader_collects_what_the_page_states():
    html = page(
        head=json_ld({"@context": "https://schema.org", "@graph": [
            {"@type": "WebSite", "name": "Example"},
            {"@type": ["NewsArticle", "OpinionNewsArticle"], "articleSection": "Ideas", "genre": "Column",
             "review": {"@type": "Review"}},  # a nested item is not the page's own
        ]}) + meta("article:section", "Ideas") + meta("og:type", "article"),
        title="Column: Extra trains are not enough",
        before_title="<a class='kicker' href='/ideas/'>Ideas</a>",
    )
    signals = extract_article(html, "https://www.example.org/ideas/2026/extra-trains.html").signals
    assert signals.schema_types == ("WebSite", "NewsArticle", "OpinionNewsArticle")
    assert signals.sections == ("Ideas", "Column")
    assert signals.og_type == "article"
    assert signals.kickers == ("Ideas", "Column")
    assert signals.url_path == "/ideas/2026/extra-trains.html"
    assert signals.host == "www.example.org"


def test_a_site_name_before_the_headline_is_no_kicker():
    html = page(title="The Space Review: Seeking a bigger role for a big rocket")
    signals = extract_article(html, "https://www.thespacereview.com/article/3834/1").signals
    assert signals.kickers == ()


def test_broken_or_missing_markup_gives_empty_signals():
    html = page(head="<script type='application/ld+json'>{not json</script>")
    signals = extract_article(html).signals
    assert signals.schema_types == () and signals.url_path is None
    assert classify_kind("", signals=PageSignals()).kind == "News"


def test_a_columnist_word_in_links_scripts_or_menus_is_no_role():
    import lxml.html

    from enrich.pagesignals import read_page_signals

    # The body's text names a columnist in all of these, so each one reaches the visible-text test.
    hidden = (
        "<nav><a href='/columnists/'>Columnists</a></nav><script>var role = 'columnist';</script>"
        "<p>Read our <a href='/c/'>opinion columnist</a> every week.</p>"
        "<button>Follow the columnist</button><noscript>Columnist</noscript>"
    )
    tree = lxml.html.fromstring(page(body=REPORT + hidden))
    assert read_page_signals(tree).author_roles == ()
    shown = lxml.html.fromstring(page(body=REPORT + hidden + "<p>Jane Roe, Opinion Columnist</p>"))
    assert read_page_signals(shown).author_roles == ("Jane Roe, Opinion Columnist",)
