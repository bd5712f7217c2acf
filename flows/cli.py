"""The ``enrich`` command: run the flow, run the demo, manage feeds.

Exit status: 0 when a run completed (failed feeds and articles are recorded, not fatal), 2 for bad
arguments or settings, 1 when the database cannot be used, 75 (EX_TEMPFAIL) when another process
holds it or the local Prefect server did not start in time, 130 when stopped by Ctrl-C (SIGINT)
and 143 by SIGTERM.

Commands import what they use when they run: ``enrich --help`` loads typer and rich only, the
feed and export commands add the settings and DuckDB, and only ``run``, ``demo`` and ``serve``
load Prefect (tests/test_cli_imports.py).
"""

from __future__ import annotations

import atexit
import csv
import difflib
import errno
import gc
import json
import logging
import os
import signal
import socket
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from time import monotonic
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from enrich.opml import Subscription
    from enrich.settings import Settings
    from flows.server import BackgroundServer, ServerInfo

EX_TEMPFAIL = 75
# difflib's ratio above which a misspelt topic gets a "did you mean": 0.6 is difflib's own default,
# which maps Technolgy -> Technology and Sience -> Science but nothing to an unrelated word.
TOPIC_SUGGESTION_CUTOFF = 0.6
console = Console(stderr=True, highlight=False, soft_wrap=True)  # messages stay on one line
stdout = Console(highlight=False)

app = typer.Typer(help="Enrich RSS/Atom articles into DuckDB for a reader app.", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False)
feeds_app = typer.Typer(help="Manage the feeds stored in the database.", no_args_is_help=True)
app.add_typer(feeds_app, name="feeds")

DbOption = Annotated[Path | None, typer.Option("--db", help="DuckDB file (default: ENRICH_DB_PATH or data/enriched.duckdb).")]


def _usage_error(message: str) -> typer.Exit:
    """Print an operator mistake as one line; the caller raises the returned exit 2."""
    console.print(f"[red]error:[/] {message}")
    return typer.Exit(2)


# The settings of this invocation: read from the environment once, by the callback below.
_SETTINGS: ContextVar[Settings] = ContextVar("enrich_settings")
# When this command began, on the monotonic clock: the closing table's time is the command's.
_started_by_main: float | None = None  # set by main(): the process's own start
_command_started = 0.0


def _process_age() -> float:
    """Seconds since this process started (Linux), so Python's start and imports count; 0 elsewhere."""
    import time as clock  # (``time`` here is datetime's)

    try:
        with open("/proc/self/stat", "rb") as stat:
            ticks = int(stat.read().rsplit(b")", 1)[1].split()[19])  # field 22, starttime, after the name
        return max(0.0, clock.clock_gettime(clock.CLOCK_BOOTTIME) - ticks / os.sysconf("SC_CLK_TCK"))
    except (AttributeError, OSError, ValueError, IndexError):  # no /proc, no CLOCK_BOOTTIME
        return 0.0


@app.callback()
def _read_settings() -> None:
    """Read and check the ENRICH_ settings once, before any command; every command uses these."""
    from pydantic import ValidationError

    from enrich.settings import Settings

    global _command_started
    _command_started = _started_by_main if _started_by_main is not None else monotonic()
    try:
        _SETTINGS.set(Settings())
    except ValidationError as exc:
        raise _usage_error(Settings.explain(exc)) from None


def _settings() -> Settings:
    return _SETTINGS.get()


def _db(path: Path | None) -> Path:
    """The database path, refused (exit 2) when it is a folder or lies under a file."""
    path = path or _settings().db_path
    if path.is_dir():
        raise _usage_error(f"--db {path} is a folder; give the path of a DuckDB file")
    blocker = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise _usage_error(f"--db {path}: {blocker} is a file, not a folder")
    return path


def _out_file(path: Path) -> Path:
    """An output file path, refused (exit 2) when it is a folder or lies under a file."""
    if path.is_dir():
        raise _usage_error(f"--out {path} is a folder; give a file name")
    blocker = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise _usage_error(f"--out {path}: {blocker} is a file, not a folder")
    return path


def _check_feed_urls(urls: list[str], source: str) -> None:
    """Refuse (exit 2) a feed list holding a URL no client could request, naming it."""
    from enrich.urls import link_problem

    for url in urls:
        if (why := link_problem(url)) is not None:
            raise _usage_error(f"{source}: not a usable feed URL {url!r}: {why}")


def _with_store(path: Path, action: Callable, read_only: bool = False):
    """Run ``action(store)``, turning database trouble into a message and an exit status."""
    from enrich.store import open_store

    def use_store():
        with open_store(path, read_only=read_only, wait_seconds=_settings().lock_wait_seconds) as store:
            return action(store)

    return _guard_busy(use_store)


def _existing_db(path: Path | None) -> Path:
    """The database a read-only command reads: it must exist (never create an empty one by a typo)."""
    db = _db(path)
    if not db.exists():
        raise _usage_error(f"no database at {db}; run `enrich run` or `enrich demo` first, or pass the right file with --db")
    return db


def _quiet_prefect() -> None:
    """Keep Prefect's own chatter (and its exit-time tracebacks) out of the terminal."""
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_LOGGING_LOG_PRINTS", "false")
    flow_log = logging.getLogger("enrich")
    if not any(getattr(h, "_enrich_cli", False) for h in flow_log.handlers):
        handler = _ConsoleLines()
        handler.setFormatter(logging.Formatter("  %(message)s"))
        handler._enrich_cli = True
        flow_log.addHandler(handler)
    flow_log.setLevel(logging.INFO)
    flow_log.propagate = False
    # Prefect's event recorder is cancelled at interpreter exit and logs CancelledError tracebacks
    # through these loggers; they say nothing about the run.
    for name in ("prefect.events.clients", "prefect._internal.concurrency", "prefect.server", "uvicorn"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


class _ConsoleLines(logging.Handler):
    """The flow's log lines through the command's console: printed above the live progress line,
    never through it."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            console.print(Text(self.format(record)))
        except Exception:  # noqa: BLE001 - logging's own convention: report, never raise
            self.handleError(record)


def _run_logs_to_prefect_only() -> None:
    """The run's summary and failures (its run logger) reach Prefect's API for its UI; the terminal
    shows the progress line and the closing table instead, and only Prefect's warnings."""
    from prefect.logging.handlers import PrefectConsoleHandler

    logging.getLogger("prefect.flow_runs").setLevel(logging.INFO)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, PrefectConsoleHandler):
            handler.setLevel(logging.WARNING)


# Prefect raises this (a RuntimeError) when its temporary server does not answer in time.
EPHEMERAL_TIMEOUT = "Timed out while attempting to connect to ephemeral Prefect API server"


def _warm_up_workers(settings: Settings) -> None:
    """Start the workers' fork server as soon as a command knows it will run the pipeline: its
    warm-up (1.9 s of CPU, enrich/warmup.py) then overlaps opening the store, importing Prefect and
    polling the feeds. Started 0.34 s sooner than when the flow begins, the workers were ready
    0.3-0.4 s sooner on 2 cores (bench/throughput.py's command-line run)."""
    from enrich.workers import prepare_workers, processes_for

    prepare_workers(processes_for(settings))


def _run_flow(feed_urls: list[str] | None, settings: Settings, poll_all: bool = False):
    from pydantic import ValidationError

    from flows.display import RunDisplay

    _quiet_prefect()
    try:
        with RunDisplay(console, _command_started) as display:
            display.waiting("loading the pipeline (Prefect and the enrichment stages)...")
            server = _server_for_run()
            # Imported while a server that was just started gets ready: Prefect and the flow's
            # modules take seconds to import, and the server needs those seconds anyway.
            from enrich.workers import loading_frozen

            with loading_frozen():
                from flows.enrich_feeds import (
                    PolledAhead,
                    configured_flow,
                    polling_ahead,
                    showing_progress,
                )

            _run_logs_to_prefect_only()
            from prefect.settings import PREFECT_API_URL, temporary_settings

            flow = configured_flow(settings)
            overrides = one_shot_prefect_settings()
            # While a Prefect server starts (the first run on a machine: about 10 s, most of it the
            # server creating its database), the due feeds are polled; the run takes those polls.
            starting = not server[1].up if server else _explicit_api_url() is None
            ahead = PolledAhead(settings, feed_urls, poll_all) if starting else None
            if server is None:
                display.waiting("starting Prefect (its temporary server, unless PREFECT_API_URL is set)"
                                + (", polling the feeds meanwhile..." if ahead else "..."))
            else:
                if not server[1].up:
                    display.waiting(f"waiting for the background Prefect server to start at {server[1].ui_url} "
                                    "(once; later runs reuse it), polling the feeds meanwhile...")
                overrides[PREFECT_API_URL] = _answering(*server).api_url
            with temporary_settings(overrides), showing_progress(display), polling_ahead(ahead):
                return flow(feed_urls, settings, poll_all)
    except ValidationError as exc:  # Prefect validates its PREFECT_ settings when first imported
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg'].lower()}" for e in exc.errors())
        raise _usage_error(f"invalid setting ({exc.title}): {problems}") from None
    except RuntimeError as exc:
        if EPHEMERAL_TIMEOUT not in str(exc):
            raise
        # A busy machine, not a broken run: nothing was polled, so a scheduler may simply retry.
        console.print("[yellow]busy:[/] Prefect's temporary server did not start in time "
                      "(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS); nothing was run, try again later "
                      "or point PREFECT_API_URL at a running Prefect server.")
        raise typer.Exit(EX_TEMPFAIL) from None


def one_shot_prefect_settings() -> dict:
    """Prefect settings for a run that ends with its command.

    The flow run's heartbeat thread sleeps in one-second steps and the engine joins it when the
    flow ends: up to a second added to every run (0.9 s measured, with the CPU idle). A heartbeat
    tells a long-lived runner's automations that a run is still alive; a command's run that dies
    is closed by the next one (``runs`` marks it abandoned). A heartbeat frequency the user set
    (environment or profile) is kept.
    """
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, get_current_settings

    if "heartbeat_frequency" in get_current_settings().flows.model_fields_set:
        return {}
    return {PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}


def _explicit_api_url() -> str | None:
    """PREFECT_API_URL as Prefect reads it (environment, profile, .env): it always wins."""
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value() or None


def _background_server() -> BackgroundServer:
    from flows.server import BackgroundServer

    return BackgroundServer(port=_settings().prefect_port)


def _server_for_run() -> tuple[BackgroundServer, ServerInfo] | None:
    """The background Prefect server this run reports to, started if need be (not waited for);
    None when PREFECT_API_URL names a server or ENRICH_PREFECT_SERVER=ephemeral asks for Prefect's own."""

    if url := _explicit_api_url():
        console.print(f"[dim]Prefect server: {url} (PREFECT_API_URL)[/]")
        return None
    if _settings().prefect_server == "ephemeral":
        console.print("[dim]starting Prefect's temporary server for this run (ENRICH_PREFECT_SERVER=ephemeral)...[/]")
        return None
    manager = _background_server()
    server = manager.begin()
    if server.up:
        console.print(f"[dim]Prefect server: {server.ui_url} (in the background; `enrich server stop` stops it)[/]")
    else:
        console.print(f"[dim]starting a Prefect server in the background at {server.ui_url}; this takes 20-60 s "
                      "once, later runs reuse it (`enrich server stop` stops it)...[/]")
    return manager, server


def _answering(manager: BackgroundServer, server: ServerInfo) -> ServerInfo:
    """``server`` once it answers; exit 75 when it did not in time (retry later), 1 when it died."""
    from flows.server import ServerDidNotStart, ServerExited

    try:
        return manager.wait(server, _settings().prefect_start_seconds)
    except ServerDidNotStart as exc:
        console.print(f"[yellow]busy:[/] {exc}; nothing was run, try again later "
                      "(ENRICH_PREFECT_START_SECONDS waits longer).")
        raise typer.Exit(EX_TEMPFAIL) from None
    except ServerExited as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None


def _report_table(report) -> Table:
    table = Table(show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("feeds polled", str(report.feeds_polled))
    if report.feeds_not_modified:
        table.add_row("  not modified (304)", str(report.feeds_not_modified))
    if report.feeds_skipped:
        table.add_row("feeds not due (backing off)", str(report.feeds_skipped))
    if report.feeds_failed:
        table.add_row("feeds failed", str(report.feeds_failed))
    table.add_row("new articles", str(report.new_articles))
    if report.duplicates:
        table.add_row("  same story as a stored one", str(report.duplicates))
    table.add_row("enriched", str(report.enriched))
    if report.degraded:
        table.add_row("  with a stage that failed", str(report.degraded))
    table.add_row("failed", str(report.failed))
    for reason, count in report.reasons.most_common():
        table.add_row(f"  {reason}", str(count))
    if report.abandoned_runs:
        table.add_row("killed runs closed (abandoned)", str(len(report.abandoned_runs)))
    if report.status != "completed":
        table.add_row("run", report.status.replace("_", " "))
    table.add_row("time taken", f"{monotonic() - _command_started:.1f} s")
    table.add_row("  of which the run itself", f"{report.seconds:.1f} s")
    return table


def _print_report(report) -> None:
    stdout.print(f"\n[bold]run {report.run_id}[/] -> {report.db_path}")
    stdout.print(_report_table(report))


@app.command()
def run(
    feeds: Annotated[Path | None, typer.Option("--feeds", help="File with one feed URL per line, or an OPML file.",
                                               exists=True, dir_okay=False, readable=True)] = None,
    db: DbOption = None,
    poll_all: Annotated[bool, typer.Option("--all", help="Poll every feed now, not only those due (gone or paused feeds never).")] = False,
) -> None:
    """Run the pipeline once: poll the feeds that are due, enrich new articles, write DuckDB."""
    from enrich.opml import FeedListError, read_feed_list

    db = _db(db)
    urls: list[str] | None = None
    subscriptions: list[Subscription] = []
    if feeds:
        try:
            subscriptions = read_feed_list(feeds)
        except FeedListError as exc:
            raise _usage_error(str(exc)) from None
        urls = [s.url for s in subscriptions]
        _check_feed_urls(urls, str(feeds))
    _warm_up_workers(_settings())  # the arguments are sound: the pipeline will run
    if subscriptions:
        _with_store(db, lambda store: _add_subscriptions(store, subscriptions))
    stored = _with_store(db, lambda store: len(store.feeds()))
    if not urls and not stored:
        console.print("[red]error:[/] no feeds: pass --feeds FILE or add one with `enrich feeds add URL`.")
        raise typer.Exit(2)
    with _stopped_by_signals():
        report = _guard_busy(lambda: _run_flow(urls, _settings().model_copy(update={"db_path": db}), poll_all))
    _print_report(report)


class _Terminated(BaseException):
    """SIGTERM, raised like Ctrl-C's KeyboardInterrupt (and, like it, past every ``except Exception``)."""


# Set when SIGTERM arrives: a database query it interrupts comes back as KeyboardInterrupt
# (enrich/store.py), and the exit status must still say SIGTERM.
_sigterm_received = threading.Event()


def _raise_terminated(_signum, _frame) -> None:
    _sigterm_received.set()
    raise _Terminated


@contextmanager
def _stopped_by_signals() -> Iterator[None]:
    """Let SIGTERM stop a command the way Ctrl-C does, and both end it cleanly.

    By default SIGTERM ends the process on the spot, skipping every exit handler: Prefect's
    temporary server was left running. Raised as an exception instead, it unwinds the run (whose
    task runner kills its worker processes), exit handlers run, and the exit status is the
    shell's for a signal, 128 + its number. Prefect takes SIGTERM over while a flow runs and hands
    it back to this handler once it has recorded the crash.
    """
    _sigterm_received.clear()
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    except (KeyboardInterrupt, _Terminated):
        logging.getLogger("prefect.events.utilities").addFilter(_EventsTooLate())
        signum = signal.SIGTERM if _sigterm_received.is_set() else signal.SIGINT
        console.print(f"[yellow]stopped[/] by {signal.Signals(signum).name}; the next run enriches what this one "
                      "had not stored yet")
        raise typer.Exit(128 + signum) from None
    finally:
        signal.signal(signal.SIGTERM, previous)


class _EventsTooLate(logging.Filter):
    """Drops Prefect's traceback for an event a stopped run emits once Python has begun to exit.

    Prefect stops its events worker in a ``threading`` exit hook, the first thing Python does on
    exit. A thread of the interrupted run that ends after that (its task run's last state change,
    its flow run's heartbeat) makes Prefect start a new worker, which Python refuses ("can't
    register atexit after shutdown"), and Prefect logs that with its traceback under our
    one-line message. The event could not be sent any more either way, and Prefect's server has
    already recorded the flow run as crashed. Any other failure to emit still shows.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        # Python's words for it: "can't register atexit after shutdown" (3.11), "can't create new
        # thread at interpreter shutdown" (3.12+, when the events need Prefect's temporary server).
        return not (isinstance(error, RuntimeError) and "shutdown" in str(error))


def _guard_busy(action: Callable):
    """Run ``action()``: a busy database exits 75 (try later), an unusable one exits 1."""
    from enrich.store import StoreBusy, StoreError

    try:
        return action()
    except StoreBusy as exc:
        console.print(f"[yellow]busy:[/] {exc}\nAnother enrich process is writing; try again later.")
        raise typer.Exit(EX_TEMPFAIL) from None
    except StoreError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None


def _add_subscriptions(store, subscriptions: list[Subscription]) -> int:
    return sum(store.add_feed(sub.url, title=sub.title, topic=sub.category) for sub in subscriptions)


@app.command()
def demo(
    db: DbOption = None,
    port: Annotated[int | None, typer.Option(help="Port of the demo server (default: ENRICH_DEMO_PORT, 8765).",
                                             min=0, max=65535)] = None,
) -> None:
    """Serve the bundled demo corpus on loopback and run the real flow against it."""
    from enrich.demo import DEMO_SITE, PLACEHOLDER, serve_directory
    from enrich.opml import parse_opml

    settings = _settings()
    db = _db(db)
    port = port or settings.demo_port
    try:
        server = serve_directory(DEMO_SITE, settings.demo_host, port)
        base = server.__enter__()
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise _usage_error(f"port {port} is in use (another program, or another enrich demo); pick a free one: "
                               f"enrich demo --port {_suggested_port(settings.demo_host, port)}") from None
        console.print(f"[red]error:[/] cannot start the demo server on port {port}: {exc}")
        raise typer.Exit(1) from None
    _warm_up_workers(settings)
    try:
        console.print(f"demo corpus served at {base}")
        opml = (DEMO_SITE / "feeds.opml").read_bytes().replace(PLACEHOLDER, base.encode())
        subscriptions = parse_opml(opml)
        _with_store(db, lambda store: _add_subscriptions(store, subscriptions))
        with _stopped_by_signals():
            demo_settings = settings.model_copy(update={"db_path": db, "allow_private_networks": True})
            report = _guard_busy(lambda: _run_flow([s.url for s in subscriptions], demo_settings))
    finally:
        server.__exit__(None, None, None)
    _print_report(report)
    _show_sample(db, settings.lock_wait_seconds)


def _suggested_port(host: str, taken: int) -> int:
    """A free port near ``taken`` to suggest (one the system picks when none near is free)."""
    for candidate in range(taken + 1, min(taken + 20, 65536)):
        with socket.socket() as probe:
            if probe.connect_ex((host, candidate)) != 0:
                return candidate
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def _show_sample(db: Path, lock_wait_seconds: float) -> None:
    """Print one enriched article the way the reader shows it."""
    from enrich.preview import format_age
    from enrich.store import open_store

    with open_store(db, read_only=True, wait_seconds=lock_wait_seconds) as store:
        rows = store.query(
            """SELECT title, author, published_at, reading_minutes, language, kind, topics, summary, key_quotes,
                      key_quote_speakers, feed_snippet, url
               FROM articles WHERE status = 'ok' AND text_source = 'page'
               ORDER BY published_at DESC LIMIT 1"""
        )
    if not rows:
        return
    title, author, published, minutes, language, kind, topics, summary, quotes, speakers, snippet, url = rows[0]
    now = datetime.now(UTC)
    # Article text is strangers' text: square brackets in it must print, not style the terminal.
    stdout.print()
    stdout.print(f"[bold]{escape(title or '')}[/]")
    byline = (f"{author or 'unknown author'} · {format_age(published, now)} · {minutes} min read · {language}"
              + (f" · {kind}" if kind else "") + (f" · topics: {', '.join(topics)}" if topics else ""))
    stdout.print(f"[dim]{escape(byline)}[/]")
    stdout.print(f"[dim]{escape(url)}[/]")
    stdout.print("\n[bold]Summary[/]")
    for sentence in summary:
        stdout.print(f"  {escape(sentence)}")
    stdout.print(f"\n[bold]Key quotes · {len(quotes)} pulled[/]")
    for quote, speaker in zip(quotes, speakers or [None] * len(quotes), strict=True):
        stdout.print(f"  > {escape(quote)}" + (f" [dim]— {escape(speaker)}[/]" if speaker else ""))
    stdout.print("\n[bold]Snippet from the RSS feed[/]")
    stdout.print(f"  {escape(snippet or '')}")


@app.command()
def serve(
    interval: Annotated[float, typer.Option(help="Minutes between runs.")] = 30,
    cron: Annotated[str | None, typer.Option(help="Cron expression instead of an interval, e.g. '*/15 * * * *'.")] = None,
    db: DbOption = None,
) -> None:
    """Run the pipeline on a schedule (Prefect serve) until interrupted; runs never overlap."""
    db = _db(db)
    _with_store(db, lambda store: None)  # fail now, not at the first run, if the file is unusable
    _quiet_prefect()
    os.environ["PREFECT_LOGGING_LEVEL"] = "INFO"  # the runner's own lines say when runs start
    from prefect.settings import PREFECT_API_URL, temporary_settings

    api_url = PREFECT_API_URL.value()
    if not api_url and _settings().prefect_server == "ephemeral":
        # Prefect's temporary server has no scheduler: served runs would never start.
        console.print("[red]error:[/] scheduling needs a Prefect server; ENRICH_PREFECT_SERVER=ephemeral rules out "
                      "the background one. Start one with\n"
                      "  uv run prefect server start\n"
                      "and point enrich at it:\n"
                      "  PREFECT_API_URL=http://127.0.0.1:4200/api uv run enrich serve")
        raise typer.Exit(2)
    if not api_url:
        api_url = _answering(*_server_for_run()).api_url  # says whether it starts one or uses the running one
    from flows.serve import serve as serve_flow

    console.print(f"serving enrich_feeds every {cron or f'{interval:g} min'} on {db}; Ctrl-C stops")
    # Ctrl-C takes SIGTERM's way: Prefect's runner then cancels a run in progress. On Ctrl-C it
    # would wait for that run to finish (measured: still running 11 s later).
    ctrl_c = signal.signal(signal.SIGINT, lambda *_: os.kill(os.getpid(), signal.SIGTERM))
    try:
        with _stopped_by_signals(), temporary_settings({PREFECT_API_URL: api_url}):
            # Prefect's runner stops itself on SIGTERM once started
            serve_flow(_settings().model_copy(update={"db_path": db}), interval, cron)
    finally:
        signal.signal(signal.SIGINT, ctrl_c)


@app.command()
def export(
    out: Annotated[Path, typer.Option("--out", help="File to write.")],
    format: Annotated[str, typer.Option("--format", help="jsonl, csv or parquet.")] = "jsonl",
    since: Annotated[datetime | None, typer.Option(help="Only articles published on or after this date (UTC).",
                                                   formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"])] = None,
    db: DbOption = None,
) -> None:
    """Export the reader's records (one per article, related articles inline; times in ISO 8601 UTC)."""
    from enrich.store import EXPORT_FORMATS

    if format not in EXPORT_FORMATS:
        raise _usage_error(f"--format must be one of {', '.join(EXPORT_FORMATS)}, not {format!r}")
    out = _out_file(out)
    since_utc = since.replace(tzinfo=UTC) if since else None
    db = _existing_db(db)
    count = _with_store(db, lambda store: store.export(out, format, since_utc))
    stdout.print(f"{count} articles -> {out}")


@app.command()
def preview(
    out: Annotated[Path, typer.Option("--out", help="Folder for the static site.")] = Path("site"),
    db: DbOption = None,
) -> None:
    """Render the reader's pages as static HTML (one index per topic tab, one page per article) and its feeds."""
    from enrich.feedout import FEEDS_DIR, feed_documents
    from enrich.preview import render_site

    if out.exists() and not out.is_dir():
        raise _usage_error(f"--out {out} is a file; give a folder for the site")
    records = _with_store(_existing_db(db), lambda store: store.reader_records())
    now = datetime.now(UTC)
    written = render_site(records, out, now=now)
    (out / FEEDS_DIR).mkdir(parents=True, exist_ok=True)
    feeds = feed_documents(records, now=now)
    for name, body in feeds.items():
        (out / FEEDS_DIR / name).write_bytes(body)
    stdout.print(f"{len(records)} articles, {len(written)} pages -> {out / 'index.html'}; "
                 f"{len(feeds)} Atom and JSON feeds -> {out / FEEDS_DIR}")


def _topic(name: str | None) -> str | None:
    """One of the 19 topics, whatever its case; a misspelling exits 2 with the closest topic."""
    from enrich.preview import TOPICS

    if name is None:
        return None
    by_folded = {t.casefold(): t for t in TOPICS}
    if name.strip().casefold() in by_folded:
        return by_folded[name.strip().casefold()]
    close = difflib.get_close_matches(name.strip().casefold(), by_folded, n=1, cutoff=TOPIC_SUGGESTION_CUTOFF)
    hint = f" Did you mean {by_folded[close[0]]!r}?" if close else ""
    raise _usage_error(f"unknown topic {name!r}.{hint} Topics: {', '.join(TOPICS)}")


def _http_url(url: str) -> str:
    if not url.startswith(("http://", "https://")):
        raise _usage_error(f"not an http(s) URL: {url}")
    _check_feed_urls([url], "feeds add")
    return url


UrlArgument = Annotated[str, typer.Argument(help="Feed URL, as `enrich feeds list` shows it.")]


@feeds_app.command("add")
def feeds_add(
    url: Annotated[str, typer.Argument(help="Feed URL (http or https), or a page that links to its feed.")],
    topic: Annotated[str | None, typer.Option(help="Default topic of the feed's articles (one of the 19).")] = None,
    title: Annotated[str | None, typer.Option(help="Title to show instead of the feed's own.")] = None,
    check: Annotated[bool, typer.Option("--check/--no-check", help="Fetch the URL first: it must be a feed, or a "
                                        "page whose <link rel=alternate> names one (that feed is stored).")] = True,
    db: DbOption = None,
) -> None:
    """Add a feed, after checking that it is one (or finding the feed a page links to)."""
    url, topic = _http_url(url), _topic(topic)
    if check:
        from enrich.discovery import check_feed
        from flows.enrich_feeds import fetch_options_for

        found = check_feed(url, fetch_options_for(_settings()))
        if not found.ok:
            raise _usage_error(f"{url} is not a feed we can read: {found.error}; pass --no-check to add it anyway")
        if found.discovered_from:
            console.print(f"found the feed {found.url} on {found.discovered_from}")
        url = found.url
        console.print(f"{found.title or url}: {found.entries} entries")
    added = _with_store(_db(db), lambda store: store.add_feed(url, title=title, topic=topic))
    stdout.print(f"added {url}" if added else f"already subscribed: {url}")


def _change_feed(db: Path | None, url: str, change: Callable, done: str) -> None:
    if not _with_store(_existing_db(db), change):
        raise _usage_error(f"no such feed: {url} (see `enrich feeds list`)")
    stdout.print(f"{done} {url}")


@feeds_app.command("remove")
def feeds_remove(url: UrlArgument, db: DbOption = None) -> None:
    """Unsubscribe from a feed; its stored articles stay."""
    _change_feed(db, url, lambda store: store.remove_feed(url), "removed")


@feeds_app.command("pause")
def feeds_pause(url: UrlArgument, db: DbOption = None) -> None:
    """Stop polling a feed until it is resumed."""
    _change_feed(db, url, lambda store: store.set_feed_paused(url, True), "paused")


@feeds_app.command("resume")
def feeds_resume(url: UrlArgument, db: DbOption = None) -> None:
    """Poll a paused feed again."""
    _change_feed(db, url, lambda store: store.set_feed_paused(url, False), "resumed")


@feeds_app.command("set-topic")
def feeds_set_topic(
    url: UrlArgument,
    topic: Annotated[str, typer.Argument(help="One of the 19 topics, or 'none' to clear it.")],
    db: DbOption = None,
) -> None:
    """Change a feed's default topic."""
    chosen = None if topic.casefold() == "none" else _topic(topic)
    _change_feed(db, url, lambda store: store.set_feed_topic(url, chosen), f"topic {chosen or 'cleared'} for")


@feeds_app.command("rename")
def feeds_rename(
    url: UrlArgument,
    title: Annotated[str, typer.Argument(help="New title; polls keep it.")],
    db: DbOption = None,
) -> None:
    """Give a feed your own title."""
    if not title.strip():
        raise _usage_error("the title is empty")
    _change_feed(db, url, lambda store: store.rename_feed(url, title.strip()), f"renamed to {title.strip()!r}:")


@feeds_app.command("list")
def feeds_list(
    as_json: Annotated[bool, typer.Option("--json", help="JSON array of feeds instead of a table.")] = False,
    db: DbOption = None,
) -> None:
    """List the stored feeds with their last poll status."""
    feeds = _with_store(_existing_db(db), lambda store: store.feeds())
    if as_json:
        rows = [{name: _plain(getattr(f, name)) for name in f.__slots__} for f in feeds]
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=1) + "\n")
        return
    table = Table("url", "title", "topic", "last polled", "status", "failures")
    for f in feeds:
        status = "paused" if f.paused else f.last_status or ""
        table.add_row(f.url, f.title or "", f.topic or "",
                      f.last_polled_at.isoformat(timespec="seconds") if f.last_polled_at else "never",
                      status, str(f.consecutive_failures))
    stdout.print(table)


@feeds_app.command("import-opml")
def feeds_import_opml(
    file: Annotated[Path, typer.Argument(help="OPML file; outline categories become default topics.",
                                         exists=True, dir_okay=False, readable=True)],
    db: DbOption = None,
) -> None:
    """Import the feeds of an OPML file."""
    from enrich.opml import FeedListError, parse_opml

    try:
        subscriptions = parse_opml(file.read_bytes())
    except FeedListError as exc:
        raise _usage_error(str(exc)) from None
    _check_feed_urls([s.url for s in subscriptions], str(file))
    added = _with_store(_db(db), lambda store: _add_subscriptions(store, subscriptions))
    stdout.print(f"{len(subscriptions)} feeds in {file}, {added} new")


@feeds_app.command("export-opml")
def feeds_export_opml(
    out: Annotated[Path | None, typer.Option("--out", help="File to write (default: standard output).")] = None,
    db: DbOption = None,
) -> None:
    """Export the stored feeds as OPML; each feed's topic becomes its outline category."""
    from enrich.opml import Subscription, write_opml

    out = _out_file(out) if out else None
    feeds = _with_store(_existing_db(db), lambda store: store.feeds())
    document = write_opml([Subscription(f.url, f.title, f.topic) for f in feeds if not f.gone])
    if out:
        out.write_bytes(document)
        stdout.print(f"{len(feeds)} feeds -> {out}")
    else:
        sys.stdout.write(document.decode())



# -- enrich server: the background Prefect server runs report to (flows/server.py) -----------------
server_app = typer.Typer(help="The local Prefect server runs report to: started in the background by the first "
                              "run, reused by later ones.", no_args_is_help=True)
app.add_typer(server_app, name="server")
EX_NOT_RUNNING = 3  # what `systemctl status` and LSB init scripts answer for a service that is not running


def _say(message: str) -> None:
    stdout.print(message, soft_wrap=True)  # one line however narrow the terminal: scripts grep it


@server_app.command("status")
def server_status() -> None:
    """Say whether the Prefect server is running, where, and whether runs use it (exit 3 when it is not)."""
    manager = _background_server()
    server = manager.status()
    explicit = _explicit_api_url()
    if explicit:
        _say(f"runs use PREFECT_API_URL={explicit}, not a background server")
    if server is None:
        _say("no Prefect server is running on loopback; `enrich run` starts one when it needs it")
        raise typer.Exit(EX_NOT_RUNNING)
    state = "running" if server.up else "starting"
    if server.pid is None:
        _say(f"a Prefect server enrich did not start is {state} at {server.ui_url}; runs use it")
        return
    _say(f"Prefect server {state} at {server.ui_url} (pid {server.pid}, started by enrich; "
         f"output in {manager.log_path}); `enrich server stop` stops it")


@server_app.command("start")
def server_start() -> None:
    """Start the Prefect server in the background now (runs start it anyway when they need it)."""
    manager = _background_server()
    server = _answering(manager, manager.begin())
    _say(f"Prefect server running at {server.ui_url}" + (f" (pid {server.pid})" if server.pid else ""))


@server_app.command("stop")
def server_stop() -> None:
    """Stop the Prefect server enrich started in the background (the next run starts it again)."""
    server = _background_server().stop()
    if server is None:
        _say("no Prefect server is running")
    elif server.pid is None:
        _say(f"the Prefect server at {server.ui_url} was not started by enrich; stop it where it was started")
    else:
        _say(f"stopped the Prefect server at {server.ui_url} (pid {server.pid})")


# -- enrich api: the read-only JSON API and enriched feeds (enrich/api.py) --------------------------
@app.command()
def api(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on; loopback unless you mean to expose it.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the read-only JSON API and the enriched Atom / JSON feeds (docs at /docs)."""
    import uvicorn

    from enrich.api import create_app

    db = _db(db)
    if not db.exists():
        console.print(f"[red]error:[/] no database at {db}; run `enrich run` or `enrich demo` first, or pass --db")
        raise typer.Exit(2)
    console.print(f"serving {db} at http://{host}:{port}/ (docs at /docs); Ctrl-C stops")
    try:
        uvicorn.run(create_app(db), host=host, port=port, log_level="warning")
    except OSError as exc:
        console.print(f"[red]error:[/] cannot listen on {host}:{port}: {exc}; pick another with --port")
        raise typer.Exit(1) from None


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help="One SELECT (or WITH, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN) statement.")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON array of objects instead of a table.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV with a header row instead of a table.")] = False,
    db: DbOption = None,
) -> None:
    """Run a read-only SQL query for analysts: a table, or JSON/CSV on standard output."""
    from enrich.store import QueryFailed, QueryRefused

    if as_json and as_csv:
        raise _usage_error("choose one of --json and --csv")

    def run_query(store):
        try:
            return store.analyst_query(sql)
        except QueryRefused as exc:
            console.print(f"[red]refused:[/] {exc}. `enrich query` opens the database read-only; "
                          "the pipeline and `enrich feeds` are what write to it.")
        except QueryFailed as exc:
            console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2)

    columns, rows = _with_store(_existing_db(db), run_query, read_only=True)
    if as_json:
        sys.stdout.write(json.dumps([dict(zip(columns, map(_plain, row))) for row in rows], ensure_ascii=False,
                                    indent=1) + "\n")
    elif as_csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_csv_cell(v) for v in row] for row in rows])
    else:
        table = Table(*columns)
        for row in rows:
            table.add_row(*(Text(_csv_cell(v)) for v in row))  # Text: values are never rich markup
        stdout.print(table)
        console.print(f"[dim]{len(rows)} rows[/]")


def _plain(value):
    """A query value as JSON: ISO 8601 times (UTC with Z), text for what JSON has no type for."""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _csv_cell(value) -> str:
    if value is None:
        return ""
    plain = _plain(value)
    return json.dumps(plain, ensure_ascii=False) if isinstance(plain, list | dict) else str(plain)


def main() -> None:
    global _started_by_main
    _started_by_main = monotonic() - _process_age()
    # The last exit hook to run (they run in reverse): Python's final collections walk the whole
    # heap it is about to drop, 0.2-0.3 s of CPU once Prefect is loaded; frozen, they skip it.
    atexit.register(gc.freeze)
    app()


if __name__ == "__main__":
    main()
