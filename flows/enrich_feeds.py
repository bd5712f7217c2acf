"""The Prefect flow: poll feeds, fetch pages, enrich, store. Orchestration only; stages live in enrich/."""

# No ``from __future__ import annotations`` here: Prefect validates a served run's parameters
# against the flow's annotations after loading this file by its path, where a string annotation
# ("Settings") no longer resolves and every run failed its parameter validation.
import concurrent.futures
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import get_run_context
from prefect.futures import as_completed
from prefect.task_runners import ThreadPoolTaskRunner

from enrich.feeds import poll_feeds
from enrich.fetch import FetchOptions, fetch_pages
from enrich.linking import link_articles
from enrich.models import (
    Article,
    EnrichJob,
    EnrichOptions,
    Failure,
    FeedEntry,
    FeedPoll,
    LinkCandidate,
)
from enrich.reasons import (
    ENRICH_CRASHED,
    LINK_FAILED,
    POLL_CRASHED,
    STATUS_ENRICH_FAILED,
    STATUS_NO_TEXT,
    STATUS_OK,
    STORE_FAILED,
)
from enrich.related import window_start
from enrich.schedule import PollPolicy, next_poll_at, parse_retry_after, poll_interval
from enrich.settings import Settings
from enrich.store import MAX_ATTEMPTS, StoredFeed, StoreError, open_store, release_run
from enrich.workers import enrich_jobs, prepare_workers, processes_for, start_workers, winding_down

log = logging.getLogger("enrich.flow")

# Finished batches wait this long at most to be stored together. A visit to the database costs
# ~55 ms of CPU besides the rows (open, schema check, checkpoint on close): a batch of 25 every
# 0.7 s paid it 40 times in a run of 1,000. The file stays locked only while the rows are written.
STORE_EVERY_SECONDS = 2.0


@dataclass
class RunReport:
    """What one run did, for the CLI's closing table and the runs table."""

    run_id: str
    db_path: str
    feeds_skipped: int = 0  # not due yet: backing off, or asked us to wait
    feeds_polled: int = 0
    feeds_not_modified: int = 0
    feeds_failed: int = 0
    new_articles: int = 0
    duplicates: int = 0  # the same story already stored from another feed or URL
    enriched: int = 0
    degraded: int = 0  # enriched, but with a stage that failed (its field left empty)
    failed: int = 0
    reasons: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    status: str = "running"  # then completed, or finished_with_errors (runs.status)
    abandoned_runs: tuple[str, ...] = ()  # runs a kill left running, closed and linked by this one

    def counts(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in ("feeds_polled", "feeds_failed", "new_articles", "enriched", "failed")}


# -- tasks: a poll per batch of feeds, a fetch-and-enrich per batch of articles --------------------
@task(name="poll-feeds", cache_policy=NO_CACHE)
def poll_task(
    feeds: list[tuple[str, str | None, str | None]], options: FetchOptions, retries: int, retry_delay: float,
) -> list[FeedPoll]:
    """Poll a batch of (url, etag, last_modified) feeds concurrently, transient failures retried.

    One task per batch, not per feed: a task's ~6 ms of Prefect bookkeeping, 200 times, was most
    of an idle re-run of 200 feeds (bench/poll.py: 3.5 s of polling against a 1.25 s lower bound).
    """
    return poll_feeds(feeds, options, retries=retries, retry_delay=retry_delay)


class EnrichBatch:
    """Jobs in an opaque box. Task runners walk lists, tuples and dataclasses in parameters (Prefect
    to resolve futures, Dask to find nested tasks), which costs time on big batches and on Dask
    rebuilt our records as plain tuples; a plain object is passed through untouched."""

    __slots__ = ("jobs",)

    def __init__(self, jobs: list[EnrichJob]) -> None:
        self.jobs = jobs


@dataclass(frozen=True)
class BatchOutcome:
    articles: list[Article]
    fetch_failures: list[Failure]  # pages that could not be fetched (their articles may still have the feed's text)


@task(name="fetch-and-enrich", cache_policy=NO_CACHE)
def fetch_and_enrich_task(
    batch: EnrichBatch, fetch_options: FetchOptions, options: EnrichOptions, retries: int, retry_delay: float,
    processes: int, on_progress: Callable[..., None] | None = None,
) -> BatchOutcome:
    """Fetch a batch's pages (concurrently, politely, transient failures retried), then enrich them.

    One task per batch, not per page: a Prefect task costs ~6 ms of bookkeeping in this process
    and more in its server, which at 1,000 pages was a fifth of the run (bench/throughput.py).
    """
    return fetch_and_enrich(batch.jobs, fetch_options, options, retries, retry_delay, processes, on_progress)


def _round_robin_by_host(entries: list[FeedEntry]) -> list[FeedEntry]:
    by_host: dict[str, list[FeedEntry]] = {}
    for entry in entries:
        by_host.setdefault(urlsplit(entry.link).netloc.lower(), []).append(entry)
    queues = list(by_host.values())
    return [q[i] for i in range(max(map(len, queues), default=0)) for q in queues if i < len(q)]


def _needs_enrichment(entry: FeedEntry, known) -> bool:
    if known is None:
        return True
    if known.status != STATUS_OK:
        return known.attempts < MAX_ATTEMPTS
    return known.content_hash != entry.content_hash


# -- the steps the story takes between its concurrent ones (plain functions) ------------------------
def fetch_options_for(settings: Settings) -> FetchOptions:
    return FetchOptions(
        user_agent=settings.user_agent,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        max_bytes=settings.max_page_bytes,
        max_redirects=settings.max_redirects,
        allow_private=settings.allow_private_networks,
        per_host=settings.per_host_concurrency,
        concurrency=settings.fetch_concurrency,
        respect_robots=settings.respect_robots,
    )


def _next_poll(settings: Settings, policy: PollPolicy, polled_at: datetime, poll: FeedPoll, failures_before: int):
    """When ``poll``'s feed is due again; a feed whose hints still break the scheduler is polled
    again after the shortest interval, so one feed's headers can never stop the run."""
    try:
        return next_poll_at(
            polled_at, ok=poll.ok, consecutive_failures=0 if poll.ok else failures_before + 1,
            retry_after=parse_retry_after(poll.retry_after, polled_at), gone=poll.gone, policy=policy,
            interval=poll_interval(polled_at, ttl_minutes=poll.ttl_minutes, cache_control=poll.cache_control,
                                   entry_times=tuple(e.published_at for e in poll.entries if e.published_at),
                                   policy=policy) if poll.ok and not poll.not_modified else
                     timedelta(minutes=settings.min_poll_minutes) if poll.ok else timedelta(0),
        )
    except (OverflowError, ValueError, TypeError):
        log.exception("feed %s: cannot schedule the next poll; polling again after the shortest interval",
                      poll.feed_url)
        return polled_at + policy.min_interval


def record_polls(settings: Settings, run_id: str, due, polls: list[FeedPoll]) -> list[FeedEntry]:
    """Store what the polls found and when each feed is due next; return the entries to enrich.

    Entries a feed could not use and values it stated out of bounds (``FeedPoll.problems``) go to
    ``failures``, each with its reason key.
    """
    entries = list({e.url: e for p in polls for e in reversed(p.entries)}.values())
    failures_before = {f.url: f.consecutive_failures for f in due}
    polled_at = datetime.now(UTC)
    policy = PollPolicy(min_interval=timedelta(minutes=settings.min_poll_minutes),
                        max_interval=timedelta(minutes=settings.max_poll_minutes))
    next_polls = {p.feed_url: _next_poll(settings, policy, polled_at, p, failures_before.get(p.feed_url, 0))
                  for p in polls}
    problems = [Failure("poll", x.reason, x.message, p.feed_url, x.url) for p in polls for x in p.problems]
    with open_store(settings.db_path, wait_seconds=settings.lock_wait_seconds) as store:
        store.record_polls(polls, run_id, polled_at, next_polls)
        store.record_failures(problems, run_id, polled_at)
        store.link_feeds([(e.url, e.feed_url) for p in polls for e in p.entries], run_id, polled_at)
        known = store.known_articles([e.url for e in entries])
    return [e for e in entries if _needs_enrichment(e, known.get(e.url))]


def enrich_batches(settings: Settings, stored, polls: list[FeedPoll], fresh: list[FeedEntry]) -> list[list[EnrichJob]]:
    """The fresh entries as jobs in batches, dealt round-robin over hosts so no batch waits on one
    host's per-host limit while the other hosts sit idle."""
    topics = {f.url: f.topic for f in stored}
    languages = {f.url: f.language for f in stored} | {p.feed_url: p.language for p in polls if p.language}
    ordered = _round_robin_by_host([e for e in fresh if e.link]) + [e for e in fresh if not e.link]
    jobs = [EnrichJob(e, None, languages.get(e.feed_url), topics.get(e.feed_url)) for e in ordered]
    size = settings.batch_size
    return [jobs[i : i + size] for i in range(0, len(jobs), size)]


def fetch_and_enrich(
    jobs: list[EnrichJob], fetch_options: FetchOptions, options: EnrichOptions, retries: int, retry_delay: float,
    processes: int, on_progress: Callable[..., None] | None = None,
) -> BatchOutcome:
    """Fetch the jobs' pages, then enrich them; ``on_progress`` (:meth:`ProgressTracker.add`) is
    told how many pages were fetched, then of each article enriched or failed."""
    progress = on_progress or (lambda **_counts: None)
    linked = [i for i, job in enumerate(jobs) if job.entry.link]
    pages = fetch_pages([jobs[i].entry.link for i in linked], fetch_options, retries=retries, retry_delay=retry_delay)
    progress(pages_fetched=len(pages))
    jobs = list(jobs)
    for i, page in zip(linked, pages):
        jobs[i] = replace(jobs[i], page=page)
    failures = [Failure("fetch", page.error_key, page.error, jobs[i].entry.feed_url, jobs[i].entry.url)
                for i, page in zip(linked, pages) if not page.ok]
    done = lambda article: progress(articles_enriched=int(article.status == STATUS_OK),  # noqa: E731
                                    failures=int(article.status != STATUS_OK))
    return BatchOutcome(enrich_jobs(jobs, options, processes, done), failures)


def link_new_articles(settings: Settings, run_id: str, articles: list[Article]) -> int:
    """Fold duplicates and update related lists, new articles against the stored window; returns
    how many new articles were copies of a stored story."""
    return link_candidates(settings, run_id, [
        LinkCandidate(a.url, a.canonical_url, a.language, a.published_at or a.enriched_at, a.vector, a.fingerprint)
        for a in articles if a.status == STATUS_OK
    ])


def link_candidates(settings: Settings, run_id: str, new: list[LinkCandidate]) -> int:
    """:func:`link_new_articles` for articles as linking sees them."""
    if not new:
        return 0
    with open_store(settings.db_path, wait_seconds=settings.lock_wait_seconds) as store:
        since = window_start(min(c.published_at for c in new), settings.related_window_days)
        pool = store.link_candidates(since, exclude=[c.url for c in new])
        links = link_articles(new, pool, store.related_lists)  # reads the lists it may change
        store.save_links(links, run_id, datetime.now(UTC))
    return len(links.duplicates)


def recover_abandoned_runs(settings: Settings, run_id: str) -> list[str]:
    """Close the runs a kill left ``running`` as ``abandoned``, and link the articles they stored
    but never got to fold into duplicates and related lists. Returns their ids."""
    with open_store(settings.db_path, wait_seconds=settings.lock_wait_seconds) as store:
        abandoned = store.abandoned_runs()
        stranded = store.stored_by_runs(abandoned) if abandoned else []
    if not abandoned:
        return []
    log.warning("runs %s were left running by a process that is gone: marking them abandoned and linking "
                "their %d articles", ", ".join(abandoned), len(stranded))
    failures = []
    try:
        link_candidates(settings, run_id, stranded)
    except Exception as exc:  # recorded; the runs are still closed and this run goes on
        log.exception("linking the articles of abandoned runs failed")
        failures.append(Failure("link", LINK_FAILED, f"{type(exc).__name__}: {exc}"))
    with open_store(settings.db_path, wait_seconds=settings.lock_wait_seconds) as store:
        store.record_failures(failures, run_id, datetime.now(UTC))
        store.mark_abandoned(abandoned, datetime.now(UTC))
    return abandoned


def store_articles(store, run_id: str, articles: list[Article]) -> list[Failure]:
    """Store a batch in one statement; if the database refuses it, each article alone, so one
    article's bad value costs that article only. Returns failure rows for the refused ones."""
    try:
        store.upsert_articles(articles, run_id)
        return []
    except StoreError:
        raise
    except Exception:  # noqa: BLE001 - a value the database refuses: find the article it belongs to
        log.warning("storing a batch of %d articles failed; storing them one by one", len(articles))
    refused = []
    for article in articles:
        try:
            store.upsert_articles([article], run_id)
        except Exception as exc:  # noqa: BLE001 - recorded; the article is tried again next run
            refused.append(Failure("store", STORE_FAILED, f"{type(exc).__name__}: {exc}", article.feed_url,
                                   article.url))
    return refused


def settle_batches(
    settings: Settings, run_id: str, finished: list[tuple[list[EnrichJob], BatchOutcome | BaseException]],
) -> list[tuple[BatchOutcome, list[Failure]]]:
    """Store finished batches, in one visit to the database, a crashed one as its enrich_failed
    records; returns, per batch, what was stored and the failure rows of articles the database refused."""
    outcomes = []
    for jobs, outcome in finished:
        if isinstance(outcome, BaseException):
            log.error("fetching and enriching %d articles crashed: %r", len(jobs), outcome)
            outcome = BatchOutcome(crashed_batch(jobs, outcome), [])
        outcomes.append(outcome)
    with open_store(settings.db_path, wait_seconds=settings.lock_wait_seconds) as store:
        refusals = [store_articles(store, run_id, outcome.articles) for outcome in outcomes]
    settled = []
    for outcome, refused in zip(outcomes, refusals, strict=True):
        if refused:
            refused_urls = {f.article_url for f in refused}
            outcome = BatchOutcome([a for a in outcome.articles if a.url not in refused_urls], outcome.fetch_failures)
        settled.append((outcome, refused))
    return settled


def crashed_batch(jobs: list[EnrichJob], error: BaseException) -> list[Article]:
    """The records of a batch whose task raised: kept as enrich_failed, so later runs retry them."""
    now = datetime.now(UTC)
    message = f"the batch's fetch-and-enrich task crashed: {type(error).__name__}: {error}"
    return [job.failed(message, now, ENRICH_CRASHED) for job in jobs]


def run_failures(polls: list[FeedPoll], articles: list[Article], fetch_failures: list[Failure]) -> list[Failure]:
    """Every failure of the run's feeds, pages and articles."""
    failures = [Failure("poll", p.error_key, p.error, p.feed_url) for p in polls if not p.ok]
    failures += fetch_failures
    for article in articles:
        if article.status == STATUS_NO_TEXT:
            failures.append(Failure("extract", article.reason, article.error, article.feed_url, article.url))
        elif article.status == STATUS_ENRICH_FAILED:
            failures.append(Failure("enrich", article.reason, article.error, article.feed_url, article.url))
        failures += [Failure(f.stage, f.reason, f.message, article.feed_url, article.url)
                     for f in article.stage_failures]
    return failures


def close_run(
    settings: Settings, report: RunReport, polls: list[FeedPoll], articles: list[Article],
    fetch_failures: list[Failure], started: float, bookkeeping: list[Failure] = (),
) -> None:
    """Count the outcomes into ``report``, record every failure, and close the run.

    ``bookkeeping`` holds failures of the run's own steps (an article the database refused,
    linking that raised); they are recorded too, and a failed link ends the run
    ``finished_with_errors`` rather than ``completed``.
    """
    now = datetime.now(UTC)
    for article in articles:
        if article.status == STATUS_OK:
            report.enriched += 1
            report.degraded += bool(article.stage_failures)
        else:
            report.failed += 1
            report.reasons[article.reason] += 1
        for stage_failure in article.stage_failures:
            report.reasons[stage_failure.reason] += 1
    for poll in polls:
        if not poll.ok:
            report.reasons[poll.error_key] += 1
    for failure in bookkeeping:
        report.reasons[failure.reason] += 1
    failures = run_failures(polls, articles, fetch_failures) + list(bookkeeping)
    report.status = "finished_with_errors" if any(f.reason == LINK_FAILED for f in bookkeeping) else "completed"
    report.seconds = round(time.monotonic() - started, 2)
    with open_store(settings.db_path, wait_seconds=settings.lock_wait_seconds) as store:
        store.record_failures(failures, report.run_id, now)
        store.finish_run(report.run_id, report.counts(), report.status)


# -- what a run shows while it runs --------------------------------------------------------------
@dataclass(frozen=True)
class RunProgress:
    """Where a run is, for a live display: a new one each time a step begins or a count moves."""

    step: str  # what the run is doing, or waiting for, now: "polling 12 feeds", "linking related articles"
    feeds_due: int = 0
    feeds_polled: int = 0
    articles: int = 0  # new or changed articles to fetch and enrich, known once the feeds are polled
    pages: int = 0  # of which have a page to fetch (the others have only the feed's text)
    pages_fetched: int = 0
    articles_enriched: int = 0  # status ok (a stage may have failed on them)
    failures: int = 0  # feeds and articles that failed so far, articles the database refused included


class ProgressTracker:
    """The run's counts, moved from the story's thread and its batches' threads; every change is
    passed to ``callback`` as a :class:`RunProgress`, in order."""

    def __init__(self, callback: Callable[[RunProgress], None] | None) -> None:
        self._callback = callback
        self._lock = threading.Lock()
        self.current = RunProgress("opening the run")

    def step(self, step: str, **counts: int) -> None:
        with self._lock:
            self._emit(replace(self.current, step=step, **counts))

    def add(self, **increments: int) -> None:
        with self._lock:
            self._emit(replace(self.current, **{k: getattr(self.current, k) + n for k, n in increments.items()}))

    def _emit(self, progress: RunProgress) -> None:
        self.current = progress
        if self._callback is None:
            return
        try:
            self._callback(progress)
        except Exception:  # a display's bug must not cost the run: it goes on, unseen
            log.exception("the progress display failed; the run goes on without it")
            self._callback = None


# -- who runs the story's concurrent steps: Prefect's tasks, or a plain pool -----------------------
class PrefectSteps:
    """The story's concurrent steps as Prefect tasks on the flow's task runner: every batch of
    feeds and of articles a task run in Prefect's UI."""

    def __init__(self, settings: Settings, in_process: bool) -> None:
        self.retries, self.retry_delay = settings.fetch_retries, settings.fetch_retry_delay
        # A batch on another machine (Dask) cannot call back into this process's display: the
        # story counts its articles when it completes instead.
        self.reports_progress = in_process

    def poll(self, feeds, options: FetchOptions):
        return poll_task.submit(_validators(feeds), options, self.retries, self.retry_delay)

    def batch(self, jobs: list[EnrichJob], fetch_options: FetchOptions, options: EnrichOptions, processes: int,
              on_progress: Callable[..., None]):
        return fetch_and_enrich_task.submit(EnrichBatch(jobs), fetch_options, options, self.retries, self.retry_delay,
                                            processes, on_progress if self.reports_progress else None)

    as_completed = staticmethod(as_completed)

    @staticmethod
    def outcome(future):
        """The step's result, or the exception it ended with."""
        return future.result(raise_on_failure=False)


class PoolSteps:
    """The story's concurrent steps on a plain ``concurrent.futures`` pool: the run without Prefect."""

    reports_progress = True  # the batches run in this process's threads

    def __init__(self, settings: Settings, pool: concurrent.futures.Executor) -> None:
        self.pool = pool
        self.retries, self.retry_delay = settings.fetch_retries, settings.fetch_retry_delay

    def poll(self, feeds, options: FetchOptions):
        return self.pool.submit(poll_feeds, _validators(feeds), options, retries=self.retries,
                                retry_delay=self.retry_delay)

    def batch(self, jobs: list[EnrichJob], fetch_options: FetchOptions, options: EnrichOptions, processes: int,
              on_progress: Callable[..., None]):
        return self.pool.submit(fetch_and_enrich, jobs, fetch_options, options, self.retries, self.retry_delay,
                                processes, on_progress)

    as_completed = staticmethod(concurrent.futures.as_completed)

    @staticmethod
    def outcome(future):
        """The step's result, or the exception it ended with."""
        try:
            return future.result()
        except Exception as exc:  # noqa: BLE001 - handed to the story, which records it as Prefect's would be
            return exc


def _validators(feeds) -> list[tuple[str, str | None, str | None]]:
    """What a poll sends of each stored feed: its URL and the validators of its last answer."""
    return [(f.url, f.etag, f.last_modified) for f in feeds]


# -- the run's story: the same function with Prefect or without ------------------------------------
def run_story(
    settings: Settings, steps: PrefectSteps | PoolSteps, *, feed_urls: list[str] | None = None,
    poll_all: bool = False, flow_run_id: str | None = None, progress: Callable[[RunProgress], None] | None = None,
    polled_ahead: "PolledAhead | None" = None,
) -> RunReport:
    """Poll the due feeds, fetch and enrich the new articles in batches, store them, link them, and
    close the run; ``steps`` runs the polls and batches (Prefect tasks, or a plain pool). Feeds
    ``polled_ahead`` (while the run's Prefect server started) are taken as they were polled."""
    started = time.monotonic()
    tracker = ProgressTracker(progress)

    # 1. Open the run. Which feeds: the ones given (and remember them), else the ones stored.
    now = datetime.now(UTC)
    with open_store(settings.db_path, wait_seconds=settings.lock_wait_seconds) as store:
        run_id = store.begin_run(now, flow_run_id=flow_run_id)
        if feed_urls:
            store.add_feeds(feed_urls)
        stored = store.feeds(feed_urls or None)
    try:
        # 2. Runs a kill left running are closed first, and their articles linked.
        tracker.step("closing runs left unfinished")
        abandoned = recover_abandoned_runs(settings, run_id)

        # 3. Of the feeds, the ones due (failing feeds back off, gone ones are never polled again),
        #    polled conditionally: a 304 costs no parsing and no enrichment.
        due = due_feeds(stored, now, poll_all)
        if due:  # the workers' fork server warms up while the feeds are polled
            prepare_workers(processes_for(settings))
        report = RunReport(run_id, str(settings.db_path), feeds_skipped=len(stored) - len(due),
                           abandoned_runs=tuple(abandoned))
        log.info("run %s: %d feeds due of %d -> %s", run_id, len(due), len(stored), settings.db_path)
        fetch_options = fetch_options_for(settings)
        polls = poll_due_feeds(steps, due, fetch_options, report, tracker, settings.batch_size, polled_ahead)

        # 4. Keep the entries we have not enriched yet (or whose content changed).
        tracker.step("storing what the feeds listed")
        fresh = record_polls(settings, run_id, due, polls)
        report.new_articles = len(fresh)
        log_polls(polls, fresh)

        # 5. Fetch and enrich them in batches, each stored as it completes.
        articles, fetch_failures, bookkeeping = enrich_in_batches(settings, steps, run_id, stored, polls, fresh,
                                                                   fetch_options, report, tracker)

        # 6. Fold duplicate stories and update related lists: new articles against the stored window.
        #    Failing here (a bug, a date out of range) must not cost the run its failures or its close.
        tracker.step("linking related articles")
        try:
            report.duplicates = link_new_articles(settings, run_id, articles)
        except Exception as exc:  # recorded, and the run still closes
            log.exception("linking the run's articles failed")
            bookkeeping.append(Failure("link", LINK_FAILED, f"{type(exc).__name__}: {exc}"))

        # 7. Record every failure and close the run.
        tracker.step("closing the run")
        close_run(settings, report, polls, articles, fetch_failures, started, bookkeeping)
        log.info("run %s %s in %.1fs: %d enriched, %d failed", run_id, report.status, report.seconds,
                 report.enriched, report.failed)
        tracker.step("done")
        return report
    finally:
        release_run(run_id)  # closed, or crashed: either way no longer held by this process


def due_feeds(stored, now: datetime, poll_all: bool = False) -> list:
    """The stored feeds to poll now: those due (failing feeds back off, gone and paused ones never),
    or, with ``poll_all``, every one that is neither gone nor paused."""
    return [f for f in stored if f.due(now) or (poll_all and not f.gone and not f.paused)]


def poll_due_feeds(steps, due, fetch_options: FetchOptions, report: RunReport, tracker: ProgressTracker,
                   batch_size: int, polled_ahead: "PolledAhead | None" = None) -> list[FeedPoll]:
    """Poll the due feeds in batches, all at once, in their order; a batch that crashed is a
    failed poll of each of its feeds. Feeds polled ahead with the same validators are not polled again."""
    tracker.step(f"polling {len(due)} feeds", feeds_due=len(due))
    polled = polled_ahead.take(due) if polled_ahead is not None else {}
    if polled:
        tracker.add(feeds_polled=len(polled), failures=sum(not p.ok for p in polled.values()))
    rest = [f for f in due if f.url not in polled]
    futures = {steps.poll(rest[i : i + batch_size], fetch_options): rest[i : i + batch_size]
               for i in range(0, len(rest), batch_size)}
    for future in steps.as_completed(futures):
        batch = _settled_polls(futures[future], steps.outcome(future))
        polled.update((feed.url, poll) for feed, poll in zip(futures[future], batch, strict=True))
        tracker.add(feeds_polled=len(batch), failures=sum(not p.ok for p in batch))
    polls = [polled[f.url] for f in due]
    report.feeds_polled = len(polls)
    report.feeds_failed = sum(not p.ok for p in polls)
    report.feeds_not_modified = sum(p.not_modified for p in polls)
    return polls


class PolledAhead:
    """The due feeds' polls, started before the run while its Prefect server starts (the first
    run on a machine waits about 10 s for it to create its database): the run's first request
    goes out at once, and the run's poll step takes these instead of polling the feeds again.

    Nothing is stored here; the run records the polls it takes. A feed whose state changed in
    between (another process polled it) is polled again by the run, and a poll ahead that could
    not start (the store busy, a bug) only means the run polls everything itself."""

    def __init__(self, settings: Settings, feed_urls: list[str] | None = None, poll_all: bool = False) -> None:
        # feed URL -> (the validators sent, the poll): set once, when every poll ahead has answered.
        self._polls: concurrent.futures.Future[dict[str, tuple[tuple[str | None, str | None], FeedPoll]]] = \
            concurrent.futures.Future()
        threading.Thread(target=self._poll, args=(settings, feed_urls, poll_all), name="enrich-poll-ahead",
                         daemon=True).start()

    def _poll(self, settings: Settings, feed_urls: list[str] | None, poll_all: bool) -> None:
        try:
            with open_store(settings.db_path) as store:
                stored = {f.url: f for f in store.feeds(feed_urls or None)}
            new = [StoredFeed(url, None, None, None, None, 0) for url in dict.fromkeys(feed_urls or ())
                   if url not in stored]
            due = due_feeds([*stored.values(), *new], datetime.now(UTC), poll_all)
            polls = poll_feeds(_validators(due), fetch_options_for(settings),
                               retries=settings.fetch_retries, retry_delay=settings.fetch_retry_delay)
            self._polls.set_result({f.url: ((f.etag, f.last_modified), poll) for f, poll in zip(due, polls, strict=True)})
        except BaseException as exc:  # noqa: BLE001 - the run polls these feeds itself
            log.warning("polling ahead of the run failed (%s: %s); the run polls the feeds itself",
                        type(exc).__name__, exc)
            self._polls.set_result({})

    def take(self, due) -> dict[str, FeedPoll]:
        """The polls of the feeds in ``due`` that were polled ahead with the validators they still
        have; waits for the polls ahead to answer."""
        polled = self._polls.result()
        return {f.url: polled[f.url][1] for f in due
                if f.url in polled and polled[f.url][0] == (f.etag, f.last_modified)}


_polled_ahead: ContextVar[PolledAhead | None] = ContextVar("polled_ahead", default=None)


@contextmanager
def _for_runs_here(variable: ContextVar, value) -> Iterator[None]:
    """``variable`` set to ``value`` for the runs of ``enrich_feeds`` in this block, in this thread."""
    token = variable.set(value)
    try:
        yield
    finally:
        variable.reset(token)


def polling_ahead(polls: PolledAhead | None):
    """Runs of ``enrich_feeds`` in this block (in this thread) take these polls (:class:`PolledAhead`)."""
    return _for_runs_here(_polled_ahead, polls)


def polled_ahead() -> PolledAhead | None:
    """The polls :func:`polling_ahead` set for this thread, if any (read through a function, as
    :func:`progress_display`, for a task runner that pickles the flow)."""
    return _polled_ahead.get()


def _settled_polls(feeds, outcome) -> list[FeedPoll]:
    """A batch's polls; for a batch whose step crashed (a bug), a failed poll of each feed."""
    if isinstance(outcome, BaseException):  # record it, keep the run going
        log.exception("poll task crashed", exc_info=outcome)
        return [FeedPoll(f.url, ok=False, error_key=POLL_CRASHED, error="poll task crashed") for f in feeds]
    return outcome


def log_polls(polls: list[FeedPoll], fresh: list[FeedEntry]) -> None:
    new_by_feed = Counter(e.feed_url for e in fresh)
    for poll in polls:
        if poll.not_modified:
            log.info("feed %s: not modified", poll.feed_url)
        elif poll.ok:
            log.info("feed %s: %d entries, %d new%s", poll.title or poll.feed_url, len(poll.entries),
                     new_by_feed[poll.feed_url],
                     f" (malformed: {poll.bozo_reason})" if poll.bozo_reason else "")
        else:
            log.warning("feed %s failed: %s", poll.feed_url, poll.error)


def enrich_in_batches(
    settings: Settings, steps, run_id: str, stored, polls: list[FeedPoll], fresh: list[FeedEntry],
    fetch_options: FetchOptions, report: RunReport, tracker: ProgressTracker,
) -> tuple[list[Article], list[Failure], list[Failure]]:
    """Fetch and enrich ``fresh`` in batches; returns the stored articles, the fetch failures, and the failures of the run's own steps (articles the database refused).

    Batches overlap: while one is being enriched in the worker processes the next ones are
    fetching, so the network and every core stay busy. Finished batches are stored together every
    STORE_EVERY_SECONDS, in one short visit to the database: a crash loses at most the batches in
    flight and those seconds' worth, which the next run enriches again. A batch whose step crashed
    is stored as enrich_failed, for later runs.
    """
    tracker.step(f"fetching and enriching {len(fresh)} articles", articles=len(fresh),
                 pages=sum(bool(e.link) for e in fresh))
    options = EnrichOptions.from_settings(settings)
    # On Dask the tasks already run in the cluster's worker processes; locally, in ours, started
    # now (only now: a run with nothing new must not wait for them to start and stop).
    processes = processes_for(settings)
    if fresh:
        start_workers(processes)
    futures = {steps.batch(batch, fetch_options, options, processes, tracker.add): batch
               for batch in enrich_batches(settings, stored, polls, fresh)}
    articles: list[Article] = []
    fetch_failures: list[Failure] = []
    bookkeeping: list[Failure] = []
    finished: list[tuple[list[EnrichJob], BatchOutcome | BaseException]] = []  # not stored yet

    def store_finished() -> None:
        batches = finished[:]
        finished.clear()  # tried once: a database that refused them is not asked again on the way out
        for (jobs, result), (outcome, refused) in zip(batches, settle_batches(settings, run_id, batches), strict=True):
            bookkeeping.extend(refused)
            report.failed += len(refused)
            articles.extend(outcome.articles)
            fetch_failures.extend(outcome.fetch_failures)
            if isinstance(result, BaseException) or not steps.reports_progress:  # its articles were not counted yet
                enriched = sum(a.status == STATUS_OK for a in outcome.articles)
                tracker.add(pages_fetched=0 if steps.reports_progress else sum(bool(job.entry.link) for job in jobs),
                            articles_enriched=enriched, failures=len(jobs) - enriched)
            elif refused:  # counted as enriched by the batch, then refused by the database
                tracker.add(articles_enriched=-len(refused), failures=len(refused))
        log.info("enriched %d/%d articles", len(articles), len(fresh))

    last_stored, remaining = time.monotonic(), len(futures)
    try:
        for future in steps.as_completed(futures):
            finished.append((futures[future], steps.outcome(future)))
            remaining -= 1
            if not remaining or time.monotonic() - last_stored >= STORE_EVERY_SECONDS:
                store_finished()
                last_stored = time.monotonic()
    finally:
        if finished:  # stopped (Ctrl-C, SIGTERM): what did finish is kept
            store_finished()
    return articles, fetch_failures, bookkeeping


# -- the Prefect flow: the story on Prefect's task runner, its summary in Prefect's UI ------------
class RunTaskRunner(ThreadPoolTaskRunner):
    """Threads for the run's tasks (they wait on the network or on the worker processes: one per
    fetch in flight); the run's worker processes end with them.

    Prefect enters a copy of the flow's task runner for each run and leaves it however the run
    ends, so this is where the workers' lifetime is one run's. Leaving on an exception (SIGTERM,
    Ctrl-C) kills them before the threads are joined: the threads may be waiting on them.
    """

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        with winding_down(interrupted=exc_type is not None):
            super().__exit__(exc_type, exc_value, traceback)


# A flow's parameters go to Prefect's API, so a display cannot be one: the CLI sets it here.
_progress_display: ContextVar[Callable[[RunProgress], None] | None] = ContextVar("progress_display", default=None)


def showing_progress(callback: Callable[[RunProgress], None]):
    """Runs of ``enrich_feeds`` in this block (in this thread) report their progress to ``callback``."""
    return _for_runs_here(_progress_display, callback)


def progress_display() -> Callable[[RunProgress], None] | None:
    """The callback :func:`showing_progress` set for this thread, if any.

    The flow reads it through this function, never the variable itself: a Dask task runner pickles
    the flow's function by value, with the globals it names, and a context variable does not pickle.
    """
    return _progress_display.get()


# The task runner's size until configured_flow gives it the run's own (fetch_concurrency).
DEFAULT_TASK_THREADS = Settings.model_fields["fetch_concurrency"].default


@flow(name="enrich_feeds", task_runner=RunTaskRunner(max_workers=DEFAULT_TASK_THREADS))
def enrich_feeds(feed_urls: list[str] | None, settings: Settings, poll_all: bool = False) -> RunReport:
    """Poll feeds, fetch and enrich new or changed articles, and store them in DuckDB.

    ``settings`` are built once by the caller (the CLI, ``enrich serve``, a test) and every step
    takes what it needs from them; nothing in the run reads the environment. Without
    ``feed_urls`` the feeds stored in the database are polled; of those, only the ones due,
    unless ``poll_all`` (gone or paused feeds never).
    """
    context = get_run_context()
    steps = PrefectSteps(settings, in_process=isinstance(context.task_runner, ThreadPoolTaskRunner))
    report = run_story(settings, steps, feed_urls=feed_urls, poll_all=poll_all,
                       flow_run_id=str(context.flow_run.id), progress=progress_display(), polled_ahead=polled_ahead())
    publish_report(report)
    return report


SUMMARY_ARTIFACT = "enrich-run-summary"  # one key: Prefect keeps every run's table as a version of it


def publish_report(report: RunReport) -> None:
    """The run's summary and its failures by reason in Prefect: the flow run's log and a table artifact."""
    logger = get_run_logger()
    logger.info("run %s %s: %d feeds polled (%d failed, %d not modified), %d new articles, %d enriched "
                "(%d with a stage that failed), %d failed, %d duplicates -> %s", report.run_id,
                report.status.replace("_", " "), report.feeds_polled, report.feeds_failed, report.feeds_not_modified,
                report.new_articles, report.enriched, report.degraded, report.failed, report.duplicates,
                report.db_path)
    for reason, count in report.reasons.most_common():
        logger.warning("%d failed: %s", count, reason)
    rows = [{"outcome": name.replace("_", " "), "count": getattr(report, name)}
            for name in ("feeds_polled", "feeds_failed", "feeds_not_modified", "feeds_skipped", "new_articles",
                         "duplicates", "enriched", "degraded", "failed")]
    rows += [{"outcome": f"failed: {reason}", "count": count} for reason, count in report.reasons.most_common()]
    create_table_artifact(rows, key=SUMMARY_ARTIFACT,
                          description=f"enrich run {report.run_id} ({report.status.replace('_', ' ')}) "
                                      f"-> {report.db_path}")


def run_without_prefect(settings: Settings, feed_urls: list[str] | None = None, poll_all: bool = False,
                        progress: Callable[[RunProgress], None] | None = None) -> RunReport:
    """The flow's run on a plain thread pool, without Prefect (no server, no task runs): what
    bench/throughput.py compares the flow with. The run's worker processes end with it, as in the flow."""
    pool = concurrent.futures.ThreadPoolExecutor(settings.fetch_concurrency, thread_name_prefix="enrich-run")
    try:
        report = run_story(settings, PoolSteps(settings, pool), feed_urls=feed_urls, poll_all=poll_all,
                           progress=progress)
    except BaseException:
        with winding_down(interrupted=True):
            pool.shutdown(wait=True, cancel_futures=True)
        raise
    with winding_down(interrupted=False):
        pool.shutdown(wait=True)
    return report


def task_runner_for(settings: Settings):
    """The task runner the settings ask for: a Dask cluster's, or local threads."""
    if settings.dask_address:
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(address=settings.dask_address)
    return RunTaskRunner(max_workers=settings.fetch_concurrency)


def configured_flow(settings: Settings):
    """``enrich_feeds`` on the task runner chosen by settings (``ENRICH_DASK_ADDRESS``)."""
    return enrich_feeds.with_options(task_runner=task_runner_for(settings))


if __name__ == "__main__":  # python -m flows.enrich_feeds [FEED_URL ...]
    import sys

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)  # Prefect owns the root logger's configuration; ours speaks for itself
    log.setLevel(logging.INFO)
    settings = Settings()  # this script is an edge: the one place its run reads the environment
    print(configured_flow(settings)(sys.argv[1:] or None, settings))
