"""One place for configuration: environment variables prefixed ``ENRICH_``, read once at the edge."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Upper bounds only where a larger value breaks arithmetic rather than just being odd: a poll
# interval or a related-articles window past a century would overflow the datetimes it is added to.
MAX_POLL_MINUTES = 100 * 365 * 24 * 60
MAX_WINDOW_DAYS = 100 * 365


class Settings(BaseSettings):
    """Every knob of the pipeline; build it in the CLI or flow and pass the pieces down.

    Values are checked when it is built (pydantic constraints): a zero per-host limit would make
    every fetch wait forever, a negative timeout would fail every one. The CLI turns a
    ``ValidationError`` into a one-line message and exit 2.
    """

    model_config = SettingsConfigDict(env_prefix="ENRICH_", frozen=True, extra="ignore")

    db_path: Path = Field(Path("data/enriched.duckdb"), description="DuckDB file the pipeline writes.")
    lock_wait_seconds: float = Field(
        30.0, ge=0, description="How long to wait for another process's hold on the database before giving up (exit 75)."
    )

    # Network
    allow_private_networks: bool = Field(
        False, description="Allow fetching loopback/private addresses (tests and the demo set it)."
    )
    contact_url: str = Field(
        "https://example.org/enrich-bot", description="Contact URL advertised in the User-Agent."
    )
    connect_timeout: float = Field(5.0, gt=0, description="Seconds to wait for a TCP/TLS connection.")
    read_timeout: float = Field(15.0, gt=0, description="Seconds to wait between bytes of a response.")
    max_page_bytes: int = Field(5_000_000, ge=1, description="Body size cap for feeds and pages (bytes).")
    max_redirects: int = Field(5, ge=0, description="Redirects followed before giving up.")
    fetch_retries: int = Field(2, ge=0, description="Retries of a feed or page fetch after a transient error.")
    fetch_concurrency: int = Field(16, ge=1, description="Feed and page fetches in flight at once (all hosts).")
    per_host_concurrency: int = Field(2, ge=1, description="Page fetches in flight to one host.")
    min_poll_minutes: int = Field(15, ge=0, description="A healthy feed is polled at most this often.")
    max_poll_minutes: int = Field(1440, ge=0, le=MAX_POLL_MINUTES, description="A healthy feed is polled at least this often.")
    respect_robots: bool = Field(True, description="Obey robots.txt rules for article pages.")
    fetch_retry_delay: float = Field(2.0, ge=0, description="Base of the exponential backoff between retries (s).")

    # Text stages
    words_per_minute: int = Field(230, ge=1, description="Reading speed for space-separated scripts.")
    cjk_chars_per_minute: int = Field(500, ge=1, description="Reading speed for zh/ja/ko/th, in characters.")
    summary_sentences: int = Field(3, ge=1, description="Sentences in an extractive summary.")
    quote_count: int = Field(4, ge=3, le=5, description="Key quotes pulled per article (3-5).")
    snippet_chars: int = Field(300, ge=1, description="Longest feed snippet, in characters.")
    language_min_confidence: float = Field(
        0.70, ge=0, le=1, description="Below this langdetect probability the language is 'und'."
    )
    spacy_model: str | None = Field(
        None, description="Installed trained spaCy model to use instead of blank pipelines."
    )
    related_window_days: int = Field(30, ge=0, le=MAX_WINDOW_DAYS, description="Related articles come from this many days around an article.")
    batch_size: int = Field(25, ge=1, description="Articles per fetch-and-enrich task.")
    worker_processes: int | None = Field(
        None, ge=0,
        description="Processes for the CPU-bound text stages (default: one per core; 0: in the flow's own process).",
    )

    dask_address: str | None = Field(
        None, description="Scheduler address of an existing Dask cluster (tcp://host:8786) to run tasks on."
    )

    # The Prefect server runs report to when PREFECT_API_URL is not set (flows/server.py)
    prefect_server: Literal["background", "ephemeral"] = Field(
        "background", description="'background': one local server, started once and reused by every run; "
        "'ephemeral': Prefect's temporary server inside each run.",
    )
    prefect_port: int = Field(4200, ge=1, le=65535, description="Loopback port of the background Prefect server.")
    prefect_start_seconds: float = Field(
        120.0, gt=0, description="How long a run waits for the background Prefect server to start (then exit 75).",
    )

    # Demo
    demo_host: str = Field("127.0.0.1", description="Address the demo server listens on.")
    demo_port: int = Field(8765, ge=0, le=65535, description="Fixed port of the demo server, so URLs stay stable.")

    @staticmethod
    def explain(error: ValidationError) -> str:
        """One line naming each invalid setting by its environment variable, the value and the rule."""
        parts = []
        for problem in error.errors():
            name = "_".join(str(x) for x in problem["loc"]) or "settings"
            value = problem.get("input")
            shown = f"={value!r}" if isinstance(value, str | int | float) else ""
            parts.append(f"ENRICH_{name.upper()}{shown}: {problem['msg'].lower()}")
        return "invalid setting " + "; ".join(parts)

    @property
    def user_agent(self) -> str:
        from enrich import __version__

        return f"enrich/{__version__} (RSS article enrichment; +{self.contact_url})"
