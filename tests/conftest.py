"""Shared fixtures: the demo corpus on a loopback server, a Prefect test harness, temp databases."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Tests fetch from 127.0.0.1 only; the guard must allow loopback for them (and only loopback is used).
os.environ.setdefault("ENRICH_ALLOW_PRIVATE_NETWORKS", "true")
os.environ.setdefault("ENRICH_FETCH_RETRY_DELAY", "0.05")
os.environ.setdefault("ENRICH_CONNECT_TIMEOUT", "2")
os.environ.setdefault("ENRICH_READ_TIMEOUT", "2")
# Most tests poll the same feed twice in a row; the per-feed schedule is tested on its own.
os.environ.setdefault("ENRICH_MIN_POLL_MINUTES", "0")
os.environ.setdefault("ENRICH_MAX_POLL_MINUTES", "0")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
# A run outside the session harness gets Prefect's temporary server, as before: never a background
# server left running in the user's ~/.prefect. tests/test_background_server.py asks for one.
os.environ.setdefault("ENRICH_PREFECT_SERVER", "ephemeral")

SHARED = Path(__file__).resolve().parents[2] / "shared"
SHARED_CORPORA = SHARED / "corpora"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def shared_or_skip(relative: str) -> Path:
    """A path under ../shared/corpora, or skip the test with the reason when it is absent."""
    path = SHARED_CORPORA / relative
    if not path.exists():
        pytest.skip(f"../shared/corpora/{relative} is not available on this machine")
    return path


@pytest.fixture
def fresh_stemmers():
    """Forget the stemmers (and what was built on them) before and after a test that breaks one."""
    from enrich import related, summarize, text

    caches = (text.stemmer_for, related._verdicts, summarize._summarizer)
    for cache in caches:
        cache.cache_clear()
    yield
    for cache in caches:
        cache.cache_clear()


@pytest.fixture(scope="session")
def demo_base() -> str:
    """Base URL of the bundled demo corpus served on 127.0.0.1 (random free port)."""
    from enrich.demo import serve_directory

    with serve_directory(port=0) as base:
        yield base


@pytest.fixture(scope="session")
def prefect_harness():
    """One temporary Prefect server for the whole session (it takes seconds to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def demo_db(prefect_harness, demo_base, tmp_path_factory) -> Path:
    """The real demo flow's DuckDB file, built once per session and shared by the tests that only read it.

    (The notebook test checks that reading leaves the file untouched.) A test that writes runs
    its own flow into ``db_path``.
    """
    from enrich.demo import demo_feed_urls
    from enrich.settings import Settings
    from flows.enrich_feeds import enrich_feeds

    path = tmp_path_factory.mktemp("demo-database") / "enriched.duckdb"
    enrich_feeds(demo_feed_urls(demo_base), Settings(db_path=path))
    return path


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "enriched.duckdb"
