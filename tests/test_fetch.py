"""fetch / fetch_page against real servers on 127.0.0.1: status codes, redirects, types, caps, timeouts.

Well-behaved responses come from pytest-httpserver; misbehaviour it cannot stage (drips, stalls,
endless bodies, hang-ups) comes from ``RawSite``, a threaded http.server whose routes write to the
socket themselves. Refusals by the guard never connect: their targets are not loopback. Tests of what a name resolves
to script the resolver (``network``) and let connections through to 127.0.0.1 only.
"""

from __future__ import annotations

import datetime
import gzip
import socket
import ssl
import threading
import tracemalloc
import zlib
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer

from enrich.fetch import FetchOptions, fetch, fetch_page, guarded_transport, http_client
from enrich.netguard import BlockedURL, check_url, refusal

UA = "enrich-tests/1.0 (+https://example.invalid/bot)"
# Short timeouts keep the suite fast; the deadline for a whole body is 1 + 2 * 0.5 = 2 s.
OPTIONS = FetchOptions(user_agent=UA, connect_timeout=1, read_timeout=0.5, max_bytes=1_000_000, allow_private=True)
PAGE = "<!doctype html><html><head><title>Café</title></head><body><p>Crème brûlée</p></body></html>"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"


def url(server: HTTPServer, path: str) -> str:
    # Not url_for(): that says "localhost", which may resolve to ::1 first; the server is on 127.0.0.1.
    return f"http://127.0.0.1:{server.port}{path}"


# -- a server that misbehaves on purpose ----------------------------------------------------------
Route = Callable[[BaseHTTPRequestHandler, threading.Event], None]


class RawSite:
    """Threaded HTTP/1.0 server on 127.0.0.1; each route writes raw bytes and may stall on ``stop``."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self.sent: Counter[str] = Counter()  # body bytes a route managed to write
        self.stop = threading.Event()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                site.hits[self.path] += 1
                route = site.routes.get(self.path)
                try:
                    if route is None:
                        self.send_error(404)
                    else:
                        route(self, site.stop)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client hung up on us: that is what these tests want

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def write(self, req: BaseHTTPRequestHandler, data: bytes) -> None:
        req.wfile.write(data)
        self.sent[req.path] += len(data)


def head(req: BaseHTTPRequestHandler, headers: dict[str, str], status: int = 200) -> None:
    req.send_response(status)
    for key, value in headers.items():
        req.send_header(key, value)
    req.end_headers()


@pytest.fixture(scope="module")
def raw_site():
    site = RawSite()
    thread = threading.Thread(target=site.server.serve_forever, daemon=True)
    thread.start()
    yield site
    site.stop.set()  # release every stalled route
    site.server.shutdown()
    site.server.server_close()


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """100 MB of zeros, gzipped to about 100 KB."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1024 * 1024)
    return b"".join(packer.compress(block) for _ in range(100)) + packer.flush()


def assert_guard_refuses(target: str, allow_private: bool) -> None:
    """Precondition for tests whose targets must never be contacted: were the guard broken, the
    test fails here instead of going on to connect."""
    with pytest.raises(BlockedURL):
        check_url(target, allow_private=allow_private)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- success --------------------------------------------------------------------------------------
def test_html_page_is_fetched_with_body_and_charset(httpserver: HTTPServer):
    body = PAGE.encode("iso-8859-1")
    httpserver.expect_request("/page.html").respond_with_data(body, content_type="text/html; charset=ISO-8859-1")

    result = fetch_page(url(httpserver, "/page.html"), OPTIONS)

    assert result.ok and result.error_key is None
    assert result.http_status == 200
    assert result.body == body
    assert result.encoding == "ISO-8859-1"
    assert "Crème brûlée" in result.text
    assert result.final_url == url(httpserver, "/page.html")
    assert result.content_type == "text/html; charset=ISO-8859-1"


def test_quoted_charset_is_unquoted(httpserver: HTTPServer):
    httpserver.expect_request("/q.html").respond_with_data(
        PAGE.encode("utf-8"), headers={"Content-Type": 'text/html; charset="utf-8"'})
    result = fetch_page(url(httpserver, "/q.html"), OPTIONS)
    assert result.ok and result.encoding == "utf-8"


def test_user_agent_from_options_is_sent(httpserver: HTTPServer):
    httpserver.expect_request("/ua.html").respond_with_data(PAGE, content_type="text/html")

    assert fetch_page(url(httpserver, "/ua.html"), OPTIONS).ok

    request, _ = httpserver.log[-1]
    assert request.headers["User-Agent"] == UA
    assert "text/html" in request.headers["Accept"]


def test_conditional_headers_are_passed_through(httpserver: HTTPServer):
    httpserver.expect_request("/etag.xml", headers={"If-None-Match": '"v1"'}).respond_with_data("", status=304)
    result = fetch(url(httpserver, "/etag.xml"), OPTIONS, headers={"If-None-Match": '"v1"'})
    assert result.ok and result.http_status == 304 and result.body == b""


# -- HTTP errors ----------------------------------------------------------------------------------
def test_404_is_not_retryable(httpserver: HTTPServer):
    httpserver.expect_request("/gone.html").respond_with_data("no such page", status=404, content_type="text/html")

    result = fetch_page(url(httpserver, "/gone.html"), OPTIONS)

    assert not result.ok
    assert result.error_key == "fetch.http_404"
    assert result.http_status == 404
    assert result.retryable is False
    assert "404" in result.error


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_server_errors_and_rate_limits_are_retryable(httpserver: HTTPServer, status):
    httpserver.expect_request("/busy.html").respond_with_data("busy", status=status, content_type="text/html")

    result = fetch_page(url(httpserver, "/busy.html"), OPTIONS)

    assert not result.ok
    assert result.error_key == f"fetch.http_{status}"
    assert result.http_status == status
    assert result.retryable is True


@pytest.mark.parametrize("status", [400, 401, 403, 410, 451])
def test_other_client_errors_are_not_retryable(httpserver: HTTPServer, status):
    httpserver.expect_request("/no.html").respond_with_data("no", status=status, content_type="text/html")
    result = fetch_page(url(httpserver, "/no.html"), OPTIONS)
    assert result.error_key == f"fetch.http_{status}" and result.retryable is False


def test_429_keeps_retry_after(httpserver: HTTPServer):
    httpserver.expect_request("/limited.html").respond_with_data(
        "slow down", status=429, content_type="text/plain", headers={"Retry-After": "120"})

    result = fetch_page(url(httpserver, "/limited.html"), OPTIONS)

    # The server said when to come back: no retry within this run, the scheduler waits instead.
    assert result.error_key == "fetch.http_429" and not result.retryable
    assert {k.lower(): v for k, v in result.headers.items()}["retry-after"] == "120"


def test_429_without_retry_after_is_retried(httpserver: HTTPServer):
    httpserver.expect_request("/busy.html").respond_with_data("slow down", status=429, content_type="text/plain")

    result = fetch_page(url(httpserver, "/busy.html"), OPTIONS)

    assert result.error_key == "fetch.http_429" and result.retryable


# -- redirects ------------------------------------------------------------------------------------
def test_redirect_chain_of_every_kind_is_followed(httpserver: HTTPServer):
    httpserver.expect_request("/r301").respond_with_data("", status=301, headers={"Location": "/r302"})
    httpserver.expect_request("/r302").respond_with_data("", status=302, headers={"Location": "r307"})  # relative
    httpserver.expect_request("/r307").respond_with_data(
        "", status=307, headers={"Location": url(httpserver, "/r308")})  # absolute
    httpserver.expect_request("/r308").respond_with_data("", status=308, headers={"Location": "/final.html?x=1"})
    httpserver.expect_request("/final.html").respond_with_data(PAGE, content_type="text/html; charset=utf-8")

    result = fetch_page(url(httpserver, "/r301"), OPTIONS)

    assert result.ok, result.error
    assert result.url == url(httpserver, "/r301")
    assert result.final_url == url(httpserver, "/final.html?x=1")
    assert b"Cr\xc3\xa8me" in result.body
    assert [r.path for r, _ in httpserver.log if r.path != "/robots.txt"] == ["/r301", "/r302", "/r307", "/r308", "/final.html"]


def test_303_after_get_is_followed(httpserver: HTTPServer):
    httpserver.expect_request("/see-other").respond_with_data("", status=303, headers={"Location": "/final.html"})
    httpserver.expect_request("/final.html").respond_with_data(PAGE, content_type="text/html")
    result = fetch_page(url(httpserver, "/see-other"), OPTIONS)
    assert result.ok and result.final_url.endswith("/final.html")


def test_redirect_loop_stops_with_fetch_redirects(httpserver: HTTPServer):
    httpserver.expect_request("/loop").respond_with_data("", status=302, headers={"Location": "/loop"})

    result = fetch_page(url(httpserver, "/loop"), OPTIONS)

    assert not result.ok
    assert result.error_key == "fetch.redirects"
    assert result.retryable is False
    assert len([r for r, _ in httpserver.log if r.path != "/robots.txt"]) == OPTIONS.max_redirects + 1  # then it stopped asking


def test_too_many_redirects_stops_even_without_a_loop(httpserver: HTTPServer):
    for i in range(10):
        httpserver.expect_request(f"/hop{i}").respond_with_data("", status=301, headers={"Location": f"/hop{i + 1}"})
    options = FetchOptions(user_agent=UA, connect_timeout=1, read_timeout=0.5, max_redirects=2, allow_private=True)
    result = fetch_page(url(httpserver, "/hop0"), options)
    assert result.error_key == "fetch.redirects"
    assert len([r for r, _ in httpserver.log if r.path != "/robots.txt"]) == 3


@pytest.mark.parametrize("target", [
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "http://[::ffff:169.254.169.254]/latest/meta-data/",
    "http://[fe80::1]/",
    "http://0.0.0.0:8080/",
])
def test_redirect_to_metadata_or_link_local_is_refused_even_with_allow_private(httpserver: HTTPServer, target):
    # The guard runs on every hop, not just the first: allow_private lets the loopback start URL
    # through, yet the redirect target is refused before any connection to it is attempted
    # (a connection attempt would end as fetch.connect or fetch.timeout, not this key).
    assert_guard_refuses(target, allow_private=True)
    httpserver.expect_request("/innocent").respond_with_data("", status=302, headers={"Location": target})

    result = fetch_page(url(httpserver, "/innocent"), OPTIONS)

    assert not result.ok
    assert result.error_key == "fetch.blocked_address"
    assert result.final_url == target
    assert result.retryable is False


@pytest.mark.parametrize("target", ["file:///etc/passwd", "gopher://127.0.0.1:70/_x", "ftp://127.0.0.1/x"])
def test_redirect_to_another_scheme_is_refused(httpserver: HTTPServer, target):
    httpserver.expect_request("/scheme").respond_with_data("", status=301, headers={"Location": target})
    result = fetch_page(url(httpserver, "/scheme"), OPTIONS)
    assert result.error_key == "fetch.blocked_scheme"
    assert b"root:" not in result.body


def test_loopback_is_refused_without_allow_private_and_never_contacted(httpserver: HTTPServer):
    httpserver.expect_request("/page.html").respond_with_data(PAGE, content_type="text/html")
    strict = FetchOptions(user_agent=UA, connect_timeout=1, read_timeout=0.5, allow_private=False)

    result = fetch_page(url(httpserver, "/page.html"), strict)

    assert result.error_key == "fetch.blocked_address"
    assert httpserver.log == []  # refused before connecting


@pytest.mark.parametrize("target", [
    "http://169.254.169.254/latest/meta-data/", "http://[::ffff:127.0.0.1]/", "http://[::1]/", "file:///etc/passwd",
])
def test_start_urls_refused_by_the_guard_without_allow_private(target):
    strict = FetchOptions(user_agent=UA, connect_timeout=1, read_timeout=0.5, allow_private=False)
    assert_guard_refuses(target, allow_private=False)
    result = fetch(target, strict)
    assert result.error_key in {"fetch.blocked_address", "fetch.blocked_scheme"}
    assert result.http_status is None


# -- content types --------------------------------------------------------------------------------
@pytest.mark.parametrize("content_type, body", [
    ("application/pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"),
    ("image/png", PNG),
    ("audio/mpeg", b"ID3\x04\x00\x00\x00\x00\x00\x00\xff\xfb\x90\x00"),
])
def test_non_html_is_refused_by_fetch_page_but_accepted_by_plain_fetch(httpserver: HTTPServer, content_type, body):
    httpserver.expect_request("/file").respond_with_data(body, content_type=content_type)

    page = fetch_page(url(httpserver, "/file"), OPTIONS)
    anything = fetch(url(httpserver, "/file"), OPTIONS, accept=None)

    assert not page.ok and page.error_key == "fetch.not_html" and page.retryable is False
    assert page.http_status == 200
    assert anything.ok and anything.body == body and anything.content_type == content_type


def test_xhtml_counts_as_a_page(httpserver: HTTPServer):
    httpserver.expect_request("/x.xhtml").respond_with_data(PAGE, content_type="application/xhtml+xml; charset=utf-8")
    assert fetch_page(url(httpserver, "/x.xhtml"), OPTIONS).ok


def test_missing_content_type_with_html_body_is_sniffed_as_a_page(raw_site: RawSite):
    def untyped_html(req, stop):
        body = b"  \n<!DOCTYPE html><html><body><p>no header</p></body></html>"
        head(req, {"Content-Length": str(len(body))})
        raw_site.write(req, body)

    raw_site.routes["/untyped.html"] = untyped_html
    result = fetch_page(raw_site.url("/untyped.html"), OPTIONS)
    assert result.ok, result.error
    assert result.content_type is None
    assert b"no header" in result.body


def test_missing_content_type_with_binary_body_is_not_html(raw_site: RawSite):
    def untyped_png(req, stop):
        head(req, {"Content-Length": str(len(PNG))})
        raw_site.write(req, PNG)

    raw_site.routes["/untyped.png"] = untyped_png
    result = fetch_page(raw_site.url("/untyped.png"), OPTIONS)
    assert not result.ok and result.error_key == "fetch.not_html"
    assert fetch(raw_site.url("/untyped.png"), OPTIONS, accept=None).body == PNG


# -- size caps ------------------------------------------------------------------------------------
def test_declared_oversize_body_is_refused_without_reading_it(raw_site: RawSite):
    # Claims 50 MB, sends 1 KB, then stalls: reading on would end in fetch.timeout, not too_large.
    def declared_huge(req, stop):
        head(req, {"Content-Type": "text/html", "Content-Length": str(50_000_000)})
        raw_site.write(req, b"<html>" + b"x" * 1018)
        stop.wait(10)

    raw_site.routes["/declared-huge.html"] = declared_huge
    result = fetch_page(raw_site.url("/declared-huge.html"), OPTIONS)

    assert not result.ok
    assert result.error_key == "fetch.too_large"
    assert "50000000" in result.error
    assert result.body == b""


def test_undeclared_oversize_body_stops_at_the_cap(raw_site: RawSite):
    # No Content-Length; 1.5 MB arrive (cap is 1 MB), then the server stalls: only stopping at the
    # cap, rather than reading to the end, can give fetch.too_large here.
    def undeclared(req, stop):
        head(req, {"Content-Type": "text/html"})
        for _ in range(24):
            raw_site.write(req, b"a" * 65536)
        stop.wait(10)

    raw_site.routes["/undeclared.html"] = undeclared
    result = fetch_page(raw_site.url("/undeclared.html"), OPTIONS)
    assert result.error_key == "fetch.too_large"
    assert result.retryable is False


def test_chunked_oversize_body_stops_at_the_cap(raw_site: RawSite):
    def chunked(req, stop):
        req.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n")
        piece = b"b" * 32768
        for _ in range(48):  # 1.5 MB in chunks, then a stall before the terminating chunk
            raw_site.write(req, b"%x\r\n%s\r\n" % (len(piece), piece))
        stop.wait(10)

    raw_site.routes["/chunked.html"] = chunked
    result = fetch_page(raw_site.url("/chunked.html"), OPTIONS)
    assert result.error_key == "fetch.too_large"


def test_endless_body_ends_as_too_large(raw_site: RawSite):
    def endless(req, stop):
        head(req, {"Content-Type": "text/html"})
        block = b"<p>" + b"forever " * 8000 + b"</p>"
        while not stop.is_set():
            raw_site.write(req, block)

    raw_site.routes["/endless.html"] = endless
    result = fetch_page(raw_site.url("/endless.html"), OPTIONS)
    assert result.error_key == "fetch.too_large"


def test_body_just_under_the_cap_is_accepted(httpserver: HTTPServer):
    body = b"<html>" + b"y" * (10_000 - 6)
    httpserver.expect_request("/fits.html").respond_with_data(body, content_type="text/html")
    small = FetchOptions(user_agent=UA, connect_timeout=1, read_timeout=0.5, max_bytes=10_000, allow_private=True)
    result = fetch_page(url(httpserver, "/fits.html"), small)
    assert result.ok and result.body == body


def test_gzip_bomb_is_too_large_and_memory_stays_small(raw_site: RawSite, gzip_bomb: bytes):
    def bomb(req, stop):
        head(req, {"Content-Type": "text/html", "Content-Encoding": "gzip", "Content-Length": str(len(gzip_bomb))})
        raw_site.write(req, gzip_bomb)

    def warm(req, stop):
        head(req, {"Content-Type": "text/html", "Content-Length": "6"})
        raw_site.write(req, b"<html>")

    raw_site.routes["/bomb.html"] = bomb
    raw_site.routes["/warm.html"] = warm
    assert len(gzip_bomb) < 150_000
    assert fetch_page(raw_site.url("/warm.html"), OPTIONS).ok  # build the pooled client outside the measurement

    tracemalloc.start()
    try:
        result = fetch_page(raw_site.url("/bomb.html"), OPTIONS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert result.error_key == "fetch.too_large"
    # The cap is 1 MB and the bomb inflates to 100 MB; inflating even one 64 KB network read whole
    # would take ~64 MB. A small multiple of the cap is what bounded inflation costs.
    assert peak < 8_000_000, f"peak {peak / 1e6:.1f} MB"


# -- content encodings (we inflate them ourselves, so they must round-trip) -----------------------
LONG_PAGE = ("<!doctype html><html><body>" + "".join(
    f"<p>Paragraph {i}: the harbour market reopened with {i * 3} stalls.</p>" for i in range(8000)
) + "</body></html>").encode()


@pytest.mark.parametrize("encoding, pack", [
    ("gzip", gzip.compress),
    ("x-gzip", gzip.compress),
    ("deflate", zlib.compress),  # RFC 9110 deflate: zlib-wrapped
    ("deflate", lambda data: zlib.compress(data, wbits=-zlib.MAX_WBITS)),  # raw deflate, as some servers send
    ("identity", lambda data: data),
])
def test_compressed_bodies_are_inflated(httpserver: HTTPServer, encoding, pack):
    assert len(LONG_PAGE) > 2 * 65536  # several inflate steps
    httpserver.expect_request("/z.html").respond_with_data(
        pack(LONG_PAGE), content_type="text/html", headers={"Content-Encoding": encoding})

    result = fetch_page(url(httpserver, "/z.html"), OPTIONS)

    assert result.ok, result.error
    assert result.body == LONG_PAGE


def test_corrupt_gzip_is_a_decoding_error(httpserver: HTTPServer):
    httpserver.expect_request("/bad.html").respond_with_data(
        b"\x1f\x8b\x08\x00 this is not gzip at all", content_type="text/html", headers={"Content-Encoding": "gzip"})
    result = fetch_page(url(httpserver, "/bad.html"), OPTIONS)
    assert not result.ok and result.error_key == "fetch.decoding"


def test_unrequested_content_encoding_is_refused(httpserver: HTTPServer):
    # We only ask for gzip and deflate; passing brotli bytes on as if they were HTML helps nobody.
    httpserver.expect_request("/br.html").respond_with_data(
        b"\x1b\x03\x00\xf8\xa5@\x02", content_type="text/html", headers={"Content-Encoding": "br"})
    result = fetch_page(url(httpserver, "/br.html"), OPTIONS)
    assert not result.ok and result.error_key == "fetch.decoding"


def test_gzip_page_over_the_cap_is_too_large(httpserver: HTTPServer):
    httpserver.expect_request("/big.html").respond_with_data(
        gzip.compress(LONG_PAGE), content_type="text/html", headers={"Content-Encoding": "gzip"})
    small = FetchOptions(user_agent=UA, connect_timeout=1, read_timeout=0.5, max_bytes=100_000, allow_private=True)
    assert fetch_page(url(httpserver, "/big.html"), small).error_key == "fetch.too_large"


# -- timeouts and connection failures ---------------------------------------------------------------
def test_slow_headers_beyond_read_timeout_are_a_retryable_timeout(raw_site: RawSite):
    def slow(req, stop):
        if stop.wait(3):  # far beyond the 0.5 s read timeout
            return
        head(req, {"Content-Type": "text/html", "Content-Length": "6"})
        raw_site.write(req, b"<html>")

    raw_site.routes["/slow.html"] = slow
    result = fetch_page(raw_site.url("/slow.html"), OPTIONS)
    assert not result.ok
    assert result.error_key == "fetch.timeout"
    assert result.retryable is True


def test_body_stalling_mid_way_is_a_timeout(raw_site: RawSite):
    def stall(req, stop):
        head(req, {"Content-Type": "text/html", "Content-Length": "10000"})
        raw_site.write(req, b"<html><body>half")
        stop.wait(10)

    raw_site.routes["/stall.html"] = stall
    result = fetch_page(raw_site.url("/stall.html"), OPTIONS)
    assert result.error_key == "fetch.timeout" and result.retryable


def test_dripping_body_past_the_deadline_is_a_timeout(raw_site: RawSite):
    # One byte every 0.1 s never trips the 0.5 s read timeout; the 2 s whole-response deadline must.
    # The drip would last 50 s if nothing cut it short.
    def drip(req, stop):
        head(req, {"Content-Type": "text/html", "Content-Length": "500"})
        raw_site.write(req, b"<")
        for _ in range(499):
            if stop.wait(0.1):
                return
            raw_site.write(req, b"p")

    raw_site.routes["/drip.html"] = drip
    result = fetch_page(raw_site.url("/drip.html"), OPTIONS)

    assert not result.ok
    assert result.error_key == "fetch.timeout"
    assert result.retryable is True
    assert raw_site.sent["/drip.html"] < 500  # it gave up before the server finished


def test_connection_refused_is_retryable():
    result = fetch_page(f"http://127.0.0.1:{closed_port()}/page.html", OPTIONS)
    assert not result.ok
    assert result.error_key == "fetch.connect"
    assert result.retryable is True
    assert result.http_status is None


def test_server_hanging_up_without_a_response_is_retryable(raw_site: RawSite):
    def hang_up(req, stop):
        req.close_connection = True
        req.connection.shutdown(socket.SHUT_RDWR)

    raw_site.routes["/hangup.html"] = hang_up
    result = fetch_page(raw_site.url("/hangup.html"), OPTIONS)
    assert result.error_key == "fetch.connect" and result.retryable


def test_garbage_instead_of_http_is_a_connect_error(raw_site: RawSite):
    def garbage(req, stop):
        req.wfile.write(b"SSH-2.0-OpenSSH_9.6\r\n")
        req.close_connection = True

    raw_site.routes["/garbage"] = garbage
    result = fetch(raw_site.url("/garbage"), OPTIONS)
    assert result.error_key == "fetch.connect" and not result.ok


# -- the guard on the connection itself: DNS scripted, connections recorded ------------------------
STRICT = FetchOptions(user_agent=UA, connect_timeout=1, read_timeout=0.5, allow_private=False)


class Network:
    """``socket.getaddrinfo`` and ``socket.create_connection`` replaced for one test.

    Names in ``answers`` get their scripted answers in turn (the last one repeats); any other name
    fails as a literal would, so no test here ever asks real DNS. Connections are recorded and go
    through only to 127.0.0.1: any other address is refused without a packet being sent.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.answers: dict[str, list[list[str]]] = {}
        self.lookups: list[str] = []
        self.connects: list[tuple[str, int]] = []
        real_getaddrinfo, real_connect = socket.getaddrinfo, socket.create_connection

        def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
            script = self.answers.get(host)
            if script is None or flags & socket.AI_NUMERICHOST:  # a numeric-only lookup never asks DNS
                return real_getaddrinfo(host, port, family, type, proto, flags | socket.AI_NUMERICHOST)
            self.lookups.append(host)
            addresses = script.pop(0) if len(script) > 1 else script[0]
            return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (a, port, 0, 0)) if ":" in a
                    else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]

        def create_connection(address, *args, **kwargs):
            self.connects.append(tuple(address[:2]))
            if address[0] != "127.0.0.1":
                raise ConnectionRefusedError(f"test network: {address[0]} is off limits")
            return real_connect(address, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
        monkeypatch.setattr(socket, "create_connection", create_connection)


@pytest.fixture
def network(monkeypatch):
    http_client.cache_clear()  # no pooled connection from an earlier test answers for a name here
    yield Network(monkeypatch)
    http_client.cache_clear()


def host_header(server: HTTPServer, path: str) -> str:
    return next(request.headers["Host"] for request, _ in server.log if request.path == path)


def test_rebinding_dns_cannot_move_the_connection_after_the_check(httpserver: HTTPServer, network: Network):
    # The old guard looked the name up, then httpx looked it up again to connect: a DNS server
    # answering 127.0.0.1 and then the metadata address got the request sent to the second.
    httpserver.expect_request("/page.html").respond_with_data(PAGE, content_type="text/html")
    network.answers["rebind.test"] = [["127.0.0.1"], ["169.254.169.254"]]
    page = f"http://rebind.test:{httpserver.port}/page.html"

    result = fetch(page, OPTIONS)

    assert result.ok, result.error
    assert network.lookups == ["rebind.test"]  # one lookup, checked and connected to
    assert network.connects == [("127.0.0.1", httpserver.port)]
    assert host_header(httpserver, "/page.html") == f"rebind.test:{httpserver.port}"  # the name, not the address

    http_client.cache_clear()  # a new connection means a new lookup, and it is checked in turn
    again = fetch(page, OPTIONS)
    assert again.error_key == "fetch.blocked_address" and "169.254.169.254" in again.error
    assert network.lookups == ["rebind.test", "rebind.test"]
    assert network.connects == [("127.0.0.1", httpserver.port)]


def test_rebinding_from_a_public_address_to_loopback_never_reaches_loopback(network: Network):
    network.answers["rebind.test"] = [["93.184.216.34"], ["127.0.0.1"]]

    result = fetch("http://rebind.test/admin", STRICT)

    # The checked public address was the one dialled (and the test network refused it).
    assert result.error_key == "fetch.connect"
    assert network.connects == [("93.184.216.34", 80)]
    assert network.lookups == ["rebind.test"]


def test_every_address_of_a_name_is_checked_before_any_is_dialled(network: Network):
    network.answers["mixed.test"] = [["93.184.216.34", "2002:a9fe:a9fe::"]]
    result = fetch("http://mixed.test/", STRICT)
    assert result.error_key == "fetch.blocked_address"
    assert network.connects == []


def test_addresses_are_tried_in_the_resolvers_order(httpserver: HTTPServer, network: Network):
    # 198.51.100.7 would be refused by the guard; with allow_private it is only unreachable here.
    httpserver.expect_request("/two.html").respond_with_data(PAGE, content_type="text/html")
    network.answers["two.test"] = [["198.51.100.7", "127.0.0.1"]]
    result = fetch(f"http://two.test:{httpserver.port}/two.html", OPTIONS)
    assert result.ok, result.error
    assert network.connects == [("198.51.100.7", httpserver.port), ("127.0.0.1", httpserver.port)]


def test_every_redirect_hop_connects_through_the_guard(httpserver: HTTPServer, network: Network):
    port = httpserver.port
    network.answers.update({"hop.test": [["127.0.0.1"]], "inner.test": [["169.254.169.254"]]})
    httpserver.expect_request("/start").respond_with_data(
        "", status=302, headers={"Location": f"http://hop.test:{port}/final.html"})
    httpserver.expect_request("/final.html").respond_with_data(PAGE, content_type="text/html")
    httpserver.expect_request("/inward").respond_with_data(
        "", status=302, headers={"Location": f"http://inner.test:{port}/latest/meta-data/"})

    followed = fetch(f"http://127.0.0.1:{port}/start", OPTIONS)
    refused = fetch(f"http://127.0.0.1:{port}/inward", OPTIONS)

    assert followed.ok and followed.final_url == f"http://hop.test:{port}/final.html"
    assert host_header(httpserver, "/final.html") == f"hop.test:{port}"
    assert refused.error_key == "fetch.blocked_address"
    assert network.lookups == ["hop.test", "inner.test"]
    assert set(network.connects) == {("127.0.0.1", port)}


def test_international_name_is_looked_up_and_sent_in_its_idna_2008_form(httpserver: HTTPServer, network: Network):
    # Python's own idna codec (IDNA 2003) would have looked up strasse.test: a different host.
    httpserver.expect_request("/idna.html").respond_with_data(PAGE, content_type="text/html")
    network.answers["xn--strae-oqa.test"] = [["127.0.0.1"]]

    result = fetch(f"http://straße.test:{httpserver.port}/idna.html", OPTIONS)

    assert result.ok, result.error
    assert network.lookups == ["xn--strae-oqa.test"]
    assert host_header(httpserver, "/idna.html") == f"xn--strae-oqa.test:{httpserver.port}"


@pytest.mark.parametrize("target", ["http://☃-⌘.test/", "http://xn--a.test/", "http://ＥＸＡＭＰＬＥ.test/"])
def test_name_that_is_not_idna_2008_is_refused_before_any_lookup(network: Network, target):
    result = fetch(target, OPTIONS)
    assert result.error_key == "fetch.idna" and not result.retryable
    assert network.lookups == [] and network.connects == []


@pytest.mark.parametrize("target", [
    "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
    "http://[64:ff9b::7f00:1]/",  # NAT64 of 127.0.0.1
    "http://[fec0::1]/",  # site-local
    "http://[::7f00:1]/",  # IPv4-compatible 127.0.0.1
    "http://2130706433/",  # 127.0.0.1 as one number
    "http://0x7f.1/",
    "http://127.1/",
    "http://embedded.test/",  # a name answering 6to4 of 127.0.0.1
    "http://sitelocal.test/",
])
def test_embedded_and_oddly_spelled_loopback_is_refused_before_connecting(network: Network, target):
    network.answers.update({"embedded.test": [["2002:7f00:1::"]], "sitelocal.test": [["fec0::1"]]})
    result = fetch(target, STRICT)
    assert result.error_key == "fetch.blocked_address"
    assert network.connects == []


@pytest.mark.parametrize("target", [
    "http://[2002:a9fe:a9fe::]/latest/meta-data/",
    "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/",
    "http://2852039166/latest/meta-data/",  # 169.254.169.254 as one number
    "http://metadata.test/latest/meta-data/",
])
def test_embedded_metadata_address_is_refused_before_connecting_even_with_allow_private(network: Network, target):
    network.answers["metadata.test"] = [["64:ff9b::a9fe:a9fe"]]
    result = fetch(target, OPTIONS)
    assert result.error_key == "fetch.blocked_address"
    assert network.connects == []


@pytest.mark.parametrize("target", ["http://127.0.0.1:99999999/", "http://[::1/"])
def test_unusable_port_or_host_is_a_bad_url_not_a_crash(network: Network, target):
    result = fetch(target, OPTIONS)
    assert result.error_key == "fetch.bad_url" and not result.retryable
    assert network.connects == []


HOSTS = (st.ip_addresses().map(lambda ip: f"[{ip}]" if ip.version == 6 else str(ip))
         | st.integers(0, 2**32 - 1).map(str)  # 127.0.0.1 as 2130706433 and the like
         | st.sampled_from(["localhost", "straße.test", "xn--a.test", "☃.test", "[::1", "a b", ""])
         | st.text(max_size=20))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scheme=st.sampled_from(["http", "https", "HTTP", "ftp", "", "javascript"]), host=HOSTS,
       port=st.none() | st.integers(-5, 10**9).map(str) | st.text(max_size=6), path=st.text(max_size=12))
def test_no_url_makes_fetch_raise_or_dial_a_refused_address(network: Network, scheme, host, port, path):
    target = f"{scheme}://{host}" + (f":{port}" if port is not None else "") + "/" + path
    result = fetch(target, STRICT)  # names are never looked up here: only literal addresses resolve
    assert not result.ok and result.error_key
    assert all(refusal(address, allow_private=False) is None for address, _ in network.connects), network.connects


def test_refused_connections_do_not_use_up_the_pool(httpserver: HTTPServer, network: Network):
    httpserver.expect_request("/after.html").respond_with_data(PAGE, content_type="text/html")
    network.answers["inner.test"] = [["169.254.169.254"]]
    for _ in range(80):  # more than the pool's 64 connections
        assert fetch("http://inner.test/", OPTIONS).error_key == "fetch.blocked_address"
    assert fetch(url(httpserver, "/after.html"), OPTIONS).ok


# -- TLS: the connection goes to the pinned address, SNI and certificate checks use the name ------
@pytest.fixture(scope="module")
def tls_site(tmp_path_factory):
    """An HTTPS server on 127.0.0.1 with a certificate for ``pinned.test`` only, from a throwaway CA."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def certificate(subject, issuer, key, signing_key, *, ca):
        now = datetime.datetime.now(datetime.UTC)
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(hours=1))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if not ca:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName("pinned.test")]), critical=False)
        return builder.sign(signing_key, hashes.SHA256())

    def name(common):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    ca_key, site_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = certificate(name("enrich test CA"), name("enrich test CA"), ca_key, ca_key, ca=True)
    leaf = certificate(name("pinned.test"), name("enrich test CA"), site_key, ca_key, ca=False)
    pem = serialization.Encoding.PEM

    folder = tmp_path_factory.mktemp("tls")
    (folder / "site.pem").write_bytes(leaf.public_bytes(pem))
    (folder / "site.key").write_bytes(
        site_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(folder / "site.pem", folder / "site.key")
    server_names: list[str | None] = []
    server_context.sni_callback = lambda _sock, server_name, _ctx: server_names.append(server_name)

    site = RawSite()
    site.server.socket = server_context.wrap_socket(site.server.socket, server_side=True)
    site.routes["/tls.html"] = lambda req, stop: (
        head(req, {"Content-Type": "text/html", "Content-Length": str(len(PAGE.encode()))}),
        site.write(req, PAGE.encode()))
    thread = threading.Thread(target=site.server.serve_forever, daemon=True)
    thread.start()
    yield site.server.server_address[1], ssl.create_default_context(cadata=ca.public_bytes(pem).decode()), server_names
    site.server.shutdown()
    site.server.server_close()


def test_https_to_a_name_goes_to_the_pinned_address_with_sni_and_verification_intact(tls_site, network: Network):
    port, trusted, server_names = tls_site
    network.answers.update({"pinned.test": [["127.0.0.1"]], "other.test": [["127.0.0.1"]]})
    with httpx.Client(transport=guarded_transport(True, verify=trusted)) as client:
        response = client.get(f"https://pinned.test:{port}/tls.html")
        assert response.status_code == 200 and "Crème brûlée" in response.text
        assert server_names == ["pinned.test"]  # SNI carries the name, not the address dialled
        assert network.connects == [("127.0.0.1", port)]

        # Same address, another name: the certificate is checked against the name, so it fails.
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            client.get(f"https://other.test:{port}/tls.html")
