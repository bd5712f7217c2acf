"""Train the topic classifiers shipped in enrich/data/: topic_model.npz (short texts) and, with --page,
topic_model_page.npz (texts of a page's length; see enrich.topics.model_for), from ../shared and our passages.

Training data (labels mapped onto our 19 topics per corpus, below):

- SIB-200 train split, 32 languages (../shared/corpora/topics/sib-200/<lang>.train.tsv), one
  sentence an item; the dev split is held back;
- News Category Dataset (../shared/corpora/topics/news-category), English headline + description,
  minus a held-back 30% chosen by a hash of the link; in the sections without a subject of their
  own, our reading of each training item (scripts/news_topic_labels.tsv);
- passages written for this project (scripts/topic_passages/<lang>[.<part>].txt: en.txt, the
  news register en.news1.txt..., whole pages en.page1.txt...) for the topics and the registers
  these corpora lack, minus a held-back 20% chosen by a hash of the text.

Model choice, calibration (a temperature) and the secondary-topic thresholds are measured on
"tune" folds of the training data (hash slices, each predicted by a model fitted without it), never
on the held-back splits; the final model is then fitted on all the training data. bench/topics.py
reports on the held-back splits.

Run: uv run --group train python scripts/train_topics.py [--select] [--page] [--prior-shift]
(scikit-learn is in the "train" dependency group, not installed by a plain `uv sync`)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from enrich.topics import (
    MODEL_FILE,
    N_FEATURES,
    PAGE_MODEL_FILE,
    RELATED_TOPICS,
    TOPICS,
    text_features,
)

TOPIC_CORPORA = ROOT.parent / "shared" / "corpora" / "topics"
SIB_DIR = TOPIC_CORPORA / "sib-200"
NEWS_FILE = TOPIC_CORPORA / "news-category" / "news_category_train.jsonl"
PASSAGES_DIR = Path(__file__).resolve().parent / "topic_passages"
# Our reading of the news items in the sections without a subject of their own (U.S. NEWS, WORLD
# NEWS, COMEDY, CRIME, ...: link, then the tab a reader would file the item under, or SKIP), for
# the training slices only: see news_items and docs/topics.md.
NEWS_LABELS_FILE = Path(__file__).resolve().parent / "news_topic_labels.tsv"

# SIB-200 category -> (training label, topics a reader would accept first). SIB's "geography"
# (rivers, islands, parks) has no tab of its own: its sentences read like travel guides, so they
# train Travel, and Science (earth science) or News are accepted too.
SIB_TOPICS: dict[str, tuple[str, frozenset[str]]] = {
    "science/technology": ("Science", frozenset({"Science", "Technology"})),
    "travel": ("Travel", frozenset({"Travel"})),
    "politics": ("Politics", frozenset({"Politics", "News"})),
    "sports": ("Sports", frozenset({"Sports"})),
    "health": ("Health", frozenset({"Health", "Science"})),
    "entertainment": ("Entertainment", frozenset({"Entertainment", "Music", "Art", "Books", "Gaming"})),
    "geography": ("Travel", frozenset({"Travel", "Science", "News"})),
}
# HuffPost section -> our topic. None: no counterpart among the 19 tabs (fashion, parenting, home
# décor), neither trained on nor scored. Sections about a community or a kind of story rather than
# a subject (U.S. NEWS, CRIME, WEIRD NEWS, BLACK VOICES, ...) are what the News tab is for.
NEWS_TOPICS: dict[str, str | None] = {
    "POLITICS": "Politics", "ENTERTAINMENT": "Entertainment", "COMEDY": "Entertainment",
    "U.S. NEWS": "News", "WORLD NEWS": "News", "CRIME": "News", "MEDIA": "News", "WEIRD NEWS": "News",
    "BLACK VOICES": "News", "WOMEN": "News", "QUEER VOICES": "News", "LATINO VOICES": "News",
    "IMPACT": "News", "RELIGION": "News", "ENVIRONMENT": "News",
    "SPORTS": "Sports", "WELLNESS": "Health", "FOOD & DRINK": "Food", "BUSINESS": "Business",
    "MONEY": "Finance", "TECH": "Technology", "SCIENCE": "Science", "TRAVEL": "Travel",
    "CULTURE & ARTS": "Art", "EDUCATION": "Education",
    "STYLE & BEAUTY": None, "PARENTING": None, "HOME & LIVING": None,
}  # fmt: skip
# The sections whose subject is one of our tabs, each a different one: the closest to how the goal
# ("real English news, macro-F1 of the first topic") is measured, over these 12.
NEWS_CLEAR_SECTIONS = frozenset({
    "POLITICS", "ENTERTAINMENT", "SPORTS", "FOOD & DRINK", "WELLNESS", "BUSINESS", "MONEY", "TECH",
    "SCIENCE", "TRAVEL", "CULTURE & ARTS", "EDUCATION",
})  # fmt: skip
# Other topics a reader would also accept for a section: a secondary topic among these counts as right.
NEWS_ALSO: dict[str, frozenset[str]] = {
    "WORLD NEWS": frozenset({"Politics"}), "U.S. NEWS": frozenset({"Politics"}),
    "MEDIA": frozenset({"Business", "Entertainment"}), "ENVIRONMENT": frozenset({"Science", "Politics"}),
    "IMPACT": frozenset({"Science"}), "COMEDY": frozenset({"Politics"}),
    "CULTURE & ARTS": frozenset({"Books", "Entertainment", "Music"}), "MONEY": frozenset({"Business"}),
    "BUSINESS": frozenset({"Finance", "Technology"}), "TECH": frozenset({"Business", "Science"}),
    "SCIENCE": frozenset({"Technology", "Health"}), "WELLNESS": frozenset({"Science", "Food"}),
    "FOOD & DRINK": frozenset({"Health", "Travel"}), "TRAVEL": frozenset({"Food"}),
    "EDUCATION": frozenset({"Politics"}), "SPORTS": frozenset({"Entertainment"}),
    "ENTERTAINMENT": frozenset({"Music", "Books", "Art"}), "POLITICS": frozenset({"News"}),
}  # fmt: skip
# Passages: topics a reader would also accept for each topic, for scoring secondary topics: the
# neighbours the runtime allows beside a first topic.
PASSAGE_ALSO = RELATED_TOPICS

NEWS_HELD_BACK = 3  # of 10 hash slices
PASSAGES_HELD_BACK = 1  # of 5 hash slices
# Hash slices (of 10) of the training data used to choose the model and calibrate it: each is
# predicted by a model fitted on the other nine tenths (the final model is fitted on all of it).
TUNE_FOLDS = (5, 6, 7, 8, 9)


@dataclass(frozen=True, slots=True)
class Item:
    """One labelled text: its training label and the topics a reader would accept."""

    corpus: str  # "sib", "news" or "passages"
    language: str
    text: str
    label: str
    allowed: frozenset[str]
    key: str  # stable identity for hash splits
    origin: str = ""  # the corpus's own label: SIB category, HuffPost section, passage topic
    register: str = ""  # passages: "base" (<lang>.txt), "news" (<lang>.newsN.txt) or "page" (<lang>.pageN.txt)
    read_by_us: bool = False  # news: the label is ours (NEWS_LABELS_FILE), not the section's mapping


def _slice(key: str, parts: int) -> int:
    return zlib.crc32(key.encode()) % parts


def sib_sentences(split: str) -> Iterator[tuple[str, str, str, str]]:
    """(language, index_id, category, text) of one SIB-200 split."""
    for path in sorted(SIB_DIR.glob(f"*.{split}.tsv")):
        language = path.name.split(".")[0]
        for line in path.read_text(encoding="utf-8").splitlines()[1:]:
            index_id, category, text = line.split("\t", 2)
            yield language, index_id, category, text.strip().strip('"')


def sib_items(split: str, group: int) -> list[Item]:
    """SIB-200 items of ``group`` sentences of one category and language, in the file's order."""
    by_key: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for language, index_id, category, text in sib_sentences(split):
        by_key.setdefault((language, category), []).append((index_id, text))
    items = []
    for (language, category), rows in sorted(by_key.items()):
        label, allowed = SIB_TOPICS[category]
        for start in range(0, len(rows) - group + 1, group):
            chunk = rows[start : start + group]
            ids = "+".join(i for i, _ in chunk)
            text = " ".join(t for _, t in chunk)
            items.append(Item("sib", language, text, label, allowed, f"{language}:{ids}", category))
    return items


SKIP = "SKIP"  # in NEWS_LABELS_FILE: no tab fits the item


def news_labels(path: Path | None = None) -> dict[str, str]:
    """Link -> the tab a news item was read as (or SKIP), from a labels file: ours for training
    (NEWS_LABELS_FILE, the default) or the reader's in bench/labels."""
    path, labels = path or NEWS_LABELS_FILE, {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        link, topic = line.split("\t")
        if topic != SKIP and (topic not in TOPICS or topic == "Personal"):
            raise ValueError(f"{path.name}:{number}: not a text topic: {topic!r}")
        labels[link] = topic
    return labels


def news_items(read_by_us: bool = False) -> list[Item]:
    """The news corpus's items, labelled by the mapping of their section or, with ``read_by_us``,
    where we read the item (``news_labels``: sections without a subject, training slices only), by
    our label."""
    items, ours = [], news_labels() if read_by_us else {}
    for line in NEWS_FILE.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        section, link = row["category"], row["link"]
        mapped = NEWS_TOPICS[section]
        if link in ours and (section in NEWS_CLEAR_SECTIONS or _slice(link, 10) < NEWS_HELD_BACK):
            raise ValueError(f"{NEWS_LABELS_FILE.name}: {link} is held back or in a section labelled by its editors")
        topic = ours.get(link, mapped)
        if topic is None or topic == SKIP:
            continue
        text = f"{row['headline']}\n{row['short_description']}".strip()
        allowed = frozenset({topic} | ({mapped} - {None})) | NEWS_ALSO.get(section, frozenset())
        items.append(Item("news", "en", text, topic, allowed, link, section, read_by_us=link in ours))
    return items


def passage_register(path: Path) -> str:
    """The register of a passage file: en.txt is "base", en.news3.txt "news", en.page1.txt "page"."""
    parts = path.name.split(".")
    register = "base" if len(parts) == 2 else parts[1].rstrip("0123456789")
    if register not in PASSAGE_REGISTERS:
        raise ValueError(f"{path.name}: not a passage file name (<lang>.txt, <lang>.newsN.txt or <lang>.pageN.txt)")
    return register


# The kinds of passage file: our first passages (a paragraph a line), the news register (a headline
# and its feed description) and whole pages (an article a line, 120-350 words).
PASSAGE_REGISTERS = ("base", "news", "page")


def passage_items(registers: tuple[str, ...] = PASSAGE_REGISTERS) -> list[Item]:
    """Our passages from the files of the given ``registers``."""
    items = []
    for path in sorted(PASSAGES_DIR.glob("*.txt")):
        register = passage_register(path)
        if register not in registers:
            continue
        # "en.txt", "en.news1.txt": the language is the name's part before the first dot.
        language, topic = path.name.split(".")[0], None
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("[") and line.endswith("]"):
                topic = line[1:-1].strip()
                if topic not in TOPICS or topic == "Personal":
                    raise ValueError(f"{path.name}:{number}: not a text topic: {topic!r}")
                continue
            if topic is None:
                raise ValueError(f"{path.name}:{number}: text before the first [Topic] header")
            # " | " separates a headline from its description, or a page's paragraphs, in a passage line.
            text = line.replace(" | ", "\n")
            allowed = frozenset({topic}) | PASSAGE_ALSO.get(topic, frozenset())
            items.append(Item("passages", language, text, topic, allowed, f"{language}:{line}", topic, register))
    return items


@dataclass(frozen=True, slots=True)
class Splits:
    train: list[Item]
    held_back: dict[str, list[Item]]  # corpus name -> items never trained on


def splits(news_catch_all: bool = True, registers: tuple[str, ...] = PASSAGE_REGISTERS,
           headline_repeat: int = 1, news_read_by_us: bool = False) -> Splits:
    """Training items and the held-back items of each corpus (SIB dev as three-sentence items).

    ``news_catch_all``: train on the news sections mapped to News too (Setting.news_catch_all);
    ``registers``: train on the passage files of these registers (Setting.registers);
    ``headline_repeat``: a headline counts this many times in the training texts that have one
    (Setting.headline_repeat); ``news_read_by_us``: train on the news items we labelled
    (Setting.news_read_by_us). The held-back items are the same either way.
    """
    news, passages = news_items(news_read_by_us), passage_items()
    trained_passages = [i for i in passages if i.register in registers]
    train = sib_items("train", 1)
    train += [i for i in news if _slice(i.key, 10) >= NEWS_HELD_BACK and (news_catch_all or i.label != "News")]
    train += [i for i in trained_passages if _slice(i.key, 5) >= PASSAGES_HELD_BACK]
    train = [with_headline_repeated(i, headline_repeat) for i in train]
    held_back = {
        "news": [i for i in news if _slice(i.key, 10) < NEWS_HELD_BACK],
        "news 12": [i for i in news if _slice(i.key, 10) < NEWS_HELD_BACK and i.origin in NEWS_CLEAR_SECTIONS],
        "passages": [i for i in passages if _slice(i.key, 5) < PASSAGES_HELD_BACK],
        "sib-dev": sib_items("dev", 3),
        "sib-dev sentences": sib_items("dev", 1),
    }
    return Splits(train, held_back)


def with_headline_repeated(item: Item, times: int) -> Item:
    """The item with its headline (the first line of a news item or a news-register passage) written
    ``times`` times, as ``enrich.topics`` reads a title with a model trained so."""
    if times == 1 or not (item.corpus == "news" or item.register == "news") or "\n" not in item.text:
        return item
    headline, rest = item.text.split("\n", 1)
    return replace(item, text="\n".join([headline] * times + [rest]))


def tune_fold(item: Item) -> int:
    """The training data's hash slice (of 10) for model choice and calibration (TUNE_FOLDS)."""
    # SIB groups share sentences with singles, and its languages translate the same sentences:
    # slice by the first sentence's id, whatever the language, so no translation leaks across.
    key = item.key.split(":", 1)[1].split("+")[0] if item.corpus == "sib" else item.key
    return _slice("tune:" + key, 10)


# --- training --------------------------------------------------------------------------------------


def feature_matrix(texts: list[str], idf: np.ndarray, counts=None, features: str = "words+chars"):
    """Rows of ``text_features`` weighted by ``idf`` and scaled to unit length, as the model does."""
    from sklearn.preprocessing import normalize

    counts = count_matrix(texts, features) if counts is None else counts
    return normalize(counts.multiply(idf).tocsr())


def inverse_document_frequency(counts) -> np.ndarray:
    """Smoothed idf per feature bucket (scikit-learn's formula); unseen buckets get the maximum."""
    document_frequency = np.bincount(counts.indices, minlength=N_FEATURES)
    return (np.log((1 + counts.shape[0]) / (1 + document_frequency)) + 1).astype(np.float32)


def count_matrix(texts: list[str], features: str = "words+chars"):
    from scipy.sparse import csr_matrix

    options = {"words+chars": {}, "words": {"char_ngrams": ()}, "chars": {"words": False}}[features]
    indptr, indices, values = [0], [], []
    for text in texts:
        columns, vals = text_features(text, **options)
        indices.append(columns)
        values.append(vals)
        indptr.append(indptr[-1] + len(columns))
    return csr_matrix(
        (np.concatenate(values), np.concatenate(indices), np.array(indptr)), shape=(len(texts), N_FEATURES)
    )


@dataclass(frozen=True, eq=False)
class Setting:
    """One way to fit the model, compared with others by ``--select``."""

    # "complement-nb"; "logistic" (log loss by stochastic gradient descent); "nb+logistic": both,
    # their logits each at its own calibrated temperature, mixed with ``logistic_share`` (still one
    # linear model: the sum of two).
    model: str
    alpha: float  # smoothing (naive Bayes) or L2 penalty (logistic)
    corpus_weight: dict[str, float]  # each corpus's total weight, split over its classes
    balance: dict[str, float]  # classes within a corpus weigh count^-balance: 1 makes them equal
    features: str = "words+chars"
    news_catch_all: bool = True  # train on the news sections mapped to News (U.S. NEWS, CRIME, ...)
    registers: tuple[str, ...] = PASSAGE_REGISTERS  # the passage files trained on (PASSAGE_REGISTERS)
    logistic_share: float = 0.5  # "nb+logistic": the logistic regression's share of the logits
    l2: float = 3e-6  # "nb+logistic": the logistic regression's L2 penalty
    headline_repeat: int = 1  # a headline counts this many times (the model file says so to enrich.topics)
    news_read_by_us: bool = False  # train on the news items of NEWS_LABELS_FILE, with our labels

    def parts(self) -> tuple[Setting, ...]:
        """The single models fitted for this setting: itself, or the two of "nb+logistic"."""
        if self.model != "nb+logistic":
            return (self,)
        return (replace(self, model="complement-nb"), replace(self, model="logistic", alpha=self.l2))

    def shares(self) -> tuple[float, ...]:
        return (1 - self.logistic_share, self.logistic_share) if self.model == "nb+logistic" else (1.0,)

    def splits(self) -> Splits:
        """The training and held-back items this setting's data options make (``splits``)."""
        return splits(*self.data())

    def data(self) -> tuple[bool, tuple[str, ...], int, bool]:
        """The options that decide what is trained on: ``splits``'s arguments, in order."""
        return self.news_catch_all, self.registers, self.headline_repeat, self.news_read_by_us


def sample_weights(items: list[Item], setting: Setting) -> np.ndarray:
    """Per-item weights: each group's total as set, classes within a group weighted count^-balance.

    The groups are the corpora, with the news items we labelled (``Item.read_by_us``) a group of
    their own, "news read", so adding them does not thin out the editors' labels. (Balancing classes
    within each language of a corpus instead scored no better on the tune folds: news 12 macro-F1
    0.594 against 0.602.)
    """
    groups = [weight_group(i) for i in items]
    counts = Counter(zip(groups, (i.label for i in items)))
    raw = np.array([counts[(g, i.label)] ** -setting.balance[g] for g, i in zip(groups, items)])
    weights = np.empty(len(items))
    for group in set(groups):
        mask = np.array([g == group for g in groups])
        weights[mask] = raw[mask] / raw[mask].sum() * setting.corpus_weight[group]
    return weights / weights.mean()


def weight_group(item: Item) -> str:
    return "news read" if item.read_by_us else item.corpus


@dataclass(frozen=True)
class Linear:
    """What the runtime model is: logits = features @ weights + bias, then softmax."""

    classes: list[str]
    weights: np.ndarray  # features x classes
    bias: np.ndarray

    def logits(self, x) -> np.ndarray:
        return np.asarray(x @ self.weights) + self.bias


def softmax(logits: np.ndarray) -> np.ndarray:
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


def fit(items: list[Item], x, setting: Setting) -> Linear:
    """One single model's weights on feature rows ``x`` of ``items``, before calibration."""
    labels, weights = [i.label for i in items], sample_weights(items, setting)
    if setting.model == "complement-nb":
        from sklearn.naive_bayes import ComplementNB

        nb = ComplementNB(alpha=setting.alpha).fit(x, labels, sample_weight=weights)
        return Linear([str(c) for c in nb.classes_], nb.feature_log_prob_.T, np.zeros(len(nb.classes_)))
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import SGDClassifier

    # 20 passes: the tune-slice log-loss no longer moved (the stopping tolerance warns, harmlessly).
    sgd = SGDClassifier(loss="log_loss", alpha=setting.alpha, max_iter=20, tol=1e-4, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sgd.fit(x, labels, sample_weight=weights)
    return Linear([str(c) for c in sgd.classes_], sgd.coef_.T, sgd.intercept_)


def mix(parts: list[Linear], weights: tuple[float, ...]) -> Linear:
    """One linear model whose logits are the weighted sum of the parts' logits."""
    return Linear(
        parts[0].classes,
        sum(w * p.weights for w, p in zip(weights, parts, strict=True)),
        sum(w * p.bias for w, p in zip(weights, parts, strict=True)),
    )


def quantise(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The weights as shipped: centred per feature, then 8-bit codes and a scale per feature.

    Centring subtracts the same amount from every topic's logit, which the softmax ignores. A
    scale per feature (not per topic) keeps the rounding small where weights are small: one scale
    per topic moved logits by up to 0.24 on the demo and BBC texts, one per feature by 0.01.
    """
    centred = weights - weights.mean(axis=1, keepdims=True)
    scale = np.abs(centred).max(axis=1) / 127
    scale[scale == 0] = 1.0
    return np.round(centred / scale[:, None]).astype(np.int8), scale.astype(np.float32)


@dataclass(frozen=True)
class Tuned:
    """Out-of-fold predictions on the tune folds of the training data."""

    classes: list[str]
    logits: np.ndarray
    items: list[Item]
    joined: dict[str, tuple[np.ndarray, list[Item]]]  # view name -> logits and items of JOINED texts
    part_weights: tuple[float, ...]  # what each of Setting.parts() is multiplied by in the mix

    def gold(self) -> np.ndarray:
        return np.array([self.classes.index(i.label) for i in self.items])


# Longer texts for the tune folds, which otherwise hold single sentences and headlines: texts of
# one corpus, language and label in a fold joined in this many (a news "article" of six headlines
# and descriptions, a page of eight passages, SIB's three-sentence items). A model that reads
# headlines well can still fail on articles (a class prior outweighing diluted evidence).
JOINED = {"sib x3": ("sib", 3), "passages x8": ("passages", 8), "news x6": ("news", 6)}


def joined_texts(items: list[Item], corpus: str, size: int) -> list[Item]:
    groups: dict[tuple[str, str], list[Item]] = {}
    for item in items:
        if item.corpus == corpus:
            groups.setdefault((item.language, item.label), []).append(item)
    return [
        replace(members[start], text="\n".join(i.text for i in members[start : start + size]))
        for members in groups.values()
        for start in range(0, len(members) - size + 1, size)
    ]


def out_of_fold(items: list[Item], counts, setting: Setting) -> Tuned:
    """Logits of every item in a tune fold (and of JOINED texts) from a model fitted without that fold.

    The parts of a mixed setting are fitted per fold, each part's temperature is measured on its
    own out-of-fold logits, and the mix (share x temperature per part) is then scored as one model.
    """
    folds = np.array([tune_fold(i) for i in items])
    fitted, part_logits = [], [[] for _ in setting.parts()]
    for fold in TUNE_FOLDS:
        train, tune = np.flatnonzero(folds != fold), np.flatnonzero(folds == fold)
        idf = inverse_document_frequency(counts[train])
        x_train, x_tune = feature_matrix([], idf, counts[train]), feature_matrix([], idf, counts[tune])
        parts = [fit([items[k] for k in train], x_train, part) for part in setting.parts()]
        for logits, part in zip(part_logits, parts, strict=True):
            logits.append(part.logits(x_tune))
        fitted.append((idf, tune, parts))
    predicted = [items[k] for _, tune, _ in fitted for k in tune]
    if len(setting.parts()) == 1:
        part_weights = (1.0,)
    else:
        classes = fitted[0][2][0].classes
        gold = np.array([classes.index(i.label) for i in predicted])
        part_weights = tuple(
            share * best_temperature(np.vstack(logits), gold)
            for share, logits in zip(setting.shares(), part_logits, strict=True)
        )
    logits = []
    joined: dict[str, tuple[list, list]] = {name: ([], []) for name in JOINED}
    for idf, tune, parts in fitted:
        model = mix(parts, part_weights)
        codes, scale = quantise(model.weights)  # measured as shipped
        model = Linear(model.classes, codes.astype(np.float32) * scale[:, None], model.bias)
        logits.append(model.logits(feature_matrix([], idf, counts[tune])))
        for name, (corpus, size) in JOINED.items():
            texts = joined_texts([items[k] for k in tune], corpus, size)
            if not texts:  # the base passages' fold may hold fewer than ``size`` of any one kind
                continue
            joined[name][0].append(model.logits(feature_matrix([i.text for i in texts], idf, None, setting.features)))
            joined[name][1].extend(texts)
    views = {name: (np.vstack(view_logits), view_items) for name, (view_logits, view_items) in joined.items()}
    return Tuned(model.classes, np.vstack(logits), predicted, views, part_weights)


def log_loss(p: np.ndarray, gold: np.ndarray) -> float:
    return -float(np.mean(np.log(p[np.arange(len(gold)), gold] + 1e-12)))


# Temperatures tried: the logits are multiplied by the one with the lowest tune log-loss.
TEMPERATURE_GRID = np.round(np.exp(np.linspace(np.log(0.1), np.log(30), 120)), 4)


def best_temperature(logits: np.ndarray, gold: np.ndarray) -> float:
    return float(min(TEMPERATURE_GRID, key=lambda t: log_loss(softmax(logits * t), gold)))


def temperature(tuned: Tuned) -> float:
    """The scale of the logits that makes their softmax calibrated on the tune folds."""
    return best_temperature(tuned.logits, tuned.gold())


# Secondary topics: a second or third topic from the text when it is a neighbour of the text's
# first topic (enrich.topics.RELATED_TOPICS) and its calibrated probability reaches a threshold at
# which the tune folds' secondaries were acceptable at least this often (the goal), and at that
# threshold and every higher one tried; per language, with at least SECONDARY_MIN_GIVEN
# secondaries to judge by. Otherwise the text adds no second topic.
SECONDARY_MIN_PRECISION = 0.70
SECONDARY_MIN_GIVEN = 30
SECONDARY_GRID = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5)
# Judged on the corpora whose accepted topics were set by their own labels (NEWS_ALSO, SIB_TOPICS):
# our passages accept exactly the neighbours of their label (PASSAGE_ALSO is RELATED_TOPICS), so a
# neighbour beside a right first topic would count as right there whatever the text said. The news
# items we labelled (Item.read_by_us) are left out too: our reading gave each one topic, not the
# set of topics a reader accepts.
SECONDARY_JUDGED_ON = frozenset({"news", "sib"})


def secondary_outcomes(tuned: Tuned, t: float) -> dict[str, list[tuple[float, bool]]]:
    """Per language: (probability, acceptable) of every item's second and third topics that are
    neighbours of its first (the only ones the runtime may add), on SECONDARY_JUDGED_ON."""
    p = softmax(tuned.logits * t)
    ranked = np.argsort(-p, axis=1)[:, :3]
    out: dict[str, list[tuple[float, bool]]] = {}
    for item, row, (first, *candidates) in zip(tuned.items, p, ranked, strict=True):
        if item.corpus not in SECONDARY_JUDGED_ON or item.read_by_us:
            continue
        neighbours = RELATED_TOPICS.get(tuned.classes[first], frozenset())
        for c in candidates:
            if tuned.classes[c] in neighbours:
                out.setdefault(item.language, []).append((float(row[c]), tuned.classes[c] in item.allowed))
    return out


def precision_at(outcomes: list[tuple[float, bool]], threshold: float) -> tuple[float, int]:
    kept = [ok for p, ok in outcomes if p >= threshold]
    return (sum(kept) / len(kept) if kept else float("nan")), len(kept)


def secondary_thresholds(tuned: Tuned, t: float) -> dict[str, float]:
    """Language -> the lowest threshold in SECONDARY_GRID meeting SECONDARY_MIN_PRECISION, there and
    at every higher threshold with as many secondaries to judge by (SECONDARY_MIN_GIVEN), if any.
    Higher thresholds keep fewer: 2 right of 3 given at 0.4 says nothing, and had blocked English
    secondaries right 0.75-0.78 of the time at 0.10-0.15 (53 and 32 given)."""
    chosen = {}
    for language, outcomes in sorted(secondary_outcomes(tuned, t).items()):
        for threshold in SECONDARY_GRID:
            at_and_above = [precision_at(outcomes, th) for th in SECONDARY_GRID if th >= threshold]
            given = at_and_above[0][1]
            if given >= SECONDARY_MIN_GIVEN and all(n < SECONDARY_MIN_GIVEN or q >= SECONDARY_MIN_PRECISION
                                                    for q, n in at_and_above):
                chosen[language] = threshold
                break
    return chosen


def macro_f1(gold: list[str], predicted: list[str | None]) -> float:
    f1s = []
    for c in sorted(set(gold)):
        tp = sum(g == c and p == c for g, p in zip(gold, predicted))
        fp = sum(g != c and p == c for g, p in zip(gold, predicted))
        fn = sum(g == c and p != c for g, p in zip(gold, predicted))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(f1s) / len(f1s)


def reweighted_macro_f1(gold: list[str], predicted: list[str | None],
                        frequency: dict[str, float] | None = None) -> float:
    """Macro-F1 as it would be if the gold classes had the relative ``frequency`` given (None:
    every class equally frequent).

    Each class's recall is its own; its precision counts the other classes' items it took as
    shares of their rows (a confusion matrix normalised by row) times their frequency, not as raw
    counts. The news corpus here is mostly Politics and Entertainment, so a few politics headlines
    taken for Business outweigh Business's own items in the plain figure; the news goal's set need
    not be mixed as this corpus is (news_macro_f1s).
    """
    classes = sorted(set(gold))
    rows = {c: Counter(p for g, p in zip(gold, predicted) if g == c) for c in classes}
    weight = {c: 1.0 if frequency is None else frequency[c] for c in classes}
    shares = {c: {p: n / sum(row.values()) * weight[c] for p, n in row.items()} for c, row in rows.items()}
    f1s = []
    for c in classes:
        recall = shares[c].get(c, 0.0) / weight[c]
        taken = sum(shares[g].get(c, 0.0) for g in classes)
        precision = shares[c].get(c, 0.0) / taken if taken else 0.0
        f1s.append(2 * precision * recall / (precision + recall) if recall else 0.0)
    return sum(f1s) / len(f1s)


def reweighted_accuracy(gold: list[str], predicted: list[str | None],
                        frequency: dict[str, float] | None = None) -> float:
    """Accuracy as it would be with the gold classes at the relative ``frequency`` (None: equal)."""
    classes = sorted(set(gold))
    weight = {c: 1.0 if frequency is None else frequency[c] for c in classes}
    recall = {c: sum(g == p == c for g, p in zip(gold, predicted)) / gold.count(c) for c in classes}
    return sum(weight[c] * recall[c] for c in classes) / sum(weight.values())


# The 12 clear sections' topics in the proportions of the whole News Category Dataset (2012-22,
# about 210,000 items; section counts from its public description, in thousands, rounded). Our copy
# is its newest 5,005 items (2018-22, 59% Politics), and the news goal's set need not be mixed as
# they are, so the news figures are reported in three mixes (news_macro_f1s).
NEWS_DATASET_FREQUENCY = {
    "Politics": 35, "Health": 18, "Entertainment": 17, "Travel": 10, "Food": 6, "Business": 6,
    "Sports": 5, "Science": 2, "Technology": 2, "Finance": 2, "Art": 1, "Education": 1,
}  # fmt: skip


def news_macro_f1s(gold: list[str], predicted: list[str | None],
                   copy_frequency: dict[str, float] | None = None) -> dict[str, float]:
    """Macro-F1 of news-12 answers with the sections as in our copy, as in the whole dataset, and
    equally frequent. ``copy_frequency``: our copy's counts, for a sample that holds the sections in
    other proportions; by default the answers' own (the plain macro-F1)."""
    return {
        "our copy": reweighted_macro_f1(gold, predicted, copy_frequency or Counter(gold)),
        "whole dataset": reweighted_macro_f1(gold, predicted, NEWS_DATASET_FREQUENCY),
        "sections equal": reweighted_macro_f1(gold, predicted),
    }


def report(setting: Setting, tuned: Tuned) -> dict[str, float]:
    """Print the tune-fold figures of a setting; return those the choice rests on (select)."""
    t = temperature(tuned)
    p = softmax(tuned.logits * t)
    first = [tuned.classes[k] for k in p.argmax(axis=1)]
    print(f"{setting}\n  log-loss {log_loss(p, tuned.gold()):.3f} at temperature {t:.2f}")
    parts = {
        "news": lambda i: i.corpus == "news",
        "news 12": lambda i: i.corpus == "news" and i.origin in NEWS_CLEAR_SECTIONS,
        "passages": lambda i: i.corpus == "passages",
        "pages": lambda i: i.register == "page",
        "sib": lambda i: i.corpus == "sib",
    }
    chosen_by: dict[str, float] = {}
    for name, part in parts.items():
        idx = [k for k, i in enumerate(tuned.items) if part(i)]
        if not idx:  # no whole pages among the passages trained on
            continue
        gold, picked = [tuned.items[k].label for k in idx], [first[k] for k in idx]
        f1 = macro_f1(gold, picked)
        accuracy = sum(first[k] == tuned.items[k].label for k in idx) / len(idx)
        allowed = sum(first[k] in tuned.items[k].allowed for k in idx) / len(idx)
        equal = reweighted_macro_f1(gold, picked)
        print(f"  {name:<9} n={len(idx):>5} macro-F1 {f1:.3f} (classes equally frequent {equal:.3f}) "
              f"accuracy {accuracy:.3f} first allowed {allowed:.3f}")
        chosen_by[f"{name} macro-F1"] = f1
        chosen_by[f"{name} first allowed"] = allowed
        if name == "news 12":
            mixes = news_macro_f1s(gold, picked)
            accuracies = {mix: reweighted_accuracy(gold, picked, frequency)
                          for mix, frequency in (("whole dataset", NEWS_DATASET_FREQUENCY), ("sections equal", None))}
            print("            macro-F1 with the sections " + ", ".join(f"{m} {v:.3f}" for m, v in mixes.items())
                  + f" (mean {np.mean(list(mixes.values())):.3f}); accuracy "
                  + ", ".join(f"{m} {v:.3f}" for m, v in accuracies.items()))
            chosen_by["news 12 mixes macro-F1"] = float(np.mean(list(mixes.values())))
    by_language: dict[str, list[bool]] = {}
    for item, topic in zip(tuned.items, first, strict=True):
        if item.corpus == "sib":
            by_language.setdefault(item.language, []).append(topic in item.allowed)
    rates = sorted((sum(v) / len(v), lang) for lang, v in by_language.items())
    print("  sib first allowed, lowest languages: " + ", ".join(f"{lang} {r:.3f}" for r, lang in rates[:4]))
    for name, (view_logits, view_items) in tuned.joined.items():
        firsts = [tuned.classes[k] for k in view_logits.argmax(axis=1)]
        f1 = macro_f1([i.label for i in view_items], firsts)
        allowed = sum(f in i.allowed for f, i in zip(firsts, view_items)) / len(view_items)
        per_language: dict[str, list[bool]] = {}
        for f, item in zip(firsts, view_items):
            per_language.setdefault(item.language, []).append(f in item.allowed)
        lowest = min((sum(v) / len(v), lang) for lang, v in per_language.items())
        print(f"  {name:<11} n={len(view_items):>5} macro-F1 {f1:.3f} first allowed {allowed:.3f}, "
              f"lowest language {lowest[1]} {lowest[0]:.3f}")
        chosen_by[f"{name} macro-F1"] = f1
        chosen_by[f"{name} first allowed"] = allowed
        chosen_by[f"{name} lowest language"] = lowest[0]
    for texts, view in (("", tuned), (" (page-length texts)", long_texts(tuned))):
        outcomes = secondary_outcomes(view, t)
        for group, languages in (("en", ["en"]), ("others", sorted(set(outcomes) - {"en"}))):
            pooled = [o for lang in languages for o in outcomes.get(lang, [])]
            cells = "  ".join(f"{th}: {q:.2f} ({n})" for th in SECONDARY_GRID for q, n in [precision_at(pooled, th)])
            print(f"  secondary precision{texts}, {group}: {cells}")
        print(f"  secondary thresholds{texts} {secondary_thresholds(view, t)}", flush=True)
    return chosen_by


# Settings compared by --select on the tune folds (results in docs/topics.md, with those of
# earlier runs: logistic shares 0.35 and 0.65, news weighted 1.5, news classes equal). Corpus
# weights (SIB, news, passages) and class balance per corpus: 1 weighs a corpus's classes equally,
# 0.75 and 0.5 lean toward its frequent classes (Politics and Entertainment in the news).
EQUAL = {"sib": 1.0, "news": 1.0, "passages": 1.0}  # the page model's
NEWS_SKEWED = {"sib": 1.0, "news": 0.75, "passages": 1.0}
NEWS_HALF = {"sib": 1.0, "news": 0.5, "passages": 1.0}
PREVIOUS_WEIGHTS = {"sib": 1.0, "news": 0.75, "passages": 2.0}
SHORT_WEIGHTS = {"sib": 1.5, "news": 0.75, "passages": 4.0}
SHORT_TEXTS = ("base", "news")  # the passage registers of a headline and its description, or shorter
SETTINGS = (
    # the short model shipped before: complement naive Bayes
    Setting("complement-nb", 0.03, SHORT_WEIGHTS, NEWS_SKEWED, news_catch_all=False, registers=SHORT_TEXTS),
    Setting("logistic", 3e-6, SHORT_WEIGHTS, NEWS_SKEWED, news_catch_all=False, registers=SHORT_TEXTS),
    Setting("nb+logistic", 0.03, SHORT_WEIGHTS, NEWS_SKEWED, news_catch_all=False, registers=SHORT_TEXTS),
    Setting("nb+logistic", 0.03, SHORT_WEIGHTS, NEWS_HALF, news_catch_all=False, registers=SHORT_TEXTS),
    Setting("nb+logistic", 0.03, SHORT_WEIGHTS, {"sib": 1.0, "news": 0.25, "passages": 1.0}, news_catch_all=False,
            registers=SHORT_TEXTS),
    Setting("nb+logistic", 0.03, {"sib": 1.5, "news": 0.75, "passages": 2.5}, NEWS_HALF, news_catch_all=False,
            registers=SHORT_TEXTS),
    Setting("nb+logistic", 0.03, SHORT_WEIGHTS, NEWS_HALF, news_catch_all=False),  # whole pages too
    # the shipped setting with the headline counted twice, three times
    Setting("nb+logistic", 0.03, {"sib": 1.5, "news": 0.75, "passages": 2.5}, NEWS_HALF, news_catch_all=False,
            registers=SHORT_TEXTS, headline_repeat=2),
    Setting("nb+logistic", 0.03, {"sib": 1.5, "news": 0.75, "passages": 2.5}, NEWS_HALF, news_catch_all=False,
            registers=SHORT_TEXTS, headline_repeat=3),
    # headline x2 and the news items we read (NEWS_LABELS_FILE) as a group of their own; then with
    # SIB weighted 2; then those we read as News too
    Setting("nb+logistic", 0.03, {"sib": 1.5, "news": 0.75, "passages": 2.5, "news read": 0.5},
            {**NEWS_HALF, "news read": 0.5}, news_catch_all=False, registers=SHORT_TEXTS, headline_repeat=2,
            news_read_by_us=True),
    Setting("nb+logistic", 0.03, {"sib": 2.0, "news": 0.75, "passages": 2.5, "news read": 0.5},
            {**NEWS_HALF, "news read": 0.5}, news_catch_all=False, registers=SHORT_TEXTS, headline_repeat=2,
            news_read_by_us=True),
    Setting("nb+logistic", 0.03, {"sib": 2.0, "news": 0.75, "passages": 2.5, "news read": 0.5},
            {**NEWS_HALF, "news read": 0.5}, registers=SHORT_TEXTS, headline_repeat=2, news_read_by_us=True),
)  # fmt: skip
# Chosen with --select (see docs/topics.md).
CHOSEN = SETTINGS[9]

# Page model candidates, compared by --select --page on the tune folds' page-length texts.
PAGE_TEXTS = ("base", "page")  # our first passages and whole pages, not the headline register
PAGE_SETTINGS = (
    # the page model shipped before: the first model's recipe on the base passages
    Setting("complement-nb", 0.03, PREVIOUS_WEIGHTS, EQUAL, registers=("base",)),
    Setting("complement-nb", 0.03, PREVIOUS_WEIGHTS, EQUAL, registers=PAGE_TEXTS),
    Setting("complement-nb", 0.03, PREVIOUS_WEIGHTS, EQUAL),
    Setting("nb+logistic", 0.03, PREVIOUS_WEIGHTS, EQUAL, registers=PAGE_TEXTS),
)
# Ranked on the tune folds' page-length texts: [3], [1], [2] ([0] has no whole pages to rank by).
# Each was trained and run through bench/topics.py, and each put BBC60 under its floor in
# tests/test_topics.py (macro-F1 0.743, 0.778, 0.724; floor 0.78): a model that breaks a floor is
# not shipped, so the page model stays the first recipe on the base passages (BBC60 0.832).
PAGE_SETTING = PAGE_SETTINGS[0]


# The choice: the best news-12 macro-F1 (the goal furthest from reach), as the mean over the three
# mixes of sections in news_macro_f1s (the goal's set is unlikely to be mixed as our copy is: see
# docs/topics.md), among the settings whose three-sentence SIB items keep a margin over the
# 60%-per-language goal (the held-back SIB dev split has 30 items a language, so a rate measured
# there moves by ~0.08 from chance alone).
# Logistic regression and the mix are eligible since texts of a page's length go to the page
# model: the logistic regression alone put long English articles in the big classes.
SIB_MIN_OVERALL = 0.85
SIB_MIN_PER_LANGUAGE = 0.68


def compare(settings: tuple[Setting, ...]) -> dict[Setting, dict[str, float]]:
    """Tune-fold figures of each setting (``report``), sharing the feature counts of equal data."""
    cache, figures = {}, {}
    for setting in settings:
        key = (setting.features, setting.data())
        if key not in cache:
            train = setting.splits().train
            cache[key] = train, count_matrix([i.text for i in train], setting.features)
        figures[setting] = report(setting, out_of_fold(*cache[key], setting))
    return figures


def select() -> None:
    """Compare SETTINGS on the tune folds of the training data (never the held-back splits)."""
    figures = compare(SETTINGS)
    eligible = [
        s for s, f in figures.items()
        if f["sib x3 first allowed"] >= SIB_MIN_OVERALL and f["sib x3 lowest language"] >= SIB_MIN_PER_LANGUAGE
    ]
    best = max(eligible, key=lambda s: figures[s]["news 12 mixes macro-F1"], default=None)
    print(f"choice: SETTINGS[{SETTINGS.index(best)}]" if best else "choice: no setting keeps the SIB margin")


# The page model's choice: the best mean of the page-length views (SIB x3, news x6, passages x8
# and our whole pages, first topic allowed), the texts it will read.
PAGE_VIEWS = ("sib x3 first allowed", "news x6 first allowed", "passages x8 first allowed", "pages first allowed")


def select_page() -> None:
    """Compare PAGE_SETTINGS on the page-length texts of the tune folds."""
    figures = compare(PAGE_SETTINGS)
    for s, f in figures.items():
        print(f"PAGE_SETTINGS[{PAGE_SETTINGS.index(s)}]: " + ", ".join(f"{v} {f.get(v, np.nan):.3f}" for v in PAGE_VIEWS))
    # A setting that trains on no whole pages has none in its tune folds: it cannot be ranked.
    ranked = [s for s, f in figures.items() if all(v in f for v in PAGE_VIEWS)]
    best = max(ranked, key=lambda s: np.mean([figures[s][v] for v in PAGE_VIEWS]), default=None)
    print(f"choice: PAGE_SETTINGS[{PAGE_SETTINGS.index(best)}]" if best else "choice: no whole pages to rank by")


# --- measured, not shipped: an English prior shift for the short model ---------------------------
# The short model weighs the news sections count^-0.5 (NEWS_HALF) and mixes in SIB and our passages,
# so for an English headline its prior is flatter than the news: rare sections take Politics and
# Entertainment items, and each such false positive costs a rare section's F1. The idea measured by
# --prior-shift: for English texts alone (the news corpus is English; applied to every language, a
# scratch run cost Hindi SIB items 0.08), shift the calibrated logits toward the news sections'
# frequencies, beta x (log count - mean log count) over the topics the news corpus trains, nothing
# for the others. A beta would be adopted if its news-12 macro-F1 beat no shift by more than
# PRIOR_SHIFT_NOISE (the noise on these folds: 3-11 items of each rare section) while its SIB x3
# items kept the choice rule's margin (SIB_MIN_OVERALL, SIB_MIN_PER_LANGUAGE). None did
# (docs/topics.md), so the model files carry no shift and the runtime applies none.
PRIOR_SHIFT_LANGUAGE = "en"
PRIOR_SHIFT_BETAS = (0.0, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4)
PRIOR_SHIFT_NOISE = 0.03


def news_log_prior(items: list[Item], classes: list[str]) -> np.ndarray:
    """Per class: log of its count among the news items, centred; 0 for classes without any."""
    counts = Counter(i.label for i in items if i.corpus == "news")
    logs = np.array([np.log(counts[c]) if counts[c] else np.nan for c in classes])
    return np.where(np.isnan(logs), 0.0, logs - np.nanmean(logs))


def prior_shift_by_fold(tuned: Tuned, train: list[Item], beta: float) -> dict[int, np.ndarray]:
    """Per tune fold: beta x the news log-prior of the training items outside that fold, as its model saw them."""
    folds = np.array([tune_fold(i) for i in train])
    return {f: beta * news_log_prior([train[k] for k in np.flatnonzero(folds != f)], tuned.classes) for f in TUNE_FOLDS}


def with_english_shift(tuned: Tuned, t: float, shift: dict[int, np.ndarray]) -> Tuned:
    """The tune folds' predictions with ``shift`` (tune fold -> per class) added to the calibrated
    logits (at temperature ``t``) of the English texts of that fold."""

    def shifted(logits: np.ndarray, items: list[Item]) -> np.ndarray:
        none = np.zeros(len(tuned.classes))
        return logits + np.array([shift[tune_fold(i)] if i.language == PRIOR_SHIFT_LANGUAGE else none for i in items]) / t

    joined = {name: (shifted(logits, items), items) for name, (logits, items) in tuned.joined.items()}
    return replace(tuned, logits=shifted(tuned.logits, tuned.items), joined=joined)


def prior_shift_figures(tuned: Tuned, t: float) -> dict[str, float]:
    """What an English prior shift trades: news-12, SIB x3 (overall, English, lowest language),
    English SIB sentences, passages (all, English), English log-loss, news-12 calibration error
    (binned as in tests/test_topics.py) and English secondary precision at 0.10 (how many given)."""
    first = [tuned.classes[k] for k in tuned.logits.argmax(axis=1)]
    p = softmax(tuned.logits * t)
    en = PRIOR_SHIFT_LANGUAGE

    def rows(test) -> list[int]:
        return [k for k, i in enumerate(tuned.items) if test(i)]

    news12 = rows(lambda i: i.corpus == "news" and i.origin in NEWS_CLEAR_SECTIONS)
    passages = rows(lambda i: i.corpus == "passages")
    view_logits, view_items = tuned.joined["sib x3"]
    per_language: dict[str, list[bool]] = {}
    for k, item in zip(view_logits.argmax(axis=1), view_items, strict=True):
        per_language.setdefault(item.language, []).append(tuned.classes[k] in item.allowed)
    english = rows(lambda i: i.language == en)
    confidence = p[news12].max(axis=1)
    right = np.array([first[k] == tuned.items[k].label for k in news12])
    bins = np.digitize(confidence, [0.4, 0.6, 0.8])
    secondary, given = precision_at(secondary_outcomes(tuned, t).get(en, []), SECONDARY_GRID[0])
    return {
        "news-12 macro-F1": macro_f1([tuned.items[k].label for k in news12], [first[k] for k in news12]),
        "news-12 accuracy": float(right.mean()),
        "SIB x3": float(np.mean([ok for v in per_language.values() for ok in v])),
        "SIB x3 en": float(np.mean(per_language[en])),
        "SIB x3 lowest": min(float(np.mean(v)) for v in per_language.values()),
        "SIB sentences en": float(np.mean([first[k] in tuned.items[k].allowed for k in rows(lambda i: i.corpus == "sib" and i.language == en)])),
        "passages macro-F1": macro_f1([tuned.items[k].label for k in passages], [first[k] for k in passages]),
        "passages en accuracy": float(np.mean([first[k] == tuned.items[k].label for k in passages if tuned.items[k].language == en])),
        "en log-loss": log_loss(p[english], tuned.gold()[english]),
        "news-12 calibration error": float(
            sum(abs(confidence[bins == b].mean() - right[bins == b].mean()) * (bins == b).mean() for b in set(bins.tolist()))
        ),
        "en secondary precision at 0.1": secondary,
        "given": given,
    }  # fmt: skip


def news12_gain_interval(base: Tuned, shifted: Tuned, resamples: int = 1000) -> tuple[float, float]:
    """5th and 95th percentiles of the news-12 macro-F1 gain over tune rows resampled with replacement."""
    rows = [k for k, i in enumerate(base.items) if i.corpus == "news" and i.origin in NEWS_CLEAR_SECTIONS]
    gold = np.array([base.items[k].label for k in rows])
    before = np.array(base.classes)[base.logits[rows].argmax(axis=1)]
    after = np.array(base.classes)[shifted.logits[rows].argmax(axis=1)]
    rng = np.random.default_rng(0)
    gains = []
    for _ in range(resamples):
        s = rng.integers(0, len(rows), len(rows))
        gains.append(macro_f1(list(gold[s]), list(after[s])) - macro_f1(list(gold[s]), list(before[s])))
    return float(np.percentile(gains, 5)), float(np.percentile(gains, 95))


# The alternative measured with it: a free bias per class for English texts, fitted on the tune
# folds by coordinate ascent over BIAS_GRID (calibrated logit units), each fold's bias fitted on the
# other tune folds only (so its figures are out of fold), to maximise the mean of one or more of:
# news-12 macro-F1, English SIB sentences first allowed, English passages macro-F1.
BIAS_GRID = tuple(np.arange(-2, 2.01, 0.25).round(2))
BIAS_OBJECTIVES = (("news-12",), ("news-12", "SIB sentences en", "passages en"))


def english_rows(items: list[Item]) -> dict[str, np.ndarray]:
    en = PRIOR_SHIFT_LANGUAGE
    return {
        "news-12": np.array([i.corpus == "news" and i.origin in NEWS_CLEAR_SECTIONS for i in items]),
        "SIB sentences en": np.array([i.corpus == "sib" and i.language == en for i in items]),
        "passages en": np.array([i.corpus == "passages" and i.language == en for i in items]),
    }


def fitted_bias_by_fold(tuned: Tuned, t: float, objective: tuple[str, ...]) -> dict[int, np.ndarray]:
    """Per tune fold: the English bias that maximises ``objective`` on the other tune folds."""
    logits, classes = tuned.logits * t, np.array(tuned.classes)
    folds, rows = np.array([tune_fold(i) for i in tuned.items]), english_rows(tuned.items)
    gold = np.array([i.label for i in tuned.items])
    allowed = np.array([[c in i.allowed for c in classes] for i in tuned.items])

    def score(bias: np.ndarray, mask: np.ndarray) -> float:
        parts = []
        for name in objective:
            m = mask & rows[name]
            first = (logits[m] + bias).argmax(axis=1)
            if name == "SIB sentences en":  # first topic allowed
                parts.append(allowed[m][np.arange(len(first)), first].mean())
            else:
                parts.append(macro_f1(list(gold[m]), list(classes[first])))
        return float(np.mean(parts))

    by_fold = {}
    for fold in TUNE_FOLDS:
        mask, bias = folds != fold, np.zeros(len(classes))
        best = score(bias, mask)
        for _ in range(3):  # at most three sweeps over the classes; one that changes nothing ends it
            improved = False
            for c in range(len(classes)):
                for value in sorted(BIAS_GRID, key=abs):
                    trial = bias.copy()
                    trial[c] = value
                    if (s := score(trial, mask)) > best + 1e-9:
                        best, bias, improved = s, trial, True
            if not improved:
                break
        by_fold[fold] = bias
    return by_fold


def news12_by_fold(tuned: Tuned) -> list[float]:
    folds = np.array([tune_fold(i) for i in tuned.items])
    rows = english_rows(tuned.items)["news-12"]
    first = [tuned.classes[k] for k in tuned.logits.argmax(axis=1)]
    return [macro_f1([tuned.items[k].label for k in idx], [first[k] for k in idx])
            for idx in (np.flatnonzero(rows & (folds == f)) for f in TUNE_FOLDS)]  # fmt: skip


def select_prior_shift() -> None:
    """Measure the English prior shift, and fitted English biases, on the chosen short setting's
    tune folds (writes nothing)."""
    data = CHOSEN.splits()
    tuned = out_of_fold(data.train, count_matrix([i.text for i in data.train], CHOSEN.features), CHOSEN)
    t = temperature(tuned)
    shifted = {beta: with_english_shift(tuned, t, prior_shift_by_fold(tuned, data.train, beta)) for beta in PRIOR_SHIFT_BETAS}
    figures = {beta: prior_shift_figures(view, t) for beta, view in shifted.items()}
    print(f"English prior shift, {CHOSEN}, tune folds (columns: beta, " + ", ".join(figures[0.0]) + ")")
    for beta, f in figures.items():
        print(f"  {beta:<5} " + "  ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in f.values()))
    eligible = [b for b, f in figures.items() if f["SIB x3"] >= SIB_MIN_OVERALL and f["SIB x3 lowest"] >= SIB_MIN_PER_LANGUAGE]
    best = max(eligible, key=lambda b: (figures[b]["news-12 macro-F1"], -b))
    gain = figures[best]["news-12 macro-F1"] - figures[0.0]["news-12 macro-F1"]
    low, high = news12_gain_interval(tuned, shifted[best])
    adopted = gain > PRIOR_SHIFT_NOISE
    print(f"best beta keeping the SIB margin: {best}, news-12 {gain:+.3f} over no shift (resampled 90%: "
          f"{low:+.3f} to {high:+.3f}): {'above' if adopted else 'within'} the noise ({PRIOR_SHIFT_NOISE})")
    base_folds = news12_by_fold(tuned)
    print(f"  news-12 per tune fold, gain at beta {best}: "
          + " ".join(f"{a - b:+.3f}" for a, b in zip(news12_by_fold(shifted[best]), base_folds)))
    for objective in BIAS_OBJECTIVES:
        by_fold = fitted_bias_by_fold(tuned, t, objective)
        view = with_english_shift(tuned, t, by_fold)
        f = prior_shift_figures(view, t)
        print(f"English bias fitted to {' + '.join(objective)} (out of fold): "
              + ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in f.items()))
        print("  news-12 per tune fold, gain: " + " ".join(f"{a - b:+.3f}" for a, b in zip(news12_by_fold(view), base_folds)))
        biases = np.array(list(by_fold.values()))
        print("  bias per class, mean/sd over folds: " + ", ".join(
            f"{c} {m:+.2f}/{sd:.2f}" for c, m, sd in zip(tuned.classes, biases.mean(axis=0), biases.std(axis=0)) if m or sd))


def long_texts(tuned: Tuned) -> Tuned:
    """The tune folds' texts of a page's length: the JOINED views and our whole pages."""
    pages = [k for k, i in enumerate(tuned.items) if i.register == "page"]
    logits = np.vstack([tuned.logits[pages]] + [view_logits for view_logits, _ in tuned.joined.values()])
    items = [tuned.items[k] for k in pages] + [i for _, view_items in tuned.joined.values() for i in view_items]
    return Tuned(tuned.classes, logits, items, {}, tuned.part_weights)


def train_and_save(setting: Setting, path: Path, page: bool = False) -> None:
    """Fit ``setting`` on all the training data and write it to ``path``; ``page``: the model reads
    pages, so its secondary thresholds are set on the tune folds' page-length texts (``long_texts``)."""
    data = setting.splits()
    started = time.process_time()
    counts = count_matrix([i.text for i in data.train], setting.features)
    tuned = out_of_fold(data.train, counts, setting)
    report(setting, tuned)
    t = temperature(tuned)
    thresholds = secondary_thresholds(long_texts(tuned) if page else tuned, t)
    idf = inverse_document_frequency(counts)
    x = feature_matrix([], idf, counts)
    model = mix([fit(data.train, x, part) for part in setting.parts()], tuned.part_weights)
    print(f"trained on {len(data.train)} items in {time.process_time() - started:.0f} s CPU")
    codes, scale = quantise(model.weights)
    languages = sorted({i.language for i in data.train})
    np.savez_compressed(
        path,
        classes=np.array(model.classes),
        weights=codes,
        scale=(scale * t).astype(np.float16),
        bias=(model.bias * t).astype(np.float32),
        idf=idf.astype(np.float16),
        languages=np.array(languages),
        secondary_languages=np.array(sorted(thresholds), dtype=str),
        secondary_min_probability=np.array([thresholds[lang] for lang in sorted(thresholds)], dtype=np.float32),
        title_repeat=np.array(setting.headline_repeat, dtype=np.int8),
    )
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB): {len(model.classes)} topics, "
          f"{len(languages)} languages, temperature {t:.2f}, secondary thresholds {thresholds}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--select", action="store_true", help="compare settings on the tune folds, write nothing")
    parser.add_argument("--page", action="store_true", help=f"train the page model ({PAGE_MODEL_FILE.name}) instead")
    parser.add_argument("--prior-shift", action="store_true",
                        help="measure an English prior shift of the short model on the tune folds, write nothing")
    args = parser.parse_args()
    if not SIB_DIR.exists() or not NEWS_FILE.exists():
        print(f"training needs {TOPIC_CORPORA}", file=sys.stderr)
        return 2
    if args.prior_shift:
        select_prior_shift()
    elif args.select and args.page:
        select_page()
    elif args.select:
        select()
    elif args.page:
        train_and_save(PAGE_SETTING, PAGE_MODEL_FILE, page=True)
    else:
        train_and_save(CHOSEN, MODEL_FILE)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
