"""What bounded parsing costs and drops on real feeds: ``parse_feed`` over ../shared/corpora/feeds.

For every feed of the corpus (real feeds, some malformed on purpose) it prints the entries feedparser
itself yields, the entries ``parse_feed`` keeps, the problems it records by reason key, and the CPU
time (``time.process_time``) of ``parse_feed`` against plain ``feedparser.parse`` on the same bytes,
so the cost of sanitizing and of the bounded parsers is the difference. A healthy real feed should
keep every entry and record nothing; anything else is printed for a look.

    uv run python bench/wild_input.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

import feedparser
from _report import print_table
from _scoring import limited

from enrich.feeds import parse_feed

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "feeds"


def cpu(fn, repeat: int) -> float:
    start = time.process_time()
    for _ in range(repeat):
        fn()
    return (time.process_time() - start) / repeat


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="parses per feed for the CPU figures")
    args = parser.parse_args()
    if not CORPUS.exists():
        print(f"{CORPUS} is not available")
        return 1
    manifest = {Path(m["file"]).name: m["feed_url"] for m in json.loads((CORPUS / "MANIFEST.json").read_text())}
    totals = Counter()
    reasons = Counter()
    plain_cpu = ours_cpu = 0.0
    rows: list[tuple[str, ...]] = []
    for path in limited(sorted(CORPUS.glob("*.xml"))):
        body = path.read_bytes()
        url = manifest.get(path.name, f"https://feeds.example/{path.name}")
        raw = feedparser.parse(body, response_headers={"content-location": url})
        poll = parse_feed(body, url)
        plain_cpu += cpu(lambda b=body, u=url: feedparser.parse(b, response_headers={"content-location": u}),
                         args.repeat)
        ours_cpu += cpu(lambda b=body, u=url: parse_feed(b, u), args.repeat)
        totals.update(raw=len(raw.entries), kept=len(poll.entries), feeds=1)
        reasons.update(p.reason for p in poll.problems)
        flag = "" if len(poll.entries) == len(raw.entries) and not poll.problems else "<-"
        rows.append((path.name[:48], f"{len(raw.entries)}", f"{len(poll.entries)}", f"{len(poll.problems)}", flag))
        rows.extend((f"  {problem.reason}: {problem.message[:100]}", "", "", "", "") for problem in poll.problems[:3])
    print_table(("feed", "raw", "kept", "problems", ""), rows, words=("",))
    print(f"\n{totals['feeds']} feeds: feedparser yields {totals['raw']} entries, parse_feed keeps {totals['kept']}")
    print("problems by reason:", dict(reasons) or "none")
    print(f"CPU per pass over the corpus: feedparser.parse {plain_cpu * 1000:.1f} ms, "
          f"parse_feed {ours_cpu * 1000:.1f} ms (x{ours_cpu / plain_cpu:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
