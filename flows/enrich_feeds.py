"""The Prefect flow: poll feeds, fetch pages, enrich, store. Orchestration only; stages live in enrich/."""

# No ``from __future__ import annotations`` here: Prefect validates a served run's parameters
# against the flow's annotations after loading this file by its path, where a string annotation
# ("Settings") no longer resolves and every run failed its parameter validation.
import logging
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.tasks import exponential_backoff

from enrich.feeds import poll_feed
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
from enrich.store import MAX_ATTEMPTS, StoreError, open_store, release_run
from enrich.workers import enrich_jobs, processes_for, winding_down

log = logging.getLogger("enrich.flow")


class TransientFetchError(Exception):
    """Raised inside a poll task so Prefect retries it; carries the last result."""

    def __init__(self, result: FeedPoll) -> None:
        super().__init__(result.error)
        self.result = result


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


# -- tasks: a poll per feed (Prefect retries it), a fetch-and-enrich per batch of articles ---------
@task(name="poll-feed", cache_policy=NO_CACHE)
def poll_task(feed_url: str, options: FetchOptions, etag: str | None, last_modified: str | None) -> FeedPoll:
    poll, retryable = poll_feed(feed_url, options, etag=etag, last_modified=last_modified)
    if retryable:
        raise TransientFetchError(poll)
    return poll


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
    processes: int,
) -> BatchOutcome:
    """Fetch a batch's pages (concurrently, politely, transient failures retried), then enrich them.

    One task per batch, not per page: a Prefect task costs ~6 ms of bookkeeping in this process
    and more in its server, which at 1,000 pages was a fifth of the run (bench/throughput.py).
    """
    return fetch_and_enrich(batch.jobs, fetch_options, options, retries, retry_delay, processes)


def _settled_poll(future) -> FeedPoll | None:
    """The poll's result; for one that failed after its retries, the last failure it saw."""
    value = future.result(raise_on_failure=False)
    if isinstance(value, TransientFetchError):
        return value.result
    if isinstance(value, BaseException):  # a bug: record it, keep the run going
        log.exception("poll task crashed", exc_info=value)
        return None
    return value


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


# -- the steps the flow takes between its tasks (plain functions: bench/throughput.py runs them
#    without Prefect to measure what Prefect costs) ------------------------------------------------
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
    processes: int,
) -> BatchOutcome:
    linked = [i for i, job in enumerate(jobs) if job.entry.link]
    pages = fetch_pages([jobs[i].entry.link for i in linked], fetch_options, retries=retries, retry_delay=retry_delay)
    jobs = list(jobs)
    for i, page in zip(linked, pages):
        jobs[i] = replace(jobs[i], page=page)
    failures = [Failure("fetch", page.error_key, page.error, jobs[i].entry.feed_url, jobs[i].entry.url)
                for i, page in zip(linked, pages) if not page.ok]
    return BatchOutcome(enrich_jobs(jobs, options, processes), failures)


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
        existing = store.related_lists([c.url for c in pool])
    links = link_articles(new, pool, existing)
    with open_store(settings.db_path, wait_seconds=settings.lock_wait_seconds) as store:
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


def store_batch(settings: Settings, run_id: str, articles: list[Article]) -> list[Failure]:
    """Store a batch in one statement; if the database refuses it, each article alone, so one
    article's bad value costs that article only. Returns failure rows for the refused ones."""
    with open_store(settings.db_path, wait_seconds=settings.lock_wait_seconds) as store:
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


def settle_batch(
    settings: Settings, run_id: str, jobs: list[EnrichJob], outcome: BatchOutcome | BaseException,
) -> tuple[BatchOutcome, list[Failure]]:
    """Store a finished batch, a crashed one as its enrich_failed records; returns what was stored
    and the failure rows of articles the database refused."""
    if isinstance(outcome, BaseException):
        log.error("fetching and enriching %d articles crashed: %r", len(jobs), outcome)
        outcome = BatchOutcome(crashed_batch(jobs, outcome), [])
    refused = store_batch(settings, run_id, outcome.articles)
    if refused:
        refused_urls = {f.article_url for f in refused}
        outcome = BatchOutcome([a for a in outcome.articles if a.url not in refused_urls], outcome.fetch_failures)
    return outcome, refused


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


# -- the flow ----------------------------------------------------------------------------------
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
    started = time.monotonic()

    # 1. Which feeds: the ones given (and remember them), else the ones stored; of those, the
    #    ones due (failing feeds back off, gone ones are never polled again). Runs a kill left
    #    running are closed first, and their articles linked.
    now = datetime.now(UTC)
    with open_store(settings.db_path, wait_seconds=settings.lock_wait_seconds) as store:
        run_id = store.begin_run(now)
        if feed_urls:
            store.add_feeds(feed_urls)
        stored = store.feeds(feed_urls or None)
    try:
        return _run(settings, run_id, stored, now, poll_all, started)
    finally:
        release_run(run_id)  # closed, or crashed: either way no longer held by this process


def _run(settings: Settings, run_id: str, stored, now: datetime, poll_all: bool, started: float) -> RunReport:
    """The flow's steps after the run is opened (so a crash in them releases the run)."""
    fetch_options = fetch_options_for(settings)
    retrying = dict(
        retries=settings.fetch_retries,
        retry_delay_seconds=exponential_backoff(backoff_factor=settings.fetch_retry_delay),
        retry_jitter_factor=0.5,
    )
    abandoned = recover_abandoned_runs(settings, run_id)
    due = [f for f in stored if f.due(now) or (poll_all and not f.gone and not f.paused)]
    report = RunReport(run_id, str(settings.db_path), feeds_skipped=len(stored) - len(due),
                       abandoned_runs=tuple(abandoned))
    log.info("run %s: %d feeds due of %d -> %s", run_id, len(due), len(stored), settings.db_path)

    # 2. Poll the due feeds, conditionally: a 304 costs no parsing and no enrichment.
    poll_futures = [
        poll_task.with_options(**retrying).submit(f.url, fetch_options, f.etag, f.last_modified) for f in due
    ]
    polls: list[FeedPoll] = []
    for feed, future in zip(due, poll_futures):
        poll = _settled_poll(future) or FeedPoll(feed.url, ok=False, error_key=POLL_CRASHED, error="poll task crashed")
        polls.append(poll)
    report.feeds_polled = len(polls)
    report.feeds_failed = sum(not p.ok for p in polls)
    report.feeds_not_modified = sum(p.not_modified for p in polls)

    # 3. Keep the entries we have not enriched yet (or whose content changed).
    fresh = record_polls(settings, run_id, due, polls)
    report.new_articles = len(fresh)
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

    # 4. Fetch and enrich in batches. Batches overlap: while one is being enriched in the worker
    #    processes the next ones are fetching, so the network and every core stay busy. Each batch
    #    is stored as it completes, in its own short transaction: a crash loses at most the
    #    batches in flight. A batch whose task crashed is stored as enrich_failed, for later runs.
    options = EnrichOptions.from_settings(settings)
    batches = enrich_batches(settings, stored, polls, fresh)
    # On Dask the tasks already run in the cluster's worker processes; locally, in ours.
    processes = processes_for(settings)
    batch_futures = {
        fetch_and_enrich_task.submit(
            EnrichBatch(batch), fetch_options, options, settings.fetch_retries, settings.fetch_retry_delay, processes,
        ): batch
        for batch in batches
    }
    articles: list[Article] = []
    fetch_failures: list[Failure] = []
    bookkeeping: list[Failure] = []
    for future in as_completed(batch_futures):
        outcome, refused = settle_batch(settings, run_id, batch_futures[future], future.result(raise_on_failure=False))
        bookkeeping += refused
        report.failed += len(refused)
        articles.extend(outcome.articles)
        fetch_failures += outcome.fetch_failures
        log.info("enriched %d/%d articles", len(articles), len(fresh))

    # 5. Fold duplicate stories and update related lists: new articles against the stored window.
    #    Failing here (a bug, a date out of range) must not cost the run its failures or its close.
    try:
        report.duplicates = link_new_articles(settings, run_id, articles)
    except Exception as exc:  # recorded, and the run still closes
        log.exception("linking the run's articles failed")
        bookkeeping.append(Failure("link", LINK_FAILED, f"{type(exc).__name__}: {exc}"))

    # 6. Record every failure and close the run.
    close_run(settings, report, polls, articles, fetch_failures, started, bookkeeping)
    log.info("run %s %s in %.1fs: %d enriched, %d failed", run_id, report.status, report.seconds, report.enriched,
             report.failed)
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
