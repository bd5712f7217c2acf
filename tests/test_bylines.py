"""enrich.bylines: people's names only, several kept apart, found where pages put them.

Every page here is a small synthetic page written for this test, each reproducing one pattern
seen on real news pages (the patterns are named in the test names); no article text is copied.
"""

from __future__ import annotations

import json

import lxml.html
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enrich.bylines import format_authors, page_authors, person_names

SITE = "Harbour Notes"
URL = "https://www.harbournotes.example/2026/03/ferry.html"


def _page(head: str = "", body: str = "") -> lxml.html.HtmlElement:
    return lxml.html.fromstring(f"<html><head>{head}</head><body>{body}</body></html>")


def _ld(data) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


def _authors(head: str = "", body: str = "") -> tuple[str, ...]:
    return page_authors(_page(head, body), site_name=SITE, url=URL)


# -- one stated author, cut down to people -----------------------------------------------------------


@pytest.mark.parametrize(
    ("stated", "names"),
    [
        ("Ann Example", ("Ann Example",)),
        ("By Ann Example", ("Ann Example",)),
        ("By TOM EXAMPLE, AP Auto Writer", ("Tom Example",)),
        ("Tom Example, Ap Auto Writer", ("Tom Example",)),
        ("Ann Example | ann@harbournotes.example", ("Ann Example",)),
        ("noreply@blogger.example (Ann Example)", ("Ann Example",)),  # RSS's "e-mail (name)"
        ("Ann Example, Harbour Notes", ("Ann Example",)),
        ("Analysis by Chris Example, CNN Editor-at-large", ("Chris Example",)),
        ("Ann Example News reporter @annexample", ("Ann Example",)),
        ("Ann Example is a reporter for the Harbour Desk.", ("Ann Example",)),
        ("Ilka Example, MS, RDN", ("Ilka Example",)),
        ("Bo Sample, Futurism", ("Bo Sample",)),
        ("Bo Sample Monday, November 18, 2019, 04:05 pm PT", ("Bo Sample",)),
        ("Finian Example. Sputnik International", ("Finian Example",)),
        ("Troy L. Smith, Harbournotes.example", ("Troy L. Smith",)),
        ("Texto: Núria Example", ("Núria Example",)),
        ("Текст: Венера Пример", ("Венера Пример",)),
        ("Von Tim Beispiel · 22.11.2026, 09:15 Uhr", ("Tim Beispiel",)),
        ("정예시 기자", ("정예시",)),
        ("记者 王小例", ("王小例",)),
        ("作者：山田例子", ("山田例子",)),
        ("محمد بن مثال", ("محمد بن مثال",)),
        ("これは名前ではなくて長い文章の一部分です", ()),
        ("Ann van der Example", ("Ann van der Example",)),
        ("Sean McExample and Dee DeExample", ("Sean McExample", "Dee DeExample")),
        # several people, kept apart
        ("Lisa Example and Trevor J. Sample", ("Lisa Example", "Trevor J. Sample")),
        (
            "By LISA EXAMPLE, MARY CLARE SAMPLE and ERIC TEST",
            ("Lisa Example", "Mary Clare Sample", "Eric Test"),
        ),
        ("Ann Example; Bo Sample", ("Ann Example", "Bo Sample")),
        ("Ann Example & Bo Sample", ("Ann Example", "Bo Sample")),
        # no person at all: the junk and its kin
        ("The Washington Times https; Www Washingtontimes Com", ()),
        ("Published on", ()),
        ("University", ()),
        ("Daniel Example; Sponsored", ("Daniel Example",)),
        (
            "Condé Nast; ",
            ("Condé Nast",),
        ),  # a person's name in form: only the page's other sources tell
        ("https://www.facebook.com/harbournotes", ()),
        ("editor@harbournotes.example", ()),
        ("Associated Press", ()),
        ("The Associated Press", ()),
        ("Reuters", ()),
        ("PTI, Washington", ()),
        ("Staff Reports", ()),
        ("HNN Staff", ()),
        ("Science X staff", ()),
        ("Practical Harbour Editorial Staff", ()),
        ("Telegraph Sport", ()),
        ("Detroit News wire services Published 11:11 PM EST Nov 19, 2019", ()),
        ("JERUSALEM POST STAFF NOVEMBER 20, 2019 10:43", ()),
        ("European Space Agency", ()),
        ("Prefeitura Municipal de Jaraguá do Sul", ()),
        ("Harbour Notes", ()),
        ("harbournotes", ()),
        ("admin", ()),
        ("jdadmin", ()),
        ("kei_eno", ()),
        ("rmb8090", ()),
        ("View More Articles", ()),
        ("About Ann Example", ()),
    ],
)
def test_person_names(stated, names):
    assert person_names(stated, site_name=SITE, url=URL) == names


def test_a_single_word_is_a_name_only_alone_and_where_allowed():
    assert person_names("by Regan") == ("Regan",)
    assert person_names("Regan", single_word=False) == ()
    assert person_names("Washington,", single_word=False) == ()
    assert person_names("三宅しおり", single_word=False) == (
        "三宅しおり",
    )  # unspaced scripts have no "words"


def test_format_authors_joins_with_the_pipelines_separator():
    assert format_authors(("Ann Example", "Bo Sample")) == "Ann Example; Bo Sample"
    assert format_authors(()) is None


# -- sources on the page -------------------------------------------------------------------------------


def test_json_ld_author_object():
    head = _ld(
        {
            "@type": "NewsArticle",
            "headline": "Ferry",
            "author": {"@type": "Person", "name": "Ann Example"},
        }
    )
    assert _authors(head) == ("Ann Example",)


def test_json_ld_author_array_keeps_every_person_and_drops_organisations():
    head = _ld(
        {
            "@type": "NewsArticle",
            "author": [
                {"@type": "Person", "name": "Ann Example"},
                {"@type": "Person", "name": "Bo Sample"},
                {"@type": "Organization", "name": "Harbour Notes Newsroom"},
            ],
        }
    )
    assert _authors(head) == ("Ann Example", "Bo Sample")


def test_json_ld_author_string_with_the_agency_tacked_on():
    head = _ld(
        {
            "@type": "NewsArticle",
            "author": [{"@type": "person", "name": "By BO SAMPLE, AP Sports Writer"}],
        }
    )
    assert _authors(head) == ("Bo Sample",)


def test_json_ld_organisation_only_gives_way_to_the_visible_byline():
    head = _ld(
        {"@type": "ClaimReview", "author": {"@type": "Organization", "name": "Harbour Checks"}}
    )
    body = '<h1>Is it true?</h1><ul class="authors"><li class="author">By Dan Example</li></ul>'
    assert _authors(head, body) == ("Dan Example",)


def test_graph_person_referenced_by_id_counts_only_when_the_page_shows_the_name():
    graph = {
        "@graph": [
            {"@type": "WebPage", "@id": "#page", "author": {"@id": "#/schema/person/1"}},
            {"@type": ["Person"], "@id": "#/schema/person/1", "name": "Catherine"},
        ]
    }
    shown = '<h1>Open thread</h1><span class="byline">by <a href="/author/catherine/">Catherine</a></span>'
    assert _authors(_ld(graph), shown) == ("Catherine",)
    # The CMS account behind a press release nobody signed is no byline.
    graph["@graph"][1]["name"] = "Josh"
    assert _authors(_ld(graph), "<h1>Introducing our new CEO</h1><p>We are thrilled.</p>") == ()
    # A script in the body that repeats the account's name is not the page showing it.
    tracking = '<script>dataLayer.push({"pagePostAuthor": "Josh"});</script>'
    assert _authors(body=_ld(graph) + tracking + "<h1>Introducing our new CEO</h1>") == ()


def test_rel_author_links_name_several_authors():
    body = (
        '<h1>Moon landers</h1><p class="byline">By '
        '<span class="by-author"><a rel="author" href="/author/ann">Ann Example</a>, </span>'
        '<span class="by-author"><a rel="author" href="/author/bo">Bo Sample</a></span>'
        '<time datetime="2019-11-18T22:05:36Z">2019-11-18</time> Spaceflight</p>'
    )
    assert _authors(body=body) == ("Ann Example", "Bo Sample")


def test_author_links_side_by_side_in_a_plain_paragraph():
    body = (
        '<h1>Drugs at the border</h1><p class="article__meta">By '
        '<a class="link" href="/staff/ann-example/">Ann Example</a> , '
        '<a class="link" href="/staff/bo-sample/">Bo Sample</a> on Monday, November 18th</p>'
    )
    assert _authors(body=body) == ("Ann Example", "Bo Sample")


def test_a_byline_with_more_names_than_the_structured_data_wins():
    head = _ld({"@type": "NewsArticle", "author": {"@type": "Person", "name": "Ann Example"}})
    body = '<h1>Hearing</h1><p class="content__meta-byline">By Ann Example, Bo Sample, Cy Test</p>'
    assert _authors(head, body) == ("Ann Example", "Bo Sample", "Cy Test")


def test_a_header_linking_one_author_and_a_line_naming_both():
    body = (
        '<div class="byline-section"><a href="/staff/ann/">Ann Example</a> and Trevor J. Sample '
        "Harbour Argus Leader Published 10:02 AM EST Nov 19, 2019</div>"
        '<span class="author">Ann Example and Trevor J. Sample</span>'
    )
    assert _authors(body=body) == ("Ann Example", "Trevor J. Sample")


def test_byline_and_date_in_adjacent_elements_are_not_run_together():
    body = '<h3 class="byline">by Jeff Example<span>Monday, November 18, 2019</span></h3>'
    assert _authors(body=body) == ("Jeff Example",)


def test_meta_author_is_the_last_resort_and_a_profile_url_is_nobody():
    assert _authors('<meta name="author" content="Ann Example">') == ("Ann Example",)
    assert (
        _authors('<meta property="article:author" content="https://www.facebook.com/HarbourNotes">')
        == ()
    )


def test_structured_data_beats_a_publisher_in_the_meta_author():
    head = '<meta name="author" content="Harbour Media Group">' + _ld(
        {"@type": "NewsArticle", "author": [{"@type": "Person", "name": "Molly Example"}]}
    )
    assert _authors(head) == ("Molly Example",)


def test_comments_related_stories_and_navigation_are_not_bylines():
    body = (
        '<nav><a href="/author/cy">Cy Columnist</a><a href="/author/di">Di Columnist</a></nav>'
        "<h1>Ferry timetable</h1><p>The story.</p>"
        '<section class="comments"><span class="comment-author">Gus Reader</span></section>'
        '<div class="related-stories"><span class="author">Hal Other</span></div>'
        '<footer><a href="/author/ed">Ed Footer</a></footer>'
    )
    assert _authors(body=body) == ()


def test_the_site_and_agencies_are_never_bylines():
    head = _ld({"@type": "NewsArticle", "author": {"@type": "Person", "name": "Harbour Notes"}})
    assert _authors(head, '<div class="byline">Reuters · 18 Nov 2019</div>') == ()
    assert _authors(body='<span class="post-author">by Vortex</span>') == ()
    assert (
        page_authors(
            _page(body='<li class="meta-author">Posted by Vortex</li>'),
            url="https://vortexcannon.example/",
        )
        == ()
    )


def test_a_page_that_names_nobody_gets_no_author():
    assert _authors(body="<h1>Results</h1><p>Salina South won the 1A title.</p>") == ()
    assert (
        _authors(
            _ld(["not", "an", "object"]) + '<script type="application/ld+json">{broken</script>'
        )
        == ()
    )


@pytest.mark.parametrize(
    "data",
    [
        {"@type": "NewsArticle", "author": 5},
        {
            "@type": "NewsArticle",
            "author": [[{"@type": "Person", "name": "Ann Example"}], None, 3.5],
        },
        {"@type": "NewsArticle", "author": {"@type": "Person", "name": ["Ann", "Example"]}},
        {"@type": "NewsArticle", "author": {"@id": ["#a"]}},
        {"@graph": "nope", "@id": {"not": "a string"}, "@type": ["Person"]},
        {"@type": {"odd": True}, "author": "Ann Example"},
        [],
        "just a string",
    ],
)
def test_odd_json_ld_shapes_give_a_clean_answer(data):
    assert _authors(_ld(data)) in {(), ("Ann Example",)}


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=120))
def test_any_stated_author_gives_names_or_nothing(text):
    for name in person_names(text, site_name=SITE, url=URL):
        assert name == name.strip() and name
        assert not any(ch.isdigit() for ch in name) and "@" not in name and "://" not in name
        assert len(name.split()) <= 5


def test_a_short_site_name_does_not_swallow_people_named_like_it():
    assert person_names("Ann Gull", site_name="Gull", url="https://gull.example/a") == ("Ann Gull",)
    assert person_names("Ann Example, Cleveland.com", url="https://www.cleveland.com/a") == (
        "Ann Example",
    )


def test_a_stated_author_longer_than_the_stored_cap_names_nobody():
    from enrich.limits import MAX_AUTHOR_CHARS

    # A megabyte of letters once spent minutes in the name patterns; it is no byline at all.
    assert person_names("A" * 1_000_000) == ()
    assert person_names("Jane Example, " + "x" * MAX_AUTHOR_CHARS) == ()
    assert person_names("Jane Example") == ("Jane Example",)


# -- the byline search: cheap hints first, the same elements ----------------------------------------


def test_every_byline_class_and_author_path_holds_a_hint():
    from enrich.bylines import AUTHOR_PATH_HINTS, AUTHOR_PATHS, BYLINE_CLASS_HINTS, BYLINE_CLASSES

    # An element is tested for the exact words only after a hint was found in it.
    assert all(any(hint in word for hint in BYLINE_CLASS_HINTS) for word in BYLINE_CLASSES)
    assert all(any(hint in path for hint in AUTHOR_PATH_HINTS) for path in AUTHOR_PATHS)


def test_the_byline_search_finds_what_the_plain_tests_find():
    from lxml import etree

    from enrich.bylines import _BYLINE_XPATH, AUTHOR_PATHS, BYLINE_CLASSES

    plain = etree.XPath(
        "//*[@rel='author' or @itemprop='author' or "
        + " or ".join(f"contains(@class, '{word}')" for word in BYLINE_CLASSES)
        + " or "
        + " or ".join(f"contains(@href, '{path}')" for path in AUTHOR_PATHS)
        + "]"
    )
    tree = _page(body=(
        "<p class='Byline'>By Ann Example</p><span class='post-author'>x</span><div class='authorBox'>x</div>"
        "<a href='/authors/ann'>Ann</a><a href='/autoren/bo'>Bo</a><a href='/staff/cy'>Cy</a>"
        "<a href='/aut/x'>no</a><a href='/writer/x'>no</a><span class='bylined'>x</span><span class='BYLINE'>no</span>"
        "<a rel='author' href='/x'>Di</a><span itemprop='author'>Ed</span><div class=''>no</div><i>no</i>"
        "<link href='https://example.org/author/fay/'/><span class='author-bio' href='/writers/'>x</span>"
    ))
    found = _BYLINE_XPATH(tree)
    assert found == plain(tree)
    assert len(found) == 11
