"""Throughput benchmark: real article pages through the whole flow into DuckDB, on one machine.

N pages of the article-extraction benchmark (../shared), served from loopback hosts, go through the
Prefect flow, the same work without Prefect, and a one-core stage loop; the table sets them beside
plain trafilatura on one core (the floor), with CPU by process role, peak memory, cold start and a
command-line run. What each figure means and how it is taken: docs/throughput.md.

    uv run python bench/throughput.py                      # N = 100 and 1000, no added latency
    uv run python bench/throughput.py --sizes 100 --latency-ms 50 --no-cold-start
"""

from __future__ import annotations

import argparse
import gc
import gzip
import html as htmlmod
import json
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import psutil
from _report import print_table
from _scoring import limited

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CORPUS = ROOT.parent / "shared" / "corpora" / "article-extraction-benchmark"

# Before Prefect or the flow is imported: the flow reads its thread-pool size at import time.
os.environ["ENRICH_ALLOW_PRIVATE_NETWORKS"] = "true"
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_LOGGING_LOG_PRINTS", "false")

MIB = 1024 * 1024
# Issue 15: the run's work rate over plain one-core trafilatura, from the first request to the exit.
WORK_RATE_TARGET = 0.5
WORK_RATE_TARGET_AT_1000 = 0.65


# ================================================================================================
# The corpus and the page servers (the child process started with --serve)
# ================================================================================================
@dataclass(frozen=True)
class CorpusPage:
    key: str
    html: bytes
    title: str
    slug: str
    teaser: str


def load_corpus() -> list[CorpusPage]:
    truth_path = CORPUS / "ground-truth.json"
    if not truth_path.exists():
        sys.exit(f"{CORPUS} is missing: this benchmark needs ../shared/corpora next to the project")
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    pages = []
    for key in limited(sorted(truth)):
        raw = gzip.decompress((CORPUS / "html" / f"{key}.html.gz").read_bytes())
        head = raw[:200_000].decode("utf-8", "replace")
        found = re.search(r"<title[^>]*>(.*?)</title>", head, re.DOTALL | re.IGNORECASE)
        url_slug = truth[key].get("url", "").rstrip("/").rsplit("/", 1)[-1]
        slug = re.sub(r"[^a-z0-9]+", "-", url_slug.lower()).strip("-")[:60] or key[:12]
        title = " ".join(htmlmod.unescape(found.group(1)).split()) if found else ""
        title = title or slug.replace("-", " ").capitalize()
        words = truth[key].get("articleBody", "").split()
        teaser = " ".join(words[:40]) + (" ..." if len(words) > 40 else "")
        pages.append(CorpusPage(key, raw, title[:200], slug, teaser))
    return pages


def feed_path(tag: str, n: int, k: int, feeds: int) -> str:
    return f"/feeds/{tag}/{n}/{k}/{feeds}.xml"


PAGE_PATH = re.compile(r"^/(\w+)/(\d+)/[\w-]+\.html$")
FEED_PATH = re.compile(r"^/feeds/(\w+)/(\d+)/(\d+)/(\d+)\.xml$")
HITS_PATH = "/__bench/hits"  # the parent's view of the hit log, not itself a hit


def kind_of(path: str) -> str:
    if path == "/robots.txt":
        return "robots"
    return "page" if PAGE_PATH.match(path) else "feed" if FEED_PATH.match(path) else "other"


def serve_main(hosts: int, latency: float) -> None:
    """Child process: one loopback site on 127.0.0.1..N, print the base URLs, serve until stdin
    closes (so the servers die with the parent, however it ends)."""
    from enrich.sites import LoopbackSite, not_found, ok, slow

    corpus = load_corpus()
    lock = threading.Lock()
    feeds_cache: dict[str, bytes] = {}
    epoch = datetime.now(UTC).replace(second=0, microsecond=0)
    bases: list[str] = []

    def page_url(tag: str, i: int) -> str:
        return f"{bases[i % len(bases)]}/{tag}/{i}/{corpus[i % len(corpus)].slug}.html"

    def make_feed(tag: str, n: int, k: int, feeds: int) -> bytes:
        items = []
        for i in range(k, n, feeds):
            page = corpus[i % len(corpus)]
            link = page_url(tag, i)
            published = epoch - timedelta(minutes=15 * i + 7)
            items.append(
                "<item>"
                f"<title>{htmlmod.escape(page.title)}</title><link>{link}</link>"
                f'<guid isPermaLink="true">{link}</guid>'
                f"<pubDate>{format_datetime(published, usegmt=True)}</pubDate>"
                f"<description>{htmlmod.escape(page.teaser)}</description>"
                "</item>"
            )
        base = bases[k % len(bases)]
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
            f"<title>Throughput bench {tag} feed {k + 1} of {feeds}</title><link>{base}/</link>"
            f"<description>Real article pages, served on loopback</description>{''.join(items)}"
            "</channel></rss>"
        ).encode()

    def pages_and_feeds(req):
        path = req.path.split("?")[0]
        if m := PAGE_PATH.match(path):
            return 200, {"Content-Type": "text/html; charset=utf-8"}, corpus[int(m.group(2)) % len(corpus)].html
        if m := FEED_PATH.match(path):
            with lock:
                body = feeds_cache.get(path)
            if body is None:
                body = make_feed(m.group(1), int(m.group(2)), int(m.group(3)), int(m.group(4)))
                with lock:
                    feeds_cache[path] = body
            return 200, {"Content-Type": "application/rss+xml; charset=utf-8"}, body
        return not_found(req)

    def hits_since(req):
        start = int(req.path.partition("from=")[2] or 0)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        log = site.since(0)
        hits = [(kind_of(h.path), h.start, h.end) for h in log[start:] if h.path != HITS_PATH]
        payload = {"hits": hits, "total": len(log), "cpu": usage.ru_utime + usage.ru_stime}
        return 200, {"Content-Type": "application/json"}, json.dumps(payload).encode()

    routes = {
        "/robots.txt": slow(latency, ok(b"User-agent: *\nDisallow: /private/\n", "text/plain")),
        HITS_PATH: hits_since,
    }
    site = LoopbackSite(routes, fallback=slow(latency, pages_and_feeds),
                        addresses=[f"127.0.0.{i}" for i in range(1, hosts + 1)], keep_alive=True)
    bases.extend(site.bases)
    with site:
        print(json.dumps({"bases": bases, "pages": len(corpus)}), flush=True)
        sys.stdin.read()  # EOF when the parent closes the pipe or dies


class PageServers:
    """The parent's handle on the --serve child."""

    def __init__(self, hosts: int, latency_ms: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--serve", "--hosts", str(hosts),
             "--latency-ms", str(latency_ms)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=str(ROOT),
        )
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit("the page servers did not start")
        info = json.loads(line)
        self.bases: list[str] = info["bases"]
        self.pages: int = info["pages"]
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def feed_urls(self, tag: str, n: int, feeds: int) -> list[str]:
        feeds = max(1, min(feeds, n))
        return [self.bases[k % len(self.bases)] + feed_path(tag, n, k, feeds) for k in range(feeds)]

    def stats(self, start: int = 0) -> tuple[list[tuple[str, float, float]], int, float]:
        with self._opener.open(f"{self.bases[0]}/__bench/hits?from={start}", timeout=30) as response:
            data = json.loads(response.read())
        return [tuple(h) for h in data["hits"]], data["total"], data["cpu"]

    def mark(self) -> tuple[int, float]:
        _, total, cpu = self.stats(10**9)
        return total, cpu

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()



# ================================================================================================
# Measuring: processes by role, CPU, memory samples, timing wrappers
# ================================================================================================
WORKER_MARK = "multiprocessing.forkserver"  # in the command line of the fork server and its forks
PSS_BUDGET = 0.03  # at most this share of one core for reading smaps_rollup


def vm_rss(pid: int | None = None) -> int | None:
    """Resident bytes of a process (this one by default); None if it is gone."""
    try:
        return psutil.Process(pid).memory_info().rss
    except psutil.NoSuchProcess:
        return None


def pss(pid: int | None = None) -> int | None:
    """Proportional set size: shared pages divided among the processes sharing them."""
    try:
        return psutil.Process(pid).memory_full_info().pss
    except psutil.NoSuchProcess:
        return None


def cpu_of(pids) -> float:
    """CPU seconds of these processes, with their reaped children's (a dead worker's lands in its fork server)."""
    total = 0.0
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


def children_of(pid: int) -> list[int]:
    try:
        return [kid.pid for kid in psutil.Process(pid).children()]
    except psutil.NoSuchProcess:
        return []


def _cmdline(pid: int) -> str:
    try:
        return " ".join(psutil.Process(pid).cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return ""


def descendants(page_server: int | None = None) -> dict[str, list[int]]:
    """This process's live descendants by role: ``workers`` (the enrichment fork server and its
    workers), ``pages`` (the page-server child), ``other`` (Prefect's server, the resource tracker)."""
    roles: dict[str, list[int]] = {"workers": [], "pages": [], "other": []}
    frontier = [(pid, None) for pid in children_of(os.getpid())]
    while frontier:
        pid, inherited = frontier.pop()
        role = inherited or ("pages" if pid == page_server else "workers" if WORKER_MARK in _cmdline(pid) else "other")
        roles[role].append(pid)
        frontier.extend((kid, role if role == "pages" else None) for kid in children_of(pid))
    return roles


def process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def role_cpu(page_server: int | None) -> dict[str, float]:
    """CPU seconds so far of this process (``main``) and of its descendants by role."""
    out = {role: cpu_of(pids) for role, pids in descendants(page_server).items()}
    out["main"] = process_cpu()
    return out


def system_busy() -> float:
    """Busy CPU seconds of the whole machine, all cores."""
    t = psutil.cpu_times()
    return t.user + t.nice + t.system + t.irq + t.softirq + t.steal


def own_cpu() -> float:
    """CPU seconds of this process and everything it started (page servers, Prefect's server, workers)."""
    return sum(role_cpu(None).values())


class Contention:
    """How much CPU other processes on the machine used while a block ran, in cores."""

    def __enter__(self) -> Contention:
        self.began, self.busy0, self.own0 = time.monotonic(), system_busy(), own_cpu()
        return self

    def __exit__(self, *exc) -> None:
        wall = max(time.monotonic() - self.began, 1e-9)
        self.cores = max(0.0, (system_busy() - self.busy0) - (own_cpu() - self.own0)) / wall


def wait_until_quiet(limit: float, threshold: float = 0.25) -> float:
    """Wait up to ``limit`` s for other processes to use under ``threshold`` cores; returns their load."""
    deadline = time.monotonic() + limit
    while True:
        with Contention() as c:
            time.sleep(1.0)
        if c.cores < threshold or time.monotonic() >= deadline:
            return c.cores


class Sampler:
    """Memory of this process and of the enrichment workers: VmRSS every ``interval`` s, PSS as
    often as its cost allows (see PSS_BUDGET); peaks of each and of their sums."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.peak: Counter[str] = Counter()  # main_rss, workers_rss, total_rss, and the same for pss
        self.workers_seen: set[int] = set()
        self.pss_samples = 0
        self.samples = 0
        self.cpu = 0.0  # the sampler thread's own CPU seconds
        self._workers: list[int] = []
        self._workers_at = 0.0
        self._next_pss = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="bench-sampler")

    def _worker_pids(self, now: float) -> list[int]:
        # Workers start on first use and after a pool breaks; looking once a second is plenty.
        if now - self._workers_at >= 1.0:
            roots = [pid for pid in children_of(os.getpid()) if WORKER_MARK in _cmdline(pid)]
            self._workers = roots + [kid for pid in roots for kid in children_of(pid)]
            self._workers_at = now
        return self._workers

    def _peak(self, kind: str, main: int | None, workers: list[int | None]) -> None:
        alive = [v for v in workers if v is not None]
        self.peak[f"main_{kind}"] = max(self.peak[f"main_{kind}"], main or 0)
        self.peak[f"workers_{kind}"] = max(self.peak[f"workers_{kind}"], sum(alive))
        self.peak[f"total_{kind}"] = max(self.peak[f"total_{kind}"], (main or 0) + sum(alive))

    def _sample(self) -> None:
        now = time.monotonic()
        pids = self._worker_pids(now)
        self.workers_seen.update(pids)
        self._peak("rss", vm_rss(), [vm_rss(pid) for pid in pids])
        self.samples += 1
        if now >= self._next_pss:
            began = time.thread_time()
            self._peak("pss", pss(), [pss(pid) for pid in pids])
            self.pss_samples += 1
            self._next_pss = now + max(self.interval, (time.thread_time() - began) / PSS_BUDGET)

    def _run(self) -> None:
        began = time.thread_time()
        while not self._stop.wait(self.interval):
            self._sample()
        self._sample()  # the end state too
        self.cpu = time.thread_time() - began

    def __enter__(self) -> Sampler:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


class Meter:
    """Wall time of wrapped calls by name, with the first start and last end; safe across threads."""

    def __init__(self) -> None:
        self.wall: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.first: dict[str, float] = {}
        self.last: dict[str, float] = {}
        self.lock = threading.Lock()

    def add(self, name: str, began: float, ended: float) -> None:
        with self.lock:
            self.wall[name] += ended - began
            self.calls[name] += 1
            self.first[name] = min(self.first.get(name, began), began)
            self.last[name] = max(self.last.get(name, ended), ended)

    def wrap(self, name: str, fn):
        def timed(*args, **kwargs):
            began = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.add(name, began, time.perf_counter())

        timed.__wrapped__ = fn
        return timed

    def wrap_cm(self, name: str, cm_factory):
        @contextmanager
        def timed(*args, **kwargs):
            began = time.perf_counter()
            try:
                with cm_factory(*args, **kwargs) as value:
                    yield value
            finally:
                self.add(name, began, time.perf_counter())

        return timed

    def batch_phase(self) -> float:
        """First fetch_pages call to the end of the last enrich_jobs call, s."""
        if "fetch_pages" not in self.first or "enrich_jobs" not in self.last:
            return 0.0
        return self.last["enrich_jobs"] - self.first["fetch_pages"]


@contextmanager
def patched(module, replacements: dict[str, object]):
    """Set module attributes for the duration (in memory only); names the module lacks are skipped."""
    saved = {name: getattr(module, name) for name in replacements if hasattr(module, name)}
    for name in saved:
        setattr(module, name, replacements[name])
    try:
        yield sorted(saved)
    finally:
        for name, value in saved.items():
            setattr(module, name, value)


# ================================================================================================
# The runs: the flow and the plain driver, measured alike
# ================================================================================================
@dataclass
class Run:
    kind: str  # "flow" or "plain"
    n: int
    wall: float = 0.0
    report: object = None  # flows.enrich_feeds.RunReport
    cpu: dict[str, float] = field(default_factory=dict)  # main, workers, other (Prefect's server), pages
    sampler_cpu: float = 0.0
    peak: Counter = field(default_factory=Counter)
    workers_seen: int = 0
    pss_every: float = 0.0  # mean seconds between PSS samples
    rss_start: int = 0
    maxrss_after: int = 0
    work: Meter = field(default_factory=Meter)
    hits: list = field(default_factory=list)
    started: float = 0.0
    others: float = 0.0  # other processes' CPU during the run, cores

    @property
    def main_cpu(self) -> float:
        """CPU seconds of this process for the run, without the bench's memory sampler."""
        return self.cpu["main"] - self.sampler_cpu

    @property
    def busy(self) -> float:
        """Cores busy with the pipeline: this process (sampler aside) and its enrichment workers."""
        return (self.main_cpu + self.cpu["workers"]) / self.wall


def measured(servers: PageServers, result: Run, call) -> Run:
    """Run ``call()`` (which returns a RunReport) with every meter on."""
    page_pid = servers.proc.pid
    mark, _ = servers.mark()
    gc.collect()
    result.rss_start = vm_rss() or 0
    cpu0 = role_cpu(page_pid)
    with Sampler() as sampler, Contention() as contention:
        result.started = time.monotonic()
        result.report = call()
        result.wall = time.monotonic() - result.started
    cpu1 = role_cpu(page_pid)
    time.sleep(0.05)  # a handler may still be appending its last hit
    result.cpu = {role: cpu1[role] - cpu0.get(role, 0.0) for role in cpu1}
    result.others = contention.cores
    result.sampler_cpu = sampler.cpu
    result.peak = sampler.peak
    result.workers_seen = len(sampler.workers_seen)
    result.pss_every = result.wall / max(sampler.pss_samples, 1)
    result.maxrss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    result.hits, _, _ = servers.stats(mark)
    return result


@contextmanager
def timed_steps(meter: Meter):
    """The functions the flow module's steps call, wrapped by timers in its namespace (in memory
    only); the flow and the plain driver both run those steps."""
    import flows.enrich_feeds as flow_module

    names = ("poll_feeds", "fetch_pages", "enrich_jobs", "link_articles", "open_store")
    if missing := [name for name in names if not hasattr(flow_module, name)]:
        print(f"  (the flow module no longer has {', '.join(missing)}: not timed)", flush=True)
    replacements = {
        name: (meter.wrap_cm if name == "open_store" else meter.wrap)(name, getattr(flow_module, name))
        for name in names if name not in missing
    }
    with patched(flow_module, replacements):
        yield


def run_flow(servers: PageServers, tag: str, n: int, feeds: int, db_path: Path) -> Run:
    """The Prefect flow as `enrich run` runs it (its task runner, no flow-run heartbeat: the engine
    joins that thread, which sleeps in one-second steps, when the flow ends), with the functions
    its steps call timed."""
    from prefect.settings import temporary_settings

    import flows.enrich_feeds as flow_module
    from enrich.settings import Settings
    from flows.cli import one_shot_prefect_settings

    result = Run("flow", n)
    feed_urls = servers.feed_urls(tag, n, feeds)
    settings = Settings(db_path=db_path, allow_private_networks=True)
    flow = flow_module.configured_flow(settings)
    with timed_steps(result.work), temporary_settings(one_shot_prefect_settings()):
        return measured(servers, result, lambda: flow(feed_urls, settings))


def run_plain(servers: PageServers, tag: str, n: int, feeds: int, db_path: Path) -> Run:
    """The flow's story without Prefect (``flows.enrich_feeds.run_without_prefect``: the same
    ``run_story`` on a plain thread pool), measured as the flow is."""
    import flows.enrich_feeds as flow_module
    from enrich.settings import Settings

    result = Run("plain", n)
    feed_urls = servers.feed_urls(tag, n, feeds)
    settings = Settings(db_path=db_path, allow_private_networks=True)
    with timed_steps(result.work):
        return measured(servers, result, lambda: flow_module.run_without_prefect(settings, feed_urls))


# Stage functions enrich_entry calls, by the row they are reported under.
PIPELINE_STAGES = {
    "extract_article": "extract",
    "choose_language": "language",
    "split_sentences": "sentences",
    "summarize": "summary",
    "pick_quotes": "quotes",
    "classify_topics": "topics+kind",
    "classify_kind": "topics+kind",
    "article_vector": "vectors+fingerprint",
    "text_fingerprint": "vectors+fingerprint",
}
STAGE_ORDER = ["poll", "fetch", "extract", "language", "sentences", "summary", "quotes", "topics+kind",
               "vectors+fingerprint", "other enrichment", "linking", "store"]
STAGE_NOTES = {
    "poll": "feed fetch + feedparser",
    "fetch": "fetch_page, one at a time",
    "extract": "trafilatura + metadata",
    "language": "langdetect",
    "sentences": "spaCy sentencizer",
    "summary": "sumy LexRank",
    "quotes": "",
    "topics+kind": "",
    "vectors+fingerprint": "term vector, MinHash",
    "other enrichment": "snippet, reading time, record",
    "linking": "dedup + related",
    "store": "DuckDB upserts, links, run",
}


@dataclass
class StageRun:
    n: int
    wall: float = 0.0
    stages: Counter = field(default_factory=Counter)
    ok: int = 0
    duplicates: int = 0
    others: float = 0.0


def run_stages(servers: PageServers, tag: str, n: int, feeds: int, db_path: Path) -> StageRun:
    """The flow's work, one article after another, in this process (no Prefect, no workers), each stage timed."""
    from enrich import pipeline
    from enrich.feeds import poll_feed
    from enrich.fetch import fetch_page
    from enrich.linking import link_articles
    from enrich.models import EnrichOptions, LinkCandidate
    from enrich.related import window_start
    from enrich.settings import Settings
    from enrich.store import open_store
    from flows.enrich_feeds import fetch_options_for

    settings = Settings(db_path=db_path, allow_private_networks=True)
    fetch_options = fetch_options_for(settings)
    options = EnrichOptions.from_settings(settings)
    result = StageRun(n)
    meter = Meter()
    clock = time.perf_counter
    contention = Contention().__enter__()
    began = clock()

    t = clock()
    polls = [poll_feed(url, fetch_options)[0] for url in servers.feed_urls(tag, n, feeds)]
    result.stages["poll"] += clock() - t
    entries = list({e.url: e for p in polls for e in reversed(p.entries)}.values())
    language_of = {p.feed_url: p.language for p in polls}

    store_time = 0.0
    t = clock()
    with open_store(db_path) as store:
        run_id = store.begin_run()
        store.add_feeds([p.feed_url for p in polls])
        store.link_feeds([(e.url, e.feed_url) for p in polls for e in p.entries], run_id, datetime.now(UTC))
        store.known_articles([e.url for e in entries])
    store_time += clock() - t

    pages = {}
    for entry in entries:
        t = clock()
        pages[entry.url] = fetch_page(entry.link, fetch_options) if entry.link else None
        result.stages["fetch"] += clock() - t

    wrappers = {name: meter.wrap(stage, getattr(pipeline, name))
                for name, stage in PIPELINE_STAGES.items() if hasattr(pipeline, name)}
    articles = []
    enrich_total = 0.0
    with patched(pipeline, wrappers):
        for entry in entries:
            t = clock()
            articles.append(pipeline.enrich_entry(entry, pages[entry.url], options,
                                                  feed_language=language_of.get(entry.feed_url)))
            enrich_total += clock() - t
    for stage, seconds in meter.wall.items():
        result.stages[stage] += seconds
    result.stages["other enrichment"] = enrich_total - sum(meter.wall.values())

    size = settings.batch_size
    for start in range(0, len(articles), size):
        t = clock()
        with open_store(db_path) as store:
            store.upsert_articles(articles[start : start + size], run_id)
        store_time += clock() - t

    linked = [a for a in articles if a.status == "ok"]
    result.ok = len(linked)
    if linked:
        new = [LinkCandidate(a.url, a.canonical_url, a.language, a.published_at or a.enriched_at, a.vector,
                             a.fingerprint) for a in linked]
        t = clock()
        with open_store(db_path) as store:
            since = window_start(min(c.published_at for c in new), settings.related_window_days)
            pool = store.link_candidates(since, exclude=[c.url for c in new])
            store_time += clock() - t
            t = clock()
            links = link_articles(new, pool, store.related_lists)
            result.stages["linking"] += clock() - t
            result.duplicates = len(links.duplicates)
            t = clock()
            store.save_links(links, run_id, datetime.now(UTC))
            store.finish_run(run_id, {"enriched": len(linked)})
        store_time += clock() - t
    result.stages["store"] = store_time
    result.wall = clock() - began
    contention.__exit__(None, None, None)
    result.others = contention.cores
    return result


def run_floor(corpus_html: list[bytes], n: int) -> tuple[float, float]:
    """Plain trafilatura.extract over the same n pages, one process, one core.

    Returns (seconds, other processes' load meanwhile in cores)."""
    import trafilatura

    trafilatura.extract(corpus_html[0])  # warm its config and caches
    with Contention() as contention:
        began = time.perf_counter()
        for i in range(n):
            trafilatura.extract(corpus_html[i % len(corpus_html)])
        seconds = time.perf_counter() - began
    return seconds, contention.cores


@dataclass
class ColdStart:
    label: str
    to_first_request: float | None = None
    to_first_page: float | None = None
    exit_after: float | None = None
    returncode: int | None = None
    left_behind: list[str] = field(default_factory=list)  # its session's processes running 5 s after it exited
    tail: str = ""

    def summary(self) -> str:
        first = f"{self.to_first_request:.1f} s" if self.to_first_request is not None else "none seen"
        page = f"{self.to_first_page:.1f} s" if self.to_first_page is not None else "none seen"
        done = f"{self.exit_after:.1f} s (exit {self.returncode})" if self.exit_after is not None else "killed at timeout"
        left = f"; left running (then stopped): {', '.join(self.left_behind)}" if self.left_behind else ""
        return f"launch -> first request {first:>9}; -> first page {page:>9}; -> exit {done}{left}"


def describe(pid: int) -> str:
    """A short name for a Python process: the module it runs (``-m X`` or ``-c "from X import"``)."""
    try:
        argv = psutil.Process(pid).cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        argv = []
    if "-m" in argv[:-1]:
        return argv[argv.index("-m") + 1]
    if found := re.search(r"from ([\w.]+) import", " ".join(argv)):
        return found.group(1)
    return " ".join(Path(a).name for a in argv[:2])


def session_members(sid: int) -> list[int]:
    """Running processes of session ``sid`` (one this bench started with start_new_session)."""
    members = []
    for process in psutil.process_iter(["status"]):
        try:
            if os.getsid(process.pid) == sid and process.info["status"] not in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
                members.append(process.pid)
        except OSError:  # gone meanwhile
            pass
    return members


def cold_start(servers: PageServers, label: str, tag: str, workdir: Path, prefect_home: Path,
               timeout: float, ephemeral_timeout: int | None) -> ColdStart:
    """Launch `python -m flows.cli run` (ephemeral Prefect) and time it to the first request we see."""
    out = ColdStart(label)
    feeds_file = workdir / f"{tag}-feeds.txt"
    feeds_file.write_text("\n".join(servers.feed_urls(tag, 6, 1)) + "\n")
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(ENRICH_ALLOW_PRIVATE_NETWORKS="true", PREFECT_HOME=str(prefect_home))
    if ephemeral_timeout:
        env["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = str(ephemeral_timeout)
    mark, _ = servers.mark()
    log_path = workdir / f"{tag}.log"
    with open(log_path, "w") as log:
        launched = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "flows.cli", "run", "--feeds", str(feeds_file), "--db", str(workdir / f"{tag}.duckdb")],
            cwd=str(ROOT), env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            out.returncode = proc.wait(timeout=timeout)
            out.exit_after = time.monotonic() - launched
            # Its Prefect server and enrichment workers should go with it (5 s of grace).
            deadline = time.monotonic() + 5.0
            while (left := session_members(proc.pid)) and time.monotonic() < deadline:
                time.sleep(0.25)
            if left:
                out.left_behind = [describe(pid) for pid in left]
                for pid in left:  # ours: started in the session this bench created
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGTERM)  # its own session: the CLI and its Prefect server
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    hits, _, _ = servers.stats(mark)
    if hits:
        out.to_first_request = min(h[1] for h in hits) - launched
    pages = [h for h in hits if h[0] == "page"]
    if pages:
        out.to_first_page = min(h[1] for h in pages) - launched
    if out.returncode != 0:
        lines = log_path.read_text(errors="replace").splitlines()
        errors = [line for line in lines if re.match(r"^[\w.]*(Error|Exception|Busy)\b", line)]
        out.tail = "\n".join(errors[:2] or lines[-4:])
    return out


@dataclass
class CliRun:
    n: int
    wall: float = 0.0
    to_first_request: float | None = None  # launch -> the first request the page servers saw
    returncode: int | None = None
    rows: int = 0  # articles rows in its DuckDB file
    ok_rows: int = 0  # of which status 'ok'
    workers_seen: int = 0
    samples: int = 0
    peak: Counter = field(default_factory=Counter)  # cli_rss, cli_pss, total_rss, total_pss (sums at one sample)
    tail: str = ""

    def with_memory_of(self, sampled: CliRun) -> CliRun:
        """This run's times (taken without sampling memory) with the memory of ``sampled``, a run of
        the same command that was sampled."""
        return replace(self, peak=sampled.peak, samples=sampled.samples, workers_seen=sampled.workers_seen,
                       tail="; ".join(filter(None, [self.tail, sampled.tail])))

    @property
    def work_wall(self) -> float | None:
        """First request -> exit: the issue's measure of a run's work rate."""
        return self.wall - self.to_first_request if self.to_first_request is not None else None

    def summary(self) -> str:
        p = self.peak
        work = self.work_wall
        work_text = f"first request -> exit {work:.1f} s, {self.n / work:.1f} articles/s; " if work else ""
        text = (f"{work_text}launch -> exit {self.wall:.1f} s (exit {self.returncode}, "
                f"{self.ok_rows} of {self.rows} rows enriched); peak PSS CLI + workers "
                f"{p['cli_pss_at_total'] / MIB:,.0f} MiB + {(p['total_pss'] - p['cli_pss_at_total']) / MIB:,.0f} MiB "
                f"= {p['total_pss'] / MIB:,.0f} MiB, CLI alone {p['cli_pss'] / MIB:,.0f} MiB "
                f"(RSS: CLI + workers {p['total_rss'] / MIB:,.0f} MiB, CLI alone {p['cli_rss'] / MIB:,.0f} MiB); "
                f"{self.workers_seen} worker processes incl. the fork server, {self.samples} samples; "
                f"{'under' if p['total_pss'] < 1024 * MIB else 'over'} the 1 GiB target by PSS, "
                f"{'under' if p['total_rss'] < 1024 * MIB else 'over'} by RSS")
        return text + (f"\n    {self.tail}" if self.tail else "")


def cli_run(servers: PageServers, n: int, feeds: int, tag: str, workdir: Path, timeout: float,
            sample_memory: bool = True) -> CliRun:
    """Launch `python -m flows.cli run` against the harness's Prefect server; with ``sample_memory``,
    sample the memory of the CLI process and its descendants whose command line names the fork
    server (the workers) every 0.25 s; not the page servers nor Prefect's server (not its
    descendants). Without it, only wait for the command's exit: reading ``smaps_rollup`` walks every
    page of the processes it measures, and slowed a run of 180 by ~5% (0.3 s)."""
    from prefect.settings import PREFECT_API_URL

    out = CliRun(n)
    feeds_file = workdir / f"{tag}-feeds.txt"
    feeds_file.write_text("\n".join(servers.feed_urls(tag, n, feeds)) + "\n")
    db_path = workdir / f"{tag}.duckdb"
    env = dict(os.environ, ENRICH_ALLOW_PRIVATE_NETWORKS="true", PREFECT_API_URL=str(PREFECT_API_URL.value()))
    log_path = workdir / f"{tag}.log"
    seen: set[int] = set()
    mark, _ = servers.mark()
    with open(log_path, "w") as log:
        launched = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "flows.cli", "run", "--feeds", str(feeds_file), "--db", str(db_path)],
            cwd=str(ROOT), env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            if not sample_memory:
                proc.wait(timeout=timeout)
            while proc.poll() is None:
                if time.monotonic() - launched > timeout:
                    raise subprocess.TimeoutExpired(proc.args, timeout)
                workers, frontier = [], children_of(proc.pid)
                while frontier:
                    pid = frontier.pop()
                    if WORKER_MARK in _cmdline(pid):
                        workers.append(pid)
                    frontier.extend(children_of(pid))
                seen.update(workers)
                for kind, read in (("rss", vm_rss), ("pss", pss)):
                    main = read(proc.pid) or 0
                    total = main + sum(read(pid) or 0 for pid in workers)
                    out.peak[f"cli_{kind}"] = max(out.peak[f"cli_{kind}"], main)
                    if total > out.peak[f"total_{kind}"]:
                        out.peak[f"total_{kind}"] = total
                        out.peak[f"cli_{kind}_at_total"] = main
                out.samples += 1
                time.sleep(0.25)
            out.returncode = proc.returncode
            out.wall = time.monotonic() - launched
        except subprocess.TimeoutExpired:
            out.wall = time.monotonic() - launched
            os.killpg(proc.pid, signal.SIGTERM)  # its own session: the CLI and its workers
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            out.tail = f"killed after {timeout:.0f} s"
    hits, _, _ = servers.stats(mark)
    if hits:
        out.to_first_request = min(h[1] for h in hits) - launched
    out.workers_seen = len(seen)
    try:
        import duckdb

        with duckdb.connect(str(db_path), read_only=True) as con:
            out.rows, out.ok_rows = con.execute(
                "SELECT count(*), count(*) FILTER (WHERE status = 'ok') FROM articles").fetchone()
    except Exception as exc:  # noqa: BLE001  (reported, not fatal)
        out.tail = (out.tail + "; " if out.tail else "") + f"reading {db_path.name}: {exc}"
    if out.returncode != 0:
        lines = log_path.read_text(errors="replace").splitlines()
        errors = [line for line in lines if re.match(r"^[\w.]*(Error|Exception|Busy)\b", line)]
        out.tail = (out.tail + "\n    " if out.tail else "") + "\n    ".join(errors[:2] or lines[-4:])
    return out


# ================================================================================================
# Report
# ================================================================================================
def mib(b: int) -> str:
    return f"{b / MIB:,.0f} MiB"




@dataclass
class SizeResult:
    rounds: list[tuple[Run, Run]]  # (flow, plain); rounds 1, 3... ran the flow first, 2, 4... the plain driver
    loop: StageRun | None = None
    floor: float = 0.0  # seconds for N pages
    floor_others: float = 0.0

    @property
    def flow(self) -> Run:  # the first round's runs are the ones shown in detail
        return self.rounds[0][0]

    @property
    def plain(self) -> Run:
        return self.rounds[0][1]

    def peak(self, key: str) -> int:
        """The highest memory peak of the flow runs."""
        return max(flow.peak[key] for flow, _ in self.rounds)

    def overhead(self) -> float:
        """(flow wall - plain wall) / flow wall, with the walls summed over the rounds."""
        flow, plain = (sum(run.wall for run in runs) for runs in zip(*self.rounds))
        return (flow - plain) / flow


def report(args, results: list[SizeResult], cores: int, warm_up: str, prefect_start: float,
           colds: list[ColdStart], unique: int, clis: list[CliRun]) -> int:
    from enrich.settings import Settings
    from enrich.workers import default_processes

    settings = Settings()
    size = settings.batch_size
    processes = default_processes() if settings.worker_processes is None else settings.worker_processes
    headers = ("", *(f"N = {r.flow.n}" for r in results))

    def row(name, get):
        return (name, *(get(r) for r in results))

    def rate(run: Run) -> float:
        return run.n / run.wall

    def floor_rate(r: SizeResult) -> float:
        return r.flow.n / r.floor

    def phase(run: Run, part: str) -> str:
        pages = [h for h in run.hits if h[0] == "page"]
        if not pages:
            return "-"
        first, last = min(h[1] for h in pages), max(h[2] for h in pages)
        seconds = {"before": first - run.started, "span": last - first, "after": run.started + run.wall - last}[part]
        return f"{seconds:.1f} s"

    def batch_walls(run: Run) -> str:
        w, c = run.work.wall, run.work.calls
        fetch, enrich = w["fetch_pages"], w["enrich_jobs"]
        per_batch = f"{fetch / max(c['fetch_pages'], 1):.1f} / {enrich / max(c['enrich_jobs'], 1):.1f}"
        return f"{fetch:.1f} s / {enrich:.1f} s ({per_batch} per batch)"

    def in_flight(run: Run) -> str:
        phase_s = run.work.batch_phase()
        if not phase_s:
            return "-"
        busy = run.work.wall["fetch_pages"] + run.work.wall["enrich_jobs"]
        return f"{busy / phase_s:.1f} of {settings.fetch_concurrency}"

    def prefect_client(r: SizeResult) -> float:
        return r.flow.main_cpu - r.plain.main_cpu

    def both(get, rounds, fmt) -> str:
        """One figure of each round's flow and plain runs: "flow, flow / plain, plain"."""
        return " / ".join(", ".join(fmt.format(get(run)) for run in runs) for runs in zip(*rounds))

    def prefect_share(r: SizeResult) -> float:
        """Prefect's CPU (client side and server) as a share of all the flow's CPU, (a) + (b) + (c)."""
        f = r.flow
        return (prefect_client(r) + f.cpu["other"]) / (f.main_cpu + f.cpu["workers"] + f.cpu["other"])

    def gib_target(b: int) -> str:
        return f"{mib(b)} {'ok' if b < 1024 * MIB else 'OVER'}"

    def loop_enrich_ms(s: StageRun) -> float:
        enrich = [st for st in STAGE_ORDER if st not in ("poll", "fetch", "linking", "store")]
        return sum(s.stages[st] for st in enrich) / s.n * 1000

    rows: list[tuple[str, ...]] = [
        ("the flow: enrich_feeds into a fresh DuckDB file (details of round 1)",),
        row("articles in the feeds / enriched / failed", lambda r: (
            f"{r.flow.n} / {r.flow.report.enriched} / {r.flow.report.failed}")),
        row("  same story as another (repeated pages)", lambda r: str(r.flow.report.duplicates)),
        row("wall time", lambda r: f"{r.flow.wall:.1f} s"),
        row("articles/s end to end", lambda r: f"{rate(r.flow):.1f}"),
        row("  polling, until the first page request", lambda r: phase(r.flow, "before")),
        row("  first page request -> last page response", lambda r: phase(r.flow, "span")),
        row("  after the last page (enrich, store, link)", lambda r: phase(r.flow, "after")),
        row(f"batch tasks of {size}", lambda r: str(r.flow.work.calls["enrich_jobs"])),
        row("wall in fetch_pages / enrich_jobs, summed", lambda r: batch_walls(r.flow)),
        row("  batches in flight, mean (of task threads)", lambda r: in_flight(r.flow)),
        row("wall in poll_feeds / link_articles / open_store", lambda r: (
            f"{r.flow.work.wall['poll_feeds']:.1f} / {r.flow.work.wall['link_articles']:.1f} / "
            f"{r.flow.work.wall['open_store']:.1f} s")),
        (f"CPU during the flow ({cores} cores; {processes} worker processes)",),
        row("cores busy: ((a) - sampler + (b)) / wall", lambda r: f"{r.flow.busy:.2f} of {cores}"),
        row("(a) this process", lambda r: f"{r.flow.cpu['main']:.1f} s"),
        row("    of which the bench's memory sampler", lambda r: f"{r.flow.sampler_cpu:.1f} s"),
        row("(b) enrichment workers (fork server + workers)", lambda r: f"{r.flow.cpu['workers']:.1f} s"),
        row("    per article (1-core loop: enrich_entry)", lambda r: (
            f"{r.flow.cpu['workers'] / r.flow.n * 1000:.0f} ms ({loop_enrich_ms(r.loop):.0f} ms)")),
        row("(c) Prefect's temporary server", lambda r: f"{r.flow.cpu['other']:.1f} s"),
        row("(d) page servers", lambda r: f"{r.flow.cpu['pages']:.1f} s"),
        row("other processes on the machine", lambda r: f"{r.flow.others:.2f} cores"),
        ("memory during the flow (target: this process + workers < 1 GiB at 1,000)",),
        row("peak PSS, this process + workers (all rounds)", lambda r: gib_target(r.peak("total_pss"))),
        row("peak RSS, this process + workers (all rounds)", lambda r: gib_target(r.peak("total_rss"))),
        row("this process: peak RSS / peak PSS", lambda r: (
            f"{mib(r.flow.peak['main_rss'])} / {mib(r.flow.peak['main_pss'])}")),
        row("  RSS when the run started; ru_maxrss after", lambda r: (
            f"{mib(r.flow.rss_start)}; {mib(r.flow.maxrss_after)}")),
        row("workers: peak RSS / peak PSS, summed", lambda r: (
            f"{mib(r.flow.peak['workers_rss'])} / {mib(r.flow.peak['workers_pss'])}")),
        row("  worker processes seen (incl. the fork server)", lambda r: str(r.flow.workers_seen)),
        row("  PSS read every (RSS every 0.05 s)", lambda r: f"{r.flow.pss_every:.2f} s"),
        (f"plain driver: the same work without Prefect (a thread pool of {settings.fetch_concurrency}; round 1)",),
        row("articles enriched / failed", lambda r: f"{r.plain.report.enriched} / {r.plain.report.failed}"),
        row("wall time", lambda r: f"{r.plain.wall:.1f} s"),
        row("articles/s end to end", lambda r: f"{rate(r.plain):.1f}"),
        row("cores busy: ((a) - sampler + (b)) / wall", lambda r: f"{r.plain.busy:.2f} of {cores}"),
        row("CPU: (a) this process (sampler) / (b) workers", lambda r: (
            f"{r.plain.cpu['main']:.1f} ({r.plain.sampler_cpu:.1f}) / {r.plain.cpu['workers']:.1f} s")),
        row("wall in fetch_pages / enrich_jobs, summed", lambda r: batch_walls(r.plain)),
        row("  batches in flight, mean (of pool threads)", lambda r: in_flight(r.plain)),
        row("peak PSS / RSS, this process + workers", lambda r: (
            f"{mib(r.plain.peak['total_pss'])} / {mib(r.plain.peak['total_rss'])}")),
        row("other processes on the machine", lambda r: f"{r.plain.others:.2f} cores"),
        ("Prefect's cost",),
        row("(flow wall - plain wall) / flow wall (target < 10%)", lambda r: f"{r.overhead():+.1%}"),
        row(f"  walls of the {args.rounds} rounds: flow / plain", lambda r: (
            both(lambda run: run.wall, r.rounds, "{:.1f}") + " s")),
        row("  other processes in each: flow / plain", lambda r: (
            both(lambda run: run.others, r.rounds, "{:.2f}"))),
        row("its CPU in this process: flow (a) - plain (a)", lambda r: f"{prefect_client(r):.1f} s"),
        row("  (a) without the sampler: flow / plain", lambda r: f"{r.flow.main_cpu:.1f} / {r.plain.main_cpu:.1f} s"),
        row("its server's CPU, (c) above", lambda r: f"{r.flow.cpu['other']:.1f} s"),
        row("  both, as cores over the flow's wall", lambda r: (
            f"{(prefect_client(r) + r.flow.cpu['other']) / r.flow.wall:.2f}")),
        row("  both, as a share of the flow's CPU (a)+(b)+(c)", lambda r: f"{prefect_share(r):.1%}"),
        ("floor and the one-core baseline",),
        row("floor: trafilatura.extract, 1 core, pages/s", lambda r: f"{floor_rate(r):.1f}"),
        row("flow / floor (target >= 0.5)", lambda r: f"{rate(r.flow) / floor_rate(r):.2f}"),
        row("sequential loop (1 core, in-process): wall", lambda r: f"{r.loop.wall:.1f} s"),
        row("  articles/s; / floor", lambda r: (
            f"{r.loop.n / r.loop.wall:.1f}; {(r.loop.n / r.loop.wall) / floor_rate(r):.2f}")),
        row("flow speed-up over the loop", lambda r: f"{r.loop.wall / r.flow.wall:.2f} x"),
        row("other processes: loop / floor", lambda r: f"{r.loop.others:.2f} / {r.floor_others:.2f} cores"),
        ("time per stage, sequential loop (ms/article, share of the loop)",),
    ]
    for stage in STAGE_ORDER:
        label = f"{stage} ({STAGE_NOTES[stage]})" if STAGE_NOTES.get(stage) else stage
        rows.append(row(label, lambda r, st=stage: (
            f"{r.loop.stages[st] / r.loop.n * 1000:7.1f} ms {r.loop.stages[st] / sum(r.loop.stages.values()):5.1%}")))
    rows.append(row("total", lambda r: f"{sum(r.loop.stages.values()) / r.loop.n * 1000:7.1f} ms {1:5.0%}"))

    print()
    print(f"throughput: pages from {CORPUS.name} ({unique} unique), {args.hosts} hosts "
          f"(127.0.0.1..127.0.0.{args.hosts}), {args.feeds} feeds, {args.latency_ms:g} ms added latency; "
          f"fetch concurrency {settings.fetch_concurrency}, per host {settings.per_host_concurrency}, "
          f"batch {size}, {processes} worker processes, robots.txt {'on' if settings.respect_robots else 'off'}; "
          f"{cores} CPUs; Python {sys.version.split()[0]}")
    print(f"load average when the bench started: {args.load_at_start}; when it ended: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"not in the timings: Prefect test server start {prefect_start:.1f} s; {warm_up}")
    print_table(headers, rows)
    if colds:
        print("\ncold start: `python -m flows.cli run --feeds FILE --db FILE` (6 articles), PREFECT_API_URL unset:")
        for c in colds:
            print(f"  {c.label}:\n    {c.summary()}")
            if c.tail:
                print("    " + c.tail.replace("\n", "\n    "))
    if clis:
        print("\ncommand-line run: `python -m flows.cli run --feeds FILE --db FILE` on the harness's Prefect "
              "server (a fresh process: its fork server warms up, its workers start), timed without sampling its "
              "memory; the memory of the CLI process and its fork server + workers from a second run of the same "
              "size, sampled (target < 1 GiB at 1,000):")
        for cli in clis:
            print(f"  command-line run, N = {cli.n}: {cli.summary()}")

    ok = all(run.report.enriched > 0 and run.report.new_articles == run.n
             for r in results for pair in r.rounds for run in pair)
    print()
    for r in results:
        f = r.flow
        ratio = rate(f) / floor_rate(r)
        target = WORK_RATE_TARGET_AT_1000 if f.n >= 1000 else WORK_RATE_TARGET
        overhead = r.overhead()
        cli = next((c for c in clis if c.n == f.n and c.work_wall), None)
        if cli is not None:
            cli_ratio = f.n / cli.work_wall / floor_rate(r)
            print(f"N = {f.n}, command line, first request -> exit: {f.n / cli.work_wall:.1f} articles/s = "
                  f"{cli_ratio:.2f} x floor ({'meets' if cli_ratio >= target else 'misses'} the {target} target)")
        print(f"N = {f.n}, in this process (warm fork server): {rate(f):.1f} articles/s = {ratio:.2f} x floor "
              f"({'meets' if ratio >= target else 'misses'} the {target} target); Prefect overhead {overhead:+.1%} "
              f"({'meets' if overhead < 0.10 else 'misses'} < 10%); peak PSS {mib(r.peak('total_pss'))}, "
              f"RSS {mib(r.peak('total_rss'))} this process + workers "
              f"({'under' if r.peak('total_pss') < 1024 * MIB else 'over'} 1 GiB by PSS, "
              f"{'under' if r.peak('total_rss') < 1024 * MIB else 'over'} by RSS); "
              f"{f.busy:.2f} of {cores} cores busy; other processes used {f.others:.2f} cores meanwhile")
    return 0 if ok else 1


# ================================================================================================
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000], help="N articles per run (default 100 1000)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay of every response (default 0)")
    parser.add_argument("--hosts", type=int, default=8, help="loopback addresses 127.0.0.1..N, at most 254 (default 8)")
    parser.add_argument("--feeds", type=int, default=4, help="RSS feeds the N articles are listed in (default 4)")
    parser.add_argument("--no-cold-start", action="store_true", help="skip the cold-start measurement")
    parser.add_argument("--no-cli-run", action="store_true",
                        help="skip the command-line run at the largest N (its own process's memory)")
    parser.add_argument("--cold-timeout", type=float, default=180.0, help="seconds a cold-start run may take")
    parser.add_argument("--ephemeral-timeout", type=int, default=None,
                        help="PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS for the cold-start runs "
                             "(default: what the CLI sets itself)")
    parser.add_argument("--quiet-wait", type=float, default=60.0,
                        help="before each timed part, wait up to this many seconds for other processes "
                             "to use under 0.25 cores (default 60; 0 = don't wait)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="flow and plain-driver runs per N, the order alternating (default 2)")
    parser.add_argument("--time-limit", type=float, default=3600.0, help="stop everything after this many seconds")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)  # the page-server child
    args = parser.parse_args(argv)
    if not 1 <= args.hosts <= 254 or args.feeds < 1 or min(args.sizes) < 1 or args.rounds < 1:
        parser.error("need 1 <= --hosts <= 254, --feeds >= 1, --rounds >= 1 and sizes >= 1")
    if args.serve:
        serve_main(args.hosts, args.latency_ms / 1000)
        return 0

    cores = os.cpu_count() or 1
    args.load_at_start = " ".join(f"{x:.2f}" for x in os.getloadavg())
    servers: PageServers | None = None

    def give_up() -> None:
        print(f"\nFAIL: time limit of {args.time_limit:.0f} s reached; stopping.", flush=True)
        for pids in descendants().values():  # ours only, by id: page servers, Prefect's server, workers
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        os._exit(3)

    watchdog = threading.Timer(args.time_limit, give_up)
    watchdog.daemon = True
    watchdog.start()

    def quiet() -> None:
        """Other people's jobs on this machine skew every figure: wait a little for them to finish."""
        if args.quiet_wait > 0:
            load = wait_until_quiet(args.quiet_wait)
            if load >= 0.25:
                print(f"  (other processes are using {load:.1f} cores; measuring anyway)", flush=True)

    results: list[SizeResult] = []
    colds: list[ColdStart] = []
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="enrich-throughput-")))
        servers = PageServers(args.hosts, args.latency_ms)
        stack.callback(servers.stop)
        print(f"page servers up: {', '.join(servers.bases)} ({servers.pages} corpus pages)", flush=True)

        if not args.no_cold_start:
            home = tmp / "prefect-home"
            home.mkdir()
            for i, label in enumerate(["first run (fresh PREFECT_HOME)", "next run (same PREFECT_HOME)"]):
                quiet()
                print(f"cold start: {label}...", flush=True)
                c = cold_start(servers, label, f"cold{i}", tmp, home, args.cold_timeout, args.ephemeral_timeout)
                colds.append(c)
                print(f"  {c.summary()}", flush=True)
                if c.to_first_request is None and not args.ephemeral_timeout:
                    # Under load Prefect's temporary server may miss its start-up budget: that is
                    # the user's experience too, so it is reported; then get a figure.
                    label = f"{label}, Prefect start-up timeout 120 s"
                    c = cold_start(servers, label, f"cold{i}b", tmp, home, args.cold_timeout, 120)
                    colds.append(c)
                    print(f"  {c.summary()}", flush=True)

        print("starting Prefect (temporary server, once)...", flush=True)
        began = time.monotonic()
        from prefect.testing.utilities import prefect_test_harness

        if not os.environ.get("PREFECT_API_URL"):  # else the server it names (the smoke test's)
            stack.enter_context(prefect_test_harness(server_startup_timeout=120))
        prefect_start = time.monotonic() - began
        import logging

        for name in ("prefect.events.clients", "prefect._internal.concurrency", "prefect.server", "uvicorn"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
        import flows.enrich_feeds  # noqa: F401  (import cost is not part of a run)
        from enrich import workers

        stack.callback(workers.shutdown)  # before Prefect's server stops (callbacks run last first)

        unique = servers.pages
        print(f"warm-up: the flow, then the plain driver, over the {unique} unique pages...", flush=True)
        warm = run_flow(servers, "warm", unique, args.feeds, tmp / "warm.duckdb")
        warm_plain = run_plain(servers, "warmplain", unique, args.feeds, tmp / "warmplain.duckdb")
        print(f"  {warm.wall:.1f} s + {warm_plain.wall:.1f} s; {warm.workers_seen} worker processes incl. "
              f"the fork server; worker CPU {warm.cpu['workers']:.1f} s then {warm_plain.cpu['workers']:.1f} s",
              flush=True)

        # Flows and plain runs first: the stage loop loads the models into this process, which
        # would then count in the memory of every later run.
        # Rounds alternate which goes first (flow, plain; plain, flow; ...) so a drift in the
        # machine's load does not favour one of them.
        for n in args.sizes:
            rounds = []
            for i in range(args.rounds):
                got: dict[str, Run] = {}
                for kind in ("flow", "plain") if i % 2 == 0 else ("plain", "flow"):
                    quiet()
                    print(f"N = {n}, round {i + 1}: {kind if kind == 'flow' else 'plain driver (no Prefect)'}...",
                          flush=True)
                    runner = run_flow if kind == "flow" else run_plain
                    run = got[kind] = runner(servers, f"{kind}{n}r{i}", n, args.feeds, tmp / f"{kind}{n}r{i}.duckdb")
                    print(f"  {run.wall:.1f} s, {run.n / run.wall:.1f} articles/s; {run.report.enriched} enriched, "
                          f"{run.report.failed} failed; {run.busy:.2f} cores busy; peak PSS "
                          f"{mib(run.peak['total_pss'])}; other processes {run.others:.2f} cores", flush=True)
                rounds.append((got["flow"], got["plain"]))
            results.append(SizeResult(rounds))

        clis: list[CliRun] = []
        for n in [] if args.no_cli_run else args.sizes:
            quiet()
            print(f"N = {n}: command-line run (`python -m flows.cli run`, own process)...", flush=True)
            timed = cli_run(servers, n, args.feeds, f"cli{n}", tmp, args.cold_timeout + 20 * n, sample_memory=False)
            quiet()
            sampled = cli_run(servers, n, args.feeds, f"cli{n}mem", tmp, args.cold_timeout + 20 * n)
            clis.append(timed.with_memory_of(sampled))
            print(f"  {clis[-1].summary()}", flush=True)

        corpus_html = [page.html for page in load_corpus()]
        print(f"warm-up: the sequential stage loop over the {unique} unique pages...", flush=True)
        loop_warm = run_stages(servers, "loopwarm", unique, args.feeds, tmp / "loopwarm.duckdb")
        print(f"  {loop_warm.wall:.1f} s", flush=True)
        for r in results:
            n = r.flow.n
            quiet()
            print(f"N = {n}: sequential stage loop...", flush=True)
            r.loop = run_stages(servers, f"loop{n}", n, args.feeds, tmp / f"loop{n}.duckdb")
            print(f"  {r.loop.wall:.1f} s", flush=True)
            quiet()
            print(f"N = {n}: trafilatura floor...", flush=True)
            r.floor, r.floor_others = run_floor(corpus_html, n)
            print(f"  {r.floor:.1f} s, {n / r.floor:.1f} pages/s", flush=True)

    watchdog.cancel()
    warm_up = (f"warm-up over the {servers.pages} unique pages: flow {warm.wall:.1f} s (starts {warm.workers_seen} "
               f"worker processes incl. the fork server), plain driver {warm_plain.wall:.1f} s, "
               f"stage loop {loop_warm.wall:.1f} s")
    return report(args, results, cores, warm_up, prefect_start, colds, servers.pages, clis)


if __name__ == "__main__":
    sys.exit(main())
