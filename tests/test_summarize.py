"""summarize: the most central complete sentences, verbatim, in document order, at most three."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pytest
from conftest import shared_or_skip
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence

from enrich.extract import extract_article
from enrich.sentences import dangling_opener, is_complete_sentence, split_sentences
from enrich.summarize import (
    _TOKENIZER,
    MAX_RANKED,
    _summarizer,
    candidates,
    strip_dateline,
    summarize,
    summary_length,
)
from enrich.text import stemmer_for, stop_words_for

DEMO_SITE = Path(__file__).resolve().parents[1] / "data" / "demo" / "site"
DEMO_PAGES = sorted(DEMO_SITE.rglob("*.html"))
LANGUAGE_OF_SITE = {"northwind": "en", "cuaderno": "es", "stadtleben": "de", "kissa": "ja"}  # CORPUS_SPEC.md

# Our own short texts. Vietnamese has no sumy stop words or stemmer and no spaCy tokenizer here.
VIETNAMESE = (
    "Thành phố vừa mở một tuyến xe buýt mới chạy dọc bờ sông. "
    "Tuyến xe này nối bến cảng cũ với khu chợ trung tâm trong khoảng hai mươi phút. "
    "Người dân trong khu phố nói rằng họ đã chờ tuyến xe này suốt nhiều năm. "
    "Mỗi ngày có ba mươi chuyến xe chạy từ sáu giờ sáng đến mười giờ tối. "
    "Giá vé cho một chuyến đi là bảy nghìn đồng cho người lớn. "
    "Học sinh và người cao tuổi được đi miễn phí vào các ngày trong tuần."
)
FOUR_SENTENCES = [
    "The council met on Thursday evening to vote on the budget.",
    "Members argued for six hours about the new cycle lanes.",
    "In the end the plan passed with a clear majority of votes.",
    "Work on the first lane is expected to start next spring.",
]


@lru_cache(maxsize=None)
def demo_text(path: Path) -> str:
    html = path.read_bytes().replace(b"{{DEMO_BASE}}", b"http://127.0.0.1:1")
    return extract_article(html).text


def assert_good_summary(summary: tuple[str, ...], sentences: list[str], text: str, most: int = 3,
                        language: str = "en") -> None:
    """Verbatim, disjoint, in document order, complete, and every sentence readable on its own."""
    assert 1 <= len(summary) <= most
    assert len(set(summary)) == len(summary), "a sentence repeated"
    positions = []
    for sentence in summary:
        assert sentence in text, "not verbatim"
        assert is_complete_sentence(sentence), "a heading or fragment"
        # A whole sentence of the input, or one without its dateline, after the previous pick.
        start = positions[-1] + 1 if positions else 0
        found = [i for i in range(start, len(sentences)) if strip_dateline(sentences[i]) == sentence]
        assert found, f"not a sentence of the input, or not in document order: {sentence!r}"
        positions.append(found[0])
    for sentence, position in zip(summary, positions):
        if dangling_opener(sentence, language):
            before = strip_dateline(sentences[position - 1])
            assert before in summary, f"leans on a sentence left out: {sentence!r}"


@pytest.mark.parametrize("page", DEMO_PAGES, ids=lambda p: p.stem)
def test_demo_article_summaries(page):
    text = demo_text(page)
    language = LANGUAGE_OF_SITE[page.parent.name]
    sentences = split_sentences(text, language)
    summary = summarize(sentences, language)
    assert len(summary) == 3  # every demo article has well over 12 sentences
    assert_good_summary(summary, sentences, text, language=language)


def _bbc_articles() -> list[dict]:
    path = shared_or_skip("bbc-news-summary/bbc60.jsonl")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_bbc_article_summaries():
    for article in _bbc_articles():
        text = " ".join(article["article_sentences"])
        sentences = split_sentences(text, "en")
        assert_good_summary(summarize(sentences, "en"), sentences, text)


# ROUGE-2 against Lead-3 and plain sumy is a floor of tests/test_quality_floors.py.


def test_bbc_summaries_beat_lead_3():
    # The quality gate: share of picked sentences that the human reference summary also picked,
    # against the same share for the first three sentences (the classic news baseline).
    ours = lead = ours_total = lead_total = 0
    for article in _bbc_articles():
        reference = set(article["summary_sentences"])
        picked = summarize(article["article_sentences"], "en")
        ours += sum(s in reference for s in picked)
        ours_total += len(picked)
        lead += sum(s in reference for s in article["article_sentences"][:3])
        lead_total += 3
    assert ours / ours_total >= lead / lead_total


@pytest.mark.parametrize(
    ("count", "expected"),
    [(0, 1), (1, 1), (4, 1), (5, 2), (8, 2), (9, 3), (12, 3), (13, 3), (200, 3)],
)
def test_summary_length_is_a_quarter_capped_at_three(count, expected):
    assert summary_length(count, 3) == expected


def test_summary_length_respects_wanted():
    assert summary_length(40, 1) == 1
    assert summary_length(40, 5) == 5


def test_four_sentences_give_the_lead_sentence():
    # Below five sentences centrality is noise, so the lead is the summary.
    assert summarize(FOUR_SENTENCES, "en") == (FOUR_SENTENCES[0],)


def test_five_sentences_give_two():
    sentences = [*FOUR_SENTENCES, "Cyclists welcomed the decision at a meeting on Friday."]
    summary = summarize(sentences, "en")
    assert len(summary) == 2
    assert_good_summary(summary, sentences, " ".join(sentences))


def test_headings_and_repeats_never_make_the_summary():
    sentences = [
        "Programming",
        "How One Team Cut Build Times",
        *FOUR_SENTENCES,
        FOUR_SENTENCES[0],  # a repeated lead, as some pages print the standfirst twice
        "Keeping it fast",
        *[f"Sentence number {n} says something about the budget and the lanes." for n in range(6)],
    ]
    summary = summarize(sentences, "en")
    assert "Programming" not in summary and "Keeping it fast" not in summary
    assert len(set(summary)) == len(summary) == 3


def test_max_sentences():
    text = demo_text(DEMO_SITE / "northwind" / "rust-build-times.html")
    sentences = split_sentences(text, "en")
    assert len(summarize(sentences, "en", max_sentences=1)) == 1
    assert len(summarize(sentences, "en", max_sentences=5)) == 5


@pytest.mark.parametrize("language", ["xx", "und", "vi", "nl", "tr"])
def test_languages_without_sumy_support_degrade(language):
    sentences = split_sentences(VIETNAMESE, language)
    summary = summarize(sentences, language)
    assert_good_summary(summary, sentences, VIETNAMESE, most=2)  # six sentences -> two


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("bn", ("শহরে নদীর ধারে একটি নতুন সেতু তৈরি হবে। সেতুটি পুরনো বন্দর আর বাজারকে যুক্ত করবে। "
               "কাজ আগামী বসন্তে শুরু হবে বলে পরিষদ জানিয়েছে।")),
        ("hi", ("शहर में नदी के किनारे एक नया पुल बनेगा। यह पुल पुराने बंदरगाह को बाज़ार से जोड़ेगा। "
               "परिषद ने कहा कि काम अगले वसंत में शुरू होगा।")),
        ("ar", ("سيبني المجلس جسرا جديدا فوق النهر في المدينة. سيربط الجسر الميناء القديم بالسوق الكبير. "
               "هل سيبدأ العمل في الربيع المقبل كما قال المجلس؟")),
    ],
)
def test_sentences_ending_in_a_danda_or_arabic_marks_are_summarised(language, text):
    # Before, "।" did not count as the end of a sentence, so Bengali and Hindi got no summary.
    sentences = split_sentences(text, language)
    summary = summarize(sentences, language)
    assert summary and all(s in text for s in summary)
    assert not any(s.endswith("؟") for s in summary)


def test_vietnamese_corpus_sentences_degrade():
    path = shared_or_skip("langid/sentences/vi.txt")
    sentences = [s for s in path.read_text(encoding="utf-8").splitlines() if is_complete_sentence(s)][:40]
    summary = summarize(sentences, "vi")
    assert_good_summary(summary, sentences, "\n".join(sentences))


def test_empty_input_gives_nothing():
    assert summarize([], "en") == ()
    assert summarize(["Programming", "Keeping it fast", "Short one."], "en") == ()


# -- the numpy graphs are sumy's graphs -------------------------------------------------------------

def _real_articles() -> list[tuple[list[str], str]]:
    """Demo articles, and the BBC ones when ../shared is here: (sentences, language)."""
    out = [(split_sentences(demo_text(p), LANGUAGE_OF_SITE[p.parent.name]), LANGUAGE_OF_SITE[p.parent.name])
           for p in DEMO_PAGES]
    try:
        out += [(split_sentences(" ".join(a["article_sentences"]), "en"), "en") for a in _bbc_articles()]
    except pytest.skip.Exception:
        pass
    return out


def _sumy_ranker(method: str, fast: bool):
    """sumy's ranker or our vectorised one; imported when a test asks (sumy's rankers import NLTK)."""
    from sumy.summarizers.lex_rank import LexRankSummarizer
    from sumy.summarizers.text_rank import TextRankSummarizer

    from enrich.graphrank import FastLexRankSummarizer, FastTextRankSummarizer

    return {
        ("lexrank", True): FastLexRankSummarizer, ("lexrank", False): LexRankSummarizer,
        ("textrank", True): FastTextRankSummarizer, ("textrank", False): TextRankSummarizer,
    }[method, fast]


def graph_rank(sentences: list[str], language: str, count: int, *, method: str, fast: bool) -> tuple[str, ...]:
    """The ``count`` sentences sumy's own ranker (``fast=False``) or our vectorised one picks, set up
    with the pipeline's stemmer and stop words."""
    from sumy.nlp.stemmers import null_stemmer

    ranker = _sumy_ranker(method, fast)(stemmer_for(language) or null_stemmer)
    ranker.stop_words = stop_words_for(language)
    document = ObjectDocumentModel([Paragraph([Sentence(s, _TOKENIZER) for s in sentences])])
    return tuple(str(s) for s in ranker(document, count))


@pytest.mark.parametrize("method", ["lexrank", "textrank"])
def test_vectorised_rankers_pick_exactly_what_sumy_picks(method):
    articles = _real_articles()
    assert len(articles) >= 16
    for sentences, language in articles:
        for count in (1, 3, 5):
            assert graph_rank(sentences, language, count, method=method, fast=True) == graph_rank(
                sentences, language, count, method=method, fast=False
            )


def test_vectorised_lexrank_similarities_are_sumys_cosines():
    from sumy.summarizers.lex_rank import LexRankSummarizer

    from enrich.graphrank import FastLexRankSummarizer, FastTextRankSummarizer

    sentences = split_sentences(demo_text(DEMO_SITE / "northwind" / "rust-build-times.html"), "en")
    sumy = LexRankSummarizer(stemmer_for("en"))
    sumy.stop_words = stop_words_for("en")
    fast = _summarizer("en", method="lexrank")
    assert isinstance(fast, FastLexRankSummarizer)
    words = [sumy._to_words_set(Sentence(s, _TOKENIZER)) for s in sentences]
    tf, idf = sumy._compute_tf(words), sumy._compute_idf(words)
    assert fast._compute_idf(words) == pytest.approx(idf)
    ours = fast.similarities(tf, idf)
    for i in range(len(words)):
        for j in range(len(words)):
            assert ours[i, j] == pytest.approx(sumy.cosine_similarity(words[i], words[j], tf[i], tf[j], idf), abs=1e-12)
    assert isinstance(_summarizer("en", method="textrank"), FastTextRankSummarizer)


def test_unsupported_languages_keep_the_lead_sentences():
    sentences = split_sentences(VIETNAMESE, "vi")
    assert summarize(sentences, "vi") == tuple(c.text for c in candidates(sentences)[:2])


def test_the_title_may_steer_but_never_enters_the_summary():
    text = demo_text(DEMO_SITE / "northwind" / "rust-build-times.html")
    sentences = split_sentences(text, "en")
    title = "How One Compiler Team Cut Rust Build Times by 41 Percent"
    summary = summarize(sentences, "en", title=title)
    assert title not in summary
    assert_good_summary(summary, sentences, text)


# -- summaries that stand alone (issue 12) -----------------------------------------------------------

# A small story of our own: the deep sentences share the most words, so centrality wants them.
BRIDGE = [
    "The regional council voted on Thursday to build a new bridge over the river Elm.",  # 0
    "The bridge will link the old harbour district with the market quarter in the east.",
    "Construction of the bridge over the river is due to start in the spring of next year.",
    "The council expects the bridge to carry about twelve thousand cars and bicycles a day.",
    "Local shops in the harbour district welcomed the vote on the bridge over the river.",
]


def test_a_sentence_leaning_on_the_one_before_needs_it_in_the_summary():
    sentences = [
        "Yesterday the team signed a quarterback from the Denver club for two seasons.",
        "This former third-round pick from the Denver club scored twelve touchdowns for the Denver club last season.",
        *BRIDGE,
    ]
    for max_sentences in (1, 2, 3):
        summary = summarize(sentences, "en", max_sentences=max_sentences)
        assert_good_summary(summary, sentences, "\n".join(sentences), most=max_sentences)
        if sentences[1] in summary:
            assert sentences[0] in summary


@pytest.mark.parametrize(
    ("opener", "language"),
    [("This former third-round pick", "en"), ("He", "en"), ("But the", "en"), ("However, the", "en"),
     ("It", "en"), ("Sie", "de"), ("Aber die", "de"), ("Cependant, le", "fr"), ("Sin embargo, el", "es"),
     ("Questo", "it"), ("Além disso, o", "pt")],
)
def test_dangling_openers_per_language(opener, language):
    assert dangling_opener(f"{opener} plan went ahead after a long debate.", language)
    assert dangling_opener(f"The plan went ahead after a long debate, {opener.lower()} said.", language) is None


def test_compounds_and_existential_there_do_not_dangle():
    assert dangling_opener("So-called challenger banks are all the rage.", "en") is None
    assert dangling_opener("There are three main models of the laptop.", "en") is None


@pytest.mark.parametrize(
    "bad",
    [
        "Why would the council build a bridge over the river Elm for the harbour district?",  # a question
        "Photo: the bridge over the river Elm at dawn, seen from the harbour district.",  # a caption
        "The council chamber before the bridge vote (Photo by Jane Doe/Getty Images).",
        "By Jane Doe and John Roe, Elm Valley Courier, updated on Thursday at noon.",  # a byline
        "Editor’s note: this story about the bridge over the river Elm has been updated.",
        "This article about the bridge was originally published in the Elm Valley Courier.",
        "A version of the bridge story first appeared on the Elm Valley Courier website in May.",
    ],
)
def test_questions_captions_bylines_and_notes_never_make_the_summary(bad):
    # The bad sentence repeats the story's central words, so centrality alone would pick it.
    sentences = [BRIDGE[0], bad, *BRIDGE[1:], "Work on the bridge over the river will take two years in all."]
    summary = summarize(sentences, "en")
    assert bad not in summary
    assert_good_summary(summary, sentences, "\n".join(sentences))


def test_near_duplicate_sentences_are_not_both_chosen():
    twin = "The council expects the bridge to carry about twelve thousand cars and bicycles every day."
    sentences = [*BRIDGE[:4], twin, *BRIDGE[4:], "Work on the bridge over the river will take two years in all."]
    summary = summarize(sentences, "en", max_sentences=3)
    assert not (BRIDGE[3] in summary and twin in summary)


def test_a_wire_dateline_is_left_out_of_the_summary_sentence():
    lead = "WASHINGTON (AP) — The regional council voted on Thursday to build a new bridge over the river Elm."
    for dateline in ("WASHINGTON (AP) — ", "ST. JOSEPH, Mich. (AP) — ", "LONDON - "):
        sentences = [dateline + BRIDGE[0], *BRIDGE[1:], "Work on the bridge over the river will take two years."]
        text = "\n".join(sentences)
        summary = summarize(sentences, "en")
        assert BRIDGE[0] in summary and not any(s.startswith(dateline) for s in summary)
        assert_good_summary(summary, split_sentences(text, "en"), text)
    assert candidates([lead])[0].text == BRIDGE[0]


def test_a_long_article_whose_picks_all_come_from_deep_keeps_its_lead(monkeypatch):
    # The ranker's scores stand in for a centrality that favours the end of a 30-sentence story.
    import numpy

    import enrich.summarize

    sentences = [f"Item {n} of the council report on the river bridge was read out on Monday." for n in range(30)]
    sentences = [s.replace("Item", w) for s, w in zip(sentences, ("Part", "Section", "Clause") * 10)]
    scores = numpy.linspace(0.1, 1.0, 30)
    scores[1] = 0.5  # the best of the lead, behind the whole deep end
    monkeypatch.setattr(enrich.summarize, "score_sentences", lambda unique, *a, **k: (scores[: len(unique)], None))
    monkeypatch.setattr(enrich.summarize, "NEAR_DUPLICATE", 1.0)  # the sentences are alike on purpose
    summary = summarize(sentences, "en")
    assert summary == (sentences[1], sentences[28], sentences[29])  # the lead's best replaced the weakest pick
    monkeypatch.setattr(enrich.summarize, "LONG_ARTICLE", 31)
    assert summarize(sentences, "en") == tuple(sentences[27:])  # a shorter article keeps the ranker's picks


def test_a_huge_text_ranks_a_bounded_number_of_sentences(monkeypatch):
    # Issue 13: a 1 MB page of 20,000 sentences made the dense N x N matrices take gigabytes.
    import enrich.summarize

    ranked: list[int] = []
    real = enrich.summarize.score_sentences

    def counting(unique, *args, **kwargs):
        ranked.append(len(unique))
        return real(unique, *args, **kwargs)

    monkeypatch.setattr(enrich.summarize, "score_sentences", counting)
    import random

    pick = random.Random(12)
    words = ("council budget river bridge lanes cyclists mayor city voted plan money year street night harbour "
             "market school teacher library garden museum tram station ticket price winter summer festival music "
             "theatre doctor hospital nurse patient farmer harvest weather storm flood road repair").split()
    sentences = [" ".join(pick.sample(words, 10)).capitalize() + f" in week {i}." for i in range(20_000)]
    assert sum(map(len, sentences)) > 1_000_000
    summary = summarize(sentences, "en")
    assert ranked == [MAX_RANKED]
    assert len(summary) == 3
    assert all(sentences.index(s) < MAX_RANKED for s in summary)


# -- properties on generated articles with every trap at once ----------------------------------------

WORDS = "council bridge river budget harbour market cyclists mayor city plan vote street money year night".split()
OPENERS = ["", "", "", "This ", "But ", "He ", "However, ", "It ", "WASHINGTON (AP) — ", "Photo: ", "By Jane Doe, "]
ABBREVIATED = ["", "", " No. 5", " St. Louis", " Lt. Col. Ann Baker", " approx. 40 people"]
ENDS = [".", ".", ".", "?", "!"]


@st.composite
def trapped_article(draw) -> str:
    paragraphs = []
    for _ in range(draw(st.integers(1, 6))):
        sentences = []
        for _ in range(draw(st.integers(1, 8))):
            body = " ".join(draw(st.lists(st.sampled_from(WORDS), min_size=4, max_size=18)))
            opener, tail, end = draw(st.sampled_from(OPENERS)), draw(st.sampled_from(ABBREVIATED)), draw(st.sampled_from(ENDS))
            sentences.append(f"{opener}{body}{tail}{end}" if opener else f"{body.capitalize()}{tail}{end}")
        paragraphs.append(" ".join(sentences))
    return "\n".join(paragraphs)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=trapped_article(), max_sentences=st.integers(1, 5))
def test_summaries_are_verbatim_ordered_and_stand_alone_on_any_text(text, max_sentences):
    from enrich.quotes import pick_quotes

    sentences = split_sentences(text, "en")
    summary = summarize(sentences, "en", max_sentences=max_sentences)
    if summary:
        assert_good_summary(summary, sentences, text, most=max_sentences)
    for sentence in summary:
        assert not sentence.rstrip("!.").endswith("?") and not sentence.startswith(("Photo:", "WASHINGTON"))
        assert not (sentence.startswith("By Jane Doe") or sentence.endswith((" No.", " St.", " Lt.", " approx.")))
    quotes = pick_quotes(sentences, "en", exclude=summary, count=5)
    for quote in quotes:
        assert quote.text in text and not any(s in quote.text for s in summary)
    positions = [sentences.index(q.text) for q in quotes]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
