"""summarize: the most central complete sentences, verbatim, in document order, at most three."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pytest

from conftest import shared_or_skip
from enrich.extract import extract_article
from enrich.sentences import is_complete_sentence, split_sentences
from enrich.summarize import summarize, summary_length

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


def assert_good_summary(summary: tuple[str, ...], sentences: list[str], text: str, most: int = 3) -> None:
    assert 1 <= len(summary) <= most
    assert len(set(summary)) == len(summary), "a sentence repeated"
    for sentence in summary:
        assert sentence in text, "not verbatim"
        assert is_complete_sentence(sentence), "a heading or fragment"
    positions = [sentences.index(s) for s in summary]
    assert positions == sorted(positions), "not in document order"


@pytest.mark.parametrize("page", DEMO_PAGES, ids=lambda p: p.stem)
def test_demo_article_summaries(page):
    text = demo_text(page)
    language = LANGUAGE_OF_SITE[page.parent.name]
    sentences = split_sentences(text, language)
    summary = summarize(sentences, language)
    assert len(summary) == 3  # every demo article has well over 12 sentences
    assert_good_summary(summary, sentences, text)


def _bbc_articles() -> list[dict]:
    path = shared_or_skip("bbc-news-summary/bbc60.jsonl")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_bbc_article_summaries():
    for article in _bbc_articles():
        text = " ".join(article["article_sentences"])
        sentences = split_sentences(text, "en")
        assert_good_summary(summarize(sentences, "en"), sentences, text)


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


def test_vietnamese_corpus_sentences_degrade():
    path = shared_or_skip("langid/sentences/vi.txt")
    sentences = [s for s in path.read_text(encoding="utf-8").splitlines() if is_complete_sentence(s)][:40]
    summary = summarize(sentences, "vi")
    assert_good_summary(summary, sentences, "\n".join(sentences))


def test_empty_input_gives_nothing():
    assert summarize([], "en") == ()
    assert summarize(["Programming", "Keeping it fast", "Short one."], "en") == ()
