"""Scale: `enrich run` adding 100 new articles to a store of 200,000, against the same run into an empty store.

Issue 15 item 4: the run into the large store may cost at most 1.5x the run into the empty one, and
stay under 1 GiB of peak memory. The bench builds the large store itself (a year of 200 feeds,
written in bulk through ``enrich.store``), serves the new articles on a loopback site, and runs the
real command (``python -m flows.cli run --feeds FILE --db FILE``, against a Prefect server this
bench starts) into a fresh copy of each store, alternating the order over ``--rounds``. How the
store is made and what each figure means: docs/large-store.md.

    uv run python bench/large_store.py                            # 200,000 stored, 100 new, 2 rounds
    uv run python bench/large_store.py --stored 5000 --new 10 --rounds 1   # a quick look
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
from _articles import THEMES, build_site, make_article
from rich.console import Console
from rich.table import Table

from enrich.dedup import text_fingerprint
from enrich.linking import link_articles
from enrich.related import article_vector, window_start
from enrich.sites import LoopbackSite
from enrich.store import open_store

ROOT = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024
GOAL_RATIO = 1.5  # issue 15 item 4
GOAL_MEMORY = 1024 * MIB
FEEDS = 200  # a reader's subscriptions
STORIES = 2_000  # distinct texts; stored articles cycle through them (vectors and MinHashes are real)
SYLLABLES = ["ka", "lo", "mi", "ren", "tu", "sa", "vor", "el", "qui", "dan", "po", "ris", "nu", "bel", "ga", "tor"]
TOPICS = ("Technology", "Science", "Business", "Politics", "Sport", "Culture", "Food", "Travel", "Health", "Local")
KINDS = ("News", "Insight", "Opinion", "Guide", "Review", "Announcement", "Personal")
RUNS_PER_DAY = 4  # a run every 6 hours
FAILED_SHARE = 2  # percent of stored articles that failed (fetch_failed), as a real store holds some
DUPLICATE_SHARE = 3  # percent folded as copies of the article before them
RELATED_PER_ARTICLE = 5
console = Console(highlight=False, width=160)


# -- the large store ---------------------------------------------------------------------------
def _made_up_text(rng: random.Random, vocabulary: list[str]) -> tuple[str, str]:
    """(title, text): 300-600 words of a made-up language with Zipf-like word frequencies, so that
    stories share common words but each has its own subject words, as unrelated news does."""
    subject = rng.sample(vocabulary[200:], 12)  # this story's own words
    words = rng.randint(300, 600)
    picked = [rng.choice(subject) if rng.random() < 0.15 else vocabulary[min(int(len(vocabulary) ** rng.random()) - 1,
                                                                               len(vocabulary) - 1)]
              for _ in range(words)]
    sentences, at = [], 0
    while at < len(picked):
        n = rng.randint(12, 24)
        sentences.append(" ".join(picked[at : at + n]).capitalize() + ".")
        at += n
    paragraphs = [" ".join(sentences[i : i + 4]) for i in range(0, len(sentences), 4)]
    return " ".join(subject[:5]).capitalize(), "\n".join(paragraphs)


def _stories(count: int, similar_percent: int, now: datetime) -> dict[str, list]:
    """``count`` stories with their real vector and MinHash, as lists for SQL parameters.

    ``similar_percent`` of them are English news from the generator the new articles come from
    (so the new articles find related stored ones among them), the rest unrelated texts."""
    rng = random.Random(15)
    vocabulary = sorted({"".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in range(30_000)})
    rng.shuffle(vocabulary)
    themes = list(THEMES.values())
    out: dict[str, list] = {k: [] for k in ("titles", "texts", "summaries", "quotes", "vectors", "prints")}
    for k in range(count):
        if k % 100 < similar_percent:
            story = make_article(10_000 + k, k, themes[k % len(themes)], "https://stored.example", now)
            title, text = story.title, story.text
        else:
            title, text = _made_up_text(rng, vocabulary)
        sentences = [s.strip().rstrip(".") + "." for s in text.replace("\n", " ").split(". ") if s.strip()]
        out["titles"].append(title)
        out["texts"].append(text)
        out["summaries"].append(sentences[:3])
        out["quotes"].append(sentences[5:9])
        out["vectors"].append(article_vector(text, title, "en").to_bytes())
        out["prints"].append(text_fingerprint(text))
    return out


def build_store(path: Path, stored: int, days: int, now: datetime, similar_percent: int = 1) -> None:
    """``stored`` articles from FEEDS feeds published evenly over ``days`` up to ``now``, with their
    feeds, feed links, related lists, runs and failures, written set-based through the store."""
    began = time.process_time()
    s = _stories(min(STORIES, stored), similar_percent, now)
    console.print(f"  {len(s['texts']):,} distinct stories with vectors and MinHashes "
                  f"({time.process_time() - began:.1f} s CPU)")
    url = "'https://site' || (i % {F}) || '.example/story/' || i".format(F=FEEDS)
    with open_store(path) as store:
        store.query(
            """INSERT INTO feeds (url, title, language, last_polled_at, last_status, http_status,
                                  consecutive_failures, next_poll_at, last_success_at)
               SELECT 'https://feed' || i || '.example/rss', 'Feed ' || i, 'en', ?, 'ok', 200, 0, ?, ?
               FROM range(?) t(i)""",
            [now, now + timedelta(days=1), now, FEEDS])
        store.query(
            f"""
            INSERT INTO articles (url, feed_url, entry_id, link, canonical_url, title, author, published_at,
                site_name, tags, language, language_confidence, word_count, reading_minutes, text, text_source,
                summary, key_quotes, key_quote_speakers, feed_snippet, topics, topic_scores, kind, content_hash,
                fetched_at, enriched_at, http_status, status, reason, first_seen_at, attempts, run_id, vector,
                fingerprint, metadata_sources, duplicate_of)
            WITH s AS (SELECT ?::VARCHAR[] AS titles, ?::VARCHAR[] AS texts, ?::VARCHAR[][] AS summaries,
                              ?::VARCHAR[][] AS quotes, ?::BLOB[] AS vectors, ?::BLOB[] AS prints,
                              ?::VARCHAR[] AS topics, ?::VARCHAR[] AS kinds),
            a AS (SELECT i, 1 + i % len(texts) AS k, hash(i) % 100 AS luck,
                         ?::TIMESTAMPTZ - to_seconds((i * {days * 86400} // ?)::BIGINT) AS published
                  FROM range(?) t(i), s)
            SELECT {url}, 'https://feed' || (i % {FEEDS}) || '.example/rss', {url}, {url}, {url},
                   titles[k], 'Author ' || (i % 997), published, 'Site ' || (i % {FEEDS}), [topics[1 + i % 10]], 'en', 0.99,
                   len(string_split(texts[k], ' ')), 1 + len(string_split(texts[k], ' ')) // 230,
                   CASE WHEN luck < {FAILED_SHARE} THEN '' ELSE texts[k] END,
                   CASE WHEN luck < {FAILED_SHARE} THEN 'none' ELSE 'page' END,
                   summaries[k], quotes[k], [NULL::VARCHAR for q in quotes[k]], left(texts[k], 300),
                   [topics[1 + i % 10]], [0.7], kinds[1 + i % 7], md5(i::VARCHAR), published, published, 200,
                   CASE WHEN luck < {FAILED_SHARE} THEN 'fetch_failed' ELSE 'ok' END,
                   CASE WHEN luck < {FAILED_SHARE} THEN 'fetch.timeout' END, published, 1,
                   'run' || (i * {days * RUNS_PER_DAY} // ?),
                   CASE WHEN luck >= {FAILED_SHARE} THEN vectors[k] END,
                   CASE WHEN luck >= {FAILED_SHARE} THEN prints[k] END,
                   '{{"title": "feed", "author": "page", "published_at": "feed"}}',
                   CASE WHEN luck >= 100 - {DUPLICATE_SHARE} AND i > 0
                        THEN 'https://site' || ((i - 1) % {FEEDS}) || '.example/story/' || (i - 1) END
            FROM a, s
            """,
            [s["titles"], s["texts"], s["summaries"], s["quotes"], s["vectors"], s["prints"], list(TOPICS),
             list(KINDS), now, stored, stored, stored])
        store.query("INSERT INTO article_feeds SELECT url, feed_url, first_seen_at, run_id FROM articles")
        store.query(
            f"""INSERT INTO related
                SELECT url, 'https://site' || (j % {FEEDS}) || '.example/story/' || j, 0.9 - r * 0.1, r, run_id
                FROM (SELECT url, run_id, r, (CAST(split_part(url, '/story/', 2) AS BIGINT) + r * 7919) % ? AS j
                      FROM articles, range(1, {RELATED_PER_ARTICLE + 1}) t(r)
                      WHERE status = 'ok' AND duplicate_of IS NULL)""",
            [stored])
        store.query(
            f"""INSERT INTO runs (id, started_at, finished_at, feeds_polled, feeds_failed, new_articles, enriched,
                                  failed, status, host, pid)
                SELECT 'run' || n, ?::TIMESTAMPTZ - to_seconds(({days * RUNS_PER_DAY} - n) * 21600),
                       ?::TIMESTAMPTZ - to_seconds(({days * RUNS_PER_DAY} - n) * 21600 - 40), {FEEDS}, 1,
                       ? // {days * RUNS_PER_DAY}, ? // {days * RUNS_PER_DAY}, 1, 'completed', 'bench', 1
                FROM range({days * RUNS_PER_DAY}) t(n)""",
            [now, now, stored, stored])
        store.query(
            """INSERT INTO failures SELECT run_id, first_seen_at, 'fetch', feed_url, url, 'fetch.timeout',
                                           'timed out after 20 s'
               FROM articles WHERE status <> 'ok'""")


def empty_store(path: Path) -> None:
    """A store with its schema and nothing else (the run then only opens it, as into the large one)."""
    with open_store(path):
        pass


# -- one run of the command, measured ------------------------------------------------------------
@dataclass
class Run:
    store: str
    wall: float = 0.0  # launch to exit
    flow_seconds: float = 0.0  # the runs row: started_at to finished_at
    cpu: float = 0.0  # the command and its descendants (workers), user + system, sampled every 0.25 s
    peak_rss: int = 0  # the command + its descendants, summed at one sample
    peak_pss: int = 0
    samples: int = 0
    returncode: int | None = None
    counts: dict = field(default_factory=dict)
    output: str = ""


def _tree_sample(proc: psutil.Process, with_pss: bool, cpu: dict[int, float]) -> tuple[int, int]:
    """Memory of the command and its descendants (RSS, and PSS if asked), summed; each one's CPU
    so far goes into ``cpu`` by pid (the last sample of a process that ended is what counts)."""
    rss = pss = 0
    try:
        tree = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0, 0
    for p in tree:
        try:
            times = p.cpu_times()
            cpu[p.pid] = times.user + times.system
            if with_pss:
                info = p.memory_full_info()
                rss, pss = rss + info.rss, pss + info.pss
            else:
                rss += p.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return rss, pss


def run_command(label: str, db: Path, feed_urls: list[str], workdir: Path, api_url: str,
                sample_pss: bool = False) -> Run:
    """``python -m flows.cli run --feeds FILE --db db``; CPU and RSS sampled every 0.25 s, and PSS if
    asked. Reading PSS walks every page table of the processes, and a run into the large store has
    more of them (bench/throughput.py measured about 5% on its runs), so timed runs do not read it
    and the memory comes from a run of its own."""
    out = Run(label)
    feeds_file = workdir / f"{db.stem}-feeds.txt"
    feeds_file.write_text("\n".join(feed_urls) + "\n")
    env = dict(os.environ, ENRICH_ALLOW_PRIVATE_NETWORKS="true", PREFECT_API_URL=api_url)
    cpu: dict[int, float] = {}
    launched = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "flows.cli", "run", "--feeds", str(feeds_file), "--db", str(db)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    watched = psutil.Process(proc.pid)
    while proc.poll() is None:
        rss, pss = _tree_sample(watched, sample_pss, cpu)
        out.peak_rss, out.peak_pss = max(out.peak_rss, rss), max(out.peak_pss, pss)
        out.samples += 1
        time.sleep(0.25)
    out.wall = time.monotonic() - launched
    out.returncode = proc.returncode
    reader.join(timeout=5)
    out.cpu = sum(cpu.values())
    out.output = "".join(lines)
    with open_store(db, read_only=True) as store:
        run_id, started, finished, new, enriched, failed, status = store.query(
            """SELECT id, started_at, finished_at, new_articles, enriched, failed, status FROM runs
               ORDER BY started_at DESC LIMIT 1""")[0]
        related = store.query("SELECT count(*) FROM related WHERE run_id = ?", [run_id])[0][0]
    out.flow_seconds = (finished - started).total_seconds() if finished else float("nan")
    out.counts = {"run_id": run_id, "new": new, "enriched": enriched, "failed": failed, "status": status,
                  "related rows written": related}
    return out


# -- where the store's size shows: the steps that read it, in this process -----------------------
def profile_steps(db: Path, run_id: str) -> dict[str, float]:
    """CPU seconds of the store reads and linking a run does, re-done for the run's articles."""
    cpu: Counter[str] = Counter()

    def timed(name, fn):
        began = time.process_time()
        value = fn()
        cpu[name] += time.process_time() - began
        return value

    with open_store(db) as store:
        new = store.stored_by_runs([run_id])
        urls = [c.url for c in new]
        timed("known_articles (the feed's entries)", lambda: store.known_articles(urls))
        since = window_start(min(c.published_at for c in new))
        pool = timed("link_candidates (30-day window)", lambda: store.link_candidates(since, exclude=urls))
        links = timed("link_articles (dedup + related, reading the lists it may change)",
                      lambda: link_articles(new, pool, store.related_lists))
        timed("save_links", lambda: store.save_links(links, run_id, datetime.now(UTC)))
    cpu["window (articles)"] = len(pool)
    return dict(cpu)


# -- report --------------------------------------------------------------------------------------
def mib(b: float) -> str:
    return f"{b / MIB:,.0f} MiB"


def report(args, runs: dict[str, list[Run]], profiles: dict[str, dict[str, float]], build_s: float,
           size: int, load: tuple[str, str]) -> int:
    empty, large = runs["empty"], runs["large"]

    def mean(rs: list[Run], get) -> float:
        return sum(get(r) for r in rs) / len(rs)

    table = Table(title=f"`enrich run`, {args.new} new articles: into an empty store vs into "
                        f"{args.stored:,} stored (mean of {args.rounds} round(s))")
    for name, justify in (("", "left"), ("empty store", "right"), (f"{args.stored:,} stored", "right"),
                          ("ratio", "right"), ("goal", "left")):
        table.add_column(name, justify=justify)
    ratios = {}
    for name, get, fmt in (("launch to exit, wall", lambda r: r.wall, "{:.1f} s"),
                           ("the run itself (runs.started_at -> finished_at)", lambda r: r.flow_seconds, "{:.1f} s"),
                           ("CPU, the command and its workers", lambda r: r.cpu, "{:.1f} s")):
        a, b = mean(empty, get), mean(large, get)
        ratios[name] = b / a
        table.add_row(name, fmt.format(a), fmt.format(b), f"{b / a:.2f}x", f"<= {GOAL_RATIO}x")
    a, b = runs["empty memory"][0].peak_pss, runs["large memory"][0].peak_pss
    table.add_row("peak PSS, command + workers (the memory run)", mib(a), mib(b), f"{b / a:.2f}x", "< 1 GiB")
    a, b = max(r.peak_rss for r in empty), max(r.peak_rss for r in large)
    table.add_row("peak RSS, command + workers (shared pages once a process)", mib(a), mib(b), f"{b / a:.2f}x", "")
    a, b = runs["empty memory"][0].flow_seconds, runs["large memory"][0].flow_seconds
    table.add_row("the run itself while its PSS was read (not a goal)", f"{a:.1f} s", f"{b:.1f} s", f"{b / a:.2f}x", "")
    table.add_row("articles new / enriched", *(f"{r[0].counts['new']} / {r[0].counts['enriched']}" for r in (empty, large)),
                  "", "")
    table.add_row("related rows written by the run", *(str(r[0].counts["related rows written"]) for r in (empty, large)),
                  "", "")
    console.print(table)

    steps = Table(title="the steps that read the store, re-done in this process for the run's articles (CPU)")
    for name, justify in (("step", "left"), ("empty store", "right"), (f"{args.stored:,} stored", "right")):
        steps.add_column(name, justify=justify)
    for step in profiles["empty"]:
        fmt = "{:,.0f}" if step.startswith("window") else "{:.3f} s"
        steps.add_row(step, *(fmt.format(profiles[kind][step]) for kind in ("empty", "large")))
    console.print(steps)

    console.print(f"large store: {args.stored:,} articles over {args.days} days from {FEEDS} feeds, "
                  f"{size / MIB:,.0f} MiB on disk, built in {build_s:.0f} s; "
                  f"walls of each round, empty / large: "
                  f"{', '.join(f'{r.wall:.1f}' for r in empty)} / {', '.join(f'{r.wall:.1f}' for r in large)} s")
    console.print(f"machine: {os.cpu_count()} cores, load average {load[0]} at the start, {load[1]} at the end")
    worst_memory = runs["large memory"][0].peak_pss
    ok_runs = all(r.returncode == 0 and r.counts["enriched"] == args.new for rs in runs.values() for r in rs)
    verdicts = [
        ("every run enriched its articles", ok_runs),
        (f"the run itself <= {GOAL_RATIO}x", ratios["the run itself (runs.started_at -> finished_at)"] <= GOAL_RATIO),
        (f"launch to exit <= {GOAL_RATIO}x", ratios["launch to exit, wall"] <= GOAL_RATIO),
        ("peak PSS < 1 GiB", worst_memory < GOAL_MEMORY),
    ]
    for name, passed in verdicts:
        console.print(f"{'PASS' if passed else 'MISS'}: {name}")
    if not ok_runs:
        for r in (r for rs in runs.values() for r in rs):
            if r.returncode != 0:
                console.print(f"[{r.store}] exit {r.returncode}:\n{r.output[-2000:]}")
    return 0 if ok_runs else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stored", type=int, default=200_000, help="articles in the large store (default 200,000)")
    parser.add_argument("--days", type=int, default=365, help="days the stored articles span (default 365)")
    parser.add_argument("--new", type=int, default=100, help="new articles the run adds (default 100)")
    parser.add_argument("--feeds", type=int, default=10, help="feeds the new articles come in (default 10)")
    parser.add_argument("--rounds", type=int, default=2, help="runs into each store, the order alternating (default 2)")
    parser.add_argument("--similar-percent", type=int, default=1,
                        help="stored stories written like the new articles, so related to them (default 1; "
                             "100 = every stored article in the window is related: the worst case)")
    parser.add_argument("--no-warm-up", action="store_true", help="skip the untimed first run (the smoke test's)")
    args = parser.parse_args(argv)
    if args.stored < 1 or args.new < 1 or args.feeds < 1 or args.rounds < 1 or args.days < 1:
        parser.error("every count must be >= 1")
    os.environ["ENRICH_ALLOW_PRIVATE_NETWORKS"] = "true"
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    load = [" ".join(f"{x:.1f}" for x in os.getloadavg())]

    runs: dict[str, list[Run]] = {"empty": [], "large": []}  # and "<store> memory": the runs PSS is read from
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="enrich-large-store-")))
        now = datetime.now(UTC).replace(microsecond=0)
        console.print(f"building the large store: {args.stored:,} articles...")
        began = time.monotonic()
        template = tmp / "large-template.duckdb"
        build_store(template, args.stored, args.days, now, args.similar_percent)
        build_s = time.monotonic() - began
        console.print(f"  {build_s:.0f} s, {template.stat().st_size / MIB:,.0f} MiB")
        empty_template = tmp / "empty-template.duckdb"
        empty_store(empty_template)

        per_feed = -(-args.new // args.feeds)
        site = stack.enter_context(LoopbackSite(keep_alive=True))
        feed_urls, _, routes = build_site([site.base], args.feeds, per_feed)
        site.routes.update(routes)
        if per_feed * args.feeds != args.new:  # the last feeds one short, so exactly --new articles
            console.print(f"  ({per_feed * args.feeds} articles in {args.feeds} feeds: --new rounded up)")
            args.new = per_feed * args.feeds

        console.print("starting Prefect (temporary server, once)...")
        from prefect.settings import PREFECT_API_URL
        from prefect.testing.utilities import prefect_test_harness

        if not os.environ.get("PREFECT_API_URL"):  # else the server it names (the smoke test's)
            stack.enter_context(prefect_test_harness(server_startup_timeout=120))
        api_url = str(PREFECT_API_URL.value())

        if not args.no_warm_up:
            console.print("warm-up run (untimed), into an empty store...")
            shutil.copy(empty_template, tmp / "warm.duckdb")
            warm = run_command("warm", tmp / "warm.duckdb", feed_urls, tmp, api_url)
            console.print(f"  {warm.wall:.1f} s, exit {warm.returncode}")

        for i in range(args.rounds):
            for kind in ("empty", "large") if i % 2 == 0 else ("large", "empty"):
                db = tmp / f"{kind}{i}.duckdb"
                shutil.copy(template if kind == "large" else empty_template, db)
                console.print(f"round {i + 1}: into the {kind} store...")
                run = run_command(kind, db, feed_urls, tmp, api_url)
                runs[kind].append(run)
                console.print(f"  {run.wall:.1f} s (the run {run.flow_seconds:.1f} s), CPU {run.cpu:.1f} s, "
                              f"peak PSS {mib(run.peak_pss)}, exit {run.returncode}")
        for kind in ("empty", "large"):
            db = tmp / f"{kind}-memory.duckdb"
            shutil.copy(template if kind == "large" else empty_template, db)
            console.print(f"memory run (PSS sampled, not timed): into the {kind} store...")
            run = run_command(kind, db, feed_urls, tmp, api_url, sample_pss=True)
            runs[f"{kind} memory"] = [run]
            console.print(f"  {run.wall:.1f} s (the run {run.flow_seconds:.1f} s), peak PSS {mib(run.peak_pss)}, "
                          f"exit {run.returncode}")
        profiles = {kind: profile_steps(tmp / f"{kind}0.duckdb", runs[kind][0].counts["run_id"])
                    for kind in ("empty", "large")}
        size = template.stat().st_size
    load.append(" ".join(f"{x:.1f}" for x in os.getloadavg()))
    return report(args, runs, profiles, build_s, size, tuple(load))


if __name__ == "__main__":
    sys.exit(main())
