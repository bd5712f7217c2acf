"""Topics of an article: 1-3 of a fixed list, from the feed's topic, the entry's tags and the text.

Four signals, each a distribution over ``TOPICS``, are averaged with the weights below (over the
signals present for this article):

1. feed: the feed's default topic (OPML category or ``enrich feeds add --topic``);
2. tags: the entry's categories mapped through ``data/topic_synonyms.json``;
3. text: a multinomial naive Bayes classifier over stemmed content words, trained at first use
   on the labelled passages in ``data/topic_corpus_<lang>.txt`` (English, Spanish, German);
4. personal: first-person singular pronouns outside quotations, when their density passes
   ``PERSONAL_MIN_DENSITY``. The text classifier never says "Personal" by itself.

The best topic is always kept; a second and third only when close enough to the first.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from enrich.related import content_words
from enrich.sentences import is_unspaced, word_count

TOPICS: tuple[str, ...] = (
    "Technology", "Design", "Programming", "Science", "News", "Gaming", "Entertainment", "Business",
    "Finance", "Sports", "Health", "Food", "Travel", "Art", "Music", "Books", "Education", "Politics",
    "Personal",
)  # fmt: skip

DATA_DIR = Path(__file__).resolve().parent / "data"
SYNONYMS_FILE = DATA_DIR / "topic_synonyms.json"
CORPUS_FILES = {lang: DATA_DIR / f"topic_corpus_{lang}.txt" for lang in ("en", "es", "de")}

# --- signal weights ----------------------------------------------------------------------------
# Stated, not fitted: an entry's own tags are the most specific evidence a publisher gives, the
# text is the only signal every article has, and a feed's default topic is true of the feed on
# average but not of every entry in it. Only the signals present count: an article with text
# alone gets the classifier's posterior unchanged; a Japanese diary gets tags, feed and personal.
WEIGHT_FEED = 0.25
WEIGHT_TAGS = 0.35
WEIGHT_TEXT = 0.40
# The writer's voice says little about the subject: with 0.15, a first-person product review
# keeps its subject first and Personal second (benchmark pages in bench/topics.py).
WEIGHT_PERSONAL = 0.15  # at full strength: density at twice the threshold or more

# --- text classifier -----------------------------------------------------------------------------
# Laplace smoothing of word counts per topic. On the hand-labelled development set in
# bench/topics.py (never on the BBC evaluation set) 0.02-0.2 score alike and 0.5 / 1.0 lose
# 1-2 points; 0.1 sits in the middle of the flat range.
NB_ALPHA = 0.1
# Sharpness of the posterior: softmax of the mean per-token log-likelihood times this. With 12,
# the best topic's posterior over the 172 benchmark pages has a median of 0.93 and a lower
# quartile of 0.70: confident articles dominate the mix, ambiguous ones leave room for tags.
NB_SHARPNESS = 12.0
TITLE_REPEAT = 3  # title words count this many times: a headline names the subject
# Fewer known content words than this and the text says nothing; the text weight then grows
# linearly up to full weight at TEXT_FULL_WEIGHT_TOKENS.
TEXT_MIN_TOKENS = 3
TEXT_FULL_WEIGHT_TOKENS = 25

# --- "Personal" --------------------------------------------------------------------------------
# First-person singular pronouns per word, outside quotations. News copy quotes people saying "I",
# so quoted speech is removed first; what remains is the writer's own voice. Measured: ../shared
# bbc60 news at most 0.0033; benchmark pages (bench/topics.py) with a first-person writer 0.014
# (a recipe blog, an essay) to 0.035 (a gift guide) and 0.064 (an advice letter). 0.02 keeps the
# clearly first-person ones. Japanese drops pronouns: the demo diaries run at 0.006-0.008 per
# two characters, news far below, hence a lower threshold for unspaced scripts.
PERSONAL_MIN_DENSITY = 0.02
PERSONAL_MIN_DENSITY_UNSPACED = 0.005
PERSONAL_MIN_COUNT = 3

# --- choosing 1-3 topics -------------------------------------------------------------------------
# A second or third topic needs at least this score and this share of the best one.
SECONDARY_MIN_SCORE = 0.12
SECONDARY_MIN_SHARE = 0.30

FIRST_PERSON = {
    "en": {"i", "me", "my", "mine", "myself"},
    "de": {"ich", "mich", "mir", "mein", "meine", "meinen", "meinem", "meiner", "meines"},
    "es": {"yo", "mí", "conmigo", "mi", "mis", "mío", "mía", "míos", "mías"},
    "fr": {"je", "j", "moi", "mon", "ma", "mes"},
    "it": {"io", "mi", "me", "mio", "mia", "miei", "mie"},
    "pt": {"eu", "mim", "comigo", "meu", "minha", "meus", "minhas"},
    "nl": {"ik", "mij", "me", "mijn"},
}
FIRST_PERSON_UNSPACED = ("私", "僕", "俺", "わたし", "あたし", "ぼく", "我")
# Paired quotation marks, including Japanese brackets; quoted spans are at most a paragraph.
_QUOTED = re.compile(r"“[^”\n]{0,600}”|„[^“”\n]{0,600}[“”]|«[^»\n]{0,600}»|「[^」\n]{0,600}」|『[^』\n]{0,600}』|\"[^\"\n]{0,600}\"")
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class TopicResult:
    """1-3 topics, best first, with their combined scores (0-1)."""

    topics: tuple[str, ...]
    scores: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class PersonalEvidence:
    """First-person singular pronouns outside quotations, per word."""

    count: int
    words: int
    density: float
    threshold: float

    @property
    def personal(self) -> bool:
        return self.count >= PERSONAL_MIN_COUNT and self.density >= self.threshold

    @property
    def strength(self) -> float:
        """0 below the threshold, 0.5 at it, 1 at twice the threshold or more."""
        return min(1.0, self.density / (2 * self.threshold)) if self.personal else 0.0


@dataclass(frozen=True)
class TopicModel:
    """Multinomial naive Bayes over ``language:stem`` features."""

    classes: tuple[str, ...]
    vocabulary: Mapping[str, int]
    log_prob: np.ndarray  # classes x vocabulary, log P(word | topic)
    languages: frozenset[str]

    def posterior(self, terms: Sequence[str], language: str) -> tuple[np.ndarray, int]:
        """P(topic | terms) under a uniform prior, and how many terms the model knew."""
        counts = Counter(self.vocabulary[f"{language}:{t}"] for t in terms if f"{language}:{t}" in self.vocabulary)
        known = sum(counts.values())
        if not counts:
            return np.full(len(self.classes), 1.0 / len(self.classes)), 0
        columns = np.fromiter(counts, dtype=np.int64, count=len(counts))
        # log(1 + tf): a long article repeating one word should not drown every other word.
        weights = np.log1p(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
        mean_loglik = self.log_prob[:, columns] @ weights / weights.sum()
        logits = NB_SHARPNESS * (mean_loglik - mean_loglik.max())
        p = np.exp(logits)
        return p / p.sum(), known


# --- data ----------------------------------------------------------------------------------


def _normalise_tag(tag: str) -> str:
    tag = unicodedata.normalize("NFKC", tag).lower().strip()
    tag = tag.strip("#").strip(" \t.,;:!?/|-_")
    return re.sub(r"\s+", " ", tag)


@lru_cache(maxsize=1)
def synonym_table() -> Mapping[str, tuple[str, ...]]:
    """Normalised tag -> topics, from ``data/topic_synonyms.json``."""
    raw = json.loads(SYNONYMS_FILE.read_text(encoding="utf-8"))
    table: dict[str, list[str]] = {}
    for topic, tags in raw.items():
        if topic.startswith("_"):
            continue
        if topic not in TOPICS:
            raise ValueError(f"{SYNONYMS_FILE.name}: unknown topic {topic!r}")
        for tag in tags:
            topics = table.setdefault(_normalise_tag(tag), [])
            if topic not in topics:
                topics.append(topic)
    for topic in TOPICS:  # a topic's own name always maps to it
        table.setdefault(topic.lower(), [topic])
    return {tag: tuple(topics) for tag, topics in table.items()}


def read_corpus(path: Path) -> list[tuple[str, str]]:
    """(topic, passage) pairs of one corpus file: ``[Topic]`` headers, one passage a line."""
    pairs, topic = [], None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            topic = line[1:-1].strip()
            if topic not in TOPICS:
                raise ValueError(f"{path.name}:{number}: unknown topic {topic!r}")
            continue
        if topic is None:
            raise ValueError(f"{path.name}:{number}: text before the first [Topic] header")
        pairs.append((topic, line))
    return pairs


@lru_cache(maxsize=1)
def topic_model() -> TopicModel:
    """Train the naive Bayes model on the shipped corpus, once per process (~0.3 s)."""
    documents = [(lang, topic, text) for lang, path in CORPUS_FILES.items() for topic, text in read_corpus(path)]
    classes = tuple(t for t in TOPICS if any(topic == t for _, topic, _ in documents))
    vocabulary: dict[str, int] = {}
    rows: list[Counter] = [Counter() for _ in classes]
    for lang, topic, text in documents:
        counts = rows[classes.index(topic)]
        for term in content_words(text, lang):
            counts[vocabulary.setdefault(f"{lang}:{term}", len(vocabulary))] += 1
    matrix = np.zeros((len(classes), len(vocabulary)))
    for c, counts in enumerate(rows):
        matrix[c, list(counts)] = list(counts.values())
    # Smooth per language block: a Spanish word's probability is among Spanish words only, so a
    # language with a small corpus is not penalised against one with a large corpus.
    log_prob = np.zeros_like(matrix)
    lang_of = np.array([key.split(":", 1)[0] for key in vocabulary])
    for lang in CORPUS_FILES:
        block = lang_of == lang
        smoothed = matrix[:, block] + NB_ALPHA
        log_prob[:, block] = np.log(smoothed / smoothed.sum(axis=1, keepdims=True))
    return TopicModel(classes, vocabulary, log_prob, frozenset(CORPUS_FILES))


# --- signals -------------------------------------------------------------------------------


def tag_topics(tags: Sequence[str]) -> dict[str, float]:
    """Topics the tags name, as a distribution (each mapped tag counts once).

    A tag matches the table exactly, else word by word ("cocina tradicional" -> cocina), else by
    a German-style compound ending in a listed word of at least 6 letters ("Kommunalpolitik").
    """
    table = synonym_table()
    counts: Counter[str] = Counter()
    for tag in tags:
        found = _lookup_tag(_normalise_tag(tag), table)
        for topic in found:
            counts[topic] += 1.0 / len(found)
    total = sum(counts.values())
    return {topic: n / total for topic, n in counts.items()} if total else {}


def _lookup_tag(tag: str, table: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    if not tag:
        return ()
    if tag in table:
        return table[tag]
    words = tag.split(" ")
    if len(words) > 1:
        found = tuple(dict.fromkeys(t for w in words for t in table.get(w, ())))
        if found:
            return found
    if len(tag) > 6 and tag.isalpha():
        for end in range(1, len(tag) - 5):
            if tag[end:] in table:
                return table[tag[end:]]
    return ()


def feed_topics(feed_topic: str | None) -> dict[str, float]:
    """The feed's default topic, if it names one of ``TOPICS`` or a synonym of one."""
    if not feed_topic:
        return {}
    return tag_topics([feed_topic])


def text_topics(text: str, title: str | None, language: str) -> tuple[dict[str, float], int]:
    """The classifier's posterior over topics and the number of known words it rests on."""
    model = topic_model()
    if language not in model.languages:
        return {}, 0
    terms = content_words(text, language)
    if title:
        terms += content_words(title, language) * TITLE_REPEAT
    p, known = model.posterior(terms, language)
    if known < TEXT_MIN_TOKENS:
        return {}, known
    return dict(zip(model.classes, p.tolist())), known


# classify_topics and classify_kind (enrich.kind) both weigh the same article's voice, one after
# the other: the second is a lookup. 32 entries cover the threads of one process.
@lru_cache(maxsize=32)
def personal_evidence(text: str, language: str) -> PersonalEvidence:
    """Count first-person singular pronouns in the writer's own voice (quotations removed)."""
    own_voice = _QUOTED.sub(" ", text or "")
    if is_unspaced(own_voice):
        count = sum(own_voice.count(p) for p in FIRST_PERSON_UNSPACED)
        words = word_count(own_voice)
        threshold = PERSONAL_MIN_DENSITY_UNSPACED
    else:
        pronouns = FIRST_PERSON.get(language, FIRST_PERSON["en"])
        tokens = _WORD.findall(own_voice.lower())
        count = sum(1 for t in tokens if t in pronouns)
        words = len(tokens)
        threshold = PERSONAL_MIN_DENSITY
    density = count / words if words else 0.0
    return PersonalEvidence(count, words, round(density, 5), threshold)


# --- combination -------------------------------------------------------------------------------


def combine_signals(signals: Sequence[tuple[float, Mapping[str, float]]]) -> dict[str, float]:
    """Weighted average of topic distributions, over the signals that are present."""
    present = [(w, d) for w, d in signals if w > 0 and d]
    total = sum(w for w, _ in present)
    scores: dict[str, float] = {}
    for weight, distribution in present:
        for topic, p in distribution.items():
            scores[topic] = scores.get(topic, 0.0) + weight * p / total
    return scores


def pick_topics(scores: Mapping[str, float], max_topics: int = 3) -> TopicResult:
    """The best topic, plus up to two more that are close enough (see SECONDARY_*)."""
    ranked = sorted(((s, t) for t, s in scores.items() if s > 0), key=lambda st: (-st[0], TOPICS.index(st[1])))
    if not ranked:
        return TopicResult((), ())
    best = ranked[0][0]
    chosen = [ranked[0]] + [
        (s, t) for s, t in ranked[1:] if s >= SECONDARY_MIN_SCORE and s >= SECONDARY_MIN_SHARE * best
    ]
    chosen = chosen[: max(1, min(3, max_topics))]
    return TopicResult(tuple(t for _, t in chosen), tuple(round(s, 4) for s, _ in chosen))


def classify_topics(
    text: str,
    *,
    title: str | None = None,
    language: str = "en",
    tags: Sequence[str] = (),
    feed_topic: str | None = None,
    max_topics: int = 3,
) -> TopicResult:
    """1-3 topics of an article, best first, from its feed topic, tags, text and voice."""
    text_dist, known = text_topics(text or "", title, language)
    text_weight = WEIGHT_TEXT * min(1.0, known / TEXT_FULL_WEIGHT_TOKENS) if text_dist else 0.0
    evidence = personal_evidence(text or "", language)
    signals = [
        (WEIGHT_FEED, feed_topics(feed_topic)),
        (WEIGHT_TAGS, tag_topics(tags)),
        (text_weight, text_dist),
        (WEIGHT_PERSONAL * evidence.strength, {"Personal": 1.0}),
    ]
    return pick_topics(combine_signals(signals), max_topics)


__all__ = [
    "TOPICS",
    "PersonalEvidence",
    "TopicModel",
    "TopicResult",
    "classify_topics",
    "combine_signals",
    "feed_topics",
    "personal_evidence",
    "pick_topics",
    "synonym_table",
    "tag_topics",
    "text_topics",
    "topic_model",
]

