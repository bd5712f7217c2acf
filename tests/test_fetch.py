"""fetch / fetch_page against real servers on 127.0.0.1: status codes, redirects, types, caps, timeouts.

Well-behaved responses come from pytest-httpserver; misbehaviour it cannot stage (drips, stalls,
endless bodies, hang-ups) comes from ``RawSite``, a threaded http.server whose routes write to the
socket themselves. Refusals by the guard never connect: their targets are not loopback.
"""

from __future__ import annotations

import gzip
import socket
import threading
import tracemalloc
import zlib
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pytest_httpserver import HTTPServer

from enrich.fetch import FetchOptions, fetch, fetch_page
from enrich.netguard import BlockedURL, check_url

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
            def do_GET(self):  # noqa: N802 - http.server's naming
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
