"""enrich.titles and the title choice of choose_metadata: the headline, not the site's name around it.

The titles are written for this test; each reproduces a shape seen on real pages.
"""

from __future__ import annotations

import pytest

from enrich.extract import ArticleMetadata, choose_metadata
from enrich.models import ExtractedPage
from enrich.titles import cut_off, page_title

SITE = "Harbour Notes"
URL = "https://www.harbournotes.example/2026/03/ferry.html"


@pytest.mark.parametrize(
    ("stated", "headlines", "expected"),
    [
        ("Night ferry to leave later | Harbour Notes", [], "Night ferry to leave later"),
        ("Night ferry to leave later - Harbour Notes", [], "Night ferry to leave later"),
        ("Night ferry to leave later – HarbourNotes.example", [], "Night ferry to leave later"),
        ("Night ferry to leave later : Harbour Notes", [], "Night ferry to leave later"),
        ("Harbour Notes | Night ferry to leave later", [], "Night ferry to leave later"),
        # a section between the headline and the site goes with the site
        ("Night ferry to leave later - Guide - Harbour Notes", [], "Night ferry to leave later"),
        (
            "Night ferry to leave later | Ferries | Local News | Harbour Notes",
            [],
            "Night ferry to leave later",
        ),
        # the page's own headline settles where the headline ends
        (
            "Opinion | The ferry deserves better",
            ["The ferry deserves better"],
            "The ferry deserves better",
        ),
        (
            "Port news: Night ferry to leave later - The Weekly Gull",
            ["Port news: Night ferry to leave later"],
            "Port news: Night ferry to leave later",
        ),
        (
            "Harbour Notes | The port's favourite paper: BREAKING: Ferry sinks",
            ["BREAKING: Ferry sinks"],
            "BREAKING: Ferry sinks",
        ),
        (
            "The Harbour Notes Blog | Open thread",
            ["The Harbour Notes Blog", "Open thread"],
            "Open thread",
        ),
        # separators inside the headline stay
        (
            "Design week 2026 | A light installation for the pier",
            [],
            "Design week 2026 | A light installation for the pier",
        ),
        (
            "Take C.A.R.E. - harbournotes at the boat show 2026",
            [],
            "Take C.A.R.E. - harbournotes at the boat show 2026",
        ),
        (
            "Star Ferry: review - smooth, late and worth it - Harbour Notes",
            [],
            "Star Ferry: review - smooth, late and worth it",
        ),
        # the visible headline, where the stated title is a variant of it
        (
            "HS Roundup: Viera beats Rockledge",
            ["High School Roundup: Viera beats Rockledge"],
            "High School Roundup: Viera beats Rockledge",
        ),
        (
            "Night ferry to leave later | Harbour Notes",
            ["Night ferry will leave later"],
            "Night ferry will leave later",
        ),
        (
            "Night ferry to leave later",
            ["Most read", "Gulls return to the pier"],
            "Night ferry to leave later",
        ),
        ("Night ferry to leave later", [SITE], "Night ferry to leave later"),
        ("Night ferry to leave later", [], "Night ferry to leave later"),
        ("  Night   ferry ", [], "Night ferry"),
        ("", [], None),
        (None, [], None),
    ],
)
def test_page_title_without_the_site(stated, headlines, expected):
    assert page_title(stated, headlines=headlines, site_name=SITE, url=URL) == expected


@pytest.mark.parametrize(
    ("short", "full", "expected"),
    [
        ("Night ferry to leave…", "Night ferry to leave later", True),
        ("Night ferry to leave ...", "Night ferry to leave later", True),
        ("Night ferry to lea", "Night ferry to leave later", True),  # cut mid-word
        (
            "Night ferry to leave",
            "Night ferry to leave later",
            False,
        ),  # a shorter headline, not a cut one
        ("Night ferry to leave later", "Night ferry to leave later | Harbour Notes", False),
        (
            "Night ferry to leave later",
            "Night ferry to leave later - Ferries - Harbour Notes",
            False,
        ),
        ("Night ferry to leave later", "Night ferry to leave later", False),
        ("Day ferry…", "Night ferry to leave later", False),
        ("…", "Night ferry to leave later", False),
    ],
)
def test_cut_off(short, full, expected):
    assert cut_off(short, full) is expected


def _page(title: str, author: str | None = None) -> ExtractedPage:
    return ExtractedPage(text="...", title=title, author=author, site_name=SITE)


def test_the_feeds_title_is_kept_when_the_page_only_adds_the_site():
    feed = ArticleMetadata(title="Night ferry to leave later")
    for page_title_ in (
        "Night ferry to leave later | Harbour Notes",
        "Night ferry to leave later - Ferries - Harbour Notes",
    ):
        values, sources = choose_metadata(feed, _page(page_title_))
        assert (values.title, sources["title"]) == ("Night ferry to leave later", "feed")


def test_a_cut_off_feed_title_gives_way_to_the_pages():
    for short in ("Night ferry to leave…", "Night ferry to lea"):
        values, sources = choose_metadata(
            ArticleMetadata(title=short), _page("Night ferry to leave later")
        )
        assert (values.title, sources["title"]) == ("Night ferry to leave later", "page")


def test_feed_authors_are_cut_down_to_people():
    page = _page("Night ferry", author="Page Person")
    values, sources = choose_metadata(ArticleMetadata(author="By Ann Example, Staff Writer"), page)
    assert (values.author, sources["author"]) == ("Ann Example", "feed")
    values, sources = choose_metadata(ArticleMetadata(author="Ann Example and Bo Sample"), page)
    assert values.author == "Ann Example; Bo Sample"
    values, sources = choose_metadata(ArticleMetadata(author="Harbour Notes Staff"), page)
    assert (values.author, sources["author"]) == ("Page Person", "page")
