"""HTTP fetching for feeds and pages: timeouts, a streamed size cap, redirects checked hop by hop."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urljoin

import httpx

from enrich.models import FetchResult
from enrich.netguard import BlockedURL, check_url

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
# 429 and 5xx are worth another try later; other 4xx will say the same thing next time.
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class FetchOptions:
    user_agent: str
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    max_bytes: int = 5_000_000
    max_redirects: int = 5
    allow_private: bool = False

    @property
    def deadline_seconds(self) -> float:
        # A server dripping one byte per read_timeout would never trip the read timeout;
        # the whole response must arrive within this budget.
        return self.connect_timeout + 2 * self.read_timeout


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
        limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
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
    for _hop in range(options.max_redirects + 1):
        try:
            check_url(current, allow_private=options.allow_private)
        except BlockedURL as exc:
            return FetchResult(url, current, ok=False, error_key=exc.key, error=str(exc))
        try:
            with client.stream("GET", current, headers=headers) as response:
                if response.status_code in REDIRECT_CODES and "location" in response.headers:
                    current = urljoin(current, response.headers["location"])
                    continue
                return _read_response(url, current, response, options, accept, started)
        except httpx.TimeoutException as exc:
            return _failure(url, current, "fetch.timeout", f"timed out: {exc!r}", retryable=True)
        except httpx.TooManyRedirects as exc:  # pragma: no cover - we never let httpx redirect
            return _failure(url, current, "fetch.redirects", str(exc))
        except httpx.DecodingError as exc:
            return _failure(url, current, "fetch.decoding", f"bad content encoding: {exc}")
        except (httpx.TransportError, httpx.InvalidURL, UnicodeError) as exc:
            return _failure(url, current, "fetch.connect", f"{type(exc).__name__}: {exc}", retryable=True)
    return _failure(url, current, "fetch.redirects", f"more than {options.max_redirects} redirects")


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
        return _failure(
            url, final, f"fetch.http_{status}", f"HTTP {status} {response.reason_phrase}",
            retryable=status in RETRYABLE_STATUS, **common,
        )
    media = _media_type(response.headers.get("content-type"))
    if accept is not None and media is not None and media not in accept:
        return _failure(url, final, "fetch.not_html", f"content type {media} is not a web page", **common)
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > options.max_bytes:
        return _failure(url, final, "fetch.too_large", f"declared {declared} bytes > cap {options.max_bytes}", **common)

    chunks: list[bytes] = []
    size = 0
    # iter_bytes yields decoded (decompressed) data, so the cap also defuses gzip bombs.
    for chunk in response.iter_bytes(65536):
        size += len(chunk)
        if size > options.max_bytes:
            return _failure(url, final, "fetch.too_large", f"body exceeds cap of {options.max_bytes} bytes", **common)
        if time.monotonic() - started > options.deadline_seconds:
            return _failure(url, final, "fetch.timeout", f"body took longer than {options.deadline_seconds:.0f}s",
                            retryable=True, **common)
        chunks.append(chunk)
    body = b"".join(chunks)
    if accept is not None and media is None and not _looks_like_html(body):
        return _failure(url, final, "fetch.not_html", "no content type and the body is not HTML", **common)
    return FetchResult(url, final, ok=True, body=body, encoding=_charset(response.headers.get("content-type")), **common)


def fetch_page(url: str, options: FetchOptions) -> FetchResult:
    """Fetch an article page; anything but HTML is refused as ``fetch.not_html``."""
    return fetch(url, options, accept=HTML_TYPES, headers={"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"})
