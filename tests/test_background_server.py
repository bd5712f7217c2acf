"""The background Prefect server (flows/server.py): the first ``enrich run`` starts it, the next run
reuses it, ``enrich server status|stop`` manage it, and a state file left by a dead process is
cleaned up. Each test has its own PREFECT_HOME and loopback port, so nothing touches ~/.prefect.

The first test starts a real ``prefect server start`` (20-60 s on a 2-core machine): ``slow``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import psutil
import pytest
from typer.testing import CliRunner

from enrich.sites import LoopbackSite, ok
from flows.cli import app
from flows.server import BackgroundServer, answers, api_url_for

BIN = Path(sys.executable).parent
EMPTY_FEED = ('<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet</title>'
              "<link>http://127.0.0.1/</link></channel></rss>")
EX_NOT_RUNNING = 3
runner = CliRunner()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(home: Path, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "ENRICH_PREFECT_"))}
    return env | {
        "PREFECT_HOME": str(home), "ENRICH_PREFECT_PORT": str(port), "ENRICH_PREFECT_SERVER": "background",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1", "ENRICH_WORKER_PROCESSES": "0",
    } | extra


def _enrich(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "enrich"), *args], env=env, capture_output=True, text=True, timeout=300)


def _servers_on(port: int) -> list[int]:
    """Pids of `prefect server start` processes listening on ``port`` (by their command line)."""
    found = []
    for process in psutil.process_iter(["pid", "cmdline"]):
        command = process.info["cmdline"] or []
        if "prefect" in " ".join(command) and "start" in command and str(port) in command:
            found.append(process.info["pid"])
    return found


def _flow_runs(api_url: str) -> list[dict]:
    request = urllib.request.Request(f"{api_url}/flow_runs/filter", data=b"{}", method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.mark.slow
def test_first_run_starts_the_server_the_next_reuses_it_and_stop_ends_it(tmp_path):
    home, port = tmp_path / "prefect", _free_port()
    env = _env(home, port)
    manager = BackgroundServer(home, port)
    with LoopbackSite({"/feed.xml": ok(EMPTY_FEED, "application/rss+xml")}) as site:
        feeds = tmp_path / "feeds.txt"
        feeds.write_text(site.url("/feed.xml") + "\n")
        run = ("run", "--feeds", str(feeds), "--db", str(tmp_path / "enriched.duckdb"))
        try:
            first = _enrich(env, *run)
            assert first.returncode == 0, first.stderr[-3000:]
            assert "starting a Prefect server in the background" in first.stderr
            # The feed was polled while the server started, before the flow run began, and once.
            polled = [time.time() - time.monotonic() + hit.start for hit in site.log if hit.path == "/feed.xml"]
            began = datetime.fromisoformat(_flow_runs(api_url_for(port))[0]["start_time"]).timestamp()
            assert len(polled) == 1 and polled[0] < began, (polled, began)
            pid = json.loads(manager.state_path.read_text())["pid"]
            assert _servers_on(port) == [pid]

            second = _enrich(env, *run)
            assert second.returncode == 0, second.stderr[-3000:]
            assert "starting a Prefect server" not in second.stderr
            assert f"Prefect server: http://127.0.0.1:{port}" in second.stderr
            assert json.loads(manager.state_path.read_text())["pid"] == pid
            assert _servers_on(port) == [pid]  # the same process, and no other
            runs = _flow_runs(api_url_for(port))  # both runs reported to it, not to a temporary server
            assert [(r["name"] is not None, r["state_type"]) for r in runs] == [(True, "COMPLETED")] * 2

            with _background_mode(home, port):  # the commands in this process: no imports to pay again
                status = runner.invoke(app, ["server", "status"])
                assert status.exit_code == 0, status.output
                assert f"running at http://127.0.0.1:{port} (pid {pid}" in status.output
                stop = runner.invoke(app, ["server", "stop"])
                assert stop.exit_code == 0 and f"pid {pid}" in stop.output, stop.output
                assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
                assert not answers(api_url_for(port)) and not manager.state_path.exists()
                assert runner.invoke(app, ["server", "status"]).exit_code == EX_NOT_RUNNING
                assert "no Prefect server" in runner.invoke(app, ["server", "stop"]).output
        finally:
            manager.stop()
            for leftover in _servers_on(port):
                psutil.Process(leftover).kill()


def test_a_state_file_whose_process_is_gone_is_cleaned_up(tmp_path):
    home, port = tmp_path / "prefect", _free_port()
    home.mkdir()
    manager = BackgroundServer(home, port)
    gone = subprocess.Popen(["true"])
    gone.wait()
    not_prefect = subprocess.Popen(["sleep", "30"])  # a live pid that is no Prefect server (a reused pid)
    try:
        with _background_mode(home, port):
            for pid in (gone.pid, not_prefect.pid):
                manager.state_path.write_text(json.dumps({"pid": pid, "port": port, "started_at": 0}))
                status = runner.invoke(app, ["server", "status"])
                assert status.exit_code == EX_NOT_RUNNING, status.output
                assert "no Prefect server is running" in status.output
                assert not manager.state_path.exists()
            manager.state_path.write_text("{torn")
            assert manager.status() is None
            stop = runner.invoke(app, ["server", "stop"])
            assert stop.exit_code == 0 and "no Prefect server is running" in stop.output
        assert not_prefect.poll() is None  # never signalled: enrich did not start it
    finally:
        not_prefect.kill()
        not_prefect.wait()


def test_a_server_that_does_not_answer_in_time_is_exit_75_and_keeps_starting(tmp_path):
    home, port = tmp_path / "prefect", _free_port()
    feeds = tmp_path / "feeds.txt"
    feeds.write_text("http://127.0.0.1:9/feed.xml\n")
    manager = BackgroundServer(home, port)
    try:
        with _background_mode(home, port, ENRICH_PREFECT_START_SECONDS="0.5"):
            done = runner.invoke(app, ["run", "--feeds", str(feeds), "--db", str(tmp_path / "enriched.duckdb")])
        assert done.exit_code == 75, done.output
        assert "did not answer within 0.5 s" in done.output
        server = manager.status()  # left starting, for the next run to find
        assert server is not None and server.pid is not None
    finally:
        manager.stop()
    assert manager.status() is None and _servers_on(port) == []


@contextmanager
def _background_mode(home: Path, port: int, **extra: str) -> Iterator[None]:
    """This process's commands as a user's without PREFECT_API_URL, even under the session's harness."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with pytest.MonkeyPatch.context() as patch, temporary_settings(restore_defaults={PREFECT_API_URL}):
        patch.delenv("PREFECT_API_URL", raising=False)
        for name, value in _env(home, port, **extra).items():
            if name.startswith(("PREFECT_", "ENRICH_PREFECT_")):
                patch.setenv(name, value)
        yield
