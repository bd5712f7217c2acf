"""Key quotes on real articles: what the picks are made of, next to a naive baseline.

There is no human reference for pull quotes, so this bench checks the properties issue 4 asks
for and the make-up of the picks, on the 60 BBC articles (../shared/corpora/bbc-news-summary)
and the 16 demo articles (data/demo): ours (enrich.quotes.pick_quotes, after the summary, as the
pipeline calls it) against the first four sentences that are not in the summary.

- hard properties (must be 100%): verbatim, disjoint from the summary, no near-duplicates,
  at most 5, none below the score floor;
- make-up: direct quotations, with a named speaker, with a figure, and the weak kinds the score
  penalises (questions, dangling openers, fragments).

Then old vs new side by side (issue 12: 0-5 real quotes) on the 181 pages of the article-extraction
benchmark, text by enrich.extract.extract_article: the quote stage before issue 12 (git commit
BEFORE_ISSUE_12, with its own splitter and summarizer, loaded by bench/_baseline.py) against
today's. Per version: quotes per article, articles with none, the share of quotes holding a
quotation mark or naming their speaker, and the picks today's ``rejection`` would refuse (meta
lines, calls to action, unbalanced fragments); for the new version, how many candidate sentences
were rejected for each reason.

With ``--stages`` it prints instead what the text stages cost: CPU ms an article of each stage
enrich.pipeline.enrich_entry runs after extraction and language detection, called as it calls
them, on the article-extraction benchmark's 181 pages and the 16 demo pages (thread CPU time,
best of 3 passes after a warm-up pass that fills the caches a long run has warm).

Run: .venv/bin/python bench/quotes.py [--compare | --stages]
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable

from _baseline import BEFORE_ISSUE_12, modules_at
from _report import print_table
from _scoring import ROOT, bbc_records, extraction_pages, mean

from enrich.dedup import text_fingerprint
from enrich.extract import extract_article
from enrich.kind import classify_kind
from enrich.pipeline import choose_language
from enrich.quotes import (
    DANGLING_STARTS,
    MAX_WORDS,
    MIN_SCORE,
    MIN_WORDS,
    NEAR_DUPLICATE,
    QUOTE_MARKS,
    REJECTIONS,
    Quote,
    _jaccard,
    attribute_speaker,
    pick_quotes,
    rejection,
)
from enrich.readingtime import estimate_reading_time
from enrich.related import article_vector
from enrich.sentences import split_sentences
from enrich.summarize import summarize
from enrich.text import word_count, words_of
from enrich.topics import classify_topics, topic_model

QUOTED = re.compile(r"[\"“„«「][^\"“”„«»「」]{12,}[\"”“»」]")
TERMINAL = re.compile(r"[.!?。！？…][\"'”’»›」』)\]]*$")


def articles() -> list[tuple[str, list[str], str]]:
    """(text, sentences, language) of the BBC and demo articles."""
    out = []
    for record in bbc_records():
        text = " ".join(record["article_sentences"])
        out.append((text, split_sentences(text, "en"), "en"))
    languages = {"northwind": "en", "cuaderno": "es", "stadtleben": "de", "kissa": "ja"}
    for page in sorted((ROOT / "data" / "demo" / "site").rglob("*.html")):
        text = extract_article(page.read_bytes().replace(b"{{DEMO_BASE}}", b"http://127.0.0.1:1")).text
        language = languages[page.parent.name]
        out.append((text, split_sentences(text, language), language))
    return out


def baseline(sentences: list[str], summary: tuple[str, ...], count: int = 4) -> tuple[Quote, ...]:
    """The first ``count`` sentences of pull-quote length that are not in the summary."""
    picked = [s for s in dict.fromkeys(sentences) if s not in summary and MIN_WORDS <= word_count(s) <= MAX_WORDS]
    # Speakers by the same rules, so the column compares what is picked, not who looks.
    return tuple(Quote(s, 0.0, attribute_speaker(s) if QUOTED.search(s) else None) for s in picked[:count])


def make_up(quotes: list[Quote]) -> dict[str, float]:
    first_words = [next(iter(words_of(q.text.lower())), "") for q in quotes]
    return {
        "direct quotation": mean(bool(QUOTED.search(q.text)) for q in quotes),
        "named speaker": mean(q.speaker is not None for q in quotes),
        "has a figure": mean(any(c.isdigit() for c in q.text) for q in quotes),
        "question": mean(q.text.rstrip("\"'”’»」 ").endswith(("?", "？")) for q in quotes),
        "dangling opener": mean(w in DANGLING_STARTS for w in first_words),
        "fragment": mean(not TERMINAL.search(q.text) for q in quotes),
    }


def main() -> None:
    corpus = articles()
    ours_all: list[Quote] = []
    base_all: list[Quote] = []
    checks = {"verbatim": [], "disjoint from summary": [], "no near-duplicates": [], "at most 5": [],
              f"none scoring below {MIN_SCORE}": []}
    start = time.perf_counter()
    elapsed = 0.0
    for text, sentences, language in corpus:
        summary = summarize(sentences, language)
        t0 = time.perf_counter()
        quotes = pick_quotes(sentences, language, exclude=summary)
        elapsed += time.perf_counter() - t0
        ours_all.extend(quotes)
        base_all.extend(baseline(sentences, summary))
        texts = [q.text for q in quotes]
        checks["verbatim"].append(all(t in text for t in texts))
        checks["disjoint from summary"].append(not set(texts) & set(summary))
        checks["no near-duplicates"].append(all(
            _jaccard(set(words_of(a.lower())), set(words_of(b.lower()))) <= NEAR_DUPLICATE
            for i, a in enumerate(texts) for b in texts[i + 1:]
        ))
        checks["at most 5"].append(len(quotes) <= 5)
        checks[f"none scoring below {MIN_SCORE}"].append(all(q.score >= MIN_SCORE for q in quotes))
    total = time.perf_counter() - start
    print(f"Key quotes on {len(corpus)} articles (60 BBC, 16 demo): {len(ours_all)} picked, "
          f"{elapsed / len(corpus) * 1000:.1f} ms/article for pick_quotes ({total:.1f} s in all)\n")
    print_table(("property", "share of articles"), [(name, f"{mean(values):.1%}") for name, values in checks.items()])
    print(f"\nquotes per article: {len(ours_all) / len(corpus):.2f}")
    ours, base = make_up(ours_all), make_up(base_all)
    print()
    print_table(("picks that are...", "pick_quotes", "first 4 non-summary sentences"),
                [(name, f"{ours[name]:.1%}", f"{base[name]:.1%}") for name in ours])


STAGE_NAMES = (
    "word_count", "estimate_reading_time", "split_sentences", "summarize", "pick_quotes",
    "classify_topics", "classify_kind", "article_vector", "text_fingerprint",
)


def stage_texts() -> list[tuple[str, str | None, str]]:
    """(text, title, language) of the benchmark and demo pages, as the pipeline would see them."""
    pages = [(html, f"https://bench.test/{key}") for key, (html, _) in extraction_pages().items()]
    pages += [
        (page.read_bytes().replace(b"{{DEMO_BASE}}", b"http://127.0.0.1:1"), "http://127.0.0.1:1/")
        for page in sorted((ROOT / "data" / "demo" / "site").rglob("*.html"))
    ]
    out = []
    for html, url in pages:
        page = extract_article(html, url)
        if page is not None and page.text:
            language = choose_language(page.text, (page.html_lang, None), 0.70, title=page.title).code
            out.append((page.text, page.title, language))
    return out


def run_stages(text: str, title: str | None, language: str, clock: dict[str, float]) -> None:
    """The text stages of enrich_entry in its order and with its defaults, each timed into ``clock``."""

    def timed(name: str, stage: Callable[[], object]) -> object:
        started = time.thread_time()
        result = stage()
        clock[name] += time.thread_time() - started
        return result

    timed("word_count", lambda: word_count(text))
    timed("estimate_reading_time", lambda: estimate_reading_time(text, language))
    sentences = timed("split_sentences", lambda: split_sentences(text, language))
    summary = timed("summarize", lambda: summarize(sentences, language, max_sentences=3, title=title))
    timed("pick_quotes", lambda: pick_quotes(sentences, language, exclude=summary, count=4))
    timed("classify_topics", lambda: classify_topics(text, title=title, language=language))
    timed("classify_kind", lambda: classify_kind(text, title=title, language=language))
    timed("article_vector", lambda: article_vector(text, title, language).to_bytes())
    timed("text_fingerprint", lambda: text_fingerprint(text))


def stages(passes: int = 3) -> None:
    texts = stage_texts()
    topic_model()  # trained once per process, not per article
    best: dict[str, float] = {}
    for attempt in range(passes + 1):
        clock = dict.fromkeys(STAGE_NAMES, 0.0)
        for text, title, language in texts:
            run_stages(text, title, language, clock)
        if attempt:  # the first pass warms the caches
            best = {name: min(best.get(name, clock[name]), clock[name]) for name in STAGE_NAMES}
    print(f"Text stages after extraction and language detection, {len(texts)} pages "
          f"(181 benchmark, 16 demo): CPU ms an article, best of {passes}\n")
    print_table(("stage", "ms/article"), [
        *((name, f"{best[name] / len(texts) * 1000:.2f}") for name in STAGE_NAMES),
        None,
        ("all", f"{sum(best.values()) / len(texts) * 1000:.2f}"),
    ])


# -- issue 12: old vs new on the benchmark pages --------------------------------------------------

def benchmark_texts() -> list[tuple[str, str | None, str]]:
    """(text, title, language) of the article-extraction benchmark's pages, as the pipeline sees them."""
    out = []
    for key, (html, _) in extraction_pages().items():
        page = extract_article(html, f"https://bench.test/{key}")
        if page is not None and page.text:
            language = choose_language(page.text, (page.html_lang, None), 0.70, title=page.title).code
            out.append((page.text, page.title, language))
    return out


def compare() -> None:
    old = modules_at(BEFORE_ISSUE_12, "enrich.sentences", "enrich.summarize", "enrich.quotes")
    versions = {
        f"old ({BEFORE_ISSUE_12})": (old["enrich.sentences"].split_sentences, old["enrich.summarize"].summarize,
                                     old["enrich.quotes"].pick_quotes),
        "new": (split_sentences, summarize, pick_quotes),
    }
    pages = benchmark_texts()
    rows: dict[str, dict[str, str]] = {}
    refused_candidates = dict.fromkeys(REJECTIONS, 0)
    for name, (split, summarise, pick) in versions.items():
        quotes_per_page = []
        for text, title, language in pages:
            sentences = split(text, language)
            summary = summarise(sentences, language, title=title)
            quotes_per_page.append(pick(sentences, language, exclude=summary, count=4))
            if name == "new":
                for sentence in dict.fromkeys(sentences):
                    if MIN_WORDS <= word_count(sentence) <= MAX_WORDS and (reason := rejection(sentence)):
                        refused_candidates[reason] += 1
        picked = [q for quotes in quotes_per_page for q in quotes]
        reasons = [rejection(q.text) for q in picked]
        rows[name] = {
            "quotes": f"{len(picked)}",
            "mean quotes per article": f"{len(picked) / len(pages):.2f}",
            "articles with 0 quotes": f"{mean(not quotes for quotes in quotes_per_page):.1%}",
            "quotes holding a quotation mark": f"{mean(any(c in QUOTE_MARKS for c in q.text) for q in picked):.1%}",
            "quotes naming their speaker": f"{mean(q.speaker is not None for q in picked):.1%}",
            **{f"picks that are {reason.replace('_', ' ')}": f"{reasons.count(reason)}" for reason in REJECTIONS},
        }
    names = list(rows)
    print(f"\nKey quotes on the {len(pages)} benchmark pages, count 4 (the default): old vs new\n")
    print_table(("", *names), [(key, *(rows[n][key] for n in names)) for key in rows[names[0]]])
    print("\ncandidate sentences (8-60 words) the new stage refuses, by reason: "
          + ", ".join(f"{reason} {n}" for reason, n in refused_candidates.items()))


if __name__ == "__main__":
    if "--stages" in sys.argv[1:]:
        stages()
    elif "--compare" in sys.argv[1:]:
        compare()
    else:
        main()
        compare()
