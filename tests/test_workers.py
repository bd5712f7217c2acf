"""Enrichment in worker processes: the same articles as in-process, and no article lost when a worker dies."""

from __future__ import annotations

import dataclasses
import os
import pickle
import signal
import threading
import time

import pytest

from enrich import workers
from enrich.demo import demo_feed_urls
from enrich.feeds import poll_feed
from enrich.fetch import FetchOptions, fetch_pages
from enrich.models import EnrichJob, EnrichOptions

OPTIONS = EnrichOptions()


@pytest.fixture(scope="module")
def demo_jobs(demo_base: str) -> list[EnrichJob]:
    """Every demo entry with its page, fetched from the demo server as the flow would."""
    fetch_options = FetchOptions(user_agent="enrich-test", allow_private=True)
    jobs = []
    for feed_url in demo_feed_urls(demo_base):
        poll, _ = poll_feed(feed_url, fetch_options)
        linked = [e for e in poll.entries if e.link]
        pages = dict(zip((e.url for e in linked), fetch_pages([e.link for e in linked], fetch_options)))
        jobs += [EnrichJob(e, pages.get(e.url), poll.language) for e in poll.entries]
    assert len(jobs) == 17
    return jobs


def comparable(article):
    return dataclasses.replace(article, enriched_at=None, fetched_at=None)


def test_workers_enrich_exactly_what_the_flow_process_would(demo_jobs):
    in_process = workers.enrich_jobs(demo_jobs, OPTIONS, processes=0)
    in_workers = workers.enrich_jobs(demo_jobs, OPTIONS, processes=2)
    assert [a.status for a in in_workers] == ["ok"] * len(demo_jobs)
    assert [comparable(a) for a in in_workers] == [comparable(a) for a in in_process]


def test_workers_started_ahead_report_each_article_and_then_enrich_in_the_started_pool(demo_jobs):
    workers.start_workers(2)
    started = workers._pool
    done = []
    articles = workers.enrich_jobs(demo_jobs[:4], OPTIONS, processes=2, on_done=done.append)
    assert workers._pool is started, "the run's batches use the workers started for it"
    assert done == articles and [a.status for a in articles] == ["ok"] * 4
    workers.shutdown()


def test_the_flow_process_does_not_import_the_text_stages():
    # They load in the workers; in the flow's process they would only cost start-up time and memory.
    import subprocess
    import sys

    code = "import flows.cli, flows.enrich_feeds, sys; print(sorted(m for m in ('spacy', 'trafilatura', 'sumy', 'langdetect') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]"


def test_the_warm_up_loads_what_a_first_article_would():
    import subprocess
    import sys

    code = (
        "import enrich.warmup, sys\n"
        "from enrich import sentences, summarize, topics\n"
        "print(sorted(m for m in ('nltk', 'spacy', 'sumy', 'trafilatura', 'langdetect') if m in sys.modules),"
        " sentences.nlp_for.cache_info().currsize, summarize._summarizer.cache_info().currsize,"
        " topics.topic_model.cache_info().currsize, topics.page_topic_model.cache_info().currsize,"
        " 'scipy.stats' in sys.modules)\n"
        "import scipy.stats; print(scipy.stats.fisher_exact([[1, 2], [3, 4]]).pvalue > 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    *modules, pipelines, summarizers, short_model, page_model, stats_loaded, stats_later = out.stdout.split()
    assert " ".join(modules) == "['langdetect', 'nltk', 'spacy', 'sumy', 'trafilatura']"
    assert int(pipelines) >= 1 and int(summarizers) >= 1 and short_model == page_model == "1"
    # NLTK came without scipy.stats (0.42 s of the warm-up), which still imports when asked for.
    assert (stats_loaded, stats_later) == ("False", "True")
    assert "failed" not in out.stderr


def test_workers_fork_from_the_warm_fork_server():
    # What the fork server loaded is in every worker before its first article: here, the shared
    # libraries of spaCy and of scipy (which NLTK imports) are mapped into a worker that ran nothing.
    workers.shutdown()
    pid = workers._shared_pool(1).submit(os.getpid).result(timeout=120)
    with open(f"/proc/{pid}/maps") as maps:
        mapped = maps.read()
    workers.shutdown()
    assert "/spacy/" in mapped and "/scipy/" in mapped


def _collector_state() -> tuple[bool, int]:
    import gc

    return gc.isenabled(), gc.get_freeze_count()


def test_workers_collect_garbage_and_skip_what_the_fork_server_froze():
    # The warm-up loads with the collector off; its workers must collect again (or cycles would
    # pile up for the whole run), over their own objects only.
    workers.shutdown()
    enabled, frozen = workers._shared_pool(1).submit(_collector_state).result(timeout=120)
    workers.shutdown()
    assert enabled and frozen > 100_000


def test_loading_frozen_pauses_the_collector_and_freezes_what_was_loaded():
    import gc

    before = gc.get_freeze_count()
    with workers.loading_frozen():
        assert not gc.isenabled()
        loaded = [[i] for i in range(1000)]
    assert gc.isenabled() and gc.get_freeze_count() >= before + len(loaded)
    gc.unfreeze()  # this test process keeps collecting everything


def _worker_pids() -> list[int]:
    pool = workers._pool
    return [p.pid for p in (pool._processes or {}).values()] if pool is not None else []


def test_a_killed_worker_costs_no_article(demo_jobs):
    workers.enrich_jobs(demo_jobs[:2], OPTIONS, processes=2)  # the pool is up
    jobs = demo_jobs  # 17 enrichments keep both workers busy well past the kill at 0.2 s
    killed = []

    def kill_one_worker():
        time.sleep(0.2)  # jobs are in flight
        pids = _worker_pids()
        if pids:
            os.kill(pids[0], signal.SIGKILL)  # what the OOM killer does
            killed.append(pids[0])

    killer = threading.Thread(target=kill_one_worker)
    killer.start()
    results = workers.enrich_jobs(jobs, OPTIONS, processes=2)
    killer.join()
    assert killed, "no worker was running to be killed"
    # The jobs the dead worker took down ran again in a fresh pool.
    assert [a.url for a in results] == [j.entry.url for j in jobs]
    assert [a.status for a in results] == ["ok"] * len(jobs)


def test_workers_that_keep_dying_leave_recorded_failures_not_gaps(demo_jobs):
    workers.enrich_jobs(demo_jobs[:2], OPTIONS, processes=2)
    done = threading.Event()

    def kill_every_worker():
        while not done.is_set():
            for pid in _worker_pids():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.01)

    killer = threading.Thread(target=kill_every_worker)
    killer.start()
    try:
        results = workers.enrich_jobs(demo_jobs, OPTIONS, processes=2)
    finally:
        done.set()
        killer.join()
    assert [a.url for a in results] == [j.entry.url for j in demo_jobs]
    failed = [a for a in results if a.status != "ok"]
    assert failed, "the killer never caught a worker"
    assert {a.status for a in failed} == {"enrich_failed"}
    assert all("WorkerDied" in a.error for a in failed)
    # And the pool recovers for the next caller.
    assert all(a.status == "ok" for a in workers.enrich_jobs(demo_jobs[:3], OPTIONS, processes=2))


def test_an_interrupted_run_kills_its_workers_and_fails_what_is_left(demo_jobs):
    # SIGTERM or Ctrl-C mid-run: the run's threads must end in moments, not after every queued job.
    workers.enrich_jobs(demo_jobs[:2], OPTIONS, processes=2)  # the pool is up
    pids = _worker_pids()
    results = []
    busy = threading.Thread(target=lambda: results.extend(workers.enrich_jobs(demo_jobs * 5, OPTIONS, processes=2)))
    busy.start()
    time.sleep(0.3)  # jobs are in flight
    with workers.winding_down(interrupted=True):
        busy.join(timeout=10)
        assert not busy.is_alive()
        late = workers.enrich_jobs(demo_jobs[:1], OPTIONS, processes=2)  # a batch that finished fetching now
        assert late[0].status == "enrich_failed" and late[0].error.startswith("Interrupted")
        assert workers._pool is None  # and no workers were started for it
    deadline = time.monotonic() + 5
    while any(_running(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_running(p) for p in pids)
    assert len(results) == len(demo_jobs) * 5
    stopped = [a for a in results if a.status != "ok"]
    assert stopped and all(a.error.startswith("Interrupted") for a in stopped)
    # The next run gets workers again (started on its first job).
    assert workers._shared_pool(2) is not None
    workers.shutdown()


def test_workers_leave_when_their_owner_is_killed():
    # kill -9 of a run (tests/test_concurrency.py does it) must not leave its workers behind.
    import subprocess
    import sys

    code = (
        "import os, sys, time\n"
        "from enrich import workers\n"
        "workers.PRELOAD = []\n"  # the stages are not needed to watch the owner, only seconds of imports
        "pool = workers._shared_pool(2)\n"
        "pids = {pool.submit(os.getpid).result() for _ in range(20)}\n"
        "print(*pids, flush=True)\n"
        "time.sleep(600)\n"
    )
    owner = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        pids = [int(p) for p in owner.stdout.readline().split()]
        assert pids and all(_running(p) for p in pids)
    finally:
        owner.kill()
        owner.wait()
    deadline = time.monotonic() + 15
    while any(_running(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_running(p) for p in pids)


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False


def test_runs_on_dask_leave_the_enrichment_to_the_cluster():
    from enrich.settings import Settings

    assert workers.processes_for(Settings(dask_address="tcp://127.0.0.1:8786", worker_processes=2)) == 0
    assert workers.processes_for(Settings(worker_processes=3)) == 3
    assert workers.processes_for(Settings(worker_processes=None)) == workers.default_processes()


def test_a_worker_start_cut_off_by_its_run_prints_nothing(monkeypatch, capsys):
    # The fork server's children report a failed start through sys.excepthook: a pipe closed under
    # a starting worker (its run interrupted) is not a fault to print; anything else still is.
    import sys

    def reported(kind, value, tb):
        print(f"reported {kind.__name__}", file=sys.stderr)

    monkeypatch.setattr(sys, "excepthook", reported)
    workers.quiet_cut_off_starts(os.getpid() + 1)  # this process plays a child of that fork server
    sys.excepthook(EOFError, EOFError("Ran out of input"), None)
    sys.excepthook(pickle.UnpicklingError, pickle.UnpicklingError("pickle data was truncated"), None)
    sys.excepthook(ValueError, ValueError("a bug"), None)
    assert capsys.readouterr().err == "reported ValueError\n"
    sys.excepthook = reported
    workers.quiet_cut_off_starts(os.getpid())  # the fork server itself: everything is reported
    sys.excepthook(EOFError, EOFError("Ran out of input"), None)
    assert "reported EOFError" in capsys.readouterr().err
