"""Topics: the synonym table, the signal combination, the text classifier and "Personal".

Real text: the demo corpus (pages extracted with enrich.extract, tags from its feeds through
enrich.feeds, feed topics from its OPML through enrich.opml) and, when ../shared is present,
the BBC evaluation set. Expectations are what a reader would say about each article.
"""

from __future__ import annotations

import json
import statistics
import time
from functools import lru_cache
from pathlib import Path

import pytest

from enrich.extract import extract_article
from enrich.feeds import parse_feed
from enrich.opml import parse_opml
from enrich.topics import (
    CORPUS_FILES,
    TOPICS,
    classify_topics,
    personal_evidence,
    read_corpus,
    synonym_table,
    tag_topics,
    text_topics,
    topic_model,
)
from tests.conftest import shared_or_skip

SITE = Path(__file__).resolve().parents[1] / "data" / "demo" / "site"
BASE = "http://127.0.0.1:1"


@lru_cache(maxsize=1)
def demo_articles() -> dict[str, dict]:
    """Every demo page as the pipeline sees it: text, title, language, the entry's tags, the feed topic."""
    topics = {s.url.replace("{{DEMO_BASE}}", BASE): s.category for s in parse_opml((SITE / "feeds.opml").read_bytes())}
    entries = {}
    for feed in sorted((SITE / "feeds").glob("*.xml")):
        url = f"{BASE}/feeds/{feed.name}"
        poll = parse_feed(feed.read_bytes().replace(b"{{DEMO_BASE}}", BASE.encode()), url)
        for entry in poll.entries:
            entries[entry.link] = (entry, topics[url], poll.language)
    articles = {}
    for page in sorted(SITE.glob("*/*.html")):
        rel = page.relative_to(SITE).as_posix()
        link = f"{BASE}/{rel}"
        extracted = extract_article(page.read_bytes().replace(b"{{DEMO_BASE}}", BASE.encode()), link)
        entry, feed_topic, language = entries[link]
        articles[rel] = {
            "text": extracted.text,
            "title": entry.title or extracted.title,
            "language": language,
            "tags": entry.tags,
            "feed_topic": feed_topic,
        }
    return articles


def classify_demo(rel: str, **overrides):
    a = {**demo_articles()[rel], **overrides}
    return classify_topics(a["text"], title=a["title"], language=a["language"], tags=a["tags"], feed_topic=a["feed_topic"])


# What a reader would file each demo article under: acceptable best topics, and topics that
# must appear somewhere in the 1-3.
DEMO_EXPECTED = {
    "cuaderno/equipaje-ligero-dos-semanas.html": ({"Travel"}, set()),
    "cuaderno/mercado-arroces-valencia.html": ({"Food"}, set()),
    "cuaderno/potaje-fabes-casarredonda.html": ({"Food"}, set()),
    "cuaderno/tren-costa-puerto-alcandra.html": ({"Travel"}, set()),
    "kissa/november-ferry-reading-diary.html": ({"Personal", "Books"}, {"Personal", "Books"}),
    "kissa/record-night-vol12.html": ({"Personal", "Music"}, {"Personal", "Music"}),
    "kissa/roasting-mandheling-notes.html": ({"Personal", "Food"}, {"Personal"}),
    "northwind/battery-recycling-yields.html": ({"Science", "Technology"}, set()),
    "northwind/commit-messages-guide.html": ({"Programming"}, set()),
    "northwind/lorawan-soil-sensors.html": ({"Technology", "Science"}, set()),
    "northwind/new-comet-catalogued.html": ({"Science"}, set()),
    "northwind/rust-build-times.html": ({"Programming"}, set()),
    "stadtleben/hsg-lindenbrueck-derbysieg.html": ({"Sports"}, set()),
    "stadtleben/klinikum-stroke-unit.html": ({"Health"}, set()),
    "stadtleben/mietspiegel-wohnungsbau.html": ({"News", "Business", "Politics"}, set()),
    "stadtleben/stadtrat-haushalt-radwege.html": ({"Politics"}, set()),
}


def test_topic_list_is_the_fixed_one():
    assert TOPICS == (
        "Technology", "Design", "Programming", "Science", "News", "Gaming", "Entertainment", "Business",
        "Finance", "Sports", "Health", "Food", "Travel", "Art", "Music", "Books", "Education", "Politics",
        "Personal",
    )  # fmt: skip


def test_demo_corpus_is_complete():
    assert set(demo_articles()) == set(DEMO_EXPECTED)


# --- synonym table --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "topic"),
    [
        ("AI", "Technology"), ("startups", "Business"), ("NBA", "Sports"), ("recipes", "Food"),
        ("Rezepte", "Food"), ("recetas", "Food"), ("viajes", "Travel"), ("読書", "Books"), ("音楽", "Music"),
        ("日記", "Personal"), ("Lokalpolitik", "Politics"), ("Gesundheit", "Health"), ("Sport", "Sports"),
        ("  #Machine   Learning ", "Technology"), ("RUST", "Programming"), ("cocina tradicional", "Food"),
        ("Kommunalpolitik", "Politics"), ("Programming", "Programming"),
    ],
)  # fmt: skip
def test_tags_map_through_the_synonym_table(tag, topic):
    assert topic in tag_topics([tag])


def test_synonym_table_names_only_known_topics_and_every_topic():
    table = synonym_table()
    assert {t for topics in table.values() for t in topics} == set(TOPICS)
    assert all(tag == tag.lower().strip() for tag in table)


def test_unknown_tags_say_nothing():
    assert tag_topics(["zzqx", "", "   ", "#"]) == {}
    # "transport" ends in "sport", but only listed words of 6+ letters close a compound
    assert "Sports" not in tag_topics(["transport"])


def test_tag_distribution_sums_to_one():
    dist = tag_topics(["AI", "recetas", "NBA", "unknown"])
    assert set(dist) == {"Technology", "Food", "Sports"}
    assert sum(dist.values()) == pytest.approx(1.0)


# --- the result's shape ------------------------------------------------------------------------


def test_empty_input_gives_no_topics():
    result = classify_topics("")
    assert result.topics == () and result.scores == ()


def test_any_signal_gives_at_least_one_topic():
    assert classify_topics("", tags=["recipes"]).topics == ("Food",)
    assert classify_topics("", feed_topic="Gaming").topics == ("Gaming",)
    assert classify_topics("", feed_topic="recetas").topics == ("Food",)  # a feed category through synonyms
    assert classify_topics("", title="The striker scored twice as the club won the league").topics[0] == "Sports"


@pytest.mark.parametrize("rel", sorted(DEMO_EXPECTED))
def test_result_invariants_on_demo(rel):
    result = classify_demo(rel)
    assert 1 <= len(result.topics) <= 3
    assert len(result.scores) == len(result.topics)
    assert len(set(result.topics)) == len(result.topics)
    assert set(result.topics) <= set(TOPICS)
    assert list(result.scores) == sorted(result.scores, reverse=True)
    assert all(0 < s <= 1 for s in result.scores)
    one = classify_topics(demo_articles()[rel]["text"], title=demo_articles()[rel]["title"],
                          language=demo_articles()[rel]["language"], tags=demo_articles()[rel]["tags"],
                          feed_topic=demo_articles()[rel]["feed_topic"], max_topics=1)
    assert one.topics == result.topics[:1]


# --- demo articles ---------------------------------------------------------------------------------


@pytest.mark.parametrize("rel", sorted(DEMO_EXPECTED))
def test_demo_articles_get_sensible_topics(rel):
    best, required = DEMO_EXPECTED[rel]
    result = classify_demo(rel)
    assert result.topics[0] in best, result
    assert required <= set(result.topics), result


@pytest.mark.parametrize(
    ("rel", "topic"),
    [
        ("cuaderno/potaje-fabes-casarredonda.html", "Food"),  # Spanish recipe
        ("cuaderno/tren-costa-puerto-alcandra.html", "Travel"),
        ("stadtleben/hsg-lindenbrueck-derbysieg.html", "Sports"),  # German handball
        ("stadtleben/klinikum-stroke-unit.html", "Health"),
        ("stadtleben/stadtrat-haushalt-radwege.html", "Politics"),
        ("northwind/rust-build-times.html", "Programming"),
        ("northwind/new-comet-catalogued.html", "Science"),
    ],
)
def test_text_alone_classifies_english_spanish_and_german(rel, topic):
    result = classify_demo(rel, tags=(), feed_topic=None)
    assert result.topics[0] == topic, result


def test_japanese_articles_get_topics_without_a_text_model():
    """No Japanese training text: tags, the feed topic and the writer's first person carry it."""
    assert "ja" not in topic_model().languages
    for rel in ("kissa/november-ferry-reading-diary.html", "kissa/record-night-vol12.html"):
        a = demo_articles()[rel]
        assert text_topics(a["text"], a["title"], "ja") == ({}, 0)
        tags_only = classify_topics(a["text"], title=a["title"], language="ja", tags=a["tags"])
        assert tags_only.topics  # from the tags alone
    coffee = classify_demo("kissa/roasting-mandheling-notes.html", feed_topic=None, tags=())
    assert coffee.topics[0] == "Personal"  # the diary's own voice: 私 outside quotations


def test_feed_topic_and_tags_outweigh_nothing_but_not_the_text():
    """A travel article in a food feed stays Travel, with Food beside it."""
    result = classify_demo("cuaderno/tren-costa-puerto-alcandra.html")
    assert result.topics[0] == "Travel"
    assert "Food" in result.topics


# --- Personal ----------------------------------------------------------------------------------

FIRST_PERSON_POST = """\
I finally finished the bookshelf I have been building in my garage since March. My first attempt
went wrong because I measured the shelves with the cheap tape my neighbour lent me, and I only
noticed when nothing fitted. I took everything apart, bought a proper square and started again.
My wife laughed when she saw me sanding the same plank for the third time, but I enjoyed it.
Next I want to build a small desk for my daughter, and I think I will use oak this time.
"""
QUOTED_FIRST_PERSON_NEWS = """\
The council approved the new library on Tuesday after a two-hour debate.
"I have lived here for forty years and I have never seen the town so united," said one resident.
"My children will use it every day, and I am delighted," said another.
The building will open next spring and will include a children's section and a café.
Construction will cost 4.2 million euros, shared between the town and the regional government.
"""


def test_personal_needs_first_person_evidence():
    evidence = personal_evidence(FIRST_PERSON_POST, "en")
    assert evidence.personal and evidence.count >= 10
    assert "Personal" in classify_topics(FIRST_PERSON_POST).topics


def test_quoted_first_person_is_not_the_writer_speaking():
    evidence = personal_evidence(QUOTED_FIRST_PERSON_NEWS, "en")
    assert evidence.count == 0 and not evidence.personal
    assert "Personal" not in classify_topics(QUOTED_FIRST_PERSON_NEWS).topics


@pytest.mark.parametrize("rel", [r for r in DEMO_EXPECTED if not r.startswith("kissa/")])
def test_reported_demo_articles_are_never_personal(rel):
    assert "Personal" not in classify_demo(rel).topics


def test_the_classifier_never_says_personal_from_words():
    assert "Personal" not in topic_model().classes


# --- the model -----------------------------------------------------------------------------


def test_model_is_built_once():
    assert topic_model() is topic_model()


def test_training_corpus_covers_every_topic_but_personal():
    for lang, path in CORPUS_FILES.items():
        topics = {t for t, _ in read_corpus(path)}
        assert topics == set(TOPICS) - {"Personal"}, lang


def test_classification_is_fast():
    rows = list(demo_articles().values())
    for a in rows:  # warm the stemmer cache
        classify_topics(a["text"], title=a["title"], language=a["language"], tags=a["tags"])
    timings = []
    for a in rows * 3:
        started = time.perf_counter()
        classify_topics(a["text"], title=a["title"], language=a["language"], tags=a["tags"])
        timings.append(time.perf_counter() - started)
    assert statistics.median(timings) < 0.005


# --- the BBC evaluation set (../shared) ------------------------------------------------------------

BBC_TOPIC = {"business": "Business", "entertainment": "Entertainment", "politics": "Politics",
             "sport": "Sports", "tech": "Technology"}  # fmt: skip
FOLD = {"Finance": "Business", "Art": "Entertainment", "Books": "Entertainment", "Music": "Entertainment",
        "Gaming": "Technology", "Programming": "Technology"}  # fmt: skip
# Quality floor for the text classifier, a little under what bench/topics.py measures (folded
# top-1 macro-F1 0.911, accuracy 0.883): a change that drops below it needs a reason.
BBC_MIN_FOLDED_ACCURACY = 0.85


@lru_cache(maxsize=1)
def bbc_rows():
    path = shared_or_skip("bbc-news-summary/bbc60.jsonl")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_bbc_text_only_quality_floor():
    rows = bbc_rows()
    hits = 0
    for r in rows:
        result = classify_topics("\n".join(r["article_sentences"]), title=r["title"])
        top = FOLD.get(result.topics[0], result.topics[0])
        hits += top == BBC_TOPIC[r["topic"]]
    assert hits / len(rows) >= BBC_MIN_FOLDED_ACCURACY


def test_bbc_sport_is_recognised_and_news_is_not_personal():
    for r in bbc_rows():
        result = classify_topics("\n".join(r["article_sentences"]), title=r["title"])
        assert "Personal" not in result.topics
        if r["topic"] == "sport":
            assert result.topics[0] == "Sports", r["title"]


def test_bbc_is_not_the_training_data():
    corpus = "\n".join(path.read_text(encoding="utf-8") for path in CORPUS_FILES.values())
    for r in bbc_rows():
        for sentence in r["article_sentences"]:
            if len(sentence) > 40:
                assert sentence not in corpus
