"""A stopped run's event that comes too late for Prefect prints no traceback.

Prefect stops its events worker in a ``threading`` exit hook; a thread of an interrupted run that
emits an event after that (its task run's last state) made Prefect log "Error emitting event"
with a traceback under ``enrich run``'s one-line "stopped by SIGINT" (seen once in
``tests/test_serve.py`` on a loaded machine). Here the late thread is made late on purpose.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap

# A thread still running when the command leaves on Ctrl-C, which emits its event only once the
# main thread has finished (so after Prefect's exit hook stopped the events worker).
LATE_THREAD = textwrap.dedent("""
    import sys, threading, time
    import typer
    from prefect.events import emit_event
    from flows import cli

    cli._quiet_prefect()
    resource = {"prefect.resource.id": "enrich.test.late-event"}
    emit_event("enrich.test.started", resource=resource)  # the events worker runs, as in a flow run

    def ends_late():
        while threading.main_thread().is_alive():
            time.sleep(0.01)
        emitted = emit_event("enrich.test.Completed", resource=resource)
        print(f"late event emitted: {emitted is not None}", flush=True)

    try:
        with cli._stopped_by_signals():
            threading.Thread(target=ends_late).start()
            raise KeyboardInterrupt
    except typer.Exit as stop:
        sys.exit(stop.exit_code)
""")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run(tmp_path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    # Nothing listens there: the events cannot be delivered, which is not what this test is about.
    env |= {"PREFECT_HOME": str(tmp_path), "PREFECT_API_URL": f"http://127.0.0.1:{_closed_port()}/api",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
    return subprocess.run([sys.executable, "-c", LATE_THREAD], env=env, capture_output=True, text=True,
                          timeout=120)


def test_event_emitted_after_exit_began_prints_no_traceback_after_ctrl_c(tmp_path):
    done = _run(tmp_path)
    assert done.returncode == 130, done.stderr[-3000:]
    assert "late event emitted: False" in done.stdout  # it did come too late: Prefect refused it
    assert "stopped by SIGINT" in done.stderr
    assert "Traceback" not in done.stderr, done.stderr[-3000:]

