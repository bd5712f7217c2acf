"""Kind of article against hand labels: accuracy and Opinion recall, tuned and held-back pages apart.

Labels: bench/labels/card_labels.jsonl (the 181 pages of the article-extraction benchmark in
../shared and the 16 demo pages; see bench/labels/README.md). A third of the pages is held back:
no rule of enrich/kind.py was tuned on them; they are reported apart.

Each page goes through what the pipeline does: ``extract_article`` with the page's URL (its text
and page signals), the pipeline's language choice, and ``classify_kind`` with the labelled title as
the feed's title and no feed tags (the benchmark has no feed). Rows:

- ours: page signals (schema.org type, section, kicker, URL path), then title and text rules;
- without page signals: the same cascade given only title and text, to show what the markup adds.

Run: .venv/bin/python bench/kind.py [--labels PATH] [--misses]
"""

from __future__ import annotations

import argparse
import gzip
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from _report import print_table
from _scoring import EXTRACTION, ROOT, limited, require

from enrich.extract import extract_article
from enrich.kind import KINDS, KindDecision, classify_kind
from enrich.pipeline import choose_language

LABELS = ROOT / "bench" / "labels" / "card_labels.jsonl"
DEMO_SITE = ROOT / "data" / "demo" / "site"
DEMO_BASE = "http://127.0.0.1:8765"  # the demo server's fixed address
LANGUAGE_MIN_CONFIDENCE = 0.70  # the pipeline's default (EnrichOptions.language_min_confidence)
GOAL_ACCURACY, GOAL_OPINION_RECALL = 0.80, 0.80  # issue 12


@dataclass(frozen=True, slots=True)
class Judged:
    id: str
    url: str
    label: str
    held_back: bool
    ours: KindDecision
    text_only: KindDecision


def judge(row: dict) -> Judged:
    if row["source"] == "demo":
        from enrich.demo import PLACEHOLDER

        url = f"{DEMO_BASE}/{row['url']}"
        html = (DEMO_SITE / row["url"]).read_bytes().replace(PLACEHOLDER, DEMO_BASE.encode())
    else:
        url = row["url"]
        html = gzip.decompress((require(EXTRACTION) / "html" / f"{row['id']}.html.gz").read_bytes())
    page = extract_article(html, url)
    language = choose_language(page.text, (page.html_lang,), LANGUAGE_MIN_CONFIDENCE, title=row["title"]).code
    ours = classify_kind(page.text, title=row["title"], language=language, signals=page.signals)
    text_only = classify_kind(page.text, title=row["title"], language=language)
    return Judged(row["id"], row["url"], row["kind"], row["held_back"], ours, text_only)


def scores(judged: list[Judged], pick) -> tuple[int, float, float, int]:
    """(pages, accuracy, Opinion recall, opinion pages) of one system's decisions."""
    hits = [pick(j).kind == j.label for j in judged]
    opinions = [pick(j).kind == "Opinion" for j in judged if j.label == "Opinion"]
    recall = sum(opinions) / len(opinions) if opinions else float("nan")
    return len(judged), sum(hits) / len(hits) if hits else float("nan"), recall, len(opinions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--misses", action="store_true",
                        help="list the tuned pages whose kind is wrong (held-back pages are only counted)")
    args = parser.parse_args()
    rows = limited([json.loads(line) for line in require(args.labels).read_text(encoding="utf-8").splitlines() if line])
    judged = [judge(row) for row in rows]

    print(f"Kind against {len(judged)} hand-labelled pages ({args.labels.name})\n")
    table: list[tuple[str, ...]] = []
    for part, keep in (("tuned", lambda j: not j.held_back), ("held back", lambda j: j.held_back), ("all", None)):
        subset = [j for j in judged if keep is None or keep(j)]
        table.append((f"{part} pages",))
        for name, pick in (("ours", lambda j: j.ours), ("without page signals", lambda j: j.text_only)):
            n, accuracy, recall, opinions = scores(subset, pick)
            table.append((name, f"{n}", f"{accuracy:.1%}", f"{recall:.1%} of {opinions}"))
    print_table(("pages / system", "n", "accuracy", "Opinion recall"), table)

    print(f"\ngoal: accuracy >= {GOAL_ACCURACY:.0%} with Opinion recall >= {GOAL_OPINION_RECALL:.0%}")
    print()
    confusion = Counter((j.label, j.ours.kind) for j in judged)
    print_table(("label \\ ours", *KINDS), [(label, *(f"{confusion[(label, k)]}" for k in KINDS)) for label in KINDS],
                title="confusion, all pages (rows: label, columns: ours)")
    rules = Counter(j.ours.rule.split(".")[0] for j in judged)
    print("\ndecided by: " + ", ".join(f"{rule} {count}" for rule, count in rules.most_common()))
    if args.misses:
        # Held-back misses stay unprinted: reading them is how a rule gets tuned on them.
        print("\nmisses on the tuned pages:")
        for j in judged:
            if j.ours.kind != j.label and not j.held_back:
                print(f"   {j.id[:12]} {j.ours.kind:<12} ({j.ours.rule}) != {j.label:<12} {j.url[:70]}")


if __name__ == "__main__":
    main()
