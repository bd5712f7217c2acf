"""Cost of related-article ranking as the store grows: add 100 articles to 1,000 / 10,000 / 50,000.

What a run does, and what is timed:

- load: build ``RelatedIndex`` from the stored rows (vectors as the store keeps them) and their
  stored related lists, as the flow would after reading the window from DuckDB;
- vectors: ``article_vector`` for the 100 new articles (tokenise, stem, hash);
- add: ``RelatedIndex.add`` of the 100 new articles, which scores new x pool (never all pairs)
  and merges the new articles into the existing lists they enter.

The store's own lists are backfilled per story cluster (see ``stored_lists``); an all-pairs
rebuild (``all_pairs_rebuild``) is timed up to 10,000 articles to show what the incremental path avoids. Every stored article is inside the 30-day
window, the worst case: nothing is filtered out by date.

Synthetic text: 400 story clusters with 120 words of their own, over a 20,000-word general
vocabulary drawn with Zipf frequencies; an article is 300 words, 35 % from its cluster.

Run: .venv/bin/python bench/related.py [--sizes 1000,10000,50000]

``--quality`` measures what the lists mean instead, on the 181 real pages of the
article-extraction benchmark (../shared) and hand-made groups of pages about the same thing
(bench/labels/related_stories.json): for each minimum score, the share of links that join two
pages of one group (precision), the share of such pairs found (recall), and how many lists the
most-linked page sits in (a page "related to everything"). Each page's text is what
``extract_article`` gives, with and without the boilerplate peel (enrich/boilerplate.py). The
minimum score is chosen on the tuned pages (the card labels' split: sha256(id) % 3 != 0) and
reported on the held-back third apart.
"""

from __future__ import annotations

import argparse
import sys
import time
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from _report import print_table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from enrich.related import (
    HASH_BITS,
    RelatedIndex,
    RelatedRow,
    SparseVector,
    article_vector,
)

NEW_ARTICLES = 100
VOCABULARY = 20_000
CLUSTERS = 400
CLUSTER_WORDS = 120
ARTICLE_WORDS = 300
CLUSTER_SHARE = 0.35
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)

_SYLLABLES = ["ka", "lo", "mi", "ren", "tu", "sa", "vor", "el", "qui", "dan", "po", "ris", "nu", "bel", "ga", "tor"]


def make_words(rng: np.random.Generator, count: int) -> list[str]:
    """Pronounceable made-up words, unique, so the real tokeniser and stemmer process them."""
    words: set[str] = set()
    while len(words) < count:
        n = rng.integers(2, 5)
        words.add("".join(_SYLLABLES[i] for i in rng.integers(0, len(_SYLLABLES), n)))
    return sorted(words)


class Corpus:
    def __init__(self, seed: int = 7) -> None:
        rng = np.random.default_rng(seed)
        self.rng = rng
        words = make_words(rng, VOCABULARY + CLUSTERS * CLUSTER_WORDS)
        rng.shuffle(words)
        self.general = words[:VOCABULARY]
        self.cluster_words = [
            words[VOCABULARY + c * CLUSTER_WORDS : VOCABULARY + (c + 1) * CLUSTER_WORDS] for c in range(CLUSTERS)
        ]
        ranks = np.arange(1, VOCABULARY + 1)
        self.zipf = (1.0 / ranks) / (1.0 / ranks).sum()
        mask = (1 << HASH_BITS) - 1
        # Bucket of every word as article_vector would hash it (these words have no stem change
        # that matters for timing; the vectors of stored rows are built directly from ids).
        self.general_buckets = np.array([zlib.crc32(w.encode()) & mask for w in self.general], dtype=np.int32)
        self.cluster_buckets = [
            np.array([zlib.crc32(w.encode()) & mask for w in ws], dtype=np.int32) for ws in self.cluster_words
        ]

    def _draw(self, cluster: int) -> tuple[np.ndarray, np.ndarray]:
        own = self.rng.binomial(ARTICLE_WORDS, CLUSTER_SHARE)
        general = self.rng.choice(VOCABULARY, size=ARTICLE_WORDS - own, p=self.zipf)
        specific = self.rng.integers(0, CLUSTER_WORDS, size=own)
        return general, specific

    def stored_vector(self, cluster: int) -> SparseVector:
        general, specific = self._draw(cluster)
        buckets = np.concatenate([self.general_buckets[general], self.cluster_buckets[cluster][specific]])
        indices, counts = np.unique(buckets, return_counts=True)
        values = 1.0 + np.log(counts)
        return SparseVector(indices, values / np.linalg.norm(values))

    def text(self, cluster: int) -> str:
        general, specific = self._draw(cluster)
        words = [self.general[i] for i in general] + [self.cluster_words[cluster][i] for i in specific]
        self.rng.shuffle(words)
        return " ".join(words)


def build_store(corpus: Corpus, size: int) -> tuple[list[RelatedRow], list[int]]:
    rng = np.random.default_rng(size)
    rows, clusters = [], []
    for i in range(size):
        published = NOW - timedelta(days=float(rng.uniform(0.5, 29.0)))
        rows.append(RelatedRow(f"https://example.org/a/{i}", "en", published, corpus.stored_vector(i % CLUSTERS)))
        clusters.append(i % CLUSTERS)
    return rows, clusters


def stored_lists(rows: list[RelatedRow], clusters: list[int]) -> dict[str, list[tuple[str, float]]]:
    """The store's related lists, backfilled cluster by cluster.

    An all-pairs backfill of 50,000 articles takes minutes (see the rebuild column), so the set-up
    ranks each article among its own story cluster, where its true top 5 lie. The IDF is then the
    cluster's, which lowers stored scores and makes ``add`` update more lists than it would in a
    real store: a pessimistic set-up for the timing.
    """
    by_cluster: dict[int, list[RelatedRow]] = {}
    for row, cluster in zip(rows, clusters):
        by_cluster.setdefault(cluster, []).append(row)
    lists: dict[str, list[tuple[str, float]]] = {}
    for members in by_cluster.values():
        lists.update(RelatedIndex().add(members))
    return lists


ALL_PAIRS_MAX = 10_000  # above this the quadratic rebuild is not run (it would take minutes)
REBUILD_CHUNK = 256  # rows scored at once: 256 x 10,000 float32 scores stay at 10 MB


def all_pairs_rebuild(index: RelatedIndex, chunk: int = REBUILD_CHUNK) -> dict[str, list[tuple[str, float]]]:
    """Every list of ``index`` recomputed from scratch over all pairs, ``chunk`` rows at a time: the
    backfill the incremental path avoids. (It was ``RelatedIndex.rebuild``; only this bench ran it.
    Adding a small pool to an empty index gives the same lists in one block.)"""
    weighted = index._weighted_matrix()
    positions = [p for p, alive in enumerate(index._alive) if alive]
    lists: dict[str, list[tuple[str, float]]] = {}
    for start in range(0, len(positions), chunk):
        part = positions[start : start + chunk]
        for row_scores, pos in zip(index._scores(weighted, part), part):
            ranked = index._rank(pos, row_scores)
            index._set_list(index._urls[pos], ranked)
            lists[index._urls[pos]] = ranked
    return lists


def bench(size: int, corpus: Corpus) -> dict[str, float]:
    rows, clusters = build_store(corpus, size)
    rebuild_s = float("nan")
    if size <= ALL_PAIRS_MAX:
        started = time.perf_counter()
        all_pairs_rebuild(RelatedIndex(rows))
        rebuild_s = time.perf_counter() - started
    lists = stored_lists(rows, clusters)

    started = time.perf_counter()
    index = RelatedIndex(rows, related=lists)
    load_s = time.perf_counter() - started

    texts = [(f"https://example.org/new/{i}", corpus.text(i % CLUSTERS)) for i in range(NEW_ARTICLES)]
    started = time.perf_counter()
    new_rows = [RelatedRow(url, "en", NOW, article_vector(text, None, "en")) for url, text in texts]
    vectors_s = time.perf_counter() - started

    started = time.perf_counter()
    changed = index.add(new_rows)
    add_s = time.perf_counter() - started
    found = sum(1 for row in new_rows if changed.get(row.url))
    return {
        "size": size,
        "rebuild_s": rebuild_s,
        "load_s": load_s,
        "vectors_s": vectors_s,
        "add_s": add_s,
        "updated_existing": len(changed) - NEW_ARTICLES,
        "new_with_related": found,
    }


# -- what the lists mean: same-story pages of the extraction benchmark --------------------------

STORIES = ROOT / "bench" / "labels" / "related_stories.json"
MIN_SCORES = (0.05, 0.08, 0.10, 0.12, 0.15, 0.18, 0.20, 0.22, 0.25, 0.30)


def _benchmark_rows(peel: bool) -> list[RelatedRow]:
    import hashlib  # noqa: F401  (the split below)
    from unittest import mock

    from _scoring import extraction_pages

    import enrich.extract
    from enrich.extract import extract_article
    from enrich.pipeline import choose_language

    rows = []
    # Without the peel: extract_article as it was before enrich/boilerplate.py (its clean-up kept).
    patch = mock.patch.object(enrich.extract, "peel_boilerplate", lambda text: text) if not peel else None
    with patch or _nothing():
        for key, (html, _) in extraction_pages().items():
            page = extract_article(html)
            language = choose_language(page.text, (page.html_lang,), 0.70, title=page.title).code
            rows.append(RelatedRow(key, language, NOW, article_vector(page.text, page.title, language)))
    return rows


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def _held_back(key: str) -> bool:
    import hashlib

    return int(hashlib.sha256(key.encode()).hexdigest(), 16) % 3 == 0


def quality() -> int:
    import json

    from enrich.related import RelatedOptions

    groups = json.loads(STORIES.read_text(encoding="utf-8"))["stories"]
    story = {short: name for name, members in groups.items() for short in members}
    for peel in (False, True):
        rows = _benchmark_rows(peel)
        print(f"\n{'with' if peel else 'without'} the boilerplate peel: {len(rows)} pages, "
              f"{len(story)} of them in {len(groups)} same-story groups\n")
        table: list[tuple[str, ...]] = []
        for min_score in MIN_SCORES:
            table.append((f"min score {min_score:.2f}",))
            lists = RelatedIndex(options=RelatedOptions(min_score=min_score)).add(rows)
            inbound: dict[str, int] = {}
            for ranked in lists.values():
                for url, _ in ranked:
                    inbound[url] = inbound.get(url, 0) + 1
            for part, keep in (("tuned", False), ("held back", True)):
                mine = {k: v for k, v in lists.items() if _held_back(k) == keep}
                links = [(k, u) for k, ranked in mine.items() for u, _ in ranked]
                good = sum(1 for k, u in links if story.get(k[:8]) is not None and story.get(k[:8]) == story.get(u[:8]))
                wanted = sum(len(groups[story[k[:8]]]) - 1 for k in mine if k[:8] in story)
                precision = good / len(links) if links else 1.0
                recall = good / wanted if wanted else 0.0
                f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
                hub = max(inbound.values(), default=0)
                table.append((part, f"{len(links)}", f"{precision:.1%}", f"{recall:.1%}", f"{f1:.3f}", f"{hub}"))
        print_table(("min score / pages", "links", "precision", "recall", "F1", "most-linked page: lists"), table)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--quality", action="store_true", help="what the lists mean, on real pages (../shared)")
    args = parser.parse_args()
    if args.quality:
        sys.path.insert(0, str(ROOT / "bench"))
        return quality()
    sizes = [int(s) for s in args.sizes.split(",")]
    corpus = Corpus()
    article_vector(corpus.text(0), None, "en")  # warm the stemmer cache and imports
    results = [bench(size, corpus) for size in sizes]

    print(f"Adding {NEW_ARTICLES} articles to a store of N (all within the 30-day window, top-5 lists)\n")
    table = []
    base = None
    for r in results:
        total = r["load_s"] + r["vectors_s"] + r["add_s"]
        base = base or total
        table.append((f"{r['size']:,}", f"{r['load_s']:.2f}s", f"{r['vectors_s']:.2f}s", f"{r['add_s']:.2f}s",
                      f"{total:.2f}s", f"{total / base:.1f}x", f"{r['new_with_related']}", f"{r['updated_existing']:,}",
                      f"{r['rebuild_s']:.1f}s" if r["rebuild_s"] == r["rebuild_s"] else "not run"))
    print_table(("store N", "load index", "vectors", "add (new x pool)", "run total", "growth", "new with related",
                 "lists updated", "all-pairs rebuild"), table)
    print("\ngrowth: run total relative to the smallest store; 'lists updated' = existing articles whose")
    print("top-5 changed because of the new ones; the all-pairs rebuild is the backfill the incremental path avoids.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
