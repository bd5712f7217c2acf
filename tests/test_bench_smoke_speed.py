"""The speed benches still run end to end at a tiny size: loopback servers, the flow or the
command, DuckDB, their tables (figures are not checked). The runs through the flow use the
session's Prefect server (PREFECT_API_URL) instead of starting their own.

Marked ``bench`` (the heaviest start processes, servers or stores: 2-3 minutes together on two
cores): the suite leaves them out, CI runs them after it (``uv run pytest -m bench``)."""

from __future__ import annotations

import pytest

from tests.bench_runs import run_bench
from tests.conftest import shared_or_skip

pytestmark = pytest.mark.bench


@pytest.fixture
def prefect_api_url(prefect_harness) -> str:
    from prefect.settings import PREFECT_API_URL

    return str(PREFECT_API_URL.value())


def test_first_article_bench_times_a_workers_first_and_second_article_per_language():
    shared_or_skip("langid")
    out = run_bench("first_article.py")
    assert "first / second" in out and "languages costing a worker over" in out


def test_fetch_guard_bench_times_both_ways():
    out = run_bench("fetch_guard.py", "--requests", "20", "--rounds", "1", "--warmup", "2")
    assert "keep-alive" in out and "new connection each" in out


def test_api_bench_answers_during_a_run():
    out = run_bench("api.py", "--articles", "300", "--requests", "3")
    assert "built 300 articles" in out and "writer committed" in out


def test_related_bench_adds_to_a_store():  # its synthetic vocabulary and clusters cost the same at any size
    out = run_bench("related.py", "--sizes", "200")
    assert "growth" in out


def test_wild_input_bench_parses_real_feeds():
    shared_or_skip("feeds")
    out = run_bench("wild_input.py", "--repeat", "1")
    assert "3 feeds: feedparser yields" in out


def test_stemmers_bench_loads_each_stemmer():  # loading the Polish stemmer twice is 8 s of CPU
    out = run_bench("stemmers.py")
    assert "polish, sumy's own" in out and out.count("polish, ") == 2  # sumy's stemmer and ours


def test_poll_bench_gets_a_304_for_every_feed_the_second_time(prefect_api_url):
    out = run_bench("poll.py", "--feeds", "2", "--entries", "1", "--hosts", "2", "--latency-ms", "0",
                    "--no-calibration", PREFECT_API_URL=prefect_api_url)
    assert "PASS: run 2 got a 304 for every feed" in out and "FAIL" not in out


def test_throughput_bench_runs_the_flow_and_the_plain_driver(prefect_api_url):
    shared_or_skip("article-extraction-benchmark")
    out = run_bench("throughput.py", "--sizes", "2", "--hosts", "2", "--feeds", "1", "--rounds", "1",
                    "--no-cold-start", "--quiet-wait", "0", PREFECT_API_URL=prefect_api_url)
    assert "articles/s end to end" in out and "x floor" in out
    assert "N = 2, command line, first request -> exit" in out
    assert "timed without sampling its memory" in out and "peak PSS CLI + workers" in out


def test_large_store_bench_runs_the_command_into_both_stores(prefect_api_url):
    out = run_bench("large_store.py", "--stored", "300", "--new", "2", "--feeds", "1", "--rounds", "1",
                    "--no-warm-up", PREFECT_API_URL=prefect_api_url)
    assert "PASS: every run enriched its articles" in out
    assert "peak PSS, command + workers (the memory run)" in out
