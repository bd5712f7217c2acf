"""A loopback site that misbehaves on purpose, for end-to-end tests of the flow."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Route = Callable[[BaseHTTPRequestHandler], tuple[int, dict[str, str], bytes]]


def ok(body: bytes | str, content_type: str = "text/html; charset=utf-8") -> Route:
    data = body.encode() if isinstance(body, str) else body
    return lambda _req: (200, {"Content-Type": content_type}, data)


def status(code: int, body: bytes = b"", content_type: str = "text/html") -> Route:
    return lambda _req: (code, {"Content-Type": content_type}, body)


def slow(seconds: float, route: Route) -> Route:
    def handler(req):
        time.sleep(seconds)
        return route(req)

    return handler


class MisbehavingSite:
    """Serve ``routes`` (path -> handler) on 127.0.0.1 in a thread; counts requests per path."""

    def __init__(self, routes: dict[str, Route]) -> None:
        self.routes = routes
        self.hits: Counter[str] = Counter()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                site.hits[self.path] += 1
                route = site.routes.get(self.path)
                code, headers, body = route(self) if route else (404, {"Content-Type": "text/plain"}, b"not found")
                try:
                    self.send_response(code)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test): nothing to clean up

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> MisbehavingSite:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def url(self, path: str) -> str:
        return self.base + path
