"""The flow on a Dask cluster (LocalCluster on 127.0.0.1, 2 workers) gives the same records as locally."""

from __future__ import annotations

import pytest

from enrich.demo import demo_feed_urls
from enrich.settings import Settings
from enrich.store import open_store
from tests.flow import configured_flow

pytestmark = pytest.mark.usefixtures("prefect_harness")

COMPARED = """SELECT url, title, language, word_count, reading_minutes, text, text_source, summary, key_quotes,
                     feed_snippet, topics, kind, status FROM articles ORDER BY url"""


def test_dask_run_equals_local_run(demo_base, demo_db, tmp_path):
    distributed = pytest.importorskip("distributed")
    local_db, dask_db = demo_db, tmp_path / "dask.duckdb"  # the session's local run of the demo

    with distributed.LocalCluster(n_workers=2, threads_per_worker=2, host="127.0.0.1", processes=True,
                                  dashboard_address=None) as cluster:
        settings = Settings(db_path=dask_db, dask_address=cluster.scheduler_address)
        flow = configured_flow(settings)
        assert type(flow.task_runner).__name__ == "DaskTaskRunner"
        report = flow(demo_feed_urls(demo_base), settings)
        with distributed.Client(cluster.scheduler_address) as client:
            worked = [w["metrics"]["task_counts"] if "task_counts" in w.get("metrics", {}) else w
                      for w in client.scheduler_info()["workers"].values()]
    assert report.enriched == 17 and len(worked) == 2

    with open_store(local_db, read_only=True) as a, open_store(dask_db, read_only=True) as b:
        local, remote = a.query(COMPARED), b.query(COMPARED)
    names = [c.strip().split()[-1] for c in COMPARED.split("FROM")[0].replace("SELECT", "").split(",")]
    differences = [(row[0], name, x, y) for row, other in zip(local, remote)
                   for name, x, y in zip(names, row, other) if x != y]
    assert len(local) == len(remote) == 17
    assert not differences, differences[:3]
