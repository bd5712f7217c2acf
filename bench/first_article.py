"""What a worker pays for a language: its first article in it against its second, in every langid language.

A worker is forked from a fork server that has run ``enrich.warmup`` (English), so whatever a
language needs on first use (its spaCy sentence pipeline, its stemmer, its stop words) is built in
the worker, once per worker and per run, on its first page in that language. This bench runs,
per language, a fresh interpreter that imports ``enrich.warmup`` as the fork server does and then
enriches two pages made of that language's sentences from ../shared/corpora/langid (30 each, three
a paragraph, different sentences), timing each ``enrich_entry`` in CPU seconds. "one-time" is the
first minus the second: what meeting the language costs a worker (English's the warm-up has
already paid, so its first and second cost the same).

Before stop 15 the outliers were French (2.3 s: spaCy's French module compiles a 1.45-million-
character pattern on import), Polish (2.4 s: pystempel building its trie) and every Greek article
(0.2 s: sumy's Greek stemmer tries 49 part-of-speech tags a word); ``SLOW_FIRST`` flags any
language whose one-time cost is back over half a second.

Run: uv run python bench/first_article.py
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from _report import print_table
from _scoring import limited, require

ROOT = Path(__file__).resolve().parents[1]
LANGID = ROOT.parent / "shared" / "corpora" / "langid" / "sentences"
SENTENCES_PER_PAGE = 30
SLOW_FIRST = 0.5  # seconds of one-time cost a language may take in a worker

CHILD = r"""
import html, json, sys, time
from datetime import UTC, datetime
from pathlib import Path

import enrich.warmup  # noqa: F401 - what the fork server has loaded before it forks a worker
from enrich.models import EnrichOptions, FeedEntry, FetchResult
from enrich.pipeline import enrich_entry

language, per_page = sys.argv[1], int(sys.argv[2])
lines = [line for line in Path(sys.argv[3]).read_text(encoding="utf-8").splitlines() if line.strip()]
now, options, figures = datetime.now(UTC), EnrichOptions(), []
for number in range(2):
    chunk = lines[number * per_page : (number + 1) * per_page]
    title = html.escape(chunk[0][:60])
    paragraphs = "".join(f"<p>{html.escape(' '.join(chunk[i:i + 3]))}</p>" for i in range(0, len(chunk), 3))
    page = (f"<html lang='{language}'><head><title>{title}</title></head>"
            f"<body><article><h1>{title}</h1>{paragraphs}</article></body></html>")
    url = f"https://bench.example/{language}/{number}"
    entry = FeedEntry(feed_url="https://bench.example/feed", entry_id=url, url=url, link=url, title=chunk[0][:60],
                      author=None, published_at=now, updated_at=None, tags=(), summary_html=chunk[1],
                      content_html=None, content_hash=str(number))
    fetched = FetchResult(url=url, final_url=url, ok=True, http_status=200, content_type="text/html",
                          body=page.encode(), encoding="utf-8")
    started = time.process_time()
    article = enrich_entry(entry, fetched, options, now=now)
    figures.append(time.process_time() - started)
print(json.dumps({"first": figures[0], "second": figures[1], "language": article.language,
                  "summary": len(article.summary), "quotes": len(article.key_quotes)}))
"""


def measure(language: str) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, language, str(SENTENCES_PER_PAGE), str(LANGID / f"{language}.txt")],
                          cwd=ROOT, capture_output=True, text=True, check=True, timeout=300)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    require(LANGID)
    languages = ["en", *(code for code in limited(sorted(p.stem for p in LANGID.glob("*.txt") if p.stem != "en")))]
    figures = {language: measure(language) for language in languages}
    rows, slow = [], []
    for language, f in sorted(figures.items(), key=lambda item: item[1]["second"] - item[1]["first"]):
        once = f["first"] - f["second"]
        if once > SLOW_FIRST:
            slow.append(language)
        rows.append((language, f"{1000 * f['first']:.0f}", f"{1000 * f['second']:.0f}", f"{1000 * once:.0f}",
                     f"{f['first'] / f['second']:.1f}", f["language"], str(f["summary"]), str(f["quotes"])))
    print_table(("language", "first article, ms CPU", "second, ms", "one-time, ms", "first / second", "detected",
                 "summary sentences", "quotes"), rows)
    print(f"languages costing a worker over {SLOW_FIRST} s on their first article: {', '.join(slow) or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
