"""HTTP fetching for feeds and pages: timeouts, a streamed size cap, redirects checked hop by hop."""

from __future__ import annotations

import random
import ssl
import time
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TypeVar
from urllib.parse import urljoin

import httpcore
import httpx

from enrich.models import FetchResult
from enrich.netguard import BlockedURL, GuardedBackend, screen_url
from enrich.politeness import ROBOTS_AGENT, HostLimiter, RobotsCache
from enrich.reasons import (
    FETCH_CONNECT,
    FETCH_DECODING,
    FETCH_NOT_HTML,
    FETCH_REDIRECTS,
    FETCH_ROBOTS_DISALLOWED,
    FETCH_TIMEOUT,
    FETCH_TOO_LARGE,
    http_status_reason,
)

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
# 429 and 5xx are worth another try later; other 4xx will say the same thing next time.
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
# We inflate compressed bodies ourselves, at most this many bytes per step, so a gzip bomb
# never grows far past max_bytes in memory (64 KiB: the size of one network read).
INFLATE_STEP = 65536
# The encodings we ask for in Accept-Encoding; anything else is refused, not passed through.
GZIP_ENCODINGS = frozenset({"gzip", "x-gzip"})


@dataclass(frozen=True)
class FetchOptions:
    user_agent: str
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    max_bytes: int = 5_000_000
    max_redirects: int = 5
    allow_private: bool = False
    per_host: int = 2  # page fetches in flight to one host
    concurrency: int = 16  # page fetches in flight in this process, all hosts
    respect_robots: bool = True  # for article pages; feeds are published to be polled

    @property
    def deadline_seconds(self) -> float:
        # A server dripping one byte per read_timeout would never trip the read timeout;
        # the whole response must arrive within this budget.
        return self.connect_timeout + 2 * self.read_timeout


T = TypeVar("T")

POOL_LIMITS = httpx.Limits(max_connections=64, max_keepalive_connections=16)


def guarded_transport(allow_private: bool, verify: ssl.SSLContext | bool = True) -> httpx.HTTPTransport:
    """httpx's transport, its connections made through the SSRF guard (:class:`GuardedBackend`).

    ``verify`` is httpx's: True checks certificates against certifi's roots.
    """
    # One TLS context for both pools below: building one loads certifi's roots (~20 ms of CPU).
    ssl_context = verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context(verify=verify, trust_env=False)
    transport = httpx.HTTPTransport(verify=ssl_context, limits=POOL_LIMITS, trust_env=False)
    # httpx 0.28 takes no network backend (encode/httpx PR #3749 would add one), so the pool it
    # built is replaced by one with the same settings that connects through the guard. Fail loudly
    # should a new httpx keep its pool elsewhere, rather than silently connect unguarded.
    if not isinstance(getattr(transport, "_pool", None), httpcore.ConnectionPool):
        raise TypeError(f"httpx {httpx.__version__} keeps no httpcore pool in _pool to guard")
    transport._pool = httpcore.ConnectionPool(
        ssl_context=ssl_context,
        max_connections=POOL_LIMITS.max_connections,
        max_keepalive_connections=POOL_LIMITS.max_keepalive_connections,
        keepalive_expiry=POOL_LIMITS.keepalive_expiry,
        network_backend=GuardedBackend(allow_private=allow_private),
    )
    return transport


@lru_cache(maxsize=8)
def http_client(options: FetchOptions) -> httpx.Client:
    """One pooled client per option set; httpx clients are safe to share between threads."""
    return httpx.Client(
        headers={"User-Agent": options.user_agent, "Accept-Encoding": "gzip, deflate"},
        timeout=httpx.Timeout(
            connect=options.connect_timeout,
            read=options.read_timeout,
            write=options.read_timeout,
            pool=options.connect_timeout,
        ),
        follow_redirects=False,  # we follow them ourselves so the guard sees every hop
        transport=guarded_transport(options.allow_private),
        trust_env=False,
    )


def _media_type(content_type: str | None) -> str | None:
    return content_type.split(";")[0].strip().lower() if content_type else None


def _charset(content_type: str | None) -> str | None:
    for part in (content_type or "").split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return None


def _looks_like_html(head: bytes) -> bool:
    probe = head[:1024].lstrip().lower()
    return probe.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<!--", b"<meta"))


def fetch(
    url: str,
    options: FetchOptions,
    *,
    accept: frozenset[str] | None = None,
    headers: dict[str, str] | None = None,
) -> FetchResult:
    """GET ``url``; returns a :class:`FetchResult` whose ``error_key`` says what went wrong.

    ``accept`` restricts media types (None accepts anything); a body with no Content-Type is
    sniffed. Never raises for network or HTTP trouble: that is a result, not a bug.
    """
    client = http_client(options)
    current = url
    started = time.monotonic()
    permanent = True  # every hop so far was 301/308: callers may update the URL they store
    for hop in range(options.max_redirects + 1):
        try:
            # Refusals decidable from the URL alone come first; the addresses are checked when the
            # transport connects, on the one lookup it connects with (a pooled connection reused
            # for the same origin was checked when it was made).
            target = screen_url(current, allow_private=options.allow_private)
            with client.stream("GET", target, headers=headers) as response:
                if response.status_code in REDIRECT_CODES and "location" in response.headers:
                    permanent = permanent and response.status_code in (301, 308)
                    current = urljoin(current, response.headers["location"])
                    continue
                result = _read_response(url, current, response, options, accept, started)
                if hop and permanent:
                    result = replace(result, permanent_redirect=current)
                return result
        except BlockedURL as exc:
            return _failure(url, current, exc.key, str(exc))
        except httpx.TimeoutException as exc:
            return _failure(url, current, FETCH_TIMEOUT, f"timed out: {exc!r}", retryable=True)
        except httpx.TooManyRedirects as exc:  # pragma: no cover - we never let httpx redirect
            return _failure(url, current, FETCH_REDIRECTS, str(exc))
        except httpx.DecodingError as exc:
            return _failure(url, current, FETCH_DECODING, f"bad content encoding: {exc}")
        except (httpx.TransportError, httpx.InvalidURL, UnicodeError) as exc:
            return _failure(url, current, FETCH_CONNECT, f"{type(exc).__name__}: {exc}", retryable=True)
    return _failure(url, current, FETCH_REDIRECTS, f"more than {options.max_redirects} redirects")


def _failure(url: str, final: str, key: str, message: str, retryable: bool = False, **kw) -> FetchResult:
    return FetchResult(url, final, ok=False, error_key=key, error=message, retryable=retryable, **kw)


def _read_response(url, final, response: httpx.Response, options, accept, started) -> FetchResult:
    status = response.status_code
    kept_headers = {
        k: v
        for k, v in response.headers.items()
        if k.lower() in {"content-type", "etag", "last-modified", "retry-after", "cache-control"}
    }
    common = dict(http_status=status, content_type=response.headers.get("content-type"), headers=kept_headers)
    if status == 304:
        return FetchResult(url, final, ok=True, **common)
    if status >= 400:
        # A server that says when to come back (429/503 + Retry-After) is not retried within
        # the run: the caller schedules the next attempt after the delay it asked for.
        asked_to_wait = "retry-after" in response.headers
        return _failure(
            url, final, http_status_reason(status), f"HTTP {status} {response.reason_phrase}",
            retryable=status in RETRYABLE_STATUS and not asked_to_wait, **common,
        )
    media = _media_type(response.headers.get("content-type"))
    if accept is not None and media is not None and media not in accept:
        return _failure(url, final, FETCH_NOT_HTML, f"content type {media} is not a web page", **common)
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > options.max_bytes:
        return _failure(url, final, FETCH_TOO_LARGE, f"declared {declared} bytes > cap {options.max_bytes}", **common)

    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in GZIP_ENCODINGS | {"deflate", "identity", ""}:
        return _failure(url, final, FETCH_DECODING, f"unsupported content encoding {encoding!r}", **common)

    chunks: list[bytes] = []
    size = 0
    try:
        # One (possibly empty) piece per network read, so the deadline is checked even when a
        # server drips a byte at a time, and the cap sees inflated bytes in bounded steps.
        for chunk in _decoded_pieces(response, encoding):
            size += len(chunk)
            if size > options.max_bytes:
                return _failure(url, final, FETCH_TOO_LARGE, f"body exceeds cap of {options.max_bytes} bytes",
                                **common)
            if time.monotonic() - started > options.deadline_seconds:
                return _failure(url, final, FETCH_TIMEOUT,
                                f"body took longer than {options.deadline_seconds:.0f}s", retryable=True, **common)
            chunks.append(chunk)
    except zlib.error as exc:
        return _failure(url, final, FETCH_DECODING, f"bad content encoding: {exc}", **common)
    body = b"".join(chunks)
    if accept is not None and media is None and not _looks_like_html(body):
        return _failure(url, final, FETCH_NOT_HTML, "no content type and the body is not HTML", **common)
    return FetchResult(url, final, ok=True, body=body, encoding=_charset(response.headers.get("content-type")), **common)


def _decoded_pieces(response: httpx.Response, encoding: str) -> Iterator[bytes]:
    """The body as it arrives, inflated at most INFLATE_STEP bytes at a time.

    Not ``iter_bytes``: httpx inflates each network read whole (64 KiB of a gzip bomb is 64 MiB
    in memory before any cap looks at it), and ``iter_bytes(n)`` holds data back until n bytes
    have arrived, so a dripping server never reached the deadline check.
    """
    inflater = None
    for raw in response.iter_raw():
        if encoding not in GZIP_ENCODINGS and encoding != "deflate":
            yield raw
            continue
        if inflater is None:
            inflater = zlib.decompressobj(_wbits(encoding, raw))
        yield inflater.decompress(raw, INFLATE_STEP)
        while inflater.unconsumed_tail:
            yield inflater.decompress(inflater.unconsumed_tail, INFLATE_STEP)
    if inflater is not None:
        yield inflater.flush()


def _wbits(encoding: str, first: bytes) -> int:
    if encoding in GZIP_ENCODINGS:
        return 16 + zlib.MAX_WBITS
    # "deflate" should be zlib-wrapped (RFC 9110), but some servers send raw deflate; httpx
    # accepts both, so we tell them apart by the zlib header (CMF/FLG check) as it does.
    zlib_header = len(first) >= 2 and first[0] & 0x0F == 8 and int.from_bytes(first[:2], "big") % 31 == 0
    return zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS


@lru_cache(maxsize=8)
def _politeness(options: FetchOptions) -> tuple[HostLimiter, RobotsCache]:
    robots = RobotsCache(lambda robots_url: fetch(robots_url, options, headers={"Accept": "text/plain"}))
    return HostLimiter(options.per_host), robots


def fetch_page(url: str, options: FetchOptions) -> FetchResult:
    """Fetch an article page politely: per-host limit, robots.txt; only HTML is accepted."""
    limiter, robots = _politeness(options)
    with limiter.slot(url):
        if options.respect_robots and not robots.allowed(url):
            return _failure(url, url, FETCH_ROBOTS_DISALLOWED, f"robots.txt of {url} disallows {ROBOTS_AGENT}")
        return fetch(url, options, accept=HTML_TYPES, headers={"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"})


def with_retries(call: Callable[[], T], retryable: Callable[[T], bool], retries: int, retry_delay: float) -> T:
    """``call()``, made again up to ``retries`` times while its outcome is ``retryable``, with
    exponential backoff and full jitter around each step, so the requests of one failing host do
    not retry in step."""
    for attempt in range(retries + 1):
        outcome = call()
        if not retryable(outcome) or attempt == retries:
            return outcome
        time.sleep(retry_delay * 2**attempt * random.uniform(0.5, 1.5))
    raise AssertionError("unreachable")  # pragma: no cover


def fetch_page_retrying(url: str, options: FetchOptions, *, retries: int = 0, retry_delay: float = 2.0) -> FetchResult:
    """:func:`fetch_page`, tried again after a transient failure."""
    return with_retries(lambda: fetch_page(url, options), lambda result: result.retryable, retries, retry_delay)


@lru_cache(maxsize=4)
def _fetch_pool(workers: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch")


def fetch_pages(urls: list[str], options: FetchOptions, *, retries: int = 0, retry_delay: float = 2.0) -> list[FetchResult]:
    """Fetch pages concurrently, in order of ``urls``.

    At most ``options.concurrency`` fetches are in flight in this process, however many callers
    ask at once (they share one thread pool), and at most ``options.per_host`` to one host.
    """
    pool = _fetch_pool(options.concurrency)
    return list(pool.map(lambda url: fetch_page_retrying(url, options, retries=retries, retry_delay=retry_delay), urls))
