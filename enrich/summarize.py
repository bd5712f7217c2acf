"""Extractive summaries: TextRank centrality with a lead prior, over sentences split by spaCy.

sumy supplies the graph rankers, stop words and Snowball stemmers (no NLTK data needed). The
default was chosen by ROUGE against human summaries (bench/summary.py, table in the README):
of sumy's rankers TextRank scored best (ROUGE-2 1.44 x Lead-3 on the BBC set, Luhn 1.25,
LexRank 1.07); title-overlap, length and redundancy (MMR) terms, which lifted LexRank to 1.24,
only lowered TextRank on the tuning half. A light lead prior scored 0.601 there against 0.610
without: within noise on 30 articles, and kept because on news at large the lead is the strong
baseline (on all 60 articles the two score 0.562 and 0.561).

1. candidates: complete sentences (no subheads, kickers or repeated headlines), each once, that
   can stand in a summary (no questions, captions, bylines or editor's notes), without a wire
   dateline;
2. short texts (fewer than 5 candidates) and languages sumy has no stemmer or stop words for
   keep their lead sentences, a stated fallback;
3. score = centrality (TextRank; LexRank optional) over the first MAX_RANKED candidates, scaled
   to 0..1, plus the lead prior, plus optional title-overlap and length terms;
4. pick greedily by score, minus similarity to the sentences already picked (MMR) if weighted,
   skipping near-duplicates of a pick and sentences that open with a dangling reference ("This",
   "But", "He") unless the sentence before them is picked; when every pick of a long article
   comes from deep in it, the best lead sentence replaces the weakest;
5. return the picks verbatim, in document order.

sumy computes its sentence graphs in pure-Python double loops; FastLexRankSummarizer and
FastTextRankSummarizer (enrich/graphrank.py) build the same matrices with sparse products (same
picks, tested).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy
from sumy.models.dom import Sentence

from enrich.sentences import dangling_opener, is_complete_sentence
from enrich.text import SUMY_LANGUAGES, stemmer_for, stop_words_for, words_of

if TYPE_CHECKING:
    from sumy.summarizers.lex_rank import LexRankSummarizer

log = logging.getLogger(__name__)

# Below this many sentences, centrality is noise: the summary is the lead.
MIN_SENTENCES_FOR_RANKING = 5


@dataclass(frozen=True)
class SummaryWeights:
    """How a sentence's score is made. Chosen on bench/summary.py: a grid over these terms on the
    even-numbered half of the BBC set (ROUGE-2), checked on the odd half.
    """

    centrality: float = 1.0  # graph centrality, divided by the article's highest
    lead: float = 0.25  # falls as 1 / (1 + position / LEAD_SCALE): news puts the gist first
    title: float = 0.0  # share of the headline's content words the sentence contains
    redundancy: float = 0.0  # MMR: minus this times the highest similarity to an earlier pick
    length: float = 0.0  # words, divided by the article's longest sentence
    method: str = "textrank"  # or "lexrank"


DEFAULT_WEIGHTS = SummaryWeights()
LEAD_SCALE = 5.0


class _WordTokenizer:
    """The tokenizer interface sumy's Sentence needs; sentences are already split by spaCy."""

    def to_words(self, sentence: str) -> list[str]:
        return words_of(sentence)


_TOKENIZER = _WordTokenizer()


@lru_cache(maxsize=64)
def _summarizer(language: str, method: str = "lexrank"):
    """A ranker set up for ``language``, or None when sumy has neither its stemmer nor stop words."""
    if language not in SUMY_LANGUAGES:
        return None
    # Loaded with the first language to rank: sumy's rankers import NLTK (enrich/graphrank.py).
    from sumy.nlp.stemmers import null_stemmer

    from enrich.graphrank import FastLexRankSummarizer, FastTextRankSummarizer

    stemmer = stemmer_for(language) or null_stemmer  # no stemmer, or its package is missing: words as they are
    summarizer = {"lexrank": FastLexRankSummarizer, "textrank": FastTextRankSummarizer}[method](stemmer)
    summarizer.stop_words = stop_words_for(language)
    return summarizer


def summary_length(sentence_count: int, wanted: int) -> int:
    """At most ``wanted`` sentences and about a quarter of a short text (4 sentences -> 1)."""
    return max(1, min(wanted, math.ceil(sentence_count / 4)))


# What a summary sentence must not be, whatever its centrality: a question (an interviewer's, or
# a rhetorical one), a photo caption or credit, a byline, an editor's note or a syndication line.
# Drawn from the summaries picked on the article-extraction benchmark's pages (bench/summary.py
# prints how many of each class the old summaries held).
_QUESTION = re.compile(r"[?？؟][\"'”’»›」』)\]]*$|^\W*¿")
_CAPTION = re.compile(
    r"(?=[acgipv(/])(?:\b(?:photo|image|picture|video)s?(?: credit| courtesy)?\s*(?::|by\b)|\bgetty images\b|"
    r"\(photos?\b|\bap photo\b|/\s*(?:afp|reuters|getty|ap|epa)\b|\bimage caption\b|\bcredit:|"
    r"\(pictured\)|\bpictured (?:above|below|here|left|right)\b)",
    re.IGNORECASE,
)
# "By Jane Smith, CNN": two capitalised words after "By", so "By Tuesday, officials had..." passes.
_BYLINE = re.compile(
    r"^\W*(?:By|Written by|Posted by|Story by)\s+[A-ZÀ-Þ][\w.'’-]+\s+[A-ZÀ-Þ][\w'’-]+|"
    r"\b(?:Reporting|Editing|Writing|Additional reporting) by\s+[A-ZÀ-Þ]"
)
_NOTE = re.compile(
    r"(?:^\W*(?:editor[’']?s[’']? note|editors[’']? note|note to readers|disclosure|correction|"
    r"updated?|published)\b\s*[:,—–-]|\b(?:originally|first) (?:appeared|published|ran) (?:on|in|at)\b|"
    r"\bthis (?:article|story|post) (?:was|has been|is) (?:originally |first )?(?:published|updated|written|produced))",
    re.IGNORECASE,
)
# A wire dateline before the lead: "WASHINGTON (AP) — ", "ST. JOSEPH, Mich. (AP) — ", "LONDON — ".
# The summary keeps the sentence after it (still a verbatim piece of the text).
_DATELINE = re.compile(
    r"^(?:[A-ZÀ-Þ][A-ZÀ-Þ.'’]*(?: [A-ZÀ-Þ][A-ZÀ-Þ.'’]*)*)(?:, [A-Z][\w.]*(?: [A-Z][\w.]*)?)?"
    r"(?: \([\w .&-]{1,30}\))? ?[—–-]{1,2} (?=\w)"
)
NEAR_DUPLICATE = 0.6  # Jaccard overlap of word sets above which two sentences say the same thing
# Ranking builds dense N x N matrices, so it sees only the first MAX_RANKED candidates, whatever
# the page (the 5 MB size cap allows ~100,000 sentences). Measured by bench/summary.py --cap on
# BBC60 and the 181 benchmark pages (median 21 candidates, 90th percentile 53, largest 500): ranking
# 200 leaves 240 of 241 summaries as ranking all would (100: 236, 50: 225) and peaks at 1.8 MiB
# traced and 14 ms CPU, against 100 MiB and 371 ms for 1,600; at 20,000 sentences the matrices
# alone would take gigabytes (issue 13 saw a worker pass 4.8 GB).
MAX_RANKED = 200
# When every pick of a long article comes from deep in it, the best lead sentence replaces the
# weakest pick: on news a summary with nothing from the opening misses what the story is.
LONG_ARTICLE = 20  # candidates
LEAD_WINDOW = 5  # candidates counted as the lead


@dataclass(frozen=True, slots=True)
class Candidate:
    """A sentence that may enter the summary: its text (without a dateline) and its index in the input."""

    text: str
    position: int


def strip_dateline(sentence: str) -> str:
    """``sentence`` without a leading wire dateline ("LONDON (Reuters) - ")."""
    match = _DATELINE.match(sentence)
    return sentence[match.end():] if match else sentence


def stands_apart(sentence: str) -> bool:
    """Could this sentence be a summary sentence? Not a question, caption, byline or editor's note."""
    return not (
        _QUESTION.search(sentence) or _CAPTION.search(sentence) or _BYLINE.search(sentence) or _NOTE.search(sentence)
    )


def candidates(sentences: Sequence[str]) -> list[Candidate]:
    """Complete sentences that can stand in a summary, each once, in document order: subheads,
    kickers, repeats, questions, captions, bylines and notes do not compete."""
    seen: set[str] = set()
    out = []
    for position, sentence in enumerate(sentences):
        if not is_complete_sentence(sentence) or not stands_apart(sentence):
            continue
        text = strip_dateline(sentence)
        if text not in seen and is_complete_sentence(text):
            seen.add(text)
            out.append(Candidate(text, position))
    return out


def _title_overlap(summarizer: LexRankSummarizer, sentences: Sequence[Sentence], title: str | None) -> numpy.ndarray:
    if not title:
        return numpy.zeros(len(sentences))
    headline = set(summarizer._to_words_set(Sentence(title, _TOKENIZER)))
    if not headline:
        return numpy.zeros(len(sentences))
    return numpy.array([len(headline & set(summarizer._to_words_set(s))) / len(headline) for s in sentences])


def score_sentences(
    unique: Sequence[str], language: str, *, title: str | None = None, weights: SummaryWeights = DEFAULT_WEIGHTS,
) -> tuple[numpy.ndarray, numpy.ndarray | None]:
    """Each sentence's weighted score, and the sentences' similarities when MMR needs them."""
    lexrank = _summarizer(language, method="lexrank")
    sentences = [Sentence(s, _TOKENIZER) for s in unique]
    similarity = None
    if weights.method == "lexrank":
        centrality, similarity = lexrank.rate(sentences)
    else:
        centrality = _summarizer(language, method="textrank").rate(sentences)
    top = centrality.max()
    score = weights.centrality * (centrality / top if top > 0 else centrality)
    score = score + weights.lead / (1 + numpy.arange(len(unique)) / LEAD_SCALE)
    if weights.title:
        score = score + weights.title * _title_overlap(lexrank, sentences, title)
    if weights.length:
        lengths = numpy.array([len(s.words) for s in sentences], dtype=float)
        score = score + weights.length * lengths / max(lengths.max(), 1.0)
    if weights.redundancy:
        similarity = similarity if similarity is not None else lexrank.rate(sentences)[1]
    return score, similarity


class _Picker:
    """Greedy choice under the rules that make a summary readable on its own.

    A sentence opening with a dangling reference ("This former third-round pick", "But") is
    eligible only once the sentence before it is picked; a sentence that repeats a picked one
    (word-set Jaccard above NEAR_DUPLICATE) never is.
    """

    def __init__(self, unique: Sequence[Candidate], language: str) -> None:
        self.unique = unique
        index = {c.position: i for i, c in enumerate(unique)}
        # The candidate a dangling sentence leans on (None: it leans on a non-candidate, so never eligible).
        self.leans_on = {
            i: index.get(c.position - 1) for i, c in enumerate(unique) if dangling_opener(c.text, language)
        }
        self.words: dict[int, set[str]] = {}
        self.picked: list[int] = []

    def _words(self, i: int) -> set[str]:
        if i not in self.words:
            self.words[i] = {w.lower() for w in words_of(self.unique[i].text)}
        return self.words[i]

    def eligible(self, i: int, picked: Sequence[int]) -> bool:
        if i in picked:
            return False
        if i in self.leans_on and self.leans_on[i] not in picked:
            return False
        words = self._words(i)
        return not any(_jaccard(words, self._words(j)) > NEAR_DUPLICATE for j in picked)

    def pick(self, order: Sequence[int]) -> int | None:
        """Pick the first eligible of ``order`` (best first); None when none is."""
        for i in order:
            if self.eligible(i, self.picked):
                self.picked.append(int(i))
                return int(i)
        return None


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def _lead_picks(unique: Sequence[Candidate], language: str, count: int) -> list[int]:
    picker = _Picker(unique, language)
    while len(picker.picked) < count and picker.pick(range(len(unique))) is not None:
        pass
    return picker.picked  # empty when every candidate leans on a sentence that is not one: no summary, not a wrong one


def rank_sentences(
    unique: Sequence[Candidate], language: str, count: int, *, title: str | None = None,
    weights: SummaryWeights = DEFAULT_WEIGHTS,
) -> list[int]:
    """Indices into ``unique`` of the ``count`` sentences picked by the weighted score (and MMR),
    within the first MAX_RANKED, standing alone, in document order."""
    ranked = unique[:MAX_RANKED]
    score, similarity = score_sentences([c.text for c in ranked], language, title=title, weights=weights)
    picker = _Picker(ranked, language)
    while len(picker.picked) < count:
        marginal = score
        if picker.picked and weights.redundancy:
            marginal = score - weights.redundancy * similarity[:, picker.picked].max(axis=1)
        if picker.pick(numpy.argsort(-marginal, kind="stable")) is None:
            break
    picked = picker.picked
    if len(ranked) >= LONG_ARTICLE and picked and min(picked) >= LEAD_WINDOW:
        # All from deep in a long article: the best lead sentence that stands with the others
        # replaces the weakest pick that no other pick leans on.
        weakest = next(i for i in reversed(picked) if all(picker.leans_on.get(j) != i for j in picked))
        rest = [i for i in picked if i != weakest]
        lead = [int(i) for i in numpy.argsort(-score[:LEAD_WINDOW], kind="stable") if picker.eligible(int(i), rest)]
        if lead:
            picked = [*rest, lead[0]]
    return sorted(picked)


def summarize(
    sentences: Sequence[str], language: str, *, max_sentences: int = 3, title: str | None = None,
    weights: SummaryWeights = DEFAULT_WEIGHTS,
) -> tuple[str, ...]:
    """The summary: the best complete sentences that read on their own, verbatim and in document
    order, without repeats.

    Lead sentences for short texts and for languages without sumy support (stated fallback).
    """
    unique = candidates(sentences)
    if not unique:
        return ()
    count = summary_length(len(unique), max_sentences)
    if len(unique) < MIN_SENTENCES_FOR_RANKING or _summarizer(language) is None:
        picks = _lead_picks(unique, language, count)
    else:
        picks = rank_sentences(unique, language, count, title=title, weights=weights)
    return tuple(unique[i].text for i in sorted(picks))
