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

Then, old vs new side by side (issue 12): the summarizer and splitter before the stand-alone rules
(git commit BEFORE_ISSUE_12, loaded by bench/_baseline.py) against today's, by ROUGE-2 on BBC60
and, on the 181 pages of the article-extraction benchmark (text by enrich.extract.extract_article,
language by the pipeline's choose_language), by what a reader trips over: sentences opening with a
dangling reference (enrich.sentences.dangling_opener, the same test for both), questions,
captions/bylines/notes, kept datelines, near-duplicates, splits after an abbreviation.

``--standalone`` prints only that comparison; ``--cap`` measures the ranking cap MAX_RANKED:
how many summaries change when only the first K candidates are ranked, and what ranking N
sentences costs (peak traced memory, CPU time).

Run: .venv/bin/python bench/summary.py [--standalone | --cap]
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from collections.abc import Callable

from _baseline import BEFORE_ISSUE_12, modules_at
from _report import print_table
from _scoring import ROOT, bbc_records, extraction_pages, mean
from rouge_score import rouge_scorer
from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
from sumy.summarizers.kl import KLSummarizer
from sumy.summarizers.lex_rank import LexRankSummarizer
from sumy.summarizers.lsa import LsaSummarizer
from sumy.summarizers.luhn import LuhnSummarizer
from sumy.summarizers.sum_basic import SumBasicSummarizer
from sumy.summarizers.text_rank import TextRankSummarizer

from enrich.extract import extract_article
from enrich.graphrank import FastLexRankSummarizer, FastTextRankSummarizer
from enrich.pipeline import choose_language
from enrich.sentences import dangling_opener, split_sentences
from enrich.summarize import (
    _TOKENIZER,
    DEFAULT_WEIGHTS,
    MAX_RANKED,
    NEAR_DUPLICATE,
    SummaryWeights,
    _jaccard,
    candidates,
    stands_apart,
    strip_dateline,
    summarize,
)
from enrich.text import stemmer_for, stop_words_for, words_of

COUNT = 3
GOAL_RATIO = 1.3  # ROUGE-2 of the default over Lead-3's (issue 12)
GOAL_DANGLING = 0.03  # share of summary sentences on the benchmark pages opening with a dangling reference
Article = tuple[dict, list[str], str]  # the record, its sentences, the reference summary


def sumy_method(cls) -> Callable[[dict, list[str]], tuple[str, ...]]:
    summarizer = cls(stemmer_for("en"))
    summarizer.stop_words = stop_words_for("en")

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
    records = bbc_records()
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
    table = []
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
        table.append((name, f"{r1:.3f}", f"{r2:.3f}", f"{rl:.3f}", f"{tune:.3f}", f"{held:.3f}", f"{ratio:.2f}",
                      f"{ms:.1f}"))
    print_table(("method", "R-1", "R-2", "R-L", "R-2 tune", "R-2 held out", "R-2 / Lead-3", "ms/article"), table)

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
    standalone(figures["Lead-3"])


# -- issue 12: summaries that stand alone, old vs new ----------------------------------------------

def benchmark_pages() -> list[tuple[str, str | None, str]]:
    """(text, title, language) of the article-extraction benchmark's pages, as the pipeline sees them."""
    out = []
    for key, (html, _) in extraction_pages().items():
        page = extract_article(html, f"https://bench.test/{key}")
        if page is not None and page.text:
            out.append((page.text, page.title, choose_language(page.text, (page.html_lang, None), 0.70,
                                                               title=page.title).code))
    return out


_ABBREVIATION_SPLIT = __import__("re").compile(r"(?:^|\s)(?:No|St|Nr|Lt|Col|Gen|Sgt|Capt|vol|fig|approx|Mt|Ft)\.$")


def reader_faults(sentences: list[str], summary: tuple[str, ...], language: str, lead_cut: int) -> dict[str, int]:
    """What a reader trips over in one summary: counts of sentences by fault."""
    positions = []
    for sentence in summary:
        position = next((i for i, s in enumerate(sentences) if sentence in s), -1)
        positions.append(position)
    chosen = set(positions)
    faults = dict.fromkeys(FAULTS, 0)
    faults["sentences"] = len(summary)
    for sentence, position in zip(summary, positions):
        if dangling_opener(sentence, language):
            faults["dangling opener"] += 1
            faults["dangling, sentence before not chosen"] += position - 1 not in chosen
        faults["question"] += sentence.rstrip("\"'”’»」) ").endswith(("?", "？"))
        faults["caption, byline or note"] += not stands_apart(sentence) and not sentence.rstrip().endswith("?")
        faults["dateline kept"] += strip_dateline(sentence) != sentence
        faults["cut after an abbreviation"] += bool(_ABBREVIATION_SPLIT.search(sentence))
    words = [{w.lower() for w in words_of(s)} for s in summary]
    faults["near-duplicate pairs"] = sum(_jaccard(a, b) > NEAR_DUPLICATE for i, a in enumerate(words)
                                         for b in words[i + 1:])
    faults["all picks deep in a long article"] = int(len(sentences) >= 40 and bool(positions)
                                                     and min(positions) >= lead_cut)
    return faults


FAULTS = ("sentences", "dangling opener", "dangling, sentence before not chosen", "question",
          "caption, byline or note", "dateline kept", "cut after an abbreviation", "near-duplicate pairs",
          "all picks deep in a long article")


def standalone(lead3: float | None = None) -> None:
    old = modules_at(BEFORE_ISSUE_12, "enrich.sentences", "enrich.summarize")
    versions = {
        f"old ({BEFORE_ISSUE_12})": (old["enrich.sentences"].split_sentences, old["enrich.summarize"].summarize),
        "new": (split_sentences, summarize),
    }
    scorer = rouge_scorer.RougeScorer(["rouge2"], use_stemmer=True)
    records = bbc_records()
    pages = benchmark_pages()
    rows: dict[str, dict[str, float]] = {}
    for name, (split, summarise) in versions.items():
        row = rows[name] = {}
        rouge = lead = 0.0
        for record in records:
            sentences = split(" ".join(record["article_sentences"]), "en")
            reference = " ".join(record["summary_sentences"])
            rouge += scorer.score(reference, " ".join(summarise(sentences, "en", title=record["title"])))["rouge2"].fmeasure
            lead += scorer.score(reference, " ".join(sentences[:COUNT]))["rouge2"].fmeasure
        row["BBC60 ROUGE-2"] = rouge / len(records)
        row["BBC60 ROUGE-2 / Lead-3"] = rouge / lead if lead3 is None else rouge / len(records) / lead3
        totals = dict.fromkeys(FAULTS, 0)
        for text, title, language in pages:
            sentences = split(text, language)
            for key, value in reader_faults(sentences, summarise(sentences, language, title=title), language,
                                            lead_cut=10).items():
                totals[key] += value
        row.update(totals)
    names = list(rows)
    print(f"\nSummaries that stand alone: old vs new (BBC60; {len(pages)} benchmark pages, "
          f"sentence shares of all summary sentences)\n")
    table = []
    for key in rows[names[0]]:
        cells = []
        for name in names:
            value = rows[name][key]
            if key.startswith("BBC"):
                cells.append(f"{value:.3f}")
            elif key in ("sentences", "near-duplicate pairs", "all picks deep in a long article"):
                cells.append(f"{value:d}")
            else:
                cells.append(f"{value:d} = {value / rows[name]['sentences']:5.1%}")
        table.append((key, *cells))
    print_table(("", *names), table)
    new = rows["new"]
    share = new["dangling opener"] / new["sentences"]
    print(f"\ngoal ROUGE-2 >= {GOAL_RATIO} x Lead-3: {new['BBC60 ROUGE-2 / Lead-3']:.2f}; "
          f"dangling openers <= {GOAL_DANGLING:.0%}: {share:.1%} "
          f"({'met' if new['BBC60 ROUGE-2 / Lead-3'] >= GOAL_RATIO and share <= GOAL_DANGLING else 'missed'})")


# -- the ranking cap -------------------------------------------------------------------------------

def cap() -> None:
    """Quality and cost of ranking only the first K candidates."""
    import enrich.summarize as module

    corpora = [(split_sentences(" ".join(r["article_sentences"]), "en"), "en", r["title"])
               for r in bbc_records()]
    corpora += [(split_sentences(text, language), language, title) for text, title, language in benchmark_pages()]
    sizes = sorted(len(candidates(sentences)) for sentences, _, _ in corpora)
    print(f"Candidates per article over {len(corpora)} articles (BBC60 + benchmark): median {sizes[len(sizes) // 2]}, "
          f"90th percentile {sizes[int(len(sizes) * 0.9)]}, largest {sizes[-1]}\n")
    full = {}
    for k in (10_000_000, 25, 50, 100, 200):
        module.MAX_RANKED = k
        picks = [summarize(sentences, language, title=title) for sentences, language, title in corpora]
        if not full:
            full = picks
            latest = max(next(i for i, c in enumerate(candidates(s)) if c.text == p[-1]) for (s, _, _), p in
                         zip(corpora, picks) if p)
            print(f"uncapped: the latest pick is candidate {latest}")
            continue
        same = sum(a == b for a, b in zip(picks, full))
        print(f"K = {k:>4}: {same}/{len(corpora)} summaries the same as uncapped")
    module.MAX_RANKED = MAX_RANKED
    print()
    table = []
    words = "council budget river bridge lanes cyclists mayor city voted plan money year street night".split()
    for n in (100, 200, 400, 800, 1600):
        sentences = [" ".join(words[(i + j) % len(words)] for j in range(12)).capitalize() + f" {i}." for i in range(n)]
        unique = candidates(sentences)
        tracemalloc.start()
        started = time.process_time()
        module.score_sentences([c.text for c in unique], "en")
        cpu = (time.process_time() - started) * 1000
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        table.append((f"{n:d}", f"{peak:.1f}", f"{cpu:.0f}"))
    print_table(("sentences ranked", "peak traced MiB", "CPU ms"), table)


if __name__ == "__main__":
    if "--standalone" in sys.argv[1:]:
        standalone()
    elif "--cap" in sys.argv[1:]:
        cap()
    else:
        main()
