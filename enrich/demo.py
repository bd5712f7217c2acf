"""The demo corpus server: serves data/demo/site on loopback, filling in its own base URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path

from enrich.settings import PROJECT_ROOT
from enrich.sites import LoopbackSite, directory


def _demo_site() -> Path:
    """The corpus inside the installed package (the wheel carries it as enrich/data/demo), else the checkout's."""
    packaged = Path(str(files("enrich").joinpath("data", "demo", "site")))
    return packaged if packaged.is_dir() else PROJECT_ROOT / "data" / "demo" / "site"


DEMO_SITE = _demo_site()
PLACEHOLDER = b"{{DEMO_BASE}}"
TEMPLATED = {".xml": "application/xml", ".opml": "text/x-opml", ".html": "text/html; charset=utf-8"}
FEED_FILES = ("northwind.rss.xml", "cuaderno.atom.xml", "stadtleben.rdf.xml", "kissa.rss.xml")


@contextmanager
def serve_directory(root: Path = DEMO_SITE, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``root`` over HTTP in a background thread; yields the base URL (port 0 picks one)."""
    with LoopbackSite(fallback=directory(root, TEMPLATED, PLACEHOLDER), addresses=[host], port=port) as site:
        yield site.base


def demo_feed_urls(base: str) -> list[str]:
    return [f"{base}/feeds/{name}" for name in FEED_FILES]
