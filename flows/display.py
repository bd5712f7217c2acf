"""What ``enrich run`` shows while it runs: a live status line on a terminal, plain lines elsewhere.

The run reports its progress (``flows.enrich_feeds.RunProgress``) from its own threads; the
command adds its own waits (loading the pipeline, starting Prefect). On a terminal one line is
redrawn several times a second with a spinner and the seconds since the command began, so no
wait is ever silent; piped into a file or a log, a line is written when the run begins a step and,
while counts move, at most every ``PLAIN_EVERY`` seconds.
"""

from __future__ import annotations

import threading
from time import monotonic

from rich.console import Console
from rich.live import Live
from rich.spinner import Spinner
from rich.text import Text

# Often enough that someone tailing a log sees the run move; rarely enough that a run of 1,000
# articles (a minute or two) writes a few dozen lines, not one per batch.
PLAIN_EVERY = 2.0


def describe(progress) -> str:
    """The counts a run has so far, as a short line ("feeds 3/4 · pages 20/52 · ...")."""
    parts = []
    if progress.feeds_due:
        parts.append(f"feeds polled {progress.feeds_polled}/{progress.feeds_due}")
    if progress.articles:
        parts.append(f"pages fetched {progress.pages_fetched}/{progress.pages}")
        parts.append(f"articles enriched {progress.articles_enriched}/{progress.articles}")
    if progress.feeds_due or progress.articles:
        parts.append(f"failures {progress.failures}")
    return " · ".join(parts)


class RunDisplay:
    """Shows the command's waits and the run's progress on ``console``; a progress callback.

    ``started`` is the command's start on the ``time.monotonic`` clock: the elapsed seconds shown
    are the command's, as in its closing table.
    """

    def __init__(self, console: Console, started: float) -> None:
        self.console = console
        self.started = started
        self.live = console.is_terminal
        self._lock = threading.Lock()
        self._step = "starting"
        self._counts = ""
        self._printed = ("", "")
        self._printed_at = 0.0
        self._spinner = Spinner("dots", style="cyan")
        self._live: Live | None = None

    def __enter__(self) -> RunDisplay:
        if self.live:
            # Redrawn 4 times a second whatever the run does: the spinner and the seconds say it is alive.
            self._live = Live(self, console=self.console, refresh_per_second=4, transient=True)
            self._live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._live is not None:
            self._live.__exit__(*exc)
            self._live = None
        elif exc[0] is None:
            self._print(force=True)

    def waiting(self, what: str) -> None:
        """Say what the command is waiting for (before the run reports its own steps)."""
        with self._lock:
            self._step = what
            self._print()

    def __call__(self, progress) -> None:
        """The run's progress callback: called from the run's threads."""
        with self._lock:
            self._step, self._counts = progress.step, describe(progress)
            self._print()

    def _print(self, force: bool = False) -> None:
        """Plain lines: each new step, and the counts at most every PLAIN_EVERY seconds."""
        if self.live:
            return
        now = monotonic()
        step_changed = self._step != self._printed[0]
        if not (step_changed or force or (self._counts != self._printed[1] and now - self._printed_at >= PLAIN_EVERY)):
            return
        line = f"[{now - self.started:6.1f} s] {self._step}" + (f": {self._counts}" if self._counts else "")
        self.console.print(Text(line, style="dim"))
        self._printed, self._printed_at = (self._step, self._counts), now

    def __rich__(self) -> Spinner:
        with self._lock:
            text = f"{self._step} ({monotonic() - self.started:.0f} s)" + (f"  {self._counts}" if self._counts else "")
        self._spinner.update(text=Text(text))
        return self._spinner
