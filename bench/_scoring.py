"""Scoring helpers shared by the bench scripts: corpus paths and the extraction benchmark's metric.

The extraction metric follows scrapinghub/article-extraction-benchmark's evaluate.py, so our figures
compare with its published table: tokens are ``\\w+`` runs (case kept), a text is a multiset of
4-token shingles, each page's tp/fp/fn (multiset overlaps) are normalised to sum 1, precision and
recall are averaged over the pages where they are defined, and F1 comes from the two averages.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import statistics
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SHARED = ROOT.parent / "shared" / "corpora"
EXTRACTION = SHARED / "article-extraction-benchmark"
LANGID = SHARED / "langid" / "sentences"
BBC = SHARED / "bbc-news-summary" / "bbc60.jsonl"


# The smoke tests (tests/test_bench_smoke.py) run each bench on the first BENCH_LIMIT items of
# each corpus, to show it still runs end to end; unset, every item is used.
LIMIT = int(os.environ.get("BENCH_LIMIT") or 0) or None


def limited(items: list) -> list:
    return items[:LIMIT] if LIMIT else items


def require(path: Path) -> Path:
    """``path``, or exit with a clear message: the benches need ../shared/corpora."""
    if not path.exists():
        sys.exit(f"{path} is missing: the benchmarks need ../shared/corpora next to the project")
    return path


# -- extraction ------------------------------------------------------------------------------

_TOKEN = re.compile(r"\w+")
SHINGLE = 4


def shingles(text: str, n: int = SHINGLE) -> Counter:
    """Multiset of n-token shingles; a text shorter than n tokens is one (short) shingle."""
    tokens = _TOKEN.findall(text or "")
    grams = (tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)))
    return Counter(g for g in grams if g)


def page_tp_fp_fn(truth: str, prediction: str) -> tuple[float, float, float]:
    """Multiset overlaps of the two shingle bags, normalised to sum 1 (all zero if both are empty)."""
    want, got = shingles(truth), shingles(prediction)
    tp = sum((want & got).values())
    fp = sum((got - want).values())
    fn = sum((want - got).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def _precision(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fp == 0 else tp / (tp + fp)


def _recall(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fn == 0 else tp / (tp + fn)


@dataclass(frozen=True)
class PRF:
    precision: float
    recall: float
    f1: float


def prf(pages: Sequence[tuple[float, float, float]]) -> PRF:
    """The benchmark's averages: P and R over the pages where each is defined, F1 from the two."""
    precision = statistics.mean(_precision(*p) for p in pages if p[0] + p[1] > 0)
    recall = statistics.mean(_recall(*p) for p in pages if p[0] + p[2] > 0)
    return PRF(precision, recall, 2 * precision * recall / (precision + recall))


def extraction_pages() -> dict[str, tuple[bytes, str]]:
    """``{id: (html bytes, ground-truth article body)}`` of the benchmark, in id order."""
    truth = json.loads(require(EXTRACTION / "ground-truth.json").read_text(encoding="utf-8"))
    return {
        key: (gzip.decompress((EXTRACTION / "html" / f"{key}.html.gz").read_bytes()), truth[key]["articleBody"])
        for key in limited(sorted(truth))
    }


def published_output(name: str) -> tuple[str, dict[str, str]]:
    """(version, ``{id: articleBody}``) of one of the benchmark's published outputs."""
    data = json.loads(require(EXTRACTION / "output" / f"{name}.json").read_text(encoding="utf-8"))
    output = data.get("output", data)
    return data.get("version", "?"), {key: value.get("articleBody", "") for key, value in output.items()}


def bbc_records() -> list[dict]:
    """The BBC60 articles with their reference summaries, one dict per article."""
    return limited([json.loads(line) for line in require(BBC).read_text(encoding="utf-8").splitlines()])


def mean(values) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0
