"""Serve the flow on a schedule with Prefect's own runner: ``python -m flows.serve`` or ``enrich serve``."""

from __future__ import annotations

from datetime import timedelta

from enrich.settings import Settings
from flows.enrich_feeds import configured_flow

DEPLOYMENT = "enrich-feeds-scheduled"


def serve(settings: Settings, interval_minutes: float = 30, cron: str | None = None) -> None:
    """Run ``enrich_feeds`` over the stored feeds every ``interval_minutes`` (or on ``cron``) until stopped.

    Runs never overlap: the deployment has a concurrency limit of one (a run still going when
    the next is due makes that one wait), and the store's lock guards the file against anything
    else. Each run polls only the feeds that are due, by their own poll intervals. The runs get
    ``settings`` as they were when serving began (a parameter of the deployment, shown in Prefect's UI).
    """
    schedule = {"cron": cron} if cron else {"interval": timedelta(minutes=interval_minutes)}
    configured_flow(settings).serve(
        name=DEPLOYMENT,
        **schedule,
        parameters={"feed_urls": None, "settings": settings.model_dump(mode="json")},
        global_limit=1,
        limit=1,
        description="Poll due feeds, enrich new articles, write DuckDB.",
        tags=["enrich"],
    )


if __name__ == "__main__":
    serve(Settings())  # this script is an edge: the one place it reads the environment
