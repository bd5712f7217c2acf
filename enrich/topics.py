"""Topics of an article: 1-3 of a fixed list, from the feed's topic, the entry's tags and the text.

Four signals, each a distribution over ``TOPICS``, are averaged with the weights below (over the
signals present for this article):

1. feed: the feed's default topic (OPML category or ``enrich feeds add --topic``);
2. tags: the entry's categories mapped through ``data/topic_synonyms.json``;
3. text: a linear model over tf-idf weighted, hashed word and character n-grams, one for feed
   summaries (``data/topic_model.npz``: complement naive Bayes and logistic regression mixed) and
   one for pages (``data/topic_model_page.npz``: complement naive Bayes), trained by
   ``scripts/train_topics.py`` on SIB-200 (32 languages), the News Category Dataset (English
   news) and passages written for this project. Character n-grams give scripts without spaces a
   signal; a language the models were not trained on gets none;
4. personal: first-person singular pronouns outside quotations, when their density passes
   ``PERSONAL_MIN_DENSITY``. The text classifier never says "Personal" by itself.

The best topic is always kept; a second and third only when a signal states them or the text's
calibrated probability says so for a neighbour of its first topic (``RELATED_TOPICS``).
"""

from __future__ import annotations

import itertools
import json
import re
import unicodedata
import zlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from enrich.text import QUOTED_SPEECH, WORD, is_unspaced, word_count

TOPICS: tuple[str, ...] = (
    "Technology", "Design", "Programming", "Science", "News", "Gaming", "Entertainment", "Business",
    "Finance", "Sports", "Health", "Food", "Travel", "Art", "Music", "Books", "Education", "Politics",
    "Personal",
)  # fmt: skip

DATA_DIR = Path(__file__).resolve().parent / "data"
SYNONYMS_FILE = DATA_DIR / "topic_synonyms.json"
MODEL_FILE = DATA_DIR / "topic_model.npz"
PAGE_MODEL_FILE = DATA_DIR / "topic_model_page.npz"

# --- signal weights ----------------------------------------------------------------------------
# Stated, not fitted: an entry's own tags are the most specific evidence a publisher gives, the
# text is the only signal every article has, and a feed's default topic is true of the feed on
# average but not of every entry in it. Only the signals present count: an article with text
# alone gets the classifier's posterior unchanged; a Japanese diary gets tags, feed and personal.
WEIGHT_FEED = 0.25
WEIGHT_TAGS = 0.35
WEIGHT_TEXT = 0.40
# The writer's voice says little about the subject: with 0.15, a first-person product review
# keeps its subject first and Personal second.
WEIGHT_PERSONAL = 0.15  # at full strength: density at twice the threshold or more

# --- text features -------------------------------------------------------------------------------
# Hashed features: 2^18 buckets keep collisions rare for ~30k training texts in 32 languages and
# the weights under 10 MB as float16. Words and word pairs carry the subject in spaced scripts;
# character 1-4-grams carry it in Chinese, Japanese and Thai and catch inflected forms elsewhere.
N_FEATURES = 1 << 18
CHAR_NGRAMS = (1, 2, 3, 4)
# The opening of an article names its subject: reading the first 2,000 characters keeps a long
# page under a millisecond, and title + description feeds are far shorter anyway.
MAX_TEXT_CHARS = 2000
# Two models (docs/topics.md): one weighted toward headline + description texts, one for pages.
# A text longer than a feed's summary is a page: WordPress, the commonest feed generator, cuts
# its feed excerpts at 55 words (its default excerpt_length), and the news corpus's headline +
# description texts are shorter still. Chosen from that, not by measurement.
PAGE_MIN_WORDS = 56
# Fewer letters than this and the text says nothing (a bare "Update" or a date).
TEXT_MIN_LETTERS = 12
# The text's weight grows with its length up to full weight here: a headline with its feed
# description (about 25 words, 150 letters) is a first-class text.
TEXT_FULL_WEIGHT_LETTERS = 120
# A text whose likeliest topic is under this probability says nothing: filed under that topic, it
# would be wrong far more often than right. The probabilities are calibrated; on the tune folds of
# the training data (docs/topics.md) first topics under 0.2 were ones a reader accepts 35% of the
# time on our passages and 24% on single SIB sentences, against 81% and 69% above it. It is the
# highest of 0.15, 0.2, 0.25, 0.3 that leaves the goal views alone: under 0.2 lie none of the
# three-sentence SIB items and 2 of 1,008 news headlines; under 0.25, 0.4% of the SIB items.
TEXT_MIN_PROBABILITY = 0.2

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
# The best topic is always kept. A second or third is kept when the feed or the entry's tags name
# it, or Personal has first-person evidence (stated, not guessed), or when the text's calibrated
# probability for it reaches the model's threshold for the article's language
# (``TopicModel.secondary_min_probability``) and it is a neighbour of the text's first topic
# (``RELATED_TOPICS``): scripts/train_topics.py sets the threshold per language on the tune folds
# of the training data, the lowest at which 70% of such second topics there were ones a reader
# accepts. A language without one gets no second topic from its text. Without the neighbour rule
# no threshold reached 70% in any language: when the text wavers between two unrelated topics,
# one of them is usually wrong (docs/topics.md).

# Topics a reader accepts beside each topic: the text may add these second to it, no others.
RELATED_TOPICS: Mapping[str, frozenset[str]] = {
    "Technology": frozenset({"Business", "Science", "Programming"}), "Programming": frozenset({"Technology"}),
    "Gaming": frozenset({"Technology", "Entertainment"}), "Design": frozenset({"Art", "Technology"}),
    "Art": frozenset({"Entertainment", "Design"}), "Music": frozenset({"Entertainment"}),
    "Books": frozenset({"Entertainment", "Art"}), "Finance": frozenset({"Business"}),
    "Business": frozenset({"Finance", "Technology"}), "Science": frozenset({"Technology", "Health"}),
    "Health": frozenset({"Science", "Food"}), "Food": frozenset({"Health", "Travel"}),
    "Politics": frozenset({"News"}), "News": frozenset({"Politics"}), "Education": frozenset({"Politics"}),
    "Travel": frozenset({"Food"}), "Entertainment": frozenset({"Music", "Art", "Books"}),
}  # fmt: skip

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
    """A linear model over hashed n-grams (``text_features``): softmax of weights . features + bias.

    The weights are 8-bit codes times a scale per feature, calibrated (a temperature folded into
    the scales and the bias) so that the softmax is a probability.
    """

    classes: tuple[str, ...]
    weights: np.ndarray  # N_FEATURES x classes, int8 codes
    scale: np.ndarray  # N_FEATURES: what one code of the feature's row is worth
    bias: np.ndarray  # classes
    idf: np.ndarray  # N_FEATURES: inverse document frequency in the training data
    languages: frozenset[str]  # languages it was trained on
    secondary_min_probability: Mapping[str, float]  # language -> threshold for a second topic
    title_repeat: int = 1  # a title counts this many times, as the headlines it was trained on

    def posterior(self, text: str) -> np.ndarray:
        """P(topic | text) over ``classes``."""
        columns, values = text_features(text)
        values = unit_length(values * self.idf[columns])
        logits = (values * self.scale[columns]) @ self.weights[columns].astype(np.float32) + self.bias
        p = np.exp(logits - logits.max())
        return p / p.sum()


# --- features --------------------------------------------------------------------------------

_NOT_LETTERS = re.compile(r"[\W\d_]+", re.UNICODE)
# 64-bit multiplicative hashing (FNV prime, splitmix constant): vectorised over all n-grams of a text.
_HASH_PRIME = np.uint64(0x100000001B3)
_HASH_MIX = np.uint64(0xBF58476D1CE4E5B9)


def text_features(
    text: str, char_ngrams: tuple[int, ...] = CHAR_NGRAMS, words: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Hashed words, word pairs and character n-grams of ``text``: (columns, values).

    Values are log(1 + count), so a long text repeating one word does not drown the others; the
    model weighs them by inverse document frequency and scales them to unit length. The options
    only serve the training script's comparison of feature sets.
    """
    text = unicodedata.normalize("NFKC", text[:MAX_TEXT_CHARS]).lower()
    tokens = WORD.findall(text) if words else []
    keys = [zlib.crc32(w.encode()) for w in tokens]
    keys += [zlib.crc32(f"{a} {b}".encode()) for a, b in itertools.pairwise(tokens)]
    buckets = [np.array(keys, dtype=np.uint64) % N_FEATURES]
    letters = " " + _NOT_LETTERS.sub(" ", text) + " "
    codes = np.frombuffer(letters.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    for n in char_ngrams:
        count = len(codes) - n + 1
        if count <= 0:
            break
        h = np.full(count, n, dtype=np.uint64)  # seeded with n: "ab" as a 2-gram differs from "ab" in a 3-gram
        for k in range(n):
            h = (h * _HASH_PRIME) ^ codes[k : k + count]
        h ^= h >> np.uint64(29)
        buckets.append(((h * _HASH_MIX) >> np.uint64(40)) % N_FEATURES)
    columns, counts = np.unique(np.concatenate(buckets).astype(np.int64), return_counts=True)
    return columns, np.log1p(counts.astype(np.float32))


def unit_length(values: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(values))
    return values / norm if norm else values


def letter_count(text: str) -> int:
    return sum(ch.isalpha() for ch in text[:MAX_TEXT_CHARS])


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


def _load_model(path: Path) -> TopicModel:
    with np.load(path, allow_pickle=False) as data:
        classes = tuple(str(c) for c in data["classes"])
        unknown = set(classes) - set(TOPICS)
        if unknown or "Personal" in classes:
            raise ValueError(f"{path.name}: classes {sorted(unknown | {'Personal'} & set(classes))} are not text topics")
        if data["weights"].shape != (N_FEATURES, len(classes)):
            raise ValueError(f"{path.name}: weights of shape {data['weights'].shape}, expected ({N_FEATURES}, {len(classes)})")
        return TopicModel(
            classes=classes,
            weights=data["weights"],
            scale=data["scale"].astype(np.float32),
            bias=data["bias"].astype(np.float32),
            idf=data["idf"].astype(np.float32),
            languages=frozenset(str(lang) for lang in data["languages"]),
            secondary_min_probability=dict(
                zip((str(lang) for lang in data["secondary_languages"]), data["secondary_min_probability"].tolist())
            ),
            title_repeat=int(data["title_repeat"]) if "title_repeat" in data.files else 1,
        )


@lru_cache(maxsize=1)
def topic_model() -> TopicModel:
    """The short-text model (``data/topic_model.npz``), loaded once per process on first use."""
    return _load_model(MODEL_FILE)


@lru_cache(maxsize=1)
def page_topic_model() -> TopicModel:
    """The page model (``data/topic_model_page.npz``), loaded once per process on first use."""
    return _load_model(PAGE_MODEL_FILE)


def model_for(body: str) -> TopicModel:
    """The page model for a text longer than a feed's summary, else the short-text model."""
    return page_topic_model() if word_count(body) >= PAGE_MIN_WORDS else topic_model()


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
    """The classifier's posterior over topics and the number of letters it rests on.

    Nothing for a language the model was not trained on: its n-grams would still score, but a
    confident answer from them would be a guess.
    """
    body = "\n".join(filter(None, [title, text]))
    letters = letter_count(body)
    if letters < TEXT_MIN_LETTERS:
        return {}, letters
    model = model_for(body)
    if language not in model.languages:
        return {}, 0
    if title and model.title_repeat > 1:
        body = "\n".join([title] * model.title_repeat + ([text] if text else []))
    return dict(zip(model.classes, model.posterior(body).tolist(), strict=True)), letters


# classify_topics and classify_kind (enrich.kind) both weigh the same article's voice, one after
# the other: the second is a lookup. 32 entries cover the threads of one process.
@lru_cache(maxsize=32)
def personal_evidence(text: str, language: str) -> PersonalEvidence:
    """Count first-person singular pronouns in the writer's own voice (quotations removed)."""
    own_voice = QUOTED_SPEECH.sub(" ", text or "")
    if is_unspaced(own_voice):
        count = sum(own_voice.count(p) for p in FIRST_PERSON_UNSPACED)
        words = word_count(own_voice)
        threshold = PERSONAL_MIN_DENSITY_UNSPACED
    else:
        pronouns = FIRST_PERSON.get(language, FIRST_PERSON["en"])
        tokens = WORD.findall(own_voice.lower())
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


def pick_topics(scores: Mapping[str, float], max_topics: int = 3, supported: frozenset[str] = frozenset()) -> TopicResult:
    """The best topic, plus up to two more among ``supported`` (stated by feed, tags or voice, or confident text)."""
    ranked = sorted(((s, t) for t, s in scores.items() if s > 0), key=lambda st: (-st[0], TOPICS.index(st[1])))
    if not ranked:
        return TopicResult((), ())
    chosen = [ranked[0]] + [(s, t) for s, t in ranked[1:] if t in supported]
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
    if text_dist and max(text_dist.values()) < TEXT_MIN_PROBABILITY:
        text_dist = {}
    text_weight = WEIGHT_TEXT * min(1.0, known / TEXT_FULL_WEIGHT_LETTERS) if text_dist else 0.0
    evidence = personal_evidence(text or "", language)
    feed, tagged = feed_topics(feed_topic), tag_topics(tags)
    signals = [
        (WEIGHT_FEED, feed),
        (WEIGHT_TAGS, tagged),
        (text_weight, text_dist),
        (WEIGHT_PERSONAL * evidence.strength, {"Personal": 1.0}),
    ]
    stated = frozenset(feed) | frozenset(tagged) | ({"Personal"} if evidence.personal else set())
    confident = confident_text_topics(text_dist, language, "\n".join(filter(None, [title, text])))
    return pick_topics(combine_signals(signals), max_topics, stated | confident)


def confident_text_topics(text_dist: Mapping[str, float], language: str, body: str) -> frozenset[str]:
    """The text's first topic and its neighbours (``RELATED_TOPICS``) whose calibrated probability
    reaches the secondary threshold of the language in the model that read ``body``."""
    if not text_dist:
        return frozenset()
    threshold = model_for(body).secondary_min_probability.get(language)
    if threshold is None:
        return frozenset()
    first = max(text_dist, key=text_dist.get)
    candidates = {first} | RELATED_TOPICS.get(first, frozenset())
    return frozenset(t for t in candidates if text_dist[t] >= threshold)


__all__ = [
    "TOPICS",
    "RELATED_TOPICS",
    "PersonalEvidence",
    "TopicModel",
    "TopicResult",
    "classify_topics",
    "combine_signals",
    "feed_topics",
    "personal_evidence",
    "pick_topics",
    "synonym_table",
    "model_for",
    "page_topic_model",
    "tag_topics",
    "text_topics",
    "topic_model",
]

