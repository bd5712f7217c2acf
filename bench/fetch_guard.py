"""CPU cost of the SSRF guard per request: the pinned transport against the two-lookup way it replaced.

Issue 13 item 8: the guard used to resolve a name (``check_url``), then httpx resolved it again to
connect, so a rebinding DNS server could send the connection elsewhere. Now the transport's network
backend (``enrich.netguard.GuardedBackend``) resolves once per new connection, checks, and connects
to the checked address. This measures what that costs in CPU, in this process only:

- ``pinned``: what ``enrich.fetch.fetch`` does per hop now: ``screen_url`` (no DNS), then a GET on
  the client of ``enrich.fetch.http_client`` (guarded transport).
- ``two lookups``: what it did before, rebuilt: ``check_url`` (the guard's lookup), then a GET on a
  stock ``httpx.Client`` whose transport looks the name up again when it connects.

Both read the body with ``iter_raw`` as ``fetch`` does, so the difference is the guard and the
transport. Each mode runs ``--requests`` GETs of a 2 KB page against ``http://localhost:PORT/``
(localhost is resolved through /etc/hosts by getaddrinfo, no DNS traffic), twice: over one
keep-alive connection, and with the server closing every connection (a lookup and a connect per
request). The server is a child process (this file with ``--serve``), so its work is not counted.
CPU time is ``time.process_time`` around the loop, after ``--warmup`` untimed requests; the modes
alternate over ``--rounds`` rounds and the median per round is reported (wall clock is not: the
machine is shared). Traffic goes to 127.0.0.1 only.

    uv run python bench/fetch_guard.py                      # 2,000 requests x 5 rounds per case
    uv run python bench/fetch_guard.py --requests 300 --rounds 3
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import threading
import time

import httpx
from _report import print_table

from enrich.fetch import FetchOptions, http_client
from enrich.netguard import check_url, screen_url
from enrich.sites import LoopbackSite, ok

PAGE = b"<!doctype html><html><body>" + b"<p>guarded</p>" * 140 + b"</body></html>"


def serve() -> None:
    """Child process: the page on ``/page`` over keep-alive, and on ``/close`` closing every connection."""
    routes = {"/page": ok(PAGE, "text/html"), "/close": ok(PAGE, "text/html", Connection="close")}
    with LoopbackSite(routes, keep_alive=True) as site:
        print(site.base.rsplit(":", 1)[1], flush=True)
        threading.Event().wait()  # until the parent terminates this process


def pinned(client: httpx.Client, url: str) -> None:
    target = screen_url(url, allow_private=True)
    with client.stream("GET", target) as response:
        for _ in response.iter_raw():
            pass


def two_lookups(client: httpx.Client, url: str) -> None:
    check_url(url, allow_private=True)
    with client.stream("GET", url) as response:
        for _ in response.iter_raw():
            pass


def cpu_per_request(way, client: httpx.Client, url: str, requests: int) -> float:
    started = time.process_time()
    for _ in range(requests):
        way(client, url)
    return (time.process_time() - started) / requests


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return 0

    server = subprocess.Popen([sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline())
        options = FetchOptions(user_agent="enrich-bench/1.0", allow_private=True)
        clients = {"pinned": http_client(options),
                   "two lookups": httpx.Client(headers={"User-Agent": "enrich-bench/1.0"}, trust_env=False)}
        ways = {"pinned": pinned, "two lookups": two_lookups}
        print(f"{args.requests} GETs x {args.rounds} rounds per case, CPU microseconds per request (median round)")
        rows = []
        for case, path in (("keep-alive", "/page"), ("new connection each", "/close")):
            url = f"http://localhost:{port}{path}"
            samples: dict[str, list[float]] = {name: [] for name in ways}
            for name, way in ways.items():
                cpu_per_request(way, clients[name], url, args.warmup)
            for _ in range(args.rounds):
                for name, way in ways.items():
                    samples[name].append(cpu_per_request(way, clients[name], url, args.requests))
            new, old = (statistics.median(samples[name]) * 1e6 for name in ("pinned", "two lookups"))
            rows.append((case, f"{new:.0f}", f"{old:.0f}", f"{new - old:+.0f}"))
        print_table(("case", "pinned", "two lookups", "difference"), rows)
    finally:
        server.terminate()
        server.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
