"""Boilerplate peeled from both ends of an article's text, and only from its ends.

Every example is written for this test in the shape the benchmark pages and news sites use;
the article lines around them must survive untouched.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from enrich.boilerplate import peel_boilerplate

ARTICLE = [
    "The harbour authority approved the new ferry terminal on Tuesday after a year of public hearings.",
    "Construction will start in the spring and the first boats are expected to dock there in 2028.",
    "Residents of the old town had asked for fewer lorries on the coast road during the works.",
    "The authority said most materials would arrive by barge, which it expects to halve the traffic.",
    "A second hearing on the fish market next to the terminal is planned for the autumn.",
]


def peel(head: list[str], tail: list[str]) -> list[str]:
    return peel_boilerplate("\n".join([*head, *ARTICLE, *tail])).splitlines()


@pytest.mark.parametrize(
    "line",
    [
        "Sign up for our morning newsletter and get the day's top stories in your inbox.",
        "Download the Harbour Times app for iPhone and Android.",
        "Follow The Harbour Times Opinion section on Facebook, Twitter and Instagram.",
        "Reporting by Ana Lind; Editing by Tom Berg",
        "Additional reporting by Kai Osei in Lisbon.",
        "Kai Osei contributed reporting from Lisbon.",
        "Jane Roe is a senior reporter at the Harbour Times covering transport and housing.",
        "John Doe covers energy and climate for the Harbour Times.",
        "We may earn a commission when you buy through links on our site.",
        "As an Amazon Associate we earn from qualifying purchases.",
        "© 2026 Harbour Times Media. All rights reserved.",
        "Write to Jane Roe at jane.roe@example.org",
        "jane.roe@example.org",
        "https://example.org/harbour/ferry-terminal",
        "Have a tip? Email the newsroom.",
        "If you enjoyed this article, become a member and support independent journalism.",
        "Related: Fish market traders fear the new terminal",
        "Read more: Why the coast road keeps flooding",
        "Tags: harbour, ferries, transport",
        "Acme Ports is a leading provider of terminal equipment, with customers in 40 countries worldwide.",
        "Acme Ports is headquartered in Rotterdam.",
        "Mit Material von dpa",
        "Abonnieren Sie unseren Newsletter.",
        "Suscríbete a nuestro boletín.",
        "Jane Roe ist Redakteurin im Ressort Wirtschaft.",
        "- Print Article",
        "Tell us what you think in the comments.",
    ],
)
def test_furniture_below_the_article_is_peeled(line):
    assert peel([], [line]) == ARTICLE


@pytest.mark.parametrize(
    "line",
    [
        "November 20, 2019 - 11:28 AMT",
        "sexta-feira, 22 de outubro de 2010 às 20:13",
        "5:45 AM PST 11/19/2019 by Patrick Roe",
        "Tempo de leitura: 2 minutos",
        "4 min read",
        "By",
        "By Jane Roe",
        "Updated at 1:23 p.m.",
        "Text size",
        "This copy is for your personal, non-commercial use only.",
        "New ferry terminal approved after a year of hearings",  # a headline: no sentence ends it
    ],
)
def test_furniture_above_the_article_is_peeled(line):
    assert peel([line], []) == ARTICLE


def test_peeling_repeats_until_an_article_line_shows():
    head = ["Text size", "By Jane Roe", "November 20, 2019 - 11:28 AMT"]
    tail = [
        "Reporting by Ana Lind; Editing by Tom Berg",
        "Jane Roe is a senior reporter at the Harbour Times.",
        "Sign up for our newsletter.",
        "© 2026 Harbour Times Media",
    ]
    assert peel(head, tail) == ARTICLE


def test_a_closing_source_list_goes_with_its_heading():
    sources = ["Sources:", "Port authority, annual report 2025", "Coast road traffic census, 2024"]
    assert peel([], sources) == ARTICLE
    assert peel([], ["References", "1. Lind, A. Ferries of the north. 2021."]) == ARTICLE
    assert peel([], ["Quellen", "Hafenbehörde, Jahresbericht"]) == ARTICLE


def test_a_trailing_list_of_headlines_is_peeled():
    tail = ["- Fish Market Traders Fear the New Terminal", "- Photos: The Old Harbour Through the Years"]
    assert peel([], tail) == ARTICLE


def test_the_same_words_inside_the_article_are_kept():
    middle = "Readers can sign up for the hearing on the authority's website, it said."
    text = "\n".join([*ARTICLE[:2], middle, *ARTICLE[2:]])
    assert peel_boilerplate(text) == text


def test_article_lines_that_only_look_like_furniture_are_kept():
    for line in (
        "- Sign up for the ferry pass before the first of May.",  # a list item: a step of the article
        "“Nobody here wants to download an app to buy a ferry ticket,” said one resident.",  # a quotation
    ):
        assert peel([], [line])[-1] == line
    long_closing = (
        "The authority's chair said the terminal would be judged by how it serves the town for decades, not by the "
        "opening ceremony, and she invited residents to share their thoughts at the next hearing, where the plans "
        "for the fish market will be shown for the first time. Leave a comment below."
    )
    assert peel([], [long_closing])[-1] == long_closing  # an article paragraph, however it ends


def test_a_headline_is_peeled_only_among_the_first_lines():
    score_lines = ["GIRLS BASKETBALL", "Palm Bay 18 22 13 17 — 70"]
    text = "\n".join([*ARTICLE[:3], *score_lines, *ARTICLE[3:]])
    assert peel_boilerplate(text) == text
    wrapped = ["Photos of the new terminal", "which opened on Tuesday, show a glass hall by the water."]
    assert peel(wrapped, [])[:2] == wrapped  # a sentence the page wrapped, not a headline


def test_a_text_that_would_lose_most_of_its_words_is_left_alone():
    lines = ["Sign up for our free morning newsletter.", "Download our app for Android.", "Ferries resume today.",
             "© 2026 Harbour Times Media Group"]
    notice = "\n".join(lines)
    assert peel_boilerplate(notice) == notice


def test_empty_text():
    assert peel_boilerplate("") == ""
    assert peel_boilerplate("\n \n") == ""


_LINES = st.sampled_from(
    [*ARTICLE, "Sign up for our newsletter.", "By Jane Roe", "© 2026 Harbour Times", "Sources:", "- Item One Two Three"]
)


@given(st.lists(_LINES, max_size=12))
def test_peeling_keeps_a_contiguous_run_of_the_lines(lines):
    peeled = peel_boilerplate("\n".join(lines)).splitlines()
    n = len(peeled)
    assert n == 0 or any(lines[i : i + n] == peeled for i in range(len(lines) - n + 1))
