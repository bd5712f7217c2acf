"""The run's story with Prefect and without, what it reports while it runs, and what it leaves in Prefect.

Real runs against a loopback site into real DuckDB files; the Prefect runs under the session's
test harness. Enrichment runs in the test's own process (ENRICH_WORKER_PROCESSES=0): these tests
are about the story's wiring, not the workers.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING
from uuid import UUID

import pytest
from typer.testing import CliRunner

import flows.cli as cli
from enrich.settings import Settings
from enrich.sites import LoopbackSite, ok, status
from enrich.store import open_store
from tests.flow import enrich_feeds, run_without_prefect, showing_progress

if TYPE_CHECKING:
    from flows.enrich_feeds import RunProgress

TOPICS = ("ferry", "quarry", "library", "orchard", "bridge")
MISSING = "gone"  # listed in the feed, answered 404


def _page(topic: str) -> str:
    sentences = [f"The council met on Tuesday to decide the future of the {topic}.",
                 f"Residents have argued about the {topic} for more than a decade.",
                 f"Engineers said repairs to the {topic} would cost about two million euros.",
                 f"Shop owners near the {topic} say their trade depends on visitors.",
                 "The mayor promised a final decision before the end of the year.",
                 f"Until then the {topic} stays open on weekdays from eight in the morning."]
    return (f"<html><head><title>The {topic}</title></head><body><article><h1>The future of the {topic}</h1>"
            f"<p>{' '.join(sentences[:3])}</p><p>{' '.join(sentences[3:])}</p></article></body></html>")


def _feed(base: str) -> str:
    items = "".join(f"<item><guid>{t}</guid><title>The future of the {t}</title><link>{base}/{t}.html</link>"
                    f"<pubDate>Mon, 16 Nov 2026 10:00:00 GMT</pubDate></item>" for t in (*TOPICS, MISSING))
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Town news</title><link>{base}/</link>'
            f"<language>en</language>{items}</channel></rss>")


@pytest.fixture
def town(monkeypatch):
    monkeypatch.setenv("ENRICH_WORKER_PROCESSES", "0")
    monkeypatch.setenv("ENRICH_BATCH_SIZE", "2")
    monkeypatch.setenv("ENRICH_FETCH_RETRIES", "0")
    with LoopbackSite({}) as site:
        site.routes["/feed.xml"] = ok(_feed(site.base), "application/rss+xml")
        site.routes[f"/{MISSING}.html"] = status(404)
        for topic in TOPICS:
            site.routes[f"/{topic}.html"] = ok(_page(topic))
        yield site


def _check_progress(events: list[RunProgress], report) -> None:
    """The run said what it was doing at each step, and its counts only grew, to the report's."""
    steps = [e.step for e in events]
    for expected in ("polling 1 feeds", f"fetching and enriching {report.new_articles} articles",
                     "linking related articles", "closing the run"):
        assert expected in steps, steps
    for earlier, later in zip(events, events[1:]):
        for count in ("feeds_polled", "pages_fetched", "articles_enriched", "failures"):
            assert getattr(later, count) >= getattr(earlier, count), (count, earlier, later)
    last = events[-1]
    assert (last.feeds_due, last.feeds_polled) == (1, 1)
    assert last.articles == last.pages == last.pages_fetched == report.new_articles == len(TOPICS) + 1
    assert last.articles_enriched == report.enriched == len(TOPICS)
    assert last.failures == report.failed + report.feeds_failed == 1


@pytest.mark.usefixtures("prefect_harness")
def test_a_flow_run_reports_progress_and_leaves_its_id_summary_and_table_in_prefect(town, db_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        LogFilter,
        LogFilterFlowRunId,
    )
    from prefect.logging.handlers import APILogHandler

    events: list[RunProgress] = []
    with showing_progress(events.append):
        report = enrich_feeds([town.url("/feed.xml")], Settings(db_path=db_path))
    _check_progress(events, report)

    with open_store(db_path, read_only=True) as store:
        [(flow_run_id,)] = store.query("SELECT flow_run_id FROM runs WHERE id = ?", [report.run_id])
    APILogHandler().flush()
    with get_client(sync_client=True) as client:
        flow_run = client.read_flow_run(UUID(flow_run_id))
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run.id])))
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run.id])))
    assert flow_run.flow_id and flow_run.state.is_completed()
    [table] = [a for a in artifacts if a.type == "table"]
    rows = {row["outcome"]: row["count"] for row in _table_rows(table.data)}
    assert rows["enriched"] == len(TOPICS) and rows["failed"] == 1 and rows["failed: fetch.http_404"] == 1
    assert report.run_id in table.description
    messages = [entry.message for entry in logs]
    assert any(f"run {report.run_id} completed" in m and f"{len(TOPICS)} enriched" in m for m in messages), messages
    assert any(m == "1 failed: fetch.http_404" for m in messages), messages


def _table_rows(data):
    import json

    return json.loads(data) if isinstance(data, str) else data


def test_the_same_story_runs_without_prefect(town, db_path):
    events: list[RunProgress] = []
    settings = Settings(db_path=db_path, allow_private_networks=True)
    report = run_without_prefect(settings, [town.url("/feed.xml")], progress=events.append)
    _check_progress(events, report)
    with open_store(db_path, read_only=True) as store:
        assert store.query("SELECT status, flow_run_id, enriched FROM runs") == [("completed", None, len(TOPICS))]
        assert store.query("SELECT reason FROM failures") == [("fetch.http_404",)]


def test_a_broken_progress_display_does_not_cost_the_run(town, db_path):
    def broken(_progress):
        raise RuntimeError("the terminal went away")

    report = run_without_prefect(Settings(db_path=db_path, allow_private_networks=True), [town.url("/feed.xml")],
                                 progress=broken)
    assert report.status == "completed" and report.enriched == len(TOPICS)


@pytest.mark.usefixtures("prefect_harness")
def test_the_closing_table_times_the_whole_command(town, db_path, monkeypatch):
    """Time spent before the flow starts (here: a slow store check) is in the closing table's time."""
    before_flow = 1.0
    real_with_store = cli._with_store

    def slow_with_store(*args, **kwargs):
        time.sleep(before_flow / 2)  # `run` checks the store twice before the flow
        return real_with_store(*args, **kwargs)

    monkeypatch.setattr(cli, "_with_store", slow_with_store)
    feeds = db_path.parent / "feeds.txt"
    feeds.write_text(town.url("/feed.xml") + "\n")
    began = time.monotonic()
    result = CliRunner().invoke(cli.app, ["run", "--feeds", str(feeds), "--db", str(db_path)])
    outside = time.monotonic() - began
    assert result.exit_code == 0, result.output
    taken = float(re.search(r"time taken\s*│?\s*([\d.]+) s", result.output).group(1))
    inner = float(re.search(r"of which the run itself\s*│?\s*([\d.]+) s", result.output).group(1))
    assert inner + before_flow <= taken + 0.1 <= outside + 0.2  # the table rounds to 0.1 s
    # Not a terminal: the progress went out as plain lines, one per step at least.
    assert re.search(r"\]\s*polling 1 feeds", result.output) and "linking related articles" in result.output


def test_without_prefect_a_feed_that_failed_for_a_moment_is_polled_again(town, db_path, monkeypatch):
    """The plain pool retries a transient poll failure as Prefect retries the poll task."""
    monkeypatch.setenv("ENRICH_FETCH_RETRIES", "1")
    monkeypatch.setenv("ENRICH_FETCH_RETRY_DELAY", "0.01")
    healthy = town.routes["/feed.xml"]
    answers = iter([status(503), healthy])
    town.routes["/feed.xml"] = lambda request: next(answers)(request)

    report = run_without_prefect(Settings(db_path=db_path, allow_private_networks=True), [town.url("/feed.xml")])
    assert town.hits["/feed.xml"] == 2
    assert (report.feeds_failed, report.enriched) == (0, len(TOPICS))


def _feed_requests(site) -> int:
    return sum(hit.path == "/feed.xml" for hit in site.log)


@pytest.mark.usefixtures("prefect_harness")
def test_feeds_polled_while_the_server_starts_are_taken_by_the_run_not_polled_again(town, db_path):
    from flows.enrich_feeds import PolledAhead, polling_ahead

    settings = Settings(db_path=db_path, allow_private_networks=True)
    feed = town.url("/feed.xml")
    ahead = PolledAhead(settings, [feed])  # a feed the store does not know yet: due
    ahead.take([])  # waits for the polls
    assert _feed_requests(town) == 1  # polled before any flow run began
    with polling_ahead(ahead):
        report = enrich_feeds([feed], settings)
    assert _feed_requests(town) == 1
    assert (report.feeds_polled, report.new_articles, report.enriched) == (1, len(TOPICS) + 1, len(TOPICS))
    with open_store(db_path) as store:
        assert store.feeds([feed])[0].last_polled_at is not None  # the run recorded the poll it took


@pytest.mark.usefixtures("prefect_harness")
def test_a_feed_whose_state_changed_since_it_was_polled_ahead_is_polled_again(town, db_path):
    from flows.enrich_feeds import PolledAhead, polling_ahead

    settings = Settings(db_path=db_path, allow_private_networks=True)
    feed = town.url("/feed.xml")
    ahead = PolledAhead(settings, [feed])
    ahead.take([])
    with open_store(db_path) as store:  # meanwhile another run polled it and kept its validators
        store.add_feeds([feed])
        store.con.execute("UPDATE feeds SET etag = '\"v2\"'")
    with polling_ahead(ahead):
        report = enrich_feeds([feed], settings)
    assert _feed_requests(town) == 2
    assert report.feeds_polled == 1 and report.enriched == len(TOPICS)


def test_polling_ahead_that_cannot_start_leaves_the_polls_to_the_run(town, tmp_path, caplog):
    from flows.enrich_feeds import PolledAhead

    broken = tmp_path / "not-a-store.duckdb"
    broken.write_bytes(b"this is not a database" * 100)
    ahead = PolledAhead(Settings(db_path=broken, allow_private_networks=True), [town.url("/feed.xml")])
    assert ahead.take([]) == {}
    assert _feed_requests(town) == 0
    assert "the run polls the feeds itself" in caplog.text


def test_polls_ahead_are_taken_even_when_asked_for_before_they_answer(town, db_path):
    """The run may reach its poll step while the polls ahead are still out: it waits for them."""
    from enrich.store import StoredFeed
    from flows.enrich_feeds import PolledAhead

    feed = town.url("/feed.xml")
    ahead = PolledAhead(Settings(db_path=db_path, allow_private_networks=True), [feed])
    taken = ahead.take([StoredFeed(feed, None, None, None, None, 0)])  # at once, before any answer
    assert list(taken) == [feed] and taken[feed].ok and _feed_requests(town) == 1
