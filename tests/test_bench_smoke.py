"""The quality benches still run end to end, each on 3 items of its corpus (figures are not checked:
they mean nothing at this size, and speed belongs in bench/). The speed benches: test_bench_smoke_speed.py.
Marked ``bench``: left out of the suite's four minutes, run by ``uv run pytest -m bench`` (CI runs it
after the suite)."""

from __future__ import annotations

import pytest

from tests.bench_runs import run_bench
from tests.conftest import shared_or_skip

pytestmark = pytest.mark.bench


def test_extraction_bench_scores_plain_trafilatura_and_ours():
    shared_or_skip("article-extraction-benchmark")
    out = run_bench("extraction.py")
    assert "plain trafilatura.extract()" in out and "goal F1 >=" in out


def test_card_bench_compares_ours_with_bare_trafilatura():
    shared_or_skip("article-extraction-benchmark")
    out = run_bench("card.py")
    assert "bare trafilatura" in out and "held back pages" in out


def test_kind_bench_judges_the_labelled_pages():
    shared_or_skip("article-extraction-benchmark")
    out = run_bench("kind.py")
    assert "Kind against 3 hand-labelled pages" in out and "decided by:" in out


def test_language_bench_runs_every_detector():
    shared_or_skip("langid")
    shared_or_skip("article-extraction-benchmark")
    out = run_bench("language.py")
    assert "bare langdetect" in out and "detect_language on 3 article bodies" in out


def test_quotes_bench_picks_quotes():
    shared_or_skip("bbc-news-summary")
    shared_or_skip("article-extraction-benchmark")
    out = run_bench("quotes.py")
    assert "Key quotes on 19 articles" in out  # 3 BBC + the 16 demo articles


def test_summary_bench_scores_against_the_references():
    shared_or_skip("bbc-news-summary")
    shared_or_skip("article-extraction-benchmark")
    out = run_bench("summary.py")
    assert "Summaries of 3 BBC articles" in out and "goal ROUGE-2" in out


def test_topics_bench_compares_the_old_and_new_classifiers():
    shared_or_skip("bbc-news-summary")
    shared_or_skip("topics")
    out = run_bench("topics.py")
    assert "new models:" in out and "previous classifiers loaded" in out and "macro-F1" in out
    assert "routed to the page model" in out
