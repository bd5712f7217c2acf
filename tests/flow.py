"""The flow's functions for tests, imported on their first call.

Importing flows.enrich_feeds imports Prefect (1.4 s of CPU); imported at the top of a test file, every
collection of the suite paid it, also for the files and runs that never start a flow.
"""

from __future__ import annotations

from importlib import import_module


def _on_first_call(name: str):
    def call(*args, **kwargs):
        return getattr(import_module("flows.enrich_feeds"), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    return call


enrich_feeds = _on_first_call("enrich_feeds")
configured_flow = _on_first_call("configured_flow")
fetch_options_for = _on_first_call("fetch_options_for")
record_polls = _on_first_call("record_polls")
store_articles = _on_first_call("store_articles")
run_without_prefect = _on_first_call("run_without_prefect")
showing_progress = _on_first_call("showing_progress")
