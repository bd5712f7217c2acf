"""Print the evidence a labeller reads for each page: the facts bench/labels/card_labels.jsonl records.

Per page: URL, <title>, og/twitter/meta tags, JSON-LD headline/author/dates/@type, visible bylines
(rel=author, /author/ links, elements classed byline/author, "By X" lines), <time> elements and the
first lines of the benchmark's hand-written body. It prints evidence only, never a verdict: the
labels were judged from it by a person (see README.md here).

Run: .venv/bin/python bench/labels/evidence.py [--demo] [ID_PREFIX ...] > evidence.txt
"""

from __future__ import annotations

import gzip
import json
import re
import sys
from pathlib import Path

import lxml.html

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT.parent / "shared" / "corpora" / "article-extraction-benchmark"
DEMO = ROOT / "data" / "demo" / "site"

_META = re.compile(
    r"title|author|creator|date|time|published|modified|section|og:type|site_name|byl|parsely|sailthru|dc\.",
    re.IGNORECASE,
)
_BYLINE_CLASS = (
    "//*[contains(translate(@class,'BYLINEAUTHOR','bylineauthor'),'byline') or "
    "contains(translate(@class,'BYLINEAUTHOR','bylineauthor'),'author') or @rel='author' or "
    "contains(@href,'/author/') or contains(@href,'/authors/') or contains(@href,'/profile/') or @itemprop='author']"
)
_TEXT_DATE = re.compile(
    r"\b(?:20[0-2]\d|199\d)[-./年] ?\d{1,2}[-./月] ?\d{1,2}|\b\d{1,2}[./]\d{1,2}[./](?:20[0-2]\d|199\d)\b|"
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d{1,2},? (?:20[0-2]\d|199\d)|"
    r"\b\d{1,2}\.? (?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|m[äa]r|okt|dez|gen|mag|giu|lug|ago|set|ott|dic)[a-z]*\.? (?:20[0-2]\d|199\d)",
    re.IGNORECASE,
)
_BY_LINE = re.compile(r"^\s*(?:by|von|por|par|di|door)\s+\S", re.IGNORECASE)


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + "…"


def _json_ld(tree) -> list[str]:
    out = []
    for script in tree.xpath("//script[@type='application/ld+json']/text()"):
        try:
            data = json.loads(script)
        except ValueError:
            out.append("(unparsable JSON-LD)")
            continue
        stack = [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                stack.extend(item.get("@graph", []) if isinstance(item.get("@graph"), list) else [])
                keys = (
                    "@type",
                    "headline",
                    "name",
                    "author",
                    "creator",
                    "datePublished",
                    "dateCreated",
                    "dateModified",
                    "articleSection",
                )
                picked = {k: item[k] for k in keys if k in item}
                if picked and (
                    "headline" in picked or "author" in picked or "datePublished" in picked
                ):
                    out.append(_short(json.dumps(picked, ensure_ascii=False), 400))
    return out


def evidence(page_id: str, url: str, html: str, body: str | None) -> str:
    lines = [f"=== {page_id}", f"url: {url}"]
    try:
        tree = lxml.html.fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return "\n".join(lines + ["(unparsable)"])
    lines.append("title: " + _short(" ".join(tree.xpath("//title//text()")), 200))
    for meta in tree.xpath("//meta"):
        key = meta.get("property") or meta.get("name") or meta.get("itemprop") or ""
        if key and _META.search(key) and meta.get("content"):
            lines.append(f"meta {key}: {_short(meta.get('content'), 140)}")
    lines += ["ld: " + item for item in _json_ld(tree)]
    seen = set()
    for element in tree.xpath(_BYLINE_CLASS)[:12]:
        text = _short(element.text_content(), 100)
        if text and text not in seen and len(text) < 100:
            seen.add(text)
            lines.append(
                f"byline-ish <{element.tag} {element.get('class') or element.get('href') or ''}>: {text}"
            )
    for element in tree.xpath("//time")[:3]:
        lines.append(f"time: {element.get('datetime')} {_short(element.text_content(), 60)}")
    for text in tree.xpath("//body//text()"):
        if _BY_LINE.match(text) and len(text) < 80:
            lines.append("by-line: " + _short(text, 80))
    visible = " ".join(
        t for t in tree.xpath("//body//text()[not(ancestor::script) and not(ancestor::style)]")
    )
    dates = list(dict.fromkeys(m.group(0) for m in _TEXT_DATE.finditer(visible)))[:4]
    if dates:
        lines.append("text-dates: " + " | ".join(dates))
    for h1 in tree.xpath("//h1")[:2]:
        lines.append("h1: " + _short(h1.text_content(), 160))
    if body:
        lines += ["body: " + _short(line, 200) for line in body.splitlines() if line.strip()][:3]
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    if "--demo" in argv:
        for path in sorted(DEMO.glob("*/*.html")):
            print(
                evidence(
                    f"demo/{path.parent.name}/{path.stem}",
                    str(path.relative_to(DEMO)),
                    path.read_text(),
                    None,
                )
            )
        return
    truth = json.loads((BENCH / "ground-truth.json").read_text())
    for page_id, item in sorted(truth.items()):
        if argv and not any(page_id.startswith(prefix) for prefix in argv):
            continue
        html = gzip.decompress((BENCH / "html" / f"{page_id}.html.gz").read_bytes()).decode(
            "utf-8", "replace"
        )
        print(evidence(page_id[:12], item["url"], html, item.get("articleBody")))


if __name__ == "__main__":
    main(sys.argv[1:])
