"""Extractive summaries against human reference summaries: ROUGE-1/2/L of each method next to Lead-3.

Corpus: ../shared/corpora/bbc-news-summary/bbc60.jsonl (60 BBC articles, 12 per section, each with
a reference summary made of its own sentences). Every method gets the same sentences: the
article's text split by enrich.sentences.split_sentences, as the pipeline splits it, and picks
3 of them (the pipeline's default length; every article has at least 12 sentences). sumy's
methods run with the Snowball English stemmer, sumy's English stop words and our tokenizer, so
no NLTK data is needed. ROUGE is Google's rouge-score package (F-measure, Porter stemming).

The default's weights were tuned on the even-numbered half of the articles (the "tune" column:
a grid over centrality method, lead, title, length and MMR weights, best ROUGE-2) and are checked
on the odd half ("held out"). Rows below the sumy baselines are that grid's milestones.

Run: .venv/bin/python bench/summary.py
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from _scoring import BBC, ROOT, mean, require

from rouge_score import rouge_scorer
from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
from sumy.summarizers.kl import KLSummarizer
from sumy.summarizers.lex_rank import LexRankSummarizer
from sumy.summarizers.lsa import LsaSummarizer
from sumy.summarizers.luhn import LuhnSummarizer
from sumy.summarizers.sum_basic import SumBasicSummarizer
from sumy.summarizers.text_rank import TextRankSummarizer

from enrich.extract import extract_article
from enrich.sentences import split_sentences
from enrich.summarize import (
    _TOKENIZER,
    DEFAULT_WEIGHTS,
    FastLexRankSummarizer,
    FastTextRankSummarizer,
    SummaryWeights,
    _summarizer,
    summarize,
)

COUNT = 3
GOAL_RATIO = 1.15  # ROUGE-2 of the default over Lead-3's
Article = tuple[dict, list[str], str]  # the record, its sentences, the reference summary


def sumy_method(cls) -> Callable[[dict, list[str]], tuple[str, ...]]:
    reference = _summarizer("en", fast=False)
    summarizer = cls(reference._stemmer)
    summarizer.stop_words = reference.stop_words

    def run(article: dict, sentences: list[str]) -> tuple[str, ...]:
        document = ObjectDocumentModel([Paragraph([Sentence(s, _TOKENIZER) for s in sentences])])
        return tuple(str(s) for s in summarizer(document, COUNT))

    return run


def ours(weights: SummaryWeights) -> Callable[[dict, list[str]], tuple[str, ...]]:
    return lambda article, sentences: summarize(sentences, "en", max_sentences=COUNT, title=article["title"],
                                                weights=weights)


DEFAULT = "TextRank + lead prior = default"
METHODS: dict[str, Callable[[dict, list[str]], tuple[str, ...]]] = {
    "Lead-3": lambda article, sentences: tuple(sentences[:COUNT]),
    "sumy LexRank": sumy_method(LexRankSummarizer),
    "LexRank, vectorised": sumy_method(FastLexRankSummarizer),
    "sumy TextRank": sumy_method(TextRankSummarizer),
    "TextRank, vectorised": sumy_method(FastTextRankSummarizer),
    "sumy LSA": sumy_method(LsaSummarizer),
    "sumy Luhn": sumy_method(LuhnSummarizer),
    "sumy SumBasic": sumy_method(SumBasicSummarizer),
    "sumy KL-Sum": sumy_method(KLSummarizer),
    "LexRank + lead 0.5": ours(SummaryWeights(1.0, 0.5, 0.0, 0.0, 0.0, "lexrank")),
    "  + title 1.0 + length 0.5": ours(SummaryWeights(1.0, 0.5, 1.0, 0.0, 0.5, "lexrank")),
    "  + MMR 0.25": ours(SummaryWeights(1.0, 0.5, 1.0, 0.25, 0.5, "lexrank")),
    "TextRank + title 0.5": ours(SummaryWeights(1.0, 0.0, 0.5, 0.0, 0.0, "textrank")),
    "TextRank + MMR 0.25": ours(SummaryWeights(1.0, 0.0, 0.0, 0.25, 0.0, "textrank")),
    DEFAULT: ours(DEFAULT_WEIGHTS),
}


def demo_articles() -> list[list[str]]:
    """Sentences of the 16 demo articles (longer than BBC's), as the pipeline extracts and splits them."""
    site = ROOT / "data" / "demo" / "site"
    languages = {"northwind": "en", "cuaderno": "es", "stadtleben": "de", "kissa": "ja"}
    out = []
    for page in sorted(site.rglob("*.html")):
        text = extract_article(page.read_bytes().replace(b"{{DEMO_BASE}}", b"http://127.0.0.1:1")).text
        out.append(split_sentences(text, languages[page.parent.name]))
    return out


def load() -> list[Article]:
    records = [json.loads(line) for line in require(BBC).read_text(encoding="utf-8").splitlines()]
    return [
        (record, split_sentences(" ".join(record["article_sentences"]), "en"), " ".join(record["summary_sentences"]))
        for record in records
    ]


def main() -> None:
    articles = load()
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    summarize([s for _, sentences, _ in articles[:1] for s in sentences], "en")  # warm the caches
    print(f"Summaries of {len(articles)} BBC articles, {COUNT} sentences each, against the reference summaries "
          f"(ROUGE F, rouge-score)\n")
    print(f"| {'method':<31} | R-1   | R-2   | R-L   | R-2 tune | R-2 held out | R-2 / Lead-3 | ms/article |")
    print(f"|{'-' * 33}|-------|-------|-------|----------|--------------|--------------|------------|")
    figures: dict[str, float] = {}
    picks: dict[str, list[tuple[str, ...]]] = {}
    for name, method in METHODS.items():
        start = time.perf_counter()
        summaries = [method(record, sentences) for record, sentences, _ in articles]
        ms = (time.perf_counter() - start) / len(articles) * 1000
        picks[name] = summaries
        scores = [scorer.score(reference, " ".join(summary)) for (_, _, reference), summary in zip(articles, summaries)]
        r1, r2, rl = (mean(s[key].fmeasure for s in scores) for key in ("rouge1", "rouge2", "rougeL"))
        tune = mean(s["rouge2"].fmeasure for s in scores[0::2])
        held = mean(s["rouge2"].fmeasure for s in scores[1::2])
        figures[name] = r2
        ratio = r2 / figures["Lead-3"]
        print(f"| {name:<31} | {r1:.3f} | {r2:.3f} | {rl:.3f} | {tune:8.3f} | {held:12.3f} | {ratio:12.2f} | {ms:10.1f} |")

    ratio = figures[DEFAULT] / figures["Lead-3"]
    print(f"\ngoal ROUGE-2 of the default >= {GOAL_RATIO} x Lead-3: {'met' if ratio >= GOAL_RATIO else 'missed'} "
          f"({figures[DEFAULT]:.3f} = {ratio:.2f} x {figures['Lead-3']:.3f})")

    # sumy's pure-Python graph loops against the numpy versions: the same picks, and how fast?
    # Timed on the BBC articles (17 sentences on average) and on the demo articles (~45).
    demo = demo_articles()
    for label, slow_cls, fast_cls in (("LexRank", LexRankSummarizer, FastLexRankSummarizer),
                                      ("TextRank", TextRankSummarizer, FastTextRankSummarizer)):
        same = sum(a == b for a, b in zip(picks[f"sumy {label}"], picks[f"{label}, vectorised"]))
        slow, fast = sumy_method(slow_cls), sumy_method(fast_cls)
        same_demo = sum(slow({}, sentences) == fast({}, sentences) for sentences in demo)
        line = []
        for corpus_name, corpus in (("BBC", [sentences for _, sentences, _ in articles]), ("demo", demo)):
            timings = {}
            for name, method in (("sumy", slow), ("numpy", fast)):
                start = time.perf_counter()
                for _ in range(3):
                    for sentences in corpus:
                        method({}, sentences)
                timings[name] = (time.perf_counter() - start) / (3 * len(corpus)) * 1000
            line.append(f"{corpus_name} {timings['sumy']:.1f} -> {timings['numpy']:.1f} ms/article "
                        f"({timings['sumy'] / timings['numpy']:.1f}x)")
        print(f"{label}: same picks on {same}/{len(articles)} BBC and {same_demo}/{len(demo)} demo articles; "
              + "; ".join(line))
    words = {name: mean(sum(len(s.split()) for s in summary) for summary in picks[name])
             for name in ("Lead-3", "sumy TextRank", DEFAULT)}
    print("words per summary: " + ", ".join(f"{name} {n:.0f}" for name, n in words.items()))


if __name__ == "__main__":
    main()
