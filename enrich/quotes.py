"""Key quotes: sentences worth pulling out of an article, scored over spaCy tokens."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from enrich.sentences import nlp_for, word_count, words_of

MIN_WORDS, MAX_WORDS = 8, 60

# Weights of the quotability score; chosen by reading the demo and benchmark articles, each
# feature roughly worth what an editor would give it: a quoted speaker beats a number beats
# being on-topic, and a question or a sentence that needs the previous one loses.
W_SPEECH = 2.0  # a direct quotation with a speech verb next to it
W_QUOTED = 1.0  # quotation marks without a speech verb
W_NUMBER = 0.8  # carries a figure
W_CENTRAL = 1.0  # shares the article's frequent content words (0..1 scaled)
W_LENGTH = 0.3  # comfortable length for a pull quote
P_QUESTION = 1.5
P_DANGLING = 1.0

QUOTE_MARKS = "\"“”„«»「」『』‹›"
_QUOTED = re.compile(r"[\"“„«「『‹][^\"“”„«»「」『』‹›]{12,}[\"”“»」』›]")
SPEECH_VERBS = re.compile(
    r"\b(said|says|told|added|explained|argued|noted|warned|recalled|insisted|wrote|asked|"
    r"sagte|sagt|erklärte|betonte|meinte|fügte|so|"
    r"dijo|dice|explica|explicó|afirma|afirmó|asegura|aseguró|cuenta|contó|añade|añadió|"
    r"a déclaré|dit|explique|affirme)\b|と(?:言う|言った|話す|話した|語る|語った|笑う)|と\S{1,8}さんは",
    re.IGNORECASE,
)
_SPEAKER_AFTER = re.compile(
    r"[\"”“»」』›],?\s*(?:(?:said|says|told|added|explained|sagte|sagt|erklärte|dijo|dice|explica|afirma|cuenta)\s+)"
    r"((?:[A-ZÄÖÜÁÉÍÓÚÑ][\w.'’-]+\s?){1,4})"
)
_SPEAKER_BEFORE = re.compile(
    r"((?:[A-ZÄÖÜÁÉÍÓÚÑ][\w.'’-]+\s){0,3}[A-ZÄÖÜÁÉÍÓÚÑ][\w.'’-]+),?\s+(?:said|says|told|sagte|sagt|dijo|dice)\b"
)
_SPEAKER_JA = re.compile(r"と(\S{1,8}?さん)は")
DANGLING_STARTS = frozenset(
    "this that these those it its they them he she his her but and or so also however "
    "das dies diese es aber und oder doch sie er "
    "esto eso esta este pero y o también ella él "
    "cela mais et il elle".split()
)
BOILERPLATE = re.compile(
    r"subscribe|newsletter|sign up|cookie|all rights reserved|advertis|click here|follow us|"
    r"terms of (use|service)|privacy policy|©|read more|share this|"
    r"abonnieren|anzeige|alle rechte|datenschutz|"
    r"suscr[ií]b|publicidad|derechos reservados|"
    r"クッキー|スポンサー|all rights",
    re.IGNORECASE,
)
NEAR_DUPLICATE = 0.6  # Jaccard overlap of word sets above which two quotes say the same thing


@dataclass(frozen=True, slots=True)
class Quote:
    text: str
    score: float
    speaker: str | None = None


def attribute_speaker(sentence: str) -> str | None:
    """The person a direct quotation is attributed to, when the sentence names one."""
    for pattern in (_SPEAKER_AFTER, _SPEAKER_BEFORE, _SPEAKER_JA):
        match = pattern.search(sentence)
        if match:
            return match.group(1).strip(" ,.")
    return None


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def pick_quotes(
    sentences: Sequence[str],
    language: str,
    *,
    exclude: Sequence[str] = (),
    count: int = 4,
    model: str | None = None,
) -> tuple[Quote, ...]:
    """Up to ``count`` quotable sentences, verbatim, in document order, none from ``exclude``."""
    excluded = set(exclude)
    candidates = [
        s for s in dict.fromkeys(sentences)
        if s not in excluded and MIN_WORDS <= word_count(s) <= MAX_WORDS and not BOILERPLATE.search(s)
    ]
    if not candidates:
        return ()
    nlp = nlp_for(language, model)
    frequency = Counter(
        w.lower() for s in sentences for w in words_of(s) if len(w) > 3 or not w.isascii()
    )
    top = {w for w, _ in frequency.most_common(20)}
    scored: list[Quote] = []
    for text, doc in zip(candidates, nlp.pipe(candidates)):
        words = {w.lower() for w in words_of(text)}
        score = 0.0
        quoted = bool(_QUOTED.search(text)) or sum(1 for t in doc if t.is_quote or t.text in QUOTE_MARKS) >= 2
        if quoted:
            score += W_SPEECH if SPEECH_VERBS.search(text) else W_QUOTED
        if any(t.like_num or any(c.isdigit() for c in t.text) for t in doc):
            score += W_NUMBER
        score += W_CENTRAL * min(1.0, len(words & top) / 5)
        if 15 <= word_count(text) <= 35:
            score += W_LENGTH
        if text.rstrip(QUOTE_MARKS + " ").endswith(("?", "？", "¿")):
            score -= P_QUESTION
        first = next((t.lower_ for t in doc if t.is_alpha), "")
        if first in DANGLING_STARTS:
            score -= P_DANGLING
        speaker = attribute_speaker(text) if quoted else None
        scored.append(Quote(text, round(score, 3), speaker))

    chosen: list[Quote] = []
    for quote in sorted(scored, key=lambda q: -q.score):
        words = set(words_of(quote.text.lower()))
        if any(_jaccard(words, set(words_of(c.text.lower()))) > NEAR_DUPLICATE for c in chosen):
            continue
        chosen.append(quote)
        if len(chosen) == count:
            break
    order = {text: i for i, text in enumerate(candidates)}
    return tuple(sorted(chosen, key=lambda q: order[q.text]))
