"""The demo corpus server: serves data/demo/site on loopback, filling in its own base URL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from pathlib import Path

from enrich.settings import PROJECT_ROOT


def _demo_site() -> Path:
    """The corpus inside the installed package (the wheel carries it as enrich/data/demo), else the checkout's."""
    packaged = Path(str(files("enrich").joinpath("data", "demo", "site")))
    return packaged if packaged.is_dir() else PROJECT_ROOT / "data" / "demo" / "site"


DEMO_SITE = _demo_site()
PLACEHOLDER = b"{{DEMO_BASE}}"
TEMPLATED = {".xml": "application/xml", ".opml": "text/x-opml", ".html": "text/html; charset=utf-8"}
FEED_FILES = ("northwind.rss.xml", "cuaderno.atom.xml", "stadtleben.rdf.xml", "kissa.rss.xml")


class _DemoHandler(SimpleHTTPRequestHandler):
    base_url = ""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        path = Path(self.translate_path(self.path))
        kind = TEMPLATED.get(path.suffix.lower())
        if kind is None or not path.is_file():
            return super().do_GET()
        body = path.read_bytes().replace(PLACEHOLDER, self.base_url.encode())
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # quiet: the CLI prints its own progress
        pass


@contextmanager
def serve_directory(root: Path = DEMO_SITE, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``root`` over HTTP in a background thread; yields the base URL (port 0 picks one)."""
    handler = type("Handler", (_DemoHandler,), {})
    server = ThreadingHTTPServer((host, port), partial(handler, directory=str(root)))
    server.daemon_threads = True
    base = f"http://{host}:{server.server_address[1]}"
    handler.base_url = base
    thread = threading.Thread(target=server.serve_forever, name="demo-server", daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()


def demo_feed_urls(base: str) -> list[str]:
    return [f"{base}/feeds/{name}" for name in FEED_FILES]
