"""Loopback web sites: real HTTP on 127.0.0.x serving feeds and pages, for the demo, the tests and bench/.

One ``LoopbackSite`` binds a threaded ``http.server`` on each address it is given (Linux routes all
of 127.0.0.0/8 to ``lo``, so 127.0.0.1 .. 127.0.0.N are N hosts to a per-host limit), answers each
path from its ``routes`` (path -> route) or its ``fallback``, and keeps a log of what it served.
A route is any function of the request handler returning ``(status, headers, body)``; ``ok``,
``status``, ``slow`` and ``directory`` build the common ones.
"""

from __future__ import annotations

import mimetypes
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

Reply = tuple[int, dict[str, str], bytes]
Route = Callable[[BaseHTTPRequestHandler], Reply]


def ok(body: bytes | str, content_type: str = "text/html; charset=utf-8", **headers: str) -> Route:
    """A route answering 200 with ``body`` (and any extra headers, e.g. ``ETag``)."""
    data = body.encode() if isinstance(body, str) else body
    return lambda _req: (200, {"Content-Type": content_type, **headers}, data)


def status(code: int, body: bytes = b"", content_type: str = "text/html") -> Route:
    return lambda _req: (code, {"Content-Type": content_type}, body)


def not_found(_req: BaseHTTPRequestHandler) -> Reply:
    return 404, {"Content-Type": "text/plain"}, b"not found"


def slow(seconds: float, route: Route) -> Route:
    def handler(req: BaseHTTPRequestHandler) -> Reply:
        time.sleep(seconds)
        return route(req)

    return handler


def base_of(req: BaseHTTPRequestHandler) -> str:
    """``http://host:port`` of the server that received ``req``."""
    host, port = req.server.server_address[:2]
    return f"http://{host}:{port}"


def directory(root: Path, templated: dict[str, str], placeholder: bytes) -> Route:
    """Files under ``root``; in those whose suffix ``templated`` names (suffix -> content type),
    ``placeholder`` becomes the base URL the request came to, so feeds link to this very server."""
    root = root.resolve()

    def handler(req: BaseHTTPRequestHandler) -> Reply:
        path = (root / unquote(urlsplit(req.path).path).lstrip("/")).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            return not_found(req)
        body = path.read_bytes()
        kind = templated.get(path.suffix.lower())
        if kind is not None:
            return 200, {"Content-Type": kind}, body.replace(placeholder, base_of(req).encode())
        return 200, {"Content-Type": mimetypes.guess_type(path.name)[0] or "application/octet-stream"}, body

    return handler


@dataclass(frozen=True)
class Hit:
    """One request served: the address it came to, its path (without the query), the status sent,
    and when it arrived and was answered (``time.monotonic``, which is system-wide on Linux)."""

    host: str
    path: str
    status: int
    start: float
    end: float


class LoopbackSite:
    """Serve ``routes`` (path -> route, else ``fallback``) on each of ``addresses`` in threads.

    ``latency`` delays every response; ``keep_alive`` speaks HTTP/1.1 with persistent connections
    as real servers do (else HTTP/1.0, a connection per request). A reply carrying an ``ETag``
    answers a request whose If-None-Match names it with 304 and no body. ``hits`` counts requests
    by path (the path as sent, query included) as they arrive; ``log`` holds a ``Hit`` per answer.
    The servers are bound at construction (``base``/``bases`` are known before ``start``).
    """

    def __init__(self, routes: dict[str, Route] | None = None, *, fallback: Route = not_found,
                 addresses: Iterable[str] = ("127.0.0.1",), port: int = 0, latency: float = 0.0,
                 keep_alive: bool = False) -> None:
        self.routes = {} if routes is None else routes
        self.fallback = fallback
        self.latency = latency
        self.hits: Counter[str] = Counter()
        self.log: list[Hit] = []
        self._lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"
            # Headers and body go out in two writes; with Nagle's algorithm on, the body of a
            # kept-alive response waits for the client's delayed ACK (40 ms on Linux).
            disable_nagle_algorithm = True
            timeout = 30  # an idle keep-alive connection is closed after this

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                site._answer(self)

            def log_message(self, *args) -> None:  # quiet: callers read ``log``
                pass

        self.servers: list[ThreadingHTTPServer] = []
        try:
            for address in addresses:
                server = ThreadingHTTPServer((address, port), Handler)
                server.daemon_threads = True
                self.servers.append(server)
        except OSError:
            self._close()
            raise
        self.bases = [f"http://{s.server_address[0]}:{s.server_address[1]}" for s in self.servers]
        self.base = self.bases[0]

    def _answer(self, req: BaseHTTPRequestHandler) -> None:
        started = time.monotonic()
        path = req.path.split("?")[0]
        with self._lock:
            self.hits[req.path] += 1
        if self.latency:
            time.sleep(self.latency)
        code, headers, body = self.routes.get(path, self.fallback)(req)
        etag = headers.get("ETag")
        if etag and etag in {tag.strip().removeprefix("W/") for tag in req.headers.get("If-None-Match", "").split(",")}:
            code, body = 304, b""
        try:
            req.send_response(code)
            for key, value in headers.items():
                req.send_header(key, value)
            if code != 304:
                req.send_header("Content-Length", str(len(body)))
            req.end_headers()
            if code != 304:
                req.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test): nothing to clean up
        with self._lock:
            self.log.append(Hit(req.server.server_address[0], path, code, started, time.monotonic()))

    def start(self) -> LoopbackSite:
        for server in self.servers:
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                             name=f"site-{server.server_address[0]}", daemon=True).start()
        return self

    def stop(self) -> None:
        for server in self.servers:
            server.shutdown()
        self._close()

    def _close(self) -> None:
        for server in self.servers:
            server.server_close()

    def __enter__(self) -> LoopbackSite:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def url(self, path: str) -> str:
        return self.base + path

    def mark(self) -> int:
        """A position in ``log``, for ``since``."""
        with self._lock:
            return len(self.log)

    def since(self, mark: int) -> list[Hit]:
        with self._lock:
            return self.log[mark:]
