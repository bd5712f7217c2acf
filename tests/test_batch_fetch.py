"""fetch_pages: a batch of pages fetched concurrently, in order, politely, transient failures retried."""

from __future__ import annotations

import threading
import time

from enrich.fetch import FetchOptions, fetch_pages
from enrich.sites import LoopbackSite, ok, status

PAGE = "<html><body><p>{}</p></body></html>"


def options(**kw) -> FetchOptions:
    return FetchOptions(user_agent="enrich-test", allow_private=True, respect_robots=False,
                        connect_timeout=2, read_timeout=2, **kw)


def test_results_come_back_in_the_order_asked_whatever_finishes_first():
    def slower_first(i):
        def route(_req):
            time.sleep(0.05 * (5 - i))  # the first page is the slowest to answer
            return 200, {"Content-Type": "text/html"}, PAGE.format(i).encode()
        return route

    with LoopbackSite({f"/{i}": slower_first(i) for i in range(5)}) as site:
        results = fetch_pages([site.url(f"/{i}") for i in range(5)], options(per_host=5))
    assert [r.body.decode() for r in results] == [PAGE.format(i) for i in range(5)]


def test_transient_failures_are_retried_and_permanent_ones_are_not():
    with LoopbackSite({"/down": status(503), "/gone": status(404), "/fine": ok(PAGE.format("x"))}) as site:
        urls = [site.url(p) for p in ("/down", "/gone", "/fine")]
        down, gone, fine = fetch_pages(urls, options(), retries=2, retry_delay=0.01)
    assert (down.ok, down.error_key, site.hits["/down"]) == (False, "fetch.http_503", 3)
    assert (gone.ok, gone.error_key, site.hits["/gone"]) == (False, "fetch.http_404", 1)
    assert fine.ok and site.hits["/fine"] == 1


def test_a_server_that_says_when_to_come_back_is_not_retried_in_the_run():
    with LoopbackSite({"/busy": lambda _req: (429, {"Retry-After": "120"}, b"")}) as site:
        [busy] = fetch_pages([site.url("/busy")], options(), retries=2, retry_delay=0.01)
    assert busy.error_key == "fetch.http_429" and site.hits["/busy"] == 1


class InFlight:
    """A route that counts requests in flight, overall and at peak.

    The first requests wait until ``expected`` of them are in flight at once (or ``GIVE_UP``
    seconds pass), so reaching the limit does not depend on how fast a loaded machine schedules
    threads; each then stays in flight a moment longer, so a request over the limit would overlap.
    """

    GIVE_UP = 10.0

    def __init__(self, expected: int) -> None:
        self.expected, self.now, self.peak, self.lock = expected, 0, 0, threading.Lock()
        self.reached = threading.Event()

    def __call__(self, _req):
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
            if self.now >= self.expected:
                self.reached.set()
        self.reached.wait(self.GIVE_UP)
        time.sleep(0.05)
        with self.lock:
            self.now -= 1
        return 200, {"Content-Type": "text/html"}, PAGE.format("slow").encode()


def test_callers_at_once_share_the_concurrency_limit():
    # Two batches fetched at the same moment (two tasks of one run) stay within one limit.
    counter = InFlight(expected=3)
    with LoopbackSite({f"/{i}": counter for i in range(12)}) as site:
        urls = [site.url(f"/{i}") for i in range(12)]
        opts = options(per_host=10, concurrency=3)
        threads = [threading.Thread(target=fetch_pages, args=(urls[k::2], opts)) for k in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert counter.peak == 3


def test_per_host_limit_holds_within_a_batch():
    counter = InFlight(expected=2)
    with LoopbackSite({f"/{i}": counter for i in range(8)}) as site:
        results = fetch_pages([site.url(f"/{i}") for i in range(8)], options(per_host=2, concurrency=8))
    assert all(r.ok for r in results) and counter.peak == 2
