"""Polling benchmark: the real flow against many slow loopback feeds, a first run and a 304 run.

200 feeds x 20 generated articles on 20 loopback hosts answering after 100 ms each; the flow runs
twice into one DuckDB file, and the second run must get a 304 for every feed, fetch no page and
enrich nothing. Prints both runs side by side against a lower bound, where the time went, and
PASS/FAIL lines (exit status 1 on a FAIL). What each figure means: docs/poll.md.

    uv run python bench/poll.py                          # 200 feeds x 20 entries, 20 hosts, 100 ms
    uv run python bench/poll.py --feeds 20 --entries 5   # a quick one (about a minute)
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from _articles import build_site
from _report import print_table

from enrich.sites import Hit, LoopbackSite

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Before Prefect or the flow is imported: the flow reads its thread-pool size at import time.
os.environ["ENRICH_ALLOW_PRIVATE_NETWORKS"] = "true"
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_LOGGING_LOG_PRINTS", "false")

# -- the loopback site -------------------------------------------------------------------------


def kind_of(hit: Hit) -> str:
    """What a request fetched: feed_200, feed_304, page, robots or other (a 404)."""
    if hit.status == 404:
        return "other"
    if hit.path.startswith("/feeds/"):
        return "feed_304" if hit.status == 304 else "feed_200"
    return "robots" if hit.path == "/robots.txt" else "page"


# -- measurements -------------------------------------------------------------------------------
class FlowMarks(logging.Handler):
    """Timestamps of the flow's own log lines (logger ``enrich.flow``), to split a run into phases.

    The lines are kept out of the terminal (200 "feed ..." lines per run); warnings and errors
    are still printed.
    """

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.marks: list[tuple[float, str]] = []
        self.setFormatter(logging.Formatter("  flow %(levelname)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.marks.append((time.monotonic(), record.getMessage()))
        if record.levelno >= logging.WARNING:
            print(self.format(record), file=sys.stderr)

    def install(self) -> FlowMarks:
        logger = logging.getLogger("enrich.flow")
        logger.addHandler(self)
        logger.setLevel(logging.INFO)
        logger.propagate = False
        return self


@dataclass
class RunResult:
    label: str
    started: float
    wall: float  # around the flow call
    settle: float  # the trivial flow run just before, letting Prefect's server catch up
    report: object
    hits: list[Hit]
    marks: list[tuple[float, str]]

    @property
    def kinds(self) -> Counter:
        return Counter(kind_of(h) for h in self.hits)

    @property
    def feed_hits(self) -> list[Hit]:
        return [h for h in self.hits if kind_of(h).startswith("feed")]

    @property
    def page_hits(self) -> list[Hit]:
        return [h for h in self.hits if kind_of(h) in ("page", "robots")]


def run_flow(label: str, site: LoopbackSite, flow_marks: FlowMarks, feed_urls: list[str], db_path: Path,
             workers: int) -> RunResult:
    from enrich.settings import Settings
    from flows.enrich_feeds import enrich_feeds

    # Prefect's server records task runs after the fact; after thousands of them it is busy for
    # a while and the next flow run waits for it. A trivial flow run absorbs that, untimed.
    settle, _ = calibrate(1, 0.0, workers)
    # Polled feeds are not due again for a while (ENRICH poll intervals); the second run stands
    # for the next scheduled poll, so it polls every feed, as `enrich run --all` does.
    mark, first_mark = site.mark(), len(flow_marks.marks)
    started = time.monotonic()
    report = enrich_feeds(feed_urls, Settings(db_path=db_path, allow_private_networks=True), poll_all=True)
    wall = time.monotonic() - started
    time.sleep(0.05)  # a handler may still be appending its last hit
    return RunResult(label, started, wall, settle, report, site.since(mark), flow_marks.marks[first_mark:])


def calibrate(n_tasks: int, sleep: float, workers: int, *, one_at_a_time: bool = False
              ) -> tuple[float, float]:
    """A trivial flow of ``n_tasks`` tasks that sleep ``sleep`` s each, on ``workers`` threads.

    Returns (wall time around the flow call, time inside the flow body).
    """
    from prefect import flow, task
    from prefect.cache_policies import NO_CACHE
    from prefect.task_runners import ThreadPoolTaskRunner

    @task(name="bench-sleep", cache_policy=NO_CACHE)
    def nap(seconds: float) -> None:
        time.sleep(seconds)

    @flow(name="bench-calibration", task_runner=ThreadPoolTaskRunner(max_workers=workers))
    def tasks_flow(n: int, seconds: float) -> float:
        begun = time.monotonic()
        if one_at_a_time:
            for _ in range(n):
                nap.submit(seconds).result()
        else:
            for future in [nap.submit(seconds) for _ in range(n)]:
                future.result()
        return time.monotonic() - begun

    started = time.monotonic()
    inside = tasks_flow(n_tasks, sleep)
    return time.monotonic() - started, inside


def peak_in_flight(hits: list[Hit]) -> int:
    events = sorted([(h.start, 1) for h in hits] + [(h.end, -1) for h in hits])
    peak = level = 0
    for _, step in events:
        level += step
        peak = max(peak, level)
    return peak


def phases(run: RunResult) -> dict[str, float | None]:
    """The run cut at the moments the flow logs or the servers see, in the order they happen."""
    feeds, pages = run.feed_hits, run.page_hits
    due = [t for t, m in run.marks if " feeds due " in m]
    done = [t for t, m in run.marks if " done in " in m]
    batches = [t for t, m in run.marks if m.startswith("enriched ")]
    per_feed = [t for t, m in run.marks if t > (due or [run.started])[0] and not m.startswith("enriched ")
                and " done in " not in m]
    boundaries = [
        (PHASES[0], due[0] if due else None),
        (PHASES[1], max(h.end for h in feeds) if feeds else None),
        (PHASES[2], per_feed[0] if per_feed else None),
        (PHASES[3], min(h.start for h in pages) if pages else None),
        (PHASES[4], max(h.end for h in pages) if pages else None),
        (PHASES[5], batches[-1] if batches else None),
        (PHASES[6], done[0] if done else None),
        (PHASES[7], run.started + run.wall),
    ]
    out, cursor = {}, run.started
    for name, moment in boundaries:
        if moment is None or moment < cursor:
            out[name] = None
            continue
        out[name], cursor = moment - cursor, moment
    return out


PHASES = (  # each phase ends at a moment the flow logs or the servers see
    "to the 'feeds due' line (flow-run start, register feeds)",
    "poll feeds (to the last feed response)",
    "to the first per-feed line (store polls, known articles)",
    "to the first page request (submit fetch tasks)",
    "fetch pages + robots.txt (first request to last response)",
    "to the last 'enriched' line (enrich and store batches)",
    "to the 'done' line (duplicates, related links, tally)",
    "to the flow call's return (failures, close run, flow end)",
)


def direct_enrichment(bodies: dict[str, bytes], feed_urls: list[str], count: int) -> tuple[int, float]:
    """Seconds per article of ``enrich_entry`` called directly: no Prefect, no HTTP, one thread."""
    from enrich.feeds import parse_feed
    from enrich.models import FetchResult
    from enrich.pipeline import EnrichOptions, enrich_entry
    from enrich.settings import Settings

    options = EnrichOptions.from_settings(Settings())
    pairs = []
    for url in feed_urls:
        for entry in parse_feed(bodies["/" + url.split("/", 3)[3]], url).entries:
            body = bodies["/" + entry.link.split("/", 3)[3]]
            page = FetchResult(entry.link, entry.link, ok=True, body=body, http_status=200,
                               content_type="text/html; charset=utf-8", encoding="utf-8")
            pairs.append((entry, page))
        if len(pairs) >= count:
            break
    pairs = pairs[:count]
    began = time.monotonic()
    for entry, page in pairs:
        enrich_entry(entry, page, options, feed_language="en")
    return len(pairs), (time.monotonic() - began) / max(1, len(pairs))


def db_summary(db_path: Path) -> dict[str, object]:
    from enrich.store import open_store

    with open_store(db_path, read_only=True) as store:
        (articles, ok, from_page, words) = store.query(
            "SELECT count(*), count(*) FILTER (status = 'ok'), count(*) FILTER (text_source = 'page'), "
            "round(avg(word_count)) FROM articles"
        )[0]
        statuses = dict(store.query("SELECT last_status, count(*) FROM feeds GROUP BY ALL"))
        languages = dict(store.query(
            "SELECT language, count(*) AS n FROM articles GROUP BY ALL ORDER BY n DESC"))
    return {"articles": articles, "ok": ok, "from_page": from_page, "avg_words": words,
            "feed_statuses": statuses, "languages": languages}


# -- main ---------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=200, help="number of feeds (default 200)")
    parser.add_argument("--entries", type=int, default=20, help="entries per feed (default 20)")
    parser.add_argument("--latency-ms", type=float, default=100.0,
                        help="delay of every response (default 100)")
    parser.add_argument("--hosts", type=int, default=20,
                        help="loopback addresses 127.0.0.1..N, at most 254 (default 20)")
    parser.add_argument("--time-limit", type=float, default=1800.0,
                        help="end the whole process after this many seconds (default 1800)")
    parser.add_argument("--no-calibration", action="store_true",
                        help="skip the Prefect task-overhead calibration")
    args = parser.parse_args(argv)
    if not 1 <= args.hosts <= 254 or args.feeds < 1 or args.entries < 0:
        parser.error("need 1 <= --hosts <= 254, --feeds >= 1, --entries >= 0")

    def give_up() -> None:
        print(f"\nFAIL: time limit of {args.time_limit:.0f} s reached; stopping.", flush=True)
        os._exit(3)

    watchdog = threading.Timer(args.time_limit, give_up)
    watchdog.daemon = True
    watchdog.start()

    from enrich.settings import Settings

    settings = Settings()
    workers = settings.fetch_concurrency
    latency = args.latency_ms / 1000
    load_at_start = os.getloadavg()
    print(f"poll benchmark: {args.feeds} feeds x {args.entries} entries on {args.hosts} hosts "
          f"(127.0.0.1..127.0.0.{args.hosts}), {args.latency_ms:.0f} ms per response; "
          f"fetch concurrency {workers}, per host {settings.per_host_concurrency}, "
          f"robots.txt {'on' if settings.respect_robots else 'off'}, batch {settings.batch_size}", flush=True)

    flow_marks = FlowMarks().install()
    timings: dict[str, object] = {}
    with ExitStack() as stack:
        began = time.monotonic()
        site = stack.enter_context(LoopbackSite(addresses=[f"127.0.0.{i}" for i in range(1, args.hosts + 1)],
                                                latency=latency, keep_alive=True))
        feed_urls, bodies, routes = build_site(site.bases, args.feeds, args.entries)
        site.routes.update(routes)
        page_bytes = sum(len(body) for path, body in bodies.items() if path.startswith("/news/"))
        print(f"site generated in {time.monotonic() - began:.1f} s ({page_bytes / 1e6:.1f} MB of pages)",
              flush=True)

        print("starting Prefect (temporary server)...", flush=True)
        began = time.monotonic()
        from prefect.testing.utilities import prefect_test_harness

        if not os.environ.get("PREFECT_API_URL"):  # else the server it names (the smoke test's)
            stack.enter_context(prefect_test_harness(server_startup_timeout=120))
        timings["prefect_start"] = time.monotonic() - began
        for name in ("prefect.events.clients", "prefect._internal.concurrency", "prefect.server", "uvicorn"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
        began = time.monotonic()
        import flows.enrich_feeds  # noqa: F401  (import cost is not part of a run)

        timings["import"] = time.monotonic() - began
        timings["warmup"], _ = calibrate(1, 0.0, workers)
        print(f"Prefect server up in {timings['prefect_start']:.1f} s; flow module imported in "
              f"{timings['import']:.1f} s; first trivial flow run {timings['warmup']:.2f} s", flush=True)

        if not args.no_calibration:
            print("calibrating Prefect task overhead...", flush=True)
            serial = calibrate(50, 0.0, workers, one_at_a_time=True)
            noop = calibrate(args.feeds, 0.0, workers)
            calibrate(1, 0.0, workers)  # let the server catch up, untimed
            sleepy = calibrate(args.feeds, latency, workers)
            timings["calibration"] = {"serial": serial, "noop": noop, "sleepy": sleepy}

        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="enrich-bench-"))
        db_path = Path(tmp) / "bench.duckdb"
        print("run 1 (all new)...", flush=True)
        first = run_flow("run 1: all new", site, flow_marks, feed_urls, db_path, workers)
        print(f"  {first.wall:.1f} s", flush=True)
        print("run 2 (all 304)...", flush=True)
        second = run_flow("run 2: all 304", site, flow_marks, feed_urls, db_path, workers)
        print(f"  {second.wall:.2f} s", flush=True)
        stored = db_summary(db_path)
        if not args.no_calibration and args.entries:
            timings["direct"] = direct_enrichment(bodies, feed_urls, 100)

    watchdog.cancel()
    timings["load"] = (load_at_start, os.getloadavg())
    return report(args, settings, latency, feed_urls, first, second, stored, timings)


def report(args, settings, latency, feed_urls, first: RunResult, second: RunResult, stored, timings) -> int:
    workers = settings.fetch_concurrency
    n_feeds, n_articles = len(feed_urls), len(feed_urls) * args.entries

    def bound(run: RunResult) -> float:
        return len(run.hits) * latency / workers

    def both(get):
        return get(first), get(second)

    rows = [
        ("wall time around the flow call (s)", *both(lambda r: f"{r.wall:.2f}")),
        ("  flow body until its 'done' line, RunReport.seconds", *both(lambda r: f"{r.report.seconds:.2f}")),
        ("  (untimed) trivial flow run just before (s)", *both(lambda r: f"{r.settle:.2f}")),
        None,
        ("feeds polled", *both(lambda r: str(r.report.feeds_polled))),
        ("  not modified (304)", *both(lambda r: str(r.report.feeds_not_modified))),
        ("  failed / skipped", *both(lambda r: f"{r.report.feeds_failed} / {r.report.feeds_skipped}")),
        ("new articles", *both(lambda r: str(r.report.new_articles))),
        ("articles enriched", *both(lambda r: str(r.report.enriched))),
        ("articles failed", *both(lambda r: str(r.report.failed))),
        None,
        ("requests served: feed 200", *both(lambda r: str(r.kinds["feed_200"]))),
        ("requests served: feed 304", *both(lambda r: str(r.kinds["feed_304"]))),
        ("requests served: page", *both(lambda r: str(r.kinds["page"]))),
        ("requests served: robots.txt", *both(lambda r: str(r.kinds["robots"]))),
        ("requests served: other (404)", *both(lambda r: str(r.kinds["other"]))),
        ("requests served: total", *both(lambda r: str(len(r.hits)))),
        ("peak requests in flight (all hosts)", *both(lambda r: str(peak_in_flight(r.hits)))),
        None,
        (f"lower bound = requests x {latency * 1000:.0f} ms / {workers} (s)",
         *both(lambda r: f"{bound(r):.2f}")),
        ("ratio wall time / lower bound", *both(lambda r: f"{r.wall / bound(r):.2f}" if bound(r) else "-")),
    ]
    print()
    print(f"{n_feeds} feeds x {args.entries} entries = {n_articles} articles, {args.hosts} hosts, "
          f"{latency * 1000:.0f} ms latency, fetch concurrency {workers} "
          f"(per host {settings.per_host_concurrency}), "
          f"robots.txt {'on' if settings.respect_robots else 'off'}")
    print_table(("", first.label, second.label), rows)
    print(f"run 2 lower bound (feeds x latency / concurrency) = {n_feeds} x {latency * 1000:.0f} ms / "
          f"{workers} = {n_feeds * latency / workers:.2f} s; run 1's counts every request and ignores "
          f"enrichment")

    print("\nwhere the time went (cut at the flow's log lines and the servers' request timestamps):")
    cut = both(phases)
    print_table(("phase (s)", first.label, second.label),
                [(name, *(f"{p[name]:.2f}" if p[name] is not None else "-" for p in cut)) for name in PHASES])

    pages = first.page_hits
    if pages:
        span = max(h.end for h in pages) - min(h.start for h in pages)
        by_host: dict[str, list[Hit]] = {}
        for h in pages:
            by_host.setdefault(h.host, []).append(h)
        host_spans = sum(max(h.end for h in hs) - min(h.start for h in hs) for hs in by_host.values())
        print(f"run 1 page fetching: {len(pages)} requests in {span:.1f} s = "
              f"{len(pages) * latency / span:.1f} in flight on average (peak {peak_in_flight(pages)}, "
              f"allowed {workers}); {host_spans / span:.1f} of "
              f"{len(by_host)} hosts busy on average; one request per "
              f"{span / len(pages) * 1000:.0f} ms overall (lower bound {latency / workers * 1000:.1f} ms)")
    if first.report.new_articles:
        enrich_s = cut[0][PHASES[5]] or 0.0
        per_article = enrich_s / first.report.new_articles
        line = f"run 1 enrichment: {per_article * 1000:.0f} ms per article in the flow"
        if "direct" in timings:
            n, per = timings["direct"]
            line += (f"; enrich_entry called directly (no Prefect, one thread, {n} articles): "
                     f"{per * 1000:.0f} ms")
        print(line)
    print(f"stored: {stored['articles']} articles, {stored['ok']} ok, "
          f"{stored['from_page']} with text from the page, "
          f"{stored['avg_words']:.0f} words on average; languages {stored['languages']}; "
          f"feeds by last status {stored['feed_statuses']}")
    if first.report.reasons:
        print(f"run 1 failure reasons: {dict(first.report.reasons)}")

    start_load, end_load = (" ".join(f"{x:.1f}" for x in load) for load in timings["load"])
    print(f"\nmachine: {os.cpu_count()} cores; load average (1, 5, 15 min) {start_load} at start, "
          f"{end_load} at the end (other processes on the CPU inflate every time above)")
    print(f"not in the run timings: Prefect server start {timings['prefect_start']:.1f} s, "
          f"flow module import {timings['import']:.1f} s, first trivial flow run {timings['warmup']:.2f} s")
    if "calibration" in timings:
        cal = timings["calibration"]
        print(f"Prefect task overhead, trivial flows on {workers} threads (body = inside the flow function):")
        wall, body = cal["serial"]
        print(f"  50 no-op tasks one at a time:       body {body:6.2f} s = "
              f"{body / 50 * 1000:5.1f} ms per task "
              f"(wall {wall:.2f} s)")
        wall, body = cal["noop"]
        print(f"  {n_feeds} no-op tasks submitted at once:  body {body:6.2f} s = "
              f"{body / n_feeds * 1000:5.1f} ms per task "
              f"(wall {wall:.2f} s)")
        wall, body = cal["sleepy"]
        print(f"  {n_feeds} tasks sleeping {latency * 1000:.0f} ms at once: body {body:6.2f} s (lower bound "
              f"{n_feeds * latency / workers:.2f} s; wall {wall:.2f} s)")

    kinds = second.kinds
    checks = [
        ("run 2 fetched no page (and no robots.txt)", kinds["page"] == 0 and kinds["robots"] == 0,
         f"{kinds['page']} page, {kinds['robots']} robots.txt requests"),
        ("run 2 enriched nothing", second.report.enriched == 0 and second.report.new_articles == 0,
         f"{second.report.new_articles} new, {second.report.enriched} enriched"),
        ("run 2 got a 304 for every feed", kinds["feed_304"] == n_feeds and kinds["feed_200"] == 0,
         f"{kinds['feed_304']} x 304, {kinds['feed_200']} x 200 of {n_feeds} feeds"),
        ("run 1 enriched every article from its page, as English",
         first.report.enriched == n_articles and stored["from_page"] == n_articles
         and stored["languages"].get("en", 0) == n_articles,
         (f"{first.report.enriched} enriched, {stored['from_page']} from the page, "
          f"{stored['languages'].get('en', 0)} English, of {n_articles}")),
    ]
    print()
    for name, passed, detail in checks:
        print(f"{'PASS' if passed else 'FAIL'}: {name} ({detail})")
    return 0 if all(passed for _, passed, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
