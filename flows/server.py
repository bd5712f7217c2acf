"""The local Prefect server runs talk to: one, in the background, started once and reused.

Without ``PREFECT_API_URL`` Prefect starts a temporary server inside every run and stops it at the
end: 18-62 s of a 2-core machine before the first request, most of a small run. Instead the first
run starts ``prefect server start`` on loopback as a detached process (its own session, so Ctrl-C
in the terminal does not reach it) and leaves it running; later runs find it answering its health
check and start at once. A Prefect server already answering on the port is used as it is.

Its files sit beside its database in ``PREFECT_HOME`` (``~/.prefect``): ``enrich-server.json``
(pid, port), ``enrich-server.log`` (its output) and ``enrich-server.lock`` (so two runs starting at
once start one server). ``enrich server status|start|stop`` manage it. Nothing here imports Prefect:
deciding costs a file read and one loopback request.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PORT = 4200  # Prefect's own, so the UI is where Prefect's documentation says it is
# `prefect server start` took 18-62 s to answer on a busy 2-core machine (tests/test_serve.py,
# bench/poll.py); Prefect allows its temporary server 20 s, which such a machine missed.
START_SECONDS = 120.0
STOP_SECONDS = 10.0  # SIGTERM, then SIGKILL: the server's shutdown takes 1-3 s
HEALTH_TIMEOUT = 2.0  # one health request; a server that is up answers in milliseconds
POLL_SECONDS = 0.25


class ServerDidNotStart(RuntimeError):
    """The background server did not answer in time (a busy machine: it may still come up)."""


class ServerExited(RuntimeError):
    """The background server's process ended while starting (its log says why)."""


@dataclass(frozen=True)
class ServerInfo:
    """A Prefect server on loopback: its API URL, and its process when enrich started it."""

    api_url: str
    pid: int | None  # None: a server enrich did not start (found answering on the port)
    up: bool  # answering its health check; False while it is still starting

    @property
    def ui_url(self) -> str:
        return self.api_url.removesuffix("/api")


def prefect_home() -> Path:
    """Prefect's home folder, where it keeps its database (``PREFECT_HOME`` or ``~/.prefect``)."""
    return Path(os.environ.get("PREFECT_HOME") or "~/.prefect").expanduser()


def api_url_for(port: int) -> str:
    return f"http://127.0.0.1:{port}/api"


def answers(api_url: str, timeout: float = HEALTH_TIMEOUT) -> bool:
    """Whether a Prefect server answers its health check at ``api_url``."""
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=timeout) as response:  # noqa: S310 - loopback
            return response.status == 200 and response.read().strip() == b"true"
    except (OSError, ValueError):
        return False


def _alive(pid: int) -> bool:
    """Whether ``pid`` is a running Prefect server process (not gone, not a zombie, not a reused pid)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: not ours
        return False
    proc = Path(f"/proc/{pid}")
    if not proc.exists():  # no /proc (macOS): the signal check is all there is
        return True
    try:
        state, parent = (proc / "stat").read_text().rsplit(")", 1)[1].split()[:2]
        command = (proc / "cmdline").read_bytes()
    except (OSError, IndexError, ValueError):
        return False
    # A process on its way out has already dropped its command line, and is still running: a stop
    # that took it for gone returned too early (CI saw the server "running" after `server stop`).
    # Kernel threads (children of kthreadd, pid 2) have none either, and are never our server.
    exiting = not command and parent != "2"
    return state != "Z" and (b"prefect" in command or exiting)


class BackgroundServer:
    """The server enrich starts in ``home`` on ``port``, or the one it finds there."""

    def __init__(self, home: Path | None = None, port: int = DEFAULT_PORT) -> None:
        self.home = home or prefect_home()
        self.port = port
        self.state_path = self.home / "enrich-server.json"
        self.log_path = self.home / "enrich-server.log"
        self._lock_path = self.home / "enrich-server.lock"

    # -- what is running ------------------------------------------------------------------------
    def status(self) -> ServerInfo | None:
        """The server runs would use now, up or still starting; None when there is none.

        A state file whose process is gone (killed, a reboot) is removed here.
        """
        recorded = self._recorded()
        if recorded is not None:
            pid, port = recorded
            if _alive(pid):
                url = api_url_for(port)
                return ServerInfo(url, pid, answers(url))
            self.state_path.unlink(missing_ok=True)
        url = api_url_for(self.port)
        return ServerInfo(url, None, True) if answers(url) else None

    def _recorded(self) -> tuple[int, int] | None:
        try:
            state = json.loads(self.state_path.read_text())
            return int(state["pid"]), int(state["port"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):  # a torn or hand-edited file: as if none
            return None

    # -- starting -------------------------------------------------------------------------------
    def begin(self) -> ServerInfo:
        """The running server, or one just started (not waited for: see :meth:`wait`)."""
        with self._locked():
            return self.status() or self._spawn()

    def wait(self, server: ServerInfo, timeout: float = START_SECONDS) -> ServerInfo:
        """``server`` once it answers; :class:`ServerDidNotStart` if it does not within ``timeout``,
        :class:`ServerExited` if its process ends first."""
        deadline = time.monotonic() + timeout
        while not answers(server.api_url):
            if server.pid is not None and not _alive(server.pid):
                self.state_path.unlink(missing_ok=True)
                raise ServerExited(f"the Prefect server exited while starting; its output: {self.log_path}"
                                        + self._log_tail())
            if time.monotonic() > deadline:
                raise ServerDidNotStart(f"the Prefect server did not answer within {timeout:g} s "
                                        f"(it may still be starting; its output: {self.log_path})")
            time.sleep(POLL_SECONDS)
        return ServerInfo(server.api_url, server.pid, True)

    def ensure(self, timeout: float = START_SECONDS) -> ServerInfo:
        """The server, started if need be and answering."""
        return self.wait(self.begin(), timeout)

    def _spawn(self) -> ServerInfo:
        port = self.port if _free(self.port) else _any_free_port()
        self.home.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PREFECT_HOME": str(self.home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
               "DO_NOT_TRACK": "1"}
        env.pop("PREFECT_API_URL", None)  # the server is the API; a client setting is no use to it
        with self.log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.home,
                start_new_session=True,  # its own session: the terminal's Ctrl-C and hang-up do not reach it
            )
        _SPAWNED.append(process)  # not waited for: it outlives this process
        self.state_path.write_text(json.dumps({"pid": process.pid, "port": port, "started_at": time.time()}))
        return ServerInfo(api_url_for(port), process.pid, False)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.home.mkdir(parents=True, exist_ok=True)
        with self._lock_path.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _log_tail(self, lines: int = 5) -> str:
        try:
            tail = self.log_path.read_text(errors="replace").strip().splitlines()[-lines:]
        except OSError:
            return ""
        return "".join(f"\n  {line}" for line in tail)

    # -- stopping -------------------------------------------------------------------------------
    def stop(self, timeout: float = STOP_SECONDS) -> ServerInfo | None:
        """Stop the server enrich started (SIGTERM, then SIGKILL); returns it, or None if there was none.

        A server enrich did not start is left alone (whoever started it stops it).
        """
        with self._locked():
            server = self.status()
            if server is None or server.pid is None:
                return server
            _signal_group(server.pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while _alive(server.pid) and time.monotonic() < deadline:
                _reap(server.pid)
                time.sleep(POLL_SECONDS)
            if _alive(server.pid):
                _signal_group(server.pid, signal.SIGKILL)
                # SIGKILL is delivered asynchronously: the process may still show as running for a
                # moment (a loaded machine in CI), and callers rely on it being gone on return.
                deadline = time.monotonic() + timeout
                while _alive(server.pid) and time.monotonic() < deadline:
                    _reap(server.pid)
                    time.sleep(POLL_SECONDS)
            _reap(server.pid, block=True)
            self.state_path.unlink(missing_ok=True)
            return server


_SPAWNED: list[subprocess.Popen] = []


def _signal_group(pid: int, signum: int) -> None:
    """Signal the server's process group (it leads its own session: uvicorn and anything it started)."""
    try:
        os.killpg(pid, signum)
    except ProcessLookupError:
        pass


def _reap(pid: int, block: bool = False) -> None:
    """Collect the exit status of a server this process started (so it does not linger as a zombie)."""
    for process in [p for p in _SPAWNED if p.pid == pid]:
        try:
            process.wait(timeout=STOP_SECONDS if block else 0)
        except subprocess.TimeoutExpired:
            continue
        _SPAWNED.remove(process)


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _any_free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
