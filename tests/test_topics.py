"""Topics: the synonym table, the signal combination, the text classifier and "Personal".

Real text: the demo corpus (pages extracted with enrich.extract, tags from its feeds through
enrich.feeds, feed topics from its OPML through enrich.opml), short feed items written for these
tests (tests/fixtures/topics, never trained on) and, when ../shared is present, the held-back
splits of the training corpora and the BBC evaluation set. Expectations are what a reader would
say about each article; quality floors sit above what the previous classifier scored.
"""

from __future__ import annotations

import json
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from enrich.extract import extract_article
from enrich.feeds import parse_feed
from enrich.opml import parse_opml
from enrich.text import word_count
from enrich.topics import (
    MODEL_FILE,
    N_FEATURES,
    PAGE_MIN_WORDS,
    PAGE_MODEL_FILE,
    RELATED_TOPICS,
    TOPICS,
    classify_topics,
    model_for,
    page_topic_model,
    personal_evidence,
    synonym_table,
    tag_topics,
    text_features,
    text_topics,
    topic_model,
)
from tests.conftest import shared_or_skip

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "data" / "demo" / "site"
SHORT_ITEMS = Path(__file__).resolve().parent / "fixtures" / "topics" / "short_items.tsv"
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


def test_japanese_diaries_keep_the_writers_voice():
    """Japanese is a known language now; its diaries keep Personal from 私 outside quotations."""
    assert "ja" in topic_model().languages
    a = demo_articles()["kissa/roasting-mandheling-notes.html"]
    assert text_topics(a["text"], a["title"], "ja")[0]
    coffee = classify_demo("kissa/roasting-mandheling-notes.html", feed_topic=None, tags=())
    assert "Personal" in coffee.topics


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


def test_models_are_loaded_once_and_small():
    for load, path in ((topic_model, MODEL_FILE), (page_topic_model, PAGE_MODEL_FILE)):
        model = load()
        assert model is load()
        assert path.stat().st_size < 5_000_000
        assert model.weights.shape == (N_FEATURES, len(model.classes))
        assert model.weights.dtype == np.int8
    assert MODEL_FILE.stat().st_size + PAGE_MODEL_FILE.stat().st_size < 20_000_000


def test_a_page_and_a_feed_summary_are_read_by_different_models():
    summary = "Council approves budget | The city council voted on Tuesday to fund new cycle lanes and a library."
    page = " ".join([summary] * 6)
    assert word_count(summary) < PAGE_MIN_WORDS <= word_count(page)
    assert model_for(summary) is topic_model()
    assert model_for(page) is page_topic_model()
    assert topic_model() is not page_topic_model()
    # text_topics reads each with its own model: the posterior is that model's, not the other's.
    for text, reader, other in ((summary, topic_model(), page_topic_model()), (page, page_topic_model(), topic_model())):
        posterior, _ = text_topics(text, None, "en")
        got = [posterior[c] for c in reader.classes]
        assert np.allclose(got, reader.posterior(text))
        # on log scale: both models can be near-certain of the same first topic
        assert not np.allclose(np.log(got), np.log(other.posterior(text)), atol=0.05)


def test_a_title_counts_as_often_as_the_headlines_each_model_was_trained_with():
    """The short model learnt headlines written twice (scripts/train_topics.py, Setting.headline_repeat):
    it reads a title twice too; the page model, trained without, reads it once."""
    assert (topic_model().title_repeat, page_topic_model().title_repeat) == (2, 1)
    title, summary = "Council approves budget", "The city council voted on Tuesday to fund new cycle lanes."
    posterior, _ = text_topics(summary, title, "en")
    got = [posterior[c] for c in topic_model().classes]
    assert np.allclose(got, topic_model().posterior(f"{title}\n{title}\n{summary}"))
    assert not np.allclose(got, topic_model().posterior(f"{title}\n{summary}"))
    page = " ".join([summary] * 8)
    posterior, _ = text_topics(page, title, "en")
    assert np.allclose([posterior[c] for c in page_topic_model().classes], page_topic_model().posterior(f"{title}\n{page}"))


def test_secondary_thresholds_are_probabilities_for_known_languages():
    thresholds = topic_model().secondary_min_probability
    assert set(thresholds) <= topic_model().languages
    assert all(0 < t < 1 for t in thresholds.values())


def test_the_models_know_every_topic_but_personal_and_the_language_stage_languages():
    langid = {"ar", "bg", "bn", "cs", "da", "de", "el", "en", "es", "et", "fa", "fi", "fr", "he", "hi", "hr",
              "hu", "id", "it", "ja", "ko", "nl", "pl", "pt", "ro", "ru", "sv", "th", "tr", "uk", "vi", "zh"}  # fmt: skip
    for model in (topic_model(), page_topic_model()):
        assert set(model.classes) == set(TOPICS) - {"Personal"}
        assert langid <= model.languages


def test_features_are_the_same_in_every_process():
    """Hashing must not depend on PYTHONHASHSEED: the weights were trained in another process."""
    text = "Der Stadtrat beschließt den Haushalt. 市议会通过预算。"
    columns, values = text_features(text)
    code = f"from enrich.topics import text_features; c, v = text_features({text!r}); print(c.tolist(), v.round(6).tolist())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                         env={"PYTHONHASHSEED": "123", "PATH": ""})  # fmt: skip
    assert out.stdout.strip() == f"{columns.tolist()} {values.round(6).tolist()}"


def test_the_command_line_help_does_not_load_the_model():
    code = (
        "import sys; from typer.testing import CliRunner; from flows.cli import app; "
        "r = CliRunner().invoke(app, ['--help']); assert r.exit_code == 0, r.output; "
        "import enrich.topics as t; print(t.topic_model.cache_info().currsize + t.page_topic_model.cache_info().currsize)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "0"


def short_items() -> list[tuple[str, str, str | None, str]]:
    """(language, topic, headline, description) of the short-item fixture."""
    rows = []
    for line in SHORT_ITEMS.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            language, topic, text = line.split("\t")
            headline, _, description = text.partition(" | ")
            rows.append((language, topic, headline, description))
    return rows


# Measured: the new model puts the right topic first on 45 of these 48 items; the previous
# classifier (naive Bayes, en/es/de only) on 14 (no text signal outside English, Spanish, German).
SHORT_ITEMS_MIN_FIRST = 0.85


def test_short_items_in_many_languages_get_the_right_first_topic():
    rows = short_items()
    assert len({lang for lang, *_ in rows}) >= 12
    hits = [classify_topics(d, title=h, language=lang).topics[:1] == (topic,) for lang, topic, h, d in rows]
    assert sum(hits) / len(rows) >= SHORT_ITEMS_MIN_FIRST, [r for r, ok in zip(rows, hits) if not ok]


def test_a_language_the_model_does_not_know_gets_the_feed_topic_or_nothing():
    sw = "Timu ya taifa ilishinda mechi ya kufuzu kwa Kombe la Dunia kwa mabao mawili katika kipindi cha pili."
    assert "sw" not in topic_model().languages
    assert text_topics(sw, None, "sw") == ({}, 0)
    assert classify_topics(sw, language="sw").topics == ()
    assert classify_topics(sw, language="sw", feed_topic="Travel").topics == ("Travel",)


def test_a_text_without_a_likely_topic_says_nothing(monkeypatch):
    """A posterior whose likeliest topic is under TEXT_MIN_PROBABILITY files the article nowhere by
    itself: a feed topic, tags or the writer's voice still count, and a likelier topic still wins."""
    import enrich.topics as topics_module

    flat = {t: 1 / 18 for t in TOPICS if t != "Personal"}
    flat["Food"] = topics_module.TEXT_MIN_PROBABILITY - 0.01
    leaning = dict(flat, Food=topics_module.TEXT_MIN_PROBABILITY + 0.01)
    text = "Where things stand after a long month, and what comes next."
    monkeypatch.setattr(topics_module, "text_topics", lambda *args: (flat, 200))
    assert classify_topics(text, title="A short update", language="en").topics == ()
    assert classify_topics(text, language="en", feed_topic="Programming").topics == ("Programming",)
    monkeypatch.setattr(topics_module, "text_topics", lambda *args: (leaning, 200))
    assert classify_topics(text, title="A short update", language="en").topics[:1] == ("Food",)


def test_too_little_text_says_nothing():
    assert text_topics("Update 3", None, "en")[0] == {}
    assert classify_topics("12:30", title="Live", language="en").topics == ()


# --- held-back splits and the BBC evaluation set (../shared) -------------------------------------------
# Floors a little under what bench/topics.py measures for the new model, and above the previous
# model's figures (in brackets, same bench run): replacing the model with an earlier one fails them.

NEWS_MIN_MACRO_F1 = 0.32  # measured 0.333 (previous 0.307, first 0.192)
NEWS_MIN_IN_STORED = 0.60  # measured 0.612 (previous 0.577, first 0.415)
# Not above the previous model: its 0.450 rests on the rare sections' 1-11 held-back items.
NEWS_12_MIN_MACRO_F1 = 0.40  # measured 0.486 (previous 0.450, first 0.214)
NEWS_12_MIN_IN_STORED = 0.86  # measured 0.884 (previous 0.824, first 0.468)
PASSAGES_MIN_FIRST = 0.73  # measured 0.751 (previous 0.724, first 0.428)
# SIB items (three sentences) are read by either model, by length: 586 of 960 by the page model.
SIB_MIN_FIRST_ALLOWED = 0.88  # measured 0.887 (previous 0.866, first 0.051)
SIB_MIN_FIRST_ALLOWED_PER_LANGUAGE = 0.60  # the goal, in all 32 languages; lowest measured bn 0.63 (previous 0.60)
BBC_MIN_MACRO_F1 = 0.78  # measured 0.832, by the page model (previous 0.832, first 0.743)
# Calibration: in bins of the first topic's probability (<0.4, 0.4-0.6, 0.6-0.8, >=0.8), the gap
# between mean probability and accuracy, weighted by the bin's share. Measured 0.056 on the
# held-back news (12 sections) and 0.044 on the held-back passages.
MAX_CALIBRATION_ERROR = 0.08
SECONDARY_MIN_PRECISION = 0.70  # the goal, on held-back data


@lru_cache(maxsize=1)
def held_back():
    shared_or_skip("topics/sib-200/en.dev.tsv")
    shared_or_skip("topics/news-category/news_category_train.jsonl")
    sys.path.insert(0, str(ROOT))
    from scripts.train_topics import splits

    return splits().held_back


@lru_cache(maxsize=1)
def held_back_passages():
    """The held-back fifth of our passages: in the repository, so these tests need no ../shared."""
    sys.path.insert(0, str(ROOT))
    from scripts.train_topics import PASSAGES_HELD_BACK, _slice, passage_items

    return [i for i in passage_items() if _slice(i.key, 5) < PASSAGES_HELD_BACK]


def test_every_passage_file_is_of_a_known_register():
    """Short model and page model train on different registers, told apart by the file name."""
    sys.path.insert(0, str(ROOT))
    from scripts.train_topics import PASSAGE_REGISTERS, PASSAGES_DIR, passage_register

    assert {passage_register(p) for p in PASSAGES_DIR.glob("*.txt")} == set(PASSAGE_REGISTERS)
    assert passage_register(Path("en.page12.txt")) == "page"
    with pytest.raises(ValueError, match="not a passage file name"):
        passage_register(Path("en.blog1.txt"))


def test_whole_page_passages_are_read_by_the_page_model():
    pages = [i for i in held_back_passages() if i.register == "page"]
    assert pages and all(model_for(i.text) is page_topic_model() for i in pages)


def topics_of(item) -> tuple[str, ...]:
    if item.corpus == "sib":
        return classify_topics(item.text, language=item.language).topics
    headline, _, description = item.text.partition("\n")
    return classify_topics(description, title=headline, language=item.language).topics


@lru_cache(maxsize=1)
def classified() -> dict[str, list[tuple[object, tuple[str, ...]]]]:
    sets = {name: items for name, items in held_back().items() if name not in ("sib-dev sentences", "news 12")}
    return {name: [(i, topics_of(i)) for i in items] for name, items in sets.items()}


@lru_cache(maxsize=1)
def classified_passages() -> list[tuple[object, tuple[str, ...]]]:
    return [(i, topics_of(i)) for i in held_back_passages()]


def macro_f1(pairs) -> float:
    gold = {i.label for i, _ in pairs}
    f1s = []
    for c in gold:
        tp = sum(i.label == c and t[:1] == (c,) for i, t in pairs)
        fp = sum(i.label != c and t[:1] == (c,) for i, t in pairs)
        fn = sum(i.label == c and t[:1] != (c,) for i, t in pairs)
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(f1s) / len(f1s)


def test_news_headline_and_description_floor():
    pairs = classified()["news"]
    assert macro_f1(pairs) >= NEWS_MIN_MACRO_F1
    assert sum(i.label in t for i, t in pairs) / len(pairs) >= NEWS_MIN_IN_STORED


def test_news_in_the_twelve_clear_sections_floor():
    from scripts.train_topics import NEWS_CLEAR_SECTIONS

    pairs = [(i, t) for i, t in classified()["news"] if i.origin in NEWS_CLEAR_SECTIONS]
    assert len({i.label for i, _ in pairs}) == 12
    assert macro_f1(pairs) >= NEWS_12_MIN_MACRO_F1
    assert sum(i.label in t for i, t in pairs) / len(pairs) >= NEWS_12_MIN_IN_STORED


def test_held_back_passages_floor():
    pairs = classified_passages()
    assert len({i.language for i, _ in pairs}) >= 12
    assert sum(t[:1] == (i.label,) for i, t in pairs) / len(pairs) >= PASSAGES_MIN_FIRST


def calibration_error(items) -> float:
    """Gap between the first topic's probability and its accuracy, over probability bins."""
    probabilities, right = [], []
    for item in items:
        headline, _, description = item.text.partition("\n")
        posterior, _ = text_topics(description, headline, item.language)
        if posterior:
            topic, p = max(posterior.items(), key=lambda tp: tp[1])
            probabilities.append(p)
            right.append(topic == item.label)
    p, ok = np.array(probabilities), np.array(right)
    bins = np.digitize(p, [0.4, 0.6, 0.8])
    return sum(abs(p[bins == b].mean() - ok[bins == b].mean()) * (bins == b).mean() for b in set(bins.tolist()))


def test_text_probabilities_are_calibrated_on_held_back_passages():
    assert calibration_error(held_back_passages()) <= MAX_CALIBRATION_ERROR


def test_text_probabilities_are_calibrated_on_held_back_news():
    from scripts.train_topics import NEWS_CLEAR_SECTIONS

    news = [i for i in held_back()["news"] if i.origin in NEWS_CLEAR_SECTIONS]
    assert calibration_error(news) <= MAX_CALIBRATION_ERROR


def test_sib_three_sentence_items_floor_overall_and_per_language():
    pairs = classified()["sib-dev"]
    assert sum(t[:1] != () and t[0] in i.allowed for i, t in pairs) / len(pairs) >= SIB_MIN_FIRST_ALLOWED
    languages = {i.language for i, _ in pairs}
    assert len(languages) == 32
    for language in languages:
        part = [(i, t) for i, t in pairs if i.language == language]
        rate = sum(t[:1] != () and t[0] in i.allowed for i, t in part) / len(part)
        assert rate >= SIB_MIN_FIRST_ALLOWED_PER_LANGUAGE, language


def text_secondaries(pairs) -> list[tuple[str, bool]]:
    """(language, acceptable) of every second or third topic; held-back items carry no feed topic
    or tags, so these come from the text (Personal, from the writer's voice, aside)."""
    return [(i.language, t in i.allowed) for i, topics in pairs for t in topics[1:] if t != "Personal"]


def check_secondaries(outcomes: list[tuple[str, bool]]) -> None:
    thresholds = topic_model().secondary_min_probability
    assert all(language in thresholds for language, _ in outcomes), "a second topic in a language without a threshold"
    if outcomes:
        assert sum(ok for _, ok in outcomes) / len(outcomes) >= SECONDARY_MIN_PRECISION


def test_secondary_topics_from_the_text_meet_the_precision_goal_on_held_back_corpora():
    check_secondaries([o for pairs in classified().values() for o in text_secondaries(pairs)])


def test_secondary_topics_from_the_text_meet_the_precision_goal_on_held_back_passages():
    check_secondaries(text_secondaries(classified_passages()))


def test_a_confident_second_text_topic_is_kept_only_where_a_threshold_allows(monkeypatch):
    """The wiring, with a lowered threshold: English gets the text's likeliest neighbour of its
    first topic as second, German none; a topic that is no neighbour never comes second."""
    import dataclasses

    import enrich.topics as topics_module

    text = "The central bank raised interest rates as the government unveiled its budget and tax plans."
    posterior, _ = text_topics(text, None, "en")
    first = max(posterior, key=posterior.get)
    neighbour = max(RELATED_TOPICS[first], key=posterior.get)
    stranger = max(set(posterior) - RELATED_TOPICS[first] - {first}, key=posterior.get)
    lowest = min(posterior[neighbour], posterior[stranger]) - 1e-6
    lowered = dataclasses.replace(topic_model(), secondary_min_probability={"en": lowest})
    monkeypatch.setattr(topics_module, "topic_model", lambda: lowered)
    topics = classify_topics(text, language="en").topics
    assert topics[:2] == (first, neighbour)
    assert stranger not in topics
    assert len(classify_topics(text, language="de").topics) == 1
    assert classify_topics(text, language="sw").topics == ()  # unknown language: still nothing


def test_related_topics_are_known_topics_and_never_personal():
    assert set(RELATED_TOPICS) <= set(TOPICS) - {"Personal"}
    assert all(related <= set(TOPICS) - {"Personal"} - {topic} for topic, related in RELATED_TOPICS.items())


BBC_TOPIC = {"business": "Business", "entertainment": "Entertainment", "politics": "Politics",
             "sport": "Sports", "tech": "Technology"}  # fmt: skip


@lru_cache(maxsize=1)
def bbc_rows():
    path = shared_or_skip("bbc-news-summary/bbc60.jsonl")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_bbc_exact_topic_floor():
    classes = set(BBC_TOPIC.values())
    gold, first = [], []
    for r in bbc_rows():
        result = classify_topics("\n".join(r["article_sentences"]), title=r["title"])
        gold.append(BBC_TOPIC[r["topic"]])
        first.append(result.topics[0])
        assert "Personal" not in result.topics
    f1s = []
    for c in classes:
        tp = sum(g == c == p for g, p in zip(gold, first))
        fp = sum(g != c == p for g, p in zip(gold, first))
        fn = sum(g == c != p for g, p in zip(gold, first))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    assert sum(f1s) / len(f1s) >= BBC_MIN_MACRO_F1


def test_bbc_is_not_the_training_data():
    passages = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "scripts" / "topic_passages").glob("*.txt"))
    for r in bbc_rows():
        for sentence in r["article_sentences"]:
            if len(sentence) > 40:
                assert sentence not in passages


def test_reweighted_macro_f1_scores_answers_as_if_the_classes_had_other_frequencies():
    sys.path.insert(0, str(ROOT))
    from scripts.train_topics import macro_f1, reweighted_accuracy, reweighted_macro_f1

    # Classes of equal size: equally frequent is the plain macro-F1.
    gold = ["A"] * 4 + ["B"] * 4
    predicted = ["A", "A", "A", "B", "B", "B", "A", "B"]
    assert reweighted_macro_f1(gold, predicted) == pytest.approx(macro_f1(gold, predicted))
    # 100 A items of which 2 are taken for B, and 2 B items both right: B's plain precision is
    # 2 / 4, but as shares of the rows 1 / (1 + 0.02), as if A and B were equally frequent.
    gold, predicted = ["A"] * 100 + ["B"] * 2, ["A"] * 98 + ["B"] * 4
    b_precision = 1 / 1.02
    assert reweighted_macro_f1(gold, predicted) == pytest.approx(
        (2 * 1 * 0.98 / 1.98 + 2 * b_precision / (b_precision + 1)) / 2)
    assert macro_f1(gold, predicted) < reweighted_macro_f1(gold, predicted)
    # At the items' own frequencies it is the plain macro-F1 again; at A 10 times as frequent as
    # B, B's precision is 1 / (1 + 0.02 x 10).
    assert reweighted_macro_f1(gold, predicted, {"A": 100, "B": 2}) == pytest.approx(macro_f1(gold, predicted))
    b_precision = 1 / 1.2
    assert reweighted_macro_f1(gold, predicted, {"A": 10, "B": 1}) == pytest.approx(
        (2 * 1 * 0.98 / 1.98 + 2 * b_precision / (b_precision + 1)) / 2)
    # Accuracy: the recall of each class weighed by its frequency.
    assert reweighted_accuracy(gold, predicted) == pytest.approx((0.98 + 1) / 2)
    assert reweighted_accuracy(gold, predicted, {"A": 3, "B": 1}) == pytest.approx((3 * 0.98 + 1) / 4)


def test_our_news_labels_train_only_the_catch_all_sections_training_items():
    shared_or_skip("topics/news-category/news_category_train.jsonl")
    sys.path.insert(0, str(ROOT))
    from scripts.train_topics import NEWS_CLEAR_SECTIONS, SKIP, news_items, news_labels, splits

    labels = news_labels()
    read = [i for i in news_items(read_by_us=True) if i.read_by_us]
    assert not any(i.read_by_us for i in news_items())  # the editors' sections unless asked
    assert len(read) == sum(topic != SKIP for topic in labels.values()) > 900  # every label found its item
    assert not any(i.origin in NEWS_CLEAR_SECTIONS for i in read)
    assert all(i.label == labels[i.key] for i in read)
    held_back_keys = {i.key for i in splits(news_read_by_us=True).held_back["news"]}
    assert held_back_keys == {i.key for i in held_back()["news"]}  # the same held-back items either way
    assert not held_back_keys & set(labels)


@pytest.mark.parametrize("case", ["held back", "clear section", "not a topic"])
def test_a_news_label_for_a_held_back_or_editor_labelled_item_or_no_topic_is_an_error(tmp_path, monkeypatch, case):
    shared_or_skip("topics/news-category/news_category_train.jsonl")
    sys.path.insert(0, str(ROOT))
    from scripts import train_topics
    from scripts.train_topics import NEWS_CLEAR_SECTIONS, NEWS_FILE, NEWS_HELD_BACK, _slice

    rows = [json.loads(line) for line in NEWS_FILE.read_text(encoding="utf-8").splitlines()]
    catch_all = [r for r in rows if r["category"] not in NEWS_CLEAR_SECTIONS]
    link, topic = {
        "held back": (next(r["link"] for r in catch_all if _slice(r["link"], 10) < NEWS_HELD_BACK), "Health"),
        "clear section": (next(r["link"] for r in rows if r["category"] == "TECH"), "Technology"),
        "not a topic": (next(r["link"] for r in catch_all if _slice(r["link"], 10) >= NEWS_HELD_BACK), "Weather"),
    }[case]
    labels = tmp_path / "labels.tsv"
    labels.write_text(f"# ours\n{link}\t{topic}\n", encoding="utf-8")
    monkeypatch.setattr(train_topics, "NEWS_LABELS_FILE", labels)
    with pytest.raises(ValueError, match="held back or in a section|not a text topic"):
        train_topics.news_items(read_by_us=True)


def test_news_items_we_read_weigh_as_a_group_of_their_own():
    sys.path.insert(0, str(ROOT))
    from scripts.train_topics import Item, Setting, sample_weights

    def news(label: str, ours: bool) -> Item:
        return Item("news", "en", label, label, frozenset({label}), f"{label}{ours}", read_by_us=ours)

    items = [news("Politics", False), news("Sports", False), news("Health", True), news("Health", True)]
    setting = Setting("nb+logistic", 0.03, {"news": 0.75, "news read": 0.25}, {"news": 1.0, "news read": 1.0})
    weights = sample_weights(items, setting)
    # The editors' items share 0.75 and ours 0.25, however many of each there are.
    assert weights[:2].sum() / weights[2:].sum() == pytest.approx(3.0)
