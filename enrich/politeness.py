"""Politeness for page fetches: a per-host concurrency limit and robots.txt, shared by threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from enrich.models import FetchResult

ROBOTS_AGENT = "enrich"
# robots.txt answers are kept this long; a long run re-reads them, a short one asks once per host.
ROBOTS_TTL_SECONDS = 3600.0


def host_of(url: str) -> str:
    """The scheme, host and port ``url`` is served from; a URL whose port is unreadable keys on its netloc."""
    parts = urlsplit(url)
    try:
        port = parts.port or ""
    except ValueError:  # out of range: the fetch refuses it; the limiter only needs a stable key
        return f"{parts.scheme}://{parts.netloc.lower()}"
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


class HostLimiter:
    """At most ``per_host`` requests in flight to one host (the global limit is the thread pool)."""

    def __init__(self, per_host: int) -> None:
        self.per_host = per_host
        self._lock = threading.Lock()
        self._slots: dict[str, threading.BoundedSemaphore] = {}

    @contextmanager
    def slot(self, url: str) -> Iterator[None]:
        host = host_of(url)
        with self._lock:
            semaphore = self._slots.setdefault(host, threading.BoundedSemaphore(self.per_host))
        with semaphore:
            yield


class RobotsCache:
    """robots.txt per host, fetched once per TTL through ``fetcher`` (so the SSRF guard applies).

    Only rules a site states are obeyed: a missing robots.txt (4xx) allows everything, and so
    does an unreachable one (5xx, timeout). RFC 9309 would disallow everything in that case, but
    these are pages the publisher put in its own feed for readers to open; a broken robots.txt
    must not hide them, and a broken server fails the page fetch anyway.
    """

    def __init__(self, fetcher: Callable[[str], FetchResult], ttl: float = ROBOTS_TTL_SECONDS) -> None:
        self._fetch = fetcher
        self._ttl = ttl
        self._lock = threading.Lock()
        self._host_locks: dict[str, threading.Lock] = {}
        self._rules: dict[str, tuple[float, RobotFileParser | bool]] = {}

    def allowed(self, url: str) -> bool:
        host = host_of(url)
        with self._lock:
            host_lock = self._host_locks.setdefault(host, threading.Lock())
        with host_lock:  # one robots.txt request per host, however many threads ask
            cached = self._rules.get(host)
            if cached is None or time.monotonic() - cached[0] > self._ttl:
                cached = (time.monotonic(), self._load(url))
                self._rules[host] = cached
        rules = cached[1]
        return rules if isinstance(rules, bool) else rules.can_fetch(ROBOTS_AGENT, url)

    def _load(self, url: str) -> RobotFileParser | bool:
        parts = urlsplit(url)
        result = self._fetch(f"{parts.scheme}://{parts.netloc}/robots.txt")
        if not result.ok:
            return True
        parser = RobotFileParser()
        parser.parse(result.body.decode("utf-8", "replace").splitlines())
        return parser
