"""Kind: each rule of the cascade on its own, then real articles (demo corpus, BBC in ../shared)."""

from __future__ import annotations

import json

import pytest

from enrich.kind import KINDS, KindDecision, classify_kind, explain_kind
from tests.conftest import shared_or_skip
from tests.test_topics import demo_articles

PLAIN_NEWS = """\
The regional rail operator will run extra trains on the northern line from Monday, after weeks of
complaints about overcrowding at peak times. Four additional services will leave the central station
between 7 and 9 in the morning, a spokesperson said. The operator has leased six carriages from a
neighbouring network while new trains are being built. Passenger groups welcomed the change but said
the evening rush still needed attention.
"""


@pytest.mark.parametrize(
    ("title", "kind", "language"),
    [
        ("How to set up a Python virtual environment", "Guide", "en"),
        ("A beginner's guide to sourdough", "Guide", "en"),
        ("7 tips for better sleep", "Guide", "en"),
        ("Cómo preparar un buen caldo de pescado", "Guide", "es"),
        ("Anleitung: So wechseln Sie den Fahrradschlauch", "Guide", "de"),
        ("Review: the new e-reader is light but slow", "Review", "en"),
        ("Best budget headphones of 2026", "Review", "en"),
        ("Rezension: Ein Roman über drei Sommer", "Review", "de"),
        ("Reseña: el disco más tranquilo del año", "Review", "es"),
        ("Project Tern 2.4 released with faster builds", "Announcement", "en"),
        ("Announcing our new community forum", "Announcement", "en"),
        ("Die Stadtbibliothek stellt ihr neues Programm vor", "Announcement", "de"),
        ("La editorial anuncia una nueva colección de poesía", "Announcement", "es"),
        ("Opinion: cities must stop building car parks", "Opinion", "en"),
        ("Kommentar: Der Haushalt ist mutlos", "Opinion", "de"),
        ("Opinión: la ciudad necesita más árboles", "Opinion", "es"),
        ("Tribune : la ville a besoin d'arbres", "Opinion", "fr"),
        ("The case for a four-day week", "Opinion", "en"),
        ("Study finds rivers warming faster than the air above them", "Insight", "en"),
        ("Analysis: what the rate rise means for renters", "Insight", "en"),
        ("How one bakery survived the energy crisis", "Insight", "en"),
        ("My year without a smartphone", "Personal", "en"),
    ],
)
def test_title_rules(title, kind, language):
    decision = explain_kind(PLAIN_NEWS, title=title, language=language)
    assert decision.kind == kind
    assert decision.rule.startswith("title.")


@pytest.mark.parametrize(
    ("title", "language"),
    [
        ("I Diversi della notte tornano in teatro", "it"),  # "I" is Italian's "the", not a diarist
        ("My Lai: cinquant'anni dopo", "it"),
        ("Guide Michelin : trois nouvelles étoiles à Lyon", "de"),  # not a German title rule's word
        ("Review Studios eröffnet ein Büro in Köln", "de"),
    ],
)
def test_english_title_rules_do_not_read_other_languages(title, language):
    assert explain_kind(PLAIN_NEWS, title=title, language=language) == KindDecision("News", "default")


def test_a_date_in_a_title_is_not_a_version_number():
    assert classify_kind(PLAIN_NEWS, title="Opening Bell: 11.18.19") == "News"


def test_a_percentage_is_not_a_version_number():
    assert classify_kind(PLAIN_NEWS, title="Rents rise 6.8 percent in a year") == "News"


@pytest.mark.parametrize(
    ("tags", "kind"),
    [(["Rezension"], "Review"), (["recetas"], "Guide"), (["Tutorial"], "Guide"), (["日記"], "Personal"),
     (["Opinion"], "Opinion"), (["Release notes"], "Announcement"), (["#analysis"], "Insight")],
)  # fmt: skip
def test_tag_rules_come_first(tags, kind):
    decision = explain_kind(PLAIN_NEWS, title="How to read a timetable", tags=tags)
    assert decision.kind == kind
    assert decision.rule.startswith("tags.")


FIRST_PERSON_POST = """\
I moved to the coast in April and I still wake up surprised by the sound of the sea. My flat is small
and I have no garden, but I walk along the harbour every morning before work. I did not expect to miss
the city, yet I do: my friends, my favourite bakery, my long evening runs by the river. I am learning
to like the quiet. I think I will stay another year and see how I feel then.
"""
NUMBERED_STEPS = """\
You need flour, water, salt and a little yeast.
1. Mix the flour and water and leave the dough to rest for half an hour.
2. Add the salt and yeast and knead for ten minutes.
3. Let it rise until doubled, then shape the loaf.
4. Bake at 230 degrees for forty minutes.
"""
PRESS_RELEASE = """\
LUND, Sweden — Kestrel Instruments today announced a partnership with three regional hospitals to
trial its portable ultrasound scanner in rural clinics.
The trial will run for twelve months and include training for nurses.
About Kestrel Instruments
"""
OPINION_TEXT = """\
We should stop pretending that more lanes will fix traffic. Every city that has tried it knows the
result: the new lanes fill up within a year. We must spend the money on buses instead, and we need to
do it now. Frankly, it is absurd that the plan still treats cycling as an afterthought. Planners should
listen to the people who actually live along the road; surely they deserve better than another decade
of noise.
"""
REVIEW_TEXT = """\
The headphones are comfortable for long sessions and the battery lasts a full week.
Pros: excellent noise cancelling, light, good app. Cons: the case is bulky and the microphone is weak.
Verdict: the best pair at this price, if you can live with the case. Score: 8/10
"""


@pytest.mark.parametrize(
    ("text", "kind", "rule"),
    [
        (FIRST_PERSON_POST, "Personal", "text.first_person"),
        (NUMBERED_STEPS, "Guide", "text.numbered_steps"),
        (PRESS_RELEASE, "Announcement", "text.press_release"),
        (OPINION_TEXT, "Opinion", "text.opinion_markers"),
        (REVIEW_TEXT, "Review", "text.review_markers"),
        (PLAIN_NEWS, "News", "default"),
    ],
)
def test_text_rules(text, kind, rule):
    assert explain_kind(text, title="Notes") == KindDecision(kind, rule)


def test_empty_input_is_news():
    assert classify_kind("") == "News"
    assert classify_kind("", title=None, tags=()) == "News"


# --- real articles -----------------------------------------------------------------------------

DEMO_KINDS = {
    "northwind/commit-messages-guide.html": {"Guide"},  # "A Practical Guide to ..."
    "northwind/battery-recycling-yields.html": {"Insight"},  # "..., Study Finds"
    "northwind/rust-build-times.html": {"Insight"},  # a measured case study
    "northwind/new-comet-catalogued.html": {"News"},
    "northwind/lorawan-soil-sensors.html": {"News", "Insight"},
    "stadtleben/hsg-lindenbrueck-derbysieg.html": {"News"},  # match report
    "stadtleben/klinikum-stroke-unit.html": {"News"},
    "stadtleben/stadtrat-haushalt-radwege.html": {"News"},
    "stadtleben/mietspiegel-wohnungsbau.html": {"News", "Insight"},
    "cuaderno/equipaje-ligero-dos-semanas.html": {"Guide"},  # "guía para viajar ligero", tag consejos
    "cuaderno/potaje-fabes-casarredonda.html": {"Guide", "News"},  # a recipe in a reportage
    "cuaderno/mercado-arroces-valencia.html": {"News", "Insight"},
    "cuaderno/tren-costa-puerto-alcandra.html": {"News", "Guide"},
    "kissa/november-ferry-reading-diary.html": {"Personal"},
    "kissa/record-night-vol12.html": {"Personal"},
    "kissa/roasting-mandheling-notes.html": {"Personal"},
}


@pytest.mark.parametrize("rel", sorted(DEMO_KINDS))
def test_demo_articles_get_sensible_kinds(rel):
    a = demo_articles()[rel]
    kind = classify_kind(a["text"], title=a["title"], tags=a["tags"], language=a["language"])
    assert kind in DEMO_KINDS[rel]
    assert kind in KINDS


def test_japanese_diaries_are_personal_without_tags():
    for rel in ("kissa/record-night-vol12.html", "kissa/roasting-mandheling-notes.html"):
        a = demo_articles()[rel]
        assert explain_kind(a["text"], title=a["title"], language="ja").kind == "Personal"


def test_bbc_news_is_mostly_news():
    path = shared_or_skip("bbc-news-summary/bbc60.jsonl")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    kinds = [classify_kind("\n".join(r["article_sentences"]), title=r["title"]) for r in rows]
    assert kinds.count("News") / len(kinds) >= 0.9
    assert "Personal" not in kinds


@pytest.mark.parametrize("name", ["_REVIEW_MARKERS", "_OPINION", "_ANALYSIS"])
def test_first_character_lookaheads_cover_every_alternative(name):
    import enrich.kind
    from tests.test_quotes import assert_first_character_guard

    for pattern in getattr(enrich.kind, name).values():
        assert_first_character_guard(pattern)


# --- the labelled set (bench/labels, scored in full by bench/kind.py) ------------------------------

# On every 4th labelled page from the 4th (49 pages, tuned and held back together) ours scores
# 0.816 with Opinion recall 6 of 7; the same cascade without page signals 0.653 and 0 of 7. The
# floors sit between, so the page-signal rules cannot silently go.
KIND_ACCURACY_FLOOR = 0.76
OPINION_RECALL_FLOOR = 0.7


def test_kind_floor_on_the_labelled_pages():
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    labels = root / "bench" / "labels" / "card_labels.jsonl"
    if not labels.exists():
        pytest.skip(f"{labels} is missing (the hand labels of bench/card.py)")
    shared_or_skip("article-extraction-benchmark")
    sys.path.insert(0, str(root / "bench"))
    from kind import judge, scores

    rows = [json.loads(line) for line in labels.read_text(encoding="utf-8").splitlines() if line.strip()]
    judged = [judge(row) for row in rows[3::4]]
    _, accuracy, opinion_recall, _ = scores(judged, lambda j: j.ours)
    assert accuracy >= KIND_ACCURACY_FLOOR
    assert opinion_recall >= OPINION_RECALL_FLOOR
