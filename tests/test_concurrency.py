"""Two writers on one file, and a writer killed mid-run: nothing is corrupted, nothing stored twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from enrich.demo import demo_feed_urls
from enrich.settings import Settings
from enrich.sites import LoopbackSite, ok, slow
from enrich.store import MIGRATIONS, SCHEMA_VERSION, StoreBusy, open_store
from tests.flow import enrich_feeds
from tests.test_flow import item, rss

ROOT = Path(__file__).resolve().parents[1]


def _flow_process(feeds: list[str], db: Path, **env) -> subprocess.Popen:
    from prefect.settings import PREFECT_API_URL

    environment = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value() or "", **env}
    return subprocess.Popen(
        [sys.executable, "-m", "flows.enrich_feeds", *feeds],
        cwd=ROOT, env={**environment, "ENRICH_DB_PATH": str(db)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


@pytest.mark.usefixtures("prefect_harness")
def test_two_runs_at_once_store_every_article_exactly_once(demo_base, db_path):
    with open_store(db_path):
        pass  # created and migrated up front, so both runs start from the same file
    runs = [_flow_process(demo_feed_urls(demo_base), db_path) for _ in range(2)]
    outputs = [run.communicate(timeout=300) for run in runs]
    for run, (_, err) in zip(runs, outputs):
        assert run.returncode == 0, err[-3000:]
    with open_store(db_path, read_only=True) as store:
        assert store.query("SELECT count(*), count(DISTINCT url) FROM articles") == [(17, 17)]
        assert store.query("SELECT count(*) FROM articles WHERE status <> 'ok'") == [(0,)]
        assert store.query("SELECT count(*) FROM runs WHERE status = 'completed'") == [(2,)]


@pytest.mark.usefixtures("prefect_harness")
def test_kill_minus_9_mid_run_loses_at_most_the_batch_in_flight(db_path):
    entries = 12
    with LoopbackSite({}) as site:
        page = "<html><body><article>" + "".join(
            f"<p>Paragraph {i}: the lighthouse keeper logged {i} ships, {i * 3} gulls and a slow tide.</p>"
            for i in range(14)) + "</article></body></html>"
        site.routes["/feed.xml"] = ok(rss(site.base, [item(f"e{i}", f"Log {i}", site.url(f"/p{i}.html"))
                                                      for i in range(entries)]), "application/rss+xml")
        for i in range(entries):
            site.routes[f"/p{i}.html"] = slow(0.1, ok(page.replace("lighthouse", f"lighthouse {i}")))
        run = _flow_process([site.url("/feed.xml")], db_path, ENRICH_BATCH_SIZE="2", ENRICH_FETCH_CONCURRENCY="1")
        deadline = time.monotonic() + 240
        seen = ""
        while "enriched 2/" not in seen and time.monotonic() < deadline:
            line = run.stderr.readline()
            if not line and run.poll() is not None:
                break
            seen += line
        assert "enriched 2/" in seen, seen[-3000:]
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=30)

        with open_store(db_path) as store:  # the file opens after the kill
            stored = store.query("SELECT count(*) FROM articles")[0][0]
        assert 2 <= stored < entries
        report = enrich_feeds([site.url("/feed.xml")], Settings(db_path=db_path))  # the next run resumes
    assert report.new_articles == entries - stored
    with open_store(db_path, read_only=True) as store:
        assert store.query("SELECT count(*), count(DISTINCT url) FROM articles") == [(entries, entries)]


def test_file_from_the_first_schema_version_is_upgraded(db_path):
    import duckdb

    con = duckdb.connect(str(db_path))
    con.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ)")
    con.execute(MIGRATIONS[0])
    con.execute("INSERT INTO schema_migrations VALUES (1, now())")
    con.execute("INSERT INTO feeds (url, title) VALUES ('https://old.example/feed', 'Old feed')")
    con.execute("""INSERT INTO articles (url, feed_url, status, first_seen_at, title, summary)
                   VALUES ('https://old.example/a', 'https://old.example/feed', 'ok', now(), 'Old', ['One.'])""")
    con.close()

    with open_store(db_path) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert store.query("SELECT title, summary, duplicate_of FROM articles") == [("Old", ["One."], None)]
        assert [f.url for f in store.feeds()] == ["https://old.example/feed"]
        assert store.reader_records()[0]["title"] == "Old"


def test_waiting_for_a_busy_file_is_bounded(db_path):
    with open_store(db_path):
        pass
    # The holder keeps the file until told to let go, so the busy check does not race a timer.
    holder = subprocess.Popen(
        [sys.executable, "-c", (f"import sys\nfrom enrich.store import open_store\n"
                                f"with open_store({str(db_path)!r}):\n print('held', flush=True); sys.stdin.readline()")],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(StoreBusy), open_store(db_path, wait_seconds=0.3):
            pass
        threading.Timer(1.0, lambda: (holder.stdin.write("go\n"), holder.stdin.flush())).start()
        with open_store(db_path, read_only=True, wait_seconds=20) as store:  # waits its turn, then reads
            assert store.schema_version() == SCHEMA_VERSION
    finally:
        holder.kill()
        holder.wait()
