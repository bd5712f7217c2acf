"""Small commands stay small: ``enrich --help``, ``feeds list`` and ``export`` load none of the heavy
libraries (Prefect, numpy, scipy, sumy/NLTK, spaCy, trafilatura, ...), which cost seconds to import
and which only a run needs. Checked by what a fresh process has in ``sys.modules``, not by a clock."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from enrich.store import open_store

ROOT = Path(__file__).resolve().parents[1]
# What only runs (and the API) need: each takes 0.2-1.5 s of CPU to import.
HEAVY = ("prefect", "numpy", "scipy", "sumy", "nltk", "spacy", "trafilatura", "langdetect", "fastapi", "httpx",
         "sklearn")
COMMAND = """
import json, sys
from flows.cli import app
try:
    app(sys.argv[1:])
except SystemExit as exc:
    status = exc.code
print(json.dumps({"status": status, "modules": sorted(sys.modules)}))
"""


def _loaded(*args: str) -> tuple[int, set[str]]:
    """Exit status of ``enrich ARGS`` in a fresh process, and the top-level packages it imported."""
    done = subprocess.run([sys.executable, "-c", COMMAND, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["status"], {name.partition(".")[0] for name in result["modules"]}


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("imports") / "enriched.duckdb"
    with open_store(path) as store:
        store.add_feeds(["https://example.org/feed.xml"])
    return path


def test_help_loads_no_settings_database_or_heavy_library():
    status, loaded = _loaded("--help")
    assert status == 0
    assert loaded.isdisjoint((*HEAVY, "duckdb", "pydantic_settings", "courlan")), sorted(loaded & {*HEAVY, "duckdb"})


@pytest.mark.parametrize("command", [["feeds", "list"], ["export", "--out", "{tmp}/articles.jsonl"]],
                         ids=lambda c: " ".join(c[:2]))
def test_small_commands_load_duckdb_but_no_heavy_library(command, db, tmp_path):
    args = [part.replace("{tmp}", str(tmp_path)) for part in command]
    status, loaded = _loaded(*args, "--db", str(db))
    assert status in (0, None)
    assert "duckdb" in loaded  # the command did its work
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))
