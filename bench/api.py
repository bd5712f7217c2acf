"""Latency of ``GET /articles`` on a store of 100,000 articles, with and without ``q``, and during a run.

The bench builds its own synthetic store (``build_store``): 100,000 articles from 200 feeds over
90 days in 5 languages, 1-3 of the 19 topics each, 400-word texts drawn from a 20,000-word made-up
vocabulary with Zipf frequencies, 3-sentence summaries, 4 quotes, 5 related articles each, 5 % folded
duplicates. It then starts ``enrich api`` (the real uvicorn server, in its own process) on a free
loopback port and times requests with httpx from this process:

1. idle: the first page unfiltered, by topic, by language + kind, by feed, since a date, a deep page
   (cursor 50 pages in), then searches: a frequent word, a rare word, a word in no article (the
   worst case: every text is scanned), two words;
2. during a run: a writer process opens the file read-write every 0.5 s, upserts 25 articles (what
   one batch of the flow writes), closes; the API keeps answering from its snapshot and refreshes
   between batches. Reported: latency, how many answers said they were stale, how many snapshots
   answered, and how long after the run its articles were served.

Also reported: the server's CPU per request (psutil, user + system of the server process and its
DuckDB threads), and how long a snapshot (copy + prepare) takes, which is the longest a writer
waits for the API.

Run: .venv/bin/python bench/api.py [--articles 100000] [--requests 200]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import psutil
from _report import print_table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from enrich.preview import TOPICS
from enrich.store import ApiSnapshot, open_store

FEEDS = 200
LANGUAGES = ("en", "de", "es", "fr", "ja")
KINDS = ("News", "Insight", "Opinion", "Guide", "Review", "Announcement", "Personal")
VOCABULARY = 20_000
TEXT_WORDS = 400
DAYS = 90
DUPLICATE_SHARE = 0.05
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
_SYLLABLES = ["ka", "lo", "mi", "ren", "tu", "sa", "vor", "el", "qui", "dan", "po", "ris", "nu", "bel", "ga", "tor"]


def make_vocabulary(count: int, seed: int = 7) -> list[str]:
    """Pronounceable made-up words, unique, most frequent first (the Zipf draw favours low ranks)."""
    rng = np.random.default_rng(seed)
    words: dict[str, None] = {}
    while len(words) < count:
        n = rng.integers(2, 5)
        words["".join(_SYLLABLES[i] for i in rng.integers(0, len(_SYLLABLES), n))] = None
    return list(words)


def build_store(path: Path, articles: int, vocabulary: list[str]) -> None:
    """The synthetic store, written set-based through the store's own connection."""
    with open_store(path) as store:
        store.query(
            """INSERT INTO feeds (url, title, last_polled_at, last_status, http_status, consecutive_failures)
               SELECT 'https://feed' || i || '.example/rss', 'Feed ' || i, ?, 'ok', 200, 0 FROM range(?) t(i)""",
            [NOW, FEEDS])
        # Zipf-like ranks: floor(V ** u) for uniform u favours the first words, as natural text does.
        store.query(
            f"""
            INSERT INTO articles (url, feed_url, entry_id, link, title, author, published_at, language, kind,
                                  reading_minutes, word_count, topics, topic_scores, summary, key_quotes,
                                  feed_snippet, text, text_source, status, first_seen_at, duplicate_of, content_hash,
                                  enriched_at)
            WITH words AS (SELECT ?::VARCHAR[] AS v, ?::VARCHAR[] AS tp),
            base AS (
                SELECT i, tp, list_transform(range({TEXT_WORDS}),
                           lambda j: v[1 + (floor(pow({VOCABULARY}, (hash(i * 7919 + j) % 1000000) / 1000000.0))::BIGINT
                                       % {VOCABULARY})]) AS w
                FROM range(?) t(i), words)
            SELECT 'https://site' || (i % {FEEDS}) || '.example/post/' || i,
                   'https://feed' || (i % {FEEDS}) || '.example/rss', 'id-' || i,
                   'https://site' || (i % {FEEDS}) || '.example/post/' || i,
                   'Article ' || i || ': ' || array_to_string(w[1:8], ' '),
                   'Author ' || (i % 997),
                   ?::TIMESTAMPTZ - to_seconds((hash(i) % ({DAYS} * 86400))::BIGINT),
                   ['en', 'de', 'es', 'fr', 'ja'][1 + i % 5],
                   ['News', 'Insight', 'Opinion', 'Guide', 'Review', 'Announcement', 'Personal'][1 + i % 7],
                   2, {TEXT_WORDS},
                   list_distinct([tp[1 + i % 19], tp[1 + (i // 19) % 19]]),
                   [0.6, 0.3],
                   [array_to_string(w[1:20], ' ') || '.', array_to_string(w[21:40], ' ') || '.',
                    array_to_string(w[41:60], ' ') || '.'],
                   [array_to_string(w[100:115], ' ') || '.', array_to_string(w[150:165], ' ') || '.',
                    array_to_string(w[200:215], ' ') || '.', array_to_string(w[250:265], ' ') || '.'],
                   array_to_string(w[1:40], ' '), array_to_string(w, ' '), 'page', 'ok', ?::TIMESTAMPTZ,
                   CASE WHEN hash(i * 31) % 100 < {int(DUPLICATE_SHARE * 100)} AND i > 0
                        THEN 'https://site' || ((i - 1) % {FEEDS}) || '.example/post/' || (i - 1) END,
                   md5(i::VARCHAR), ?::TIMESTAMPTZ
            FROM base
            """,
            [vocabulary, list(TOPICS), articles, NOW, NOW, NOW])
        store.query(
            """INSERT INTO related
               SELECT 'https://site' || (i % ?) || '.example/post/' || i,
                      'https://site' || (((i + k * 7919) % ?) % ?) || '.example/post/' || ((i + k * 7919) % ?),
                      1.0 / (k + 1), k, 'bench'
               FROM range(?) t(i), range(1, 6) r(k)""",
            [FEEDS, articles, FEEDS, articles, articles])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def writer(path: str, stop, batches, interval: float = 0.5) -> None:
    """What a run does to the file: open read-write, upsert one batch of 25 articles, close."""
    n = 0
    while not stop.is_set():
        with open_store(path, wait_seconds=30) as store:
            store.query(
                """INSERT INTO articles (url, feed_url, title, published_at, language, kind, topics, summary,
                                         key_quotes, text, text_source, status, first_seen_at)
                   SELECT 'https://new.example/' || ? || '/' || i, 'https://feed0.example/rss', 'New ' || i, now(),
                          'en', 'News', ['Technology'], ['A new one.'], [], 'runbatch' || ? || 'x', 'page', 'ok', now()
                   FROM range(25) t(i)""", [n, n])
        n += 1
        batches.value = n
        time.sleep(interval)


def timed(client: httpx.Client, url: str, params: dict, count: int) -> tuple[list[float], int, set[str]]:
    """Wall-clock milliseconds of ``count`` requests, how many were answered from a stale snapshot,
    and the snapshots (their times) that answered."""
    samples, stale, snapshots = [], 0, set()
    for _ in range(count):
        start = time.perf_counter()
        response = client.get(url, params=params)
        samples.append((time.perf_counter() - start) * 1000)
        response.raise_for_status()
        stale += "x-enrich-stale" in response.headers
        snapshots.add(response.headers["x-enrich-snapshot"])
    return samples, stale, snapshots


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-api-"))
    db = work / "bench.duckdb"
    vocabulary = make_vocabulary(VOCABULARY)
    start = time.perf_counter()
    build_store(db, args.articles, vocabulary)
    print(f"built {args.articles:,} articles in {time.perf_counter() - start:.1f} s, "
          f"{db.stat().st_size / 1e6:.0f} MB")

    cpu = time.process_time()
    start = time.perf_counter()
    snapshot = ApiSnapshot.prepare(_copy(db, work / "probe.duckdb"))
    print(f"snapshot prepare (materialise the reader's records): {time.perf_counter() - start:.2f} s wall, "
          f"{time.process_time() - cpu:.2f} s CPU")
    shown = snapshot.topic_counts()[None]
    snapshot.close()

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "flows.cli", "api", "--db", str(db), "--port", str(port)],
                              cwd=ROOT, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        client = httpx.Client(base_url=base, timeout=60)
        _wait_ready(client)
        first = client.get("/articles", params={"limit": 20}).json()
        cursor = first["next_cursor"]
        for _ in range(49):
            cursor = client.get("/articles", params={"limit": 20, "cursor": cursor}).json()["next_cursor"]
        frequent, rare = vocabulary[1], vocabulary[5000]
        cases = {
            "first page": {},
            "topic=Science": {"topic": "Science"},
            "language=de&kind=Review": {"language": "de", "kind": "Review"},
            "feed": {"feed": "https://feed7.example/rss"},
            "since 7 days": {"since": (NOW - timedelta(days=7)).date().isoformat()},
            "page 51 (cursor)": {"cursor": cursor},
            "q=frequent word": {"q": frequent},
            "q=rare word": {"q": rare},
            "q=word in no article": {"q": "zzzqqqxxx"},
            "q=two words + topic": {"q": f"{frequent} {rare}", "topic": "Science"},
        }
        process = psutil.Process(server.pid)
        print(f"\n{shown:,} articles shown (duplicates folded); {args.requests} requests per case; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        table = []
        for name, params in cases.items():
            before = sum(process.cpu_times()[:2])
            samples, _, _ = timed(client, "/articles", params, args.requests)
            cpu_ms = (sum(process.cpu_times()[:2]) - before) * 1000 / args.requests
            table.append((name, f"{statistics.median(samples):.1f}", f"{p95(samples):.1f}", f"{cpu_ms:.1f}"))
        print_table(("case", "p50 ms", "p95 ms", "CPU ms/req"), table)

        stop = multiprocessing.Event()
        batches = multiprocessing.Value("i", 0)
        run = multiprocessing.Process(target=writer, args=(str(db), stop, batches))
        run.start()
        try:
            table = []
            for name in ("first page", "topic=Science", "q=rare word"):
                samples, stale, snapshots = timed(client, "/articles", cases[name], args.requests)
                table.append((name, f"{statistics.median(samples):.1f}", f"{p95(samples):.1f}",
                              f"{stale}/{len(samples)}", f"{len(snapshots)}"))
            print()
            print_table(("case", "p50 ms", "p95 ms", "stale answers", "snapshots answering"), table,
                        title="during a run (a writer upserts 25 articles every 0.5 s):")
        finally:
            stop.set()
            run.join()
        ended = time.monotonic()
        print(f"writer committed {batches.value} batches while the API answered")
        last = f"runbatch{batches.value - 1}x"
        while not client.get("/articles", params={"q": last, "limit": 1}).json()["articles"]:
            time.sleep(0.5)
        print(f"the run's last batch was served {time.monotonic() - ended:.0f} s after the run ended")
    finally:
        server.terminate()
        server.wait()


def _copy(db: Path, target: Path) -> Path:
    import shutil

    start = time.perf_counter()
    shutil.copyfile(db, target)
    print(f"file copy: {time.perf_counter() - start:.2f} s wall")
    return target


def _wait_ready(client: httpx.Client, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if client.get("/topics").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("the API did not come up")


if __name__ == "__main__":
    main()
