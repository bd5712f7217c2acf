"""Enrichment in worker processes, so the CPU-bound stages use every core instead of one GIL.

A run's enrichment is ~90% pure-Python CPU work (extraction, language, sentences, quotes);
threads in one process queue on the GIL and used 1.1 of 2 cores (bench/throughput.py). The
workers are one pool per process, started from a fork server that has already warmed the stages
up (enrich/warmup.py: their imports and models), so a worker starts in milliseconds, shares what
was loaded copy-on-write, and the process that runs the flow never imports spaCy or trafilatura.
The fork server starts with the run, so its warm-up overlaps the polling of the feeds.

The pool lives for one run: the flow's task runner stops it when the run ends, and kills it at once
when the run is interrupted (SIGTERM, Ctrl-C), so no worker outlives the run's process or keeps it
from exiting. A process that exits with a pool still up stops it first too: multiprocessing joins a
process's children before the pool's own exit hook runs, so a forgotten pool would hang the exit
(a run served by ``enrich serve`` is such a process; its hang once stalled every later run).

A worker that dies (a segfault in a parser, the OOM killer) breaks the whole pool in
``concurrent.futures``; the jobs it took down are tried once more in a fresh pool, and if that
breaks too they are recorded as ``enrich_failed`` for the next run to retry, never lost.
"""

from __future__ import annotations

import gc
import multiprocessing
import multiprocessing.forkserver
import os
import pickle
import select
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from datetime import UTC, datetime
from multiprocessing.util import Finalize

from enrich.models import Article, EnrichJob, EnrichOptions

# Imported by the fork server before it forks any worker: the stages, warmed up with their models.
PRELOAD = ["enrich.warmup"]
ATTEMPTS = 2  # a job whose worker died is tried once more, in a fresh pool

# Before multiprocessing's own finalizers (its queues close at priority 10): the pool still needs them.
EXIT_PRIORITY = 100

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_pool_size = 0
_interrupted = False  # set while an interrupted run winds down: jobs offered then fail instead of starting workers


def default_processes() -> int:
    """One worker per core this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def processes_for(settings) -> int:
    """Worker processes a run should use: none on Dask (its workers enrich), else as configured."""
    if settings.dask_address:
        return 0
    return default_processes() if settings.worker_processes is None else settings.worker_processes


def _shared_pool(processes: int) -> ProcessPoolExecutor | None:
    """The pool, started if need be; None while an interrupted run winds down."""
    global _pool, _pool_size
    with _lock:
        if _interrupted:
            return None
        if _pool is None or _pool_size != processes:
            if _pool is not None:
                _pool.shutdown(wait=False, cancel_futures=True)
            _pool = ProcessPoolExecutor(processes, mp_context=_context(), initializer=_exit_with,
                                        initargs=(os.getpid(),))
            _pool_size = processes
        return _pool


def _context() -> multiprocessing.context.ForkServerContext:
    # Not fork: the flow's process runs threads (Prefect's event loop, HTTP pools), and a forked
    # child inherits their locks in whatever state they were.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


@contextmanager
def loading_frozen() -> Iterator[None]:
    """Import or load a process's long-lived objects with the cyclic garbage collector off, then
    freeze them (the recipe of Python's ``gc.freeze`` documentation): a heap growing by import
    paid for full collections all along (the fork server's warm-up 2.35 -> 1.9 s of CPU, the
    CLI's import of Prefect and the flow 1.33 -> 1.2 s), later collections skip what was frozen,
    and forked workers never write to the pages they share with the fork server."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if collecting:
            gc.enable()


def prepare_workers(processes: int) -> None:
    """Start the fork server now, if workers will be wanted: it warms the stages up (seconds of CPU,
    enrich/warmup.py) while the feeds are polled, instead of after."""
    if processes > 0:
        _context()
        multiprocessing.forkserver.ensure_running()  # returns once the server is launched, not warm


# What a worker meets when the pipe it is started through closes under it, before its first job:
# the process that asked for it is winding down (an interrupted run kills the fork server,
# winding_down) or gone.
_START_CUT_OFF = (EOFError, pickle.UnpicklingError)


def quiet_cut_off_starts(fork_server: int) -> None:
    """In the fork server: a worker whose start is cut off that way exits without a traceback.

    The fork server's children report a failed start through ``sys.excepthook``, on the run's
    terminal: Ctrl-C at the moment a worker was being started printed one after "stopped by
    SIGINT". The pool sees the worker die, so nothing is lost; other failures still print.
    """
    report = sys.excepthook

    def excepthook(kind, value, traceback) -> None:
        if os.getpid() != fork_server and issubclass(kind, _START_CUT_OFF):
            return
        report(kind, value, traceback)

    sys.excepthook = excepthook


def _exit_with(parent: int) -> None:
    """Worker start-up: leave when the process that owns the pool dies.

    A pool's workers wait for work forever; if their owner is killed (kill -9, the OOM killer)
    nobody tells them, and they (and the fork server they keep alive) would linger holding
    hundreds of MiB each.
    """

    def watch() -> None:
        try:
            with os.fdopen(os.pidfd_open(parent), "rb", buffering=0) as handle:
                select.select([handle], [], [])  # readable when the process exits
        except OSError:  # no pidfd here, or the owner is already gone: poll instead
            while _alive(parent):
                time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-owner", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _discard(pool: ProcessPoolExecutor) -> None:
    global _pool
    with _lock:
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False, cancel_futures=True)


def shutdown() -> None:
    """Stop the worker processes once their jobs are done (they start again on the next call)."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


Finalize(None, shutdown, exitpriority=EXIT_PRIORITY)


@contextmanager
def winding_down(interrupted: bool) -> Iterator[None]:
    """Stop the worker processes for the end of a run; while the block runs, after an interrupt,
    jobs fail at once rather than start new workers.

    An interrupted run's threads may be waiting on jobs in the workers, starting a worker, or
    still fetching pages they would then enrich: the workers are killed rather than drained, so
    those threads end in moments (their jobs recorded as failed, for the next run to retry) and
    the process can exit.
    """
    global _interrupted, _pool
    if not interrupted:
        shutdown()
        yield
        return
    with _lock:
        _interrupted = True
        pool, _pool = _pool, None
    try:
        if pool is not None:
            _stop_fork_server()
            pool.shutdown(wait=False, cancel_futures=True)  # returns once no worker is being started
            for process in list((pool._processes or {}).values()):  # no public way before Python 3.14
                process.terminate()
            pool.shutdown(wait=True)
        yield
    finally:
        with _lock:
            _interrupted = False


def _stop_fork_server() -> None:
    """Kill the fork server: a worker being started waits for it to import the stages (seconds on
    a busy machine); killed, the start fails now. The next pool starts a new one."""
    server = multiprocessing.forkserver._forkserver
    if server._forkserver_pid is not None:  # private, like the workers above: nothing public stops it
        try:
            os.kill(server._forkserver_pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def start_workers(processes: int) -> None:
    """Start the worker processes now, in the background: starting one waits for the fork server
    to be warm, and meanwhile the first pages can be fetched."""
    pool = _shared_pool(processes) if processes > 0 else None
    if pool is not None:
        threading.Thread(target=_start, args=(pool, processes), name="start-workers", daemon=True).start()


def _start(pool: ProcessPoolExecutor, processes: int) -> None:
    try:
        for _ in range(processes):  # a pool starts a process per job submitted while none is idle
            pool.submit(_ready)
    except (BrokenProcessPool, RuntimeError, OSError, EOFError):  # the first batch starts them, or records why not
        _discard(pool)


def _ready() -> None:
    """A worker's first job: nothing, once it has started."""


def _enrich_in_worker(job: EnrichJob, options: EnrichOptions) -> Article:
    from enrich.pipeline import enrich_job

    return enrich_job(job, options)


def enrich_jobs(jobs: list[EnrichJob], options: EnrichOptions, processes: int,
                on_done: Callable[[Article], None] | None = None) -> list[Article]:
    """Enrich ``jobs`` in order; in ``processes`` worker processes, or in this thread when 0.
    ``on_done`` is told of each article as it is done (for a run's progress display)."""
    done = on_done or (lambda _article: None)
    if processes <= 0:
        from enrich.pipeline import enrich_job

        articles = []
        for job in jobs:
            articles.append(enrich_job(job, options))
            done(articles[-1])
        return articles
    results: list[Article | None] = [None] * len(jobs)
    pending = list(range(len(jobs)))
    for _ in range(ATTEMPTS):
        pool = _shared_pool(processes)
        if pool is None:
            break
        try:
            futures: dict[int, Future] = {i: pool.submit(_enrich_in_worker, jobs[i], options) for i in pending}
        except (BrokenProcessPool, RuntimeError, OSError, EOFError):  # broken by another caller's job before we
            # submitted, or a worker could not start (the fork server died, or was stopped by an interrupt)
            _discard(pool)
            continue
        for i, future in futures.items():
            try:
                results[i] = future.result()
            except (BrokenProcessPool, CancelledError):  # a worker died, or the pool was stopped before the job ran
                _discard(pool)
                continue
            except Exception as exc:  # noqa: BLE001 - e.g. a result that would not pickle: that job's failure
                results[i] = jobs[i].failed(f"{type(exc).__name__}: {exc}", datetime.now(UTC))
            done(results[i])
        pending = [i for i in pending if results[i] is None]
        if not pending:
            break
    now = datetime.now(UTC)
    error = ("Interrupted: the run was stopped before this article was enriched" if _interrupted
             else "WorkerDied: the enrichment process stopped abruptly")
    for i in pending:
        results[i] = jobs[i].failed(error, now)
        done(results[i])
    return results  # type: ignore[return-value] - every slot is filled above
