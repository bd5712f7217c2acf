"""The wheel is installable: built from this checkout, installed into a fresh venv from the uv cache
(no network), ``enrich demo`` runs from another directory on the demo corpus the wheel carries."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from enrich.store import open_store

ROOT = Path(__file__).resolve().parents[1]
DEMO_ARTICLES = 17  # what the demo corpus's 4 feeds carry (tests/test_cli.py counts the same)


def _uv(*args: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not installed")
    result = subprocess.run([uv, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)
    if result.returncode and "network was disabled" in result.stderr:
        pytest.skip(f"the uv cache lacks what `uv {args[0]}` needs offline: {result.stderr.strip()[-300:]}")
    assert result.returncode == 0, result.stderr
    return result


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.usefixtures("prefect_harness")
def test_the_wheel_runs_the_demo_from_another_directory(tmp_path):
    from prefect.settings import PREFECT_API_URL

    dist, venv, elsewhere = tmp_path / "dist", tmp_path / "venv", tmp_path / "elsewhere"
    elsewhere.mkdir()
    _uv("build", "--wheel", "--offline", "--out-dir", str(dist))
    wheel = next(dist.glob("enrich-*.whl"))
    # The lock is already the closure of the runtime dependencies: install exactly it, without
    # asking the (offline) resolver for index metadata the cache need not hold.
    requirements = tmp_path / "requirements.txt"
    _uv("export", "--frozen", "--no-dev", "--no-hashes", "--no-emit-project", "--quiet", "-o", str(requirements))
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH", "UV_PROJECT_ENVIRONMENT"}}
    _uv("venv", "--quiet", "--python", sys.executable, str(venv), cwd=elsewhere, env=env)
    _uv("pip", "install", "--quiet", "--offline", "--no-deps", "-r", str(requirements), str(wheel),
        cwd=elsewhere, env={**env, "VIRTUAL_ENV": str(venv)})

    # The harness's server: the installed enrich reports to it instead of starting its own. The 17
    # articles are enriched in the flow's own process: worker pools are tested elsewhere, and each
    # worker would import spaCy and the stages again.
    run_env = {**env, "PREFECT_API_URL": str(PREFECT_API_URL.value()), "ENRICH_WORKER_PROCESSES": "0"}
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import enrich.demo as d; print(d.__file__, d.DEMO_SITE)"],
                           cwd=elsewhere, env=run_env, capture_output=True, text=True, check=True).stdout
    assert str(venv) in where and str(ROOT) not in where  # the installed copy and its own corpus

    db = elsewhere / "demo.duckdb"
    demo = subprocess.run([str(venv / "bin" / "enrich"), "demo", "--db", db.name, "--port", str(_free_port())],
                          cwd=elsewhere, env=run_env, capture_output=True, text=True, timeout=300, check=False)
    assert demo.returncode == 0, demo.stderr
    assert "Key quotes" in demo.stdout
    with open_store(db, read_only=True) as store:
        assert store.query("SELECT count(*) FILTER (status = 'ok'), count(*) FROM articles") == [
            (DEMO_ARTICLES, DEMO_ARTICLES)]
