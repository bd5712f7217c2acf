"""A run's bookkeeping after things break: crashed batches, failing stages, failed linking, kills.

Real flow runs (Prefect's test harness) against a loopback site and real DuckDB files; the
enrichment runs in the flow's own process (ENRICH_WORKER_PROCESSES=0) so a test can break a
stage or a batch by replacing a function.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from enrich import pipeline
from enrich.models import EnrichJob, EnrichOptions, FeedEntry, StageFailure
from enrich.reasons import ENRICH_CRASHED, is_registered
from enrich.settings import Settings
from enrich.sites import LoopbackSite, ok
from enrich.store import open_store, release_run
from tests.flow import enrich_feeds, store_articles

PUBLISHED = "Mon, 16 Nov 2026 10:00:00 GMT"
# Subjects of the loopback site's articles; each page says a dozen things about its subject.
SUBJECTS = {
    "harbour": "the harbour ferry",
    "quarry": "the old quarry",
    "library": "the city library",
    "orchard": "the hillside orchard",
    "bridge": "the river bridge",
    "market": "the night market",
}
CRASHING = {"bridge", "market"}  # their batch's task raises in the crash test


def page(subject: str) -> str:
    thing = SUBJECTS[subject]
    sentences = [
        f"The council met on Tuesday to decide the future of {thing}.",
        f"Residents have argued about {thing} for more than a decade.",
        f"\"We want {thing} to stay open for everyone,\" said Mara Lindqvist, who chairs the residents' group.",
        f"Engineers found that repairs to {thing} would cost about 2.4 million euros.",
        f"The council's budget for next year sets aside 1.1 million euros for {thing}.",
        f"Shop owners near {thing} say their trade depends on visitors.",
        f"A survey of 800 households showed strong support for keeping {thing}.",
        "Opponents say the money would be better spent on schools and buses.",
        "The mayor promised a final decision before the end of the year.",
        f"Until then, {thing} stays open on weekdays from eight in the morning.",
        f"Volunteers have offered to help with cleaning and small repairs at {thing}.",
        f"The next public meeting about {thing} is planned for January.",
    ]
    paragraphs = "".join(f"<p>{' '.join(sentences[i:i + 3])}</p>" for i in range(0, len(sentences), 3))
    return (f"<html><head><title>News about {thing}</title></head><body><nav><a href='/'>Home</a></nav>"
            f"<article><h1>Council weighs the future of {thing}</h1>{paragraphs}</article>"
            "<footer>© Town Gazette</footer></body></html>")


def rss(base: str, subjects, undescribed=()) -> str:
    items = "".join(
        f"<item><guid>{s}</guid><title>Council weighs the future of {SUBJECTS[s]}</title>"
        f"<link>{base}/{s}.html</link><pubDate>{PUBLISHED}</pubDate>"
        + ("" if s in undescribed else f"<description>About {SUBJECTS[s]}.</description>")
        + "</item>" for s in subjects)
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Town Gazette</title><link>{base}/</link>'
            f"<language>en</language>{items}</channel></rss>")


@pytest.fixture
def gazette():
    with LoopbackSite({}) as site:
        site.routes["/feed.xml"] = ok(rss(site.base, SUBJECTS), "application/rss+xml")
        for subject in SUBJECTS:
            site.routes[f"/{subject}.html"] = ok(page(subject))
        yield site


@pytest.fixture
def in_process(monkeypatch):
    """Enrich in the flow's process, two articles a batch."""
    monkeypatch.setenv("ENRICH_WORKER_PROCESSES", "0")
    monkeypatch.setenv("ENRICH_BATCH_SIZE", "2")


def _rows(db, sql, params=None):
    with open_store(db, read_only=True) as store:
        return store.query(sql, params)


def _url(site, subject: str) -> str:
    return site.url(f"/{subject}.html")


@pytest.mark.usefixtures("prefect_harness", "in_process")
def test_crashed_batch_and_failing_stage_reach_failures_and_are_retried(gazette, db_path, monkeypatch):
    import flows.enrich_feeds as flow_module

    crashed: list[str] = []
    real_fetch_and_enrich = flow_module.fetch_and_enrich

    def crash_some(jobs, *args):
        urls = [job.entry.url for job in jobs]
        if any(url.rsplit("/", 1)[-1].removesuffix(".html") in CRASHING for url in urls):
            crashed.extend(urls)
            raise MemoryError("the batch ran out of memory")
        return real_fetch_and_enrich(jobs, *args)

    real_summarize = pipeline.summarize

    def summary_breaks_on_quarry(sentences, language, **kwargs):
        if any("quarry" in s for s in sentences):
            raise ValueError("no summary for quarries")
        return real_summarize(sentences, language, **kwargs)

    monkeypatch.setattr(flow_module, "fetch_and_enrich", crash_some)
    monkeypatch.setattr(pipeline, "summarize", summary_breaks_on_quarry)
    report = enrich_feeds([gazette.url("/feed.xml")], Settings(db_path=db_path))

    assert crashed and set(crashed) >= {_url(gazette, s) for s in CRASHING}
    # 1. Every article of a crashed batch is stored, failed with its reason, and in failures.
    stored = dict(_rows(db_path, "SELECT url, (status, reason, attempts) FROM articles"))
    assert len(stored) == len(SUBJECTS), "nothing vanished"
    for url in crashed:
        assert stored[url] == ("enrich_failed", "enrich.crashed", 1)
    failures = _rows(db_path, "SELECT stage, article_url, reason, message FROM failures WHERE run_id = ?",
                     [report.run_id])
    crash_rows = [(url, message) for stage, url, reason, message in failures if reason == "enrich.crashed"]
    assert sorted(url for url, _ in crash_rows) == sorted(crashed)
    assert {stage for stage, _url, reason, _message in failures if reason == "enrich.crashed"} == {"enrich"}
    assert all("MemoryError: the batch ran out of memory" in message for _, message in crash_rows)
    assert report.failed == len(crashed) and report.reasons["enrich.crashed"] == len(crashed)
    assert all(is_registered(reason) for _stage, _url, reason, _message in failures)

    # 2. The stage that failed cost its article the summary only.
    quarry = _url(gazette, "quarry")
    if quarry not in crashed:
        status, summary, quotes, topics, failed_stages = _rows(
            db_path, "SELECT status, summary, key_quotes, topics, failed_stages FROM articles WHERE url = ?",
            [quarry])[0]
        assert (status, summary, failed_stages) == ("ok", [], ["summary"])
        assert quotes and topics
        assert ("summary", quarry, "enrich.summary", "ValueError: no summary for quarries") in failures
        assert report.degraded == 1 and report.reasons["enrich.summary"] == 1
    assert _rows(db_path, "SELECT status FROM runs WHERE id = ?", [report.run_id]) == [("completed",)]

    # 3. The next run (nothing broken now) retries the crashed articles and enriches them.
    monkeypatch.undo()
    monkeypatch.setenv("ENRICH_WORKER_PROCESSES", "0")
    again = enrich_feeds([gazette.url("/feed.xml")], Settings(db_path=db_path))
    assert again.new_articles == len(crashed)
    statuses = dict(_rows(db_path, "SELECT url, (status, reason) FROM articles"))
    assert all(statuses[url] == ("ok", None) for url in crashed)


@pytest.mark.usefixtures("in_process")
def test_batches_finished_before_an_interrupt_are_stored(gazette, db_path, monkeypatch):
    import flows.enrich_feeds as flow_module
    from tests.flow import run_without_prefect

    monkeypatch.setattr(flow_module, "STORE_EVERY_SECONDS", 3600.0)  # nothing stored before the end
    real_as_completed = flow_module.PoolSteps.as_completed

    def interrupted_after_two(futures):
        for seen, future in enumerate(real_as_completed(futures)):
            if seen == 2:
                raise KeyboardInterrupt  # Ctrl-C while the third batch is awaited
            yield future

    monkeypatch.setattr(flow_module.PoolSteps, "as_completed", staticmethod(interrupted_after_two))
    with pytest.raises(KeyboardInterrupt):
        run_without_prefect(Settings(db_path=db_path), [gazette.url("/feed.xml")])
    assert _rows(db_path, "SELECT count(*) FROM articles WHERE status = 'ok'") == [(4,)]


@pytest.mark.usefixtures("prefect_harness", "in_process")
@pytest.mark.parametrize(("every", "visits"), [(3600.0, 1), (0.0, 3)])
def test_finished_batches_are_stored_together_within_the_window(gazette, db_path, monkeypatch, every, visits):
    import flows.enrich_feeds as flow_module

    monkeypatch.setattr(flow_module, "STORE_EVERY_SECONDS", every)
    sizes: list[list[int]] = []
    real_settle = flow_module.settle_batches

    def counting(settings, run_id, finished):
        sizes.append([len(jobs) for jobs, _outcome in finished])
        return real_settle(settings, run_id, finished)

    monkeypatch.setattr(flow_module, "settle_batches", counting)
    report = enrich_feeds([gazette.url("/feed.xml")], Settings(db_path=db_path))

    # Six articles, two a batch: the last batch always stores what is waiting.
    assert len(sizes) == visits and sum(map(sum, sizes)) == len(SUBJECTS)
    assert report.enriched == len(SUBJECTS)
    assert _rows(db_path, "SELECT count(*) FROM articles WHERE status = 'ok'") == [(len(SUBJECTS),)]


@pytest.mark.usefixtures("prefect_harness", "in_process")
def test_failed_linking_still_records_failures_and_closes_the_run(gazette, db_path, monkeypatch):
    import flows.enrich_feeds as flow_module

    def out_of_range(*_args, **_kwargs):
        raise OverflowError("date value out of range")

    monkeypatch.setattr(flow_module, "link_articles", out_of_range)
    # An empty page and no description in the feed: an extract.empty failure beside the link.failed.
    gazette.routes["/quarry.html"] = ok("<html><body></body></html>")
    gazette.routes["/feed.xml"] = ok(rss(gazette.base, ["quarry", "harbour", "library"], undescribed={"quarry"}),
                                     "application/rss+xml")
    report = enrich_feeds([gazette.url("/feed.xml")], Settings(db_path=db_path))

    assert report.status == "finished_with_errors"
    assert _rows(db_path, "SELECT status, enriched, failed FROM runs WHERE id = ?", [report.run_id]) == [
        ("finished_with_errors", 2, 1)]
    reasons = {reason for (reason,) in _rows(db_path, "SELECT reason FROM failures WHERE run_id = ?", [report.run_id])}
    assert reasons == {"link.failed", "extract.empty"}
    assert _rows(db_path, "SELECT count(*) FROM articles WHERE status = 'ok'") == [(2,)]


# Articles on other subjects, so that the words the council pages share are not in every article of
# the pool (related lists weigh words by their rarity in the pool).
UNRELATED = {
    "https://gazette.example/bread": (
        "<p>Knead the dough for ten minutes until it is smooth and springs back. Leave it to rise in a warm "
        "kitchen for an hour. Shape two loaves, score the tops with a sharp knife and bake them in a hot oven. "
        "A tray of water on the lowest shelf gives the crust its shine. Let the bread cool before slicing.</p>"),
    "https://gazette.example/derby": (
        "<p>The home side scored twice in the first half and held on after the break. Their goalkeeper saved a "
        "penalty in the final minutes. The visiting coach blamed the wet pitch and a tired midfield. Supporters "
        "sang long after the whistle. The teams meet again in the spring at the other ground.</p>"),
}


# The same council story told differently: related to the quarry page, not a copy of it.
BUDGET = "https://gazette.example/budget"
BUDGET_TEXT = (
    "<p>The council approved next year's budget on Thursday after a long debate about the old quarry. "
    "Repairs to the quarry path will cost 2.4 million euros, more than residents expected. "
    "The residents' group welcomed the decision but asked for a public meeting about the quarry in January. "
    "Councillors also voted to keep the quarry open on weekdays while the repairs go on.</p>")


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _entry(url: str, content: str) -> FeedEntry:
    return FeedEntry(feed_url="https://gazette.example/feed.xml", entry_id=url, url=url, link=None,
                     title="Council weighs the future", author=None,
                     published_at=datetime.now(UTC) - timedelta(days=1), updated_at=None, tags=(),
                     summary_html=None, content_html=content, content_hash=url)


@pytest.mark.usefixtures("prefect_harness")
def test_killed_run_is_marked_abandoned_by_the_next_and_its_articles_linked(db_path):
    # A run killed after storing its articles, before linking them: its row says running, its
    # process is gone, and its articles have no duplicate folding and no related lists.
    with open_store(db_path) as store:
        killed = store.begin_run(datetime.now(UTC) - timedelta(hours=1))
        store.query("UPDATE runs SET pid = ? WHERE id = ?", [_dead_pid(), killed])
        release_run(killed)
        articles = [
            pipeline.enrich_entry(_entry("https://gazette.example/quarry", page("quarry")), None, EnrichOptions()),
            pipeline.enrich_entry(_entry("https://gazette.example/quarry-again", page("quarry")), None,
                                  EnrichOptions()),
            pipeline.enrich_entry(_entry(BUDGET, BUDGET_TEXT), None, EnrichOptions()),
            *(pipeline.enrich_entry(_entry(url, text), None, EnrichOptions()) for url, text in UNRELATED.items()),
        ]
        assert all(a.status == "ok" and a.vector and a.fingerprint for a in articles)
        store.upsert_articles(articles, killed)

    report = enrich_feeds(None, Settings(db_path=db_path))  # no feeds: the run only tidies up

    assert report.abandoned_runs == (killed,)
    status, finished = _rows(db_path, "SELECT status, finished_at FROM runs WHERE id = ?", [killed])[0]
    assert status == "abandoned" and finished is not None
    folded = dict(_rows(db_path, "SELECT url, duplicate_of FROM articles WHERE url LIKE '%quarry%'"))
    [original] = [url for url, duplicate_of in folded.items() if duplicate_of is None]
    [copy] = set(folded) - {original}
    assert folded[copy] == original, "the copy is folded into the original"
    related = _rows(db_path, "SELECT article_url, related_url FROM related")
    assert (original, BUDGET) in related and (BUDGET, original) in related
    # The run that tidied up closed normally; the one after finds nothing to tidy.
    assert _rows(db_path, "SELECT status FROM runs WHERE id = ?", [report.run_id]) == [("completed",)]
    assert enrich_feeds(None, Settings(db_path=db_path)).abandoned_runs == ()


def test_a_run_is_abandoned_only_when_no_live_process_holds_it(db_path):
    me, here = os.getpid(), socket.gethostname()
    with open_store(db_path) as store:
        held = store.begin_run()  # this process, still running it
        crashed_here = store.begin_run()  # this process, whose flow crashed
        release_run(crashed_here)
        rows = {
            "other_live": (here, os.getppid()),
            "dead": (here, _dead_pid()),
            "unknown": (None, None),  # written before runs recorded their process
            "other_host": ("elsewhere.example", _dead_pid()),  # cannot be checked from here
        }
        for run_id, (host, pid) in rows.items():
            store.query("INSERT INTO runs (id, started_at, status, host, pid) VALUES (?, now(), 'running', ?, ?)",
                        [run_id, host, pid])
        store.query("INSERT INTO runs (id, started_at, status, host, pid) VALUES ('done', now(), 'completed', ?, ?)",
                    [here, _dead_pid()])
        assert me != os.getppid()
        assert sorted(store.abandoned_runs()) == sorted([crashed_here, "dead", "unknown"])
        assert held not in store.abandoned_runs()
        store.finish_run(held, {})


def test_an_article_the_database_refuses_costs_only_itself(db_path):
    good = [pipeline.enrich_entry(_entry(f"https://gazette.example/{s}", page(s)), None, EnrichOptions())
            for s in ("harbour", "library")]
    bad = pipeline.enrich_entry(_entry("https://gazette.example/bad", page("orchard")), None, EnrichOptions())
    bad = type(bad)(**{**{f: getattr(bad, f) for f in type(bad).__slots__}, "title": "lone \ud800 surrogate"})
    with open_store(db_path) as store:
        refused = store_articles(store, store.begin_run(), [good[0], bad, good[1]])
    assert [(f.stage, f.article_url, f.reason) for f in refused] == [
        ("store", "https://gazette.example/bad", "store.failed")]
    assert sorted(u for (u,) in _rows(db_path, "SELECT url FROM articles")) == sorted(a.url for a in good)


def test_a_crashed_re_enrichment_keeps_the_enriched_article(db_path):
    enriched = pipeline.enrich_entry(_entry("https://gazette.example/harbour", page("harbour")), None, EnrichOptions())
    changed = _entry("https://gazette.example/harbour", page("harbour") + "<p>Update: the ferry runs again.</p>")
    crashed = EnrichJob(replace(changed, content_hash="changed"), None).failed(
        "MemoryError", datetime.now(UTC), ENRICH_CRASHED)
    with open_store(db_path) as store:
        run_id = store.begin_run()
        store.upsert_articles([enriched], run_id)
        store.upsert_articles([crashed], run_id)
        assert store.query("SELECT status, content_hash, summary = ? FROM articles", [list(enriched.summary)]) == [
            ("ok", enriched.content_hash, True)]
        assert store.known_articles([enriched.url])[enriched.url].content_hash != "changed", "retried next run"


def test_reason_and_failed_stages_are_stored(db_path):
    degraded = replace(pipeline.enrich_entry(_entry("https://gazette.example/library", page("library")), None,
                                             EnrichOptions()),
                       summary=(), stage_failures=(StageFailure("summary", "enrich.summary", "ValueError: x"),))
    failed = EnrichJob(_entry("https://gazette.example/bridge", page("bridge")), None).failed(
        "MemoryError", datetime.now(UTC), ENRICH_CRASHED)
    with open_store(db_path) as store:
        store.upsert_articles([degraded, failed], store.begin_run())
        assert sorted(store.query("SELECT url, status, reason, failed_stages FROM articles")) == [
            ("https://gazette.example/bridge", "enrich_failed", "enrich.crashed", []),
            ("https://gazette.example/library", "ok", None, ["summary"]),
        ]
