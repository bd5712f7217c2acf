"""Topic classification: the first classifier, the previous model and the current one, side by side, on held-back data.

Evaluation sets (text, title and language only: no feed topic, no tags):

- news: the held-back 30% of ../shared/corpora/topics/news-category (English HuffPost headline as
  the title, its feed description as the text), sections mapped onto our topics as in
  scripts/train_topics.py (NEWS_TOPICS; fashion, parenting and home sections have no tab and are left out);
- news, 12 sections: the part of it in the 12 sections whose subject is one tab each (POLITICS,
  ENTERTAINMENT, SPORTS, FOOD & DRINK, WELLNESS, BUSINESS, MONEY, TECH, SCIENCE, TRAVEL, CULTURE &
  ARTS, EDUCATION: NEWS_CLEAR_SECTIONS), the closest to how the news goal is measured;
- passages: the held-back 20% of scripts/topic_passages (our own writing, 12 languages);
- SIB-200 dev: three sentences of one category an item (as the goals state), 32 languages; the
  first topic must be one a reader would accept for the category (SIB_TOPICS: science/technology
  accepts Science or Technology, geography Travel, Science or News, ...);
- BBC60 (../shared/corpora/bbc-news-summary): five sections, exact topic among our 19. Evaluation
  only: nothing trains on it;
- real pages: 125 English pages of ../shared/corpora/article-extraction-benchmark with topics a
  reader accepts, labelled by hand for this project (DEV_LABELS); page text only.

Per set: macro-F1 and accuracy of the first topic (against the training label of the item), the
macro-F1 the same answers would score if every class were equally frequent (each class's row of the
confusion matrix as shares: scripts/train_topics.py reweighted_macro_f1),
"first allowed" (the first topic is one the reader accepts), "in stored" (the label is among the
1-3 stored topics) and the precision of secondary topics (a second or third topic the reader
accepts for the item, over all second and third topics given).

News, 12 sections, is also scored with the sections as in our copy, as in the whole dataset and
equally frequent (scripts/train_topics.py news_macro_f1s), beside a reader: 662 items of those
sections read for this project without their section (bench/labels/news_reader_labels.tsv), which
shows how far a reader's first topic agrees with the editors' sections.

Earlier classifiers are no longer in the package: each is read from git, with its data files, into
a temporary directory and imported from there, so their figures are reproduced, not copied:
"first" is the naive Bayes on ~820 lines in English, Spanish and German (FIRST_REVISION),
"previous" the two complement naive Bayes models (short texts and pages, routed by length)
shipped before these (PREVIOUS_REVISION).

Run: uv run python bench/topics.py
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _report import print_table
from _scoring import limited

from enrich import topics
from scripts.train_topics import (
    NEWS_CLEAR_SECTIONS,
    Item,
    macro_f1,
    news_items,
    news_labels,
    news_macro_f1s,
    reweighted_macro_f1,
    splits,
)

BBC = ROOT.parent / "shared" / "corpora" / "bbc-news-summary" / "bbc60.jsonl"
READER_LABELS = ROOT / "bench" / "labels" / "news_reader_labels.tsv"
AEB = ROOT.parent / "shared" / "corpora" / "article-extraction-benchmark" / "ground-truth.json"
# The last commit with the naive Bayes classifier and its corpus files.
FIRST_REVISION = "4b9a73d1409048eb19147b4feb51ffe983ef8286"
FIRST_FILES = (
    "enrich/topics.py",
    "enrich/data/topic_synonyms.json",
    "enrich/data/topic_corpus_en.txt",
    "enrich/data/topic_corpus_es.txt",
    "enrich/data/topic_corpus_de.txt",
)
# The last commit with the model before calibration and the news-register passages.
PREVIOUS_REVISION = "c378e74ef7341d817f79518ad173557d81c93057"
PREVIOUS_FILES = (
    "enrich/topics.py",
    "enrich/data/topic_synonyms.json",
    "enrich/data/topic_model.npz",
    "enrich/data/topic_model_page.npz",
)
# Helpers the earlier classifiers imported from modules they have since moved out of.
MOVED_IMPORTS = {"from enrich.sentences import is_unspaced, word_count": "from enrich.text import is_unspaced, word_count"}
BBC_TOPIC = {
    "business": "Business", "entertainment": "Entertainment", "politics": "Politics", "sport": "Sports",
    "tech": "Technology",
}  # fmt: skip
# Secondary topics a reader accepts beside each BBC section.
BBC_ALSO = {
    "Business": {"Finance", "Technology", "Politics"}, "Entertainment": {"Music", "Art", "Books"},
    "Politics": {"News"}, "Sports": set(), "Technology": {"Gaming", "Programming", "Science", "Business"},
}  # fmt: skip

# Real pages: article-extraction-benchmark id prefix -> topics a reader accepts, best first (labelled
# by hand for this project from each page's URL and opening; the old classifier's corpus was developed
# against them, so its figure there is optimistic).
DEV_LABELS: dict[str, tuple[str, ...]] = {
    # sport
    "08f793762792": ("Sports",), "0d46122928b6": ("Sports",), "264dc3ae3124": ("Sports",),
    "88c328b68b03": ("Sports",), "8e3efab59f48": ("Sports",), "921019755f4a": ("Sports",),
    "9a440270bf86": ("Sports",), "c81e134ed499": ("Sports",), "ecb46e3e489d": ("Sports",),
    "eecd2575093b": ("Sports",), "65ce3a4577a0": ("Sports",), "6a72de37e8f9": ("Sports",),
    # technology and gaming
    "232a43fb15ab": ("Technology",), "5fa5679de56c": ("Technology",), "5fbc7ccb504c": ("Technology",),
    "fde930b01859": ("Technology", "Business"), "291a8bf33ee4": ("Technology", "Business"),
    "cc4aa22b8212": ("Technology",), "63db31a161b3": ("Gaming",),
    "680c2848e94a": ("Gaming", "Technology"), "aade2ec8d1e7": ("Gaming", "Technology"),
    "e100c9612ad8": ("Gaming", "Technology"), "8267acacb9e4": ("Gaming", "Technology", "Business"),
    # science and health
    "14cc2a0ca59c": ("Science",), "359fee228518": ("Science",), "3c5bf8db4272": ("Science",),
    "686bb170effe": ("Science",), "f344ca5fb36e": ("Science",), "e1c7023ee214": ("Science", "Health"),
    "d1c57d7821e5": ("Science", "Business", "Technology"),
    "7f93c1944a41": ("Health",), "7bb1ca903543": ("Health",), "bd673bd79881": ("Health",),
    "e593d7fe88f9": ("Health",), "c467d507551a": ("Health", "News"),
    # business and finance
    "06e5123e4ef7": ("Business", "Finance", "News"), "bc13ff87b263": ("Business",),
    "8634d1211c3f": ("Business",), "374ac9a59a85": ("Business", "Travel"),
    "9ebb3af65694": ("Business", "Finance"), "57d46c9d751e": ("Finance", "Business"),
    "d605bdef2cde": ("Finance", "Business"), "55bb6340e3d7": ("Finance", "Business", "Entertainment"),
    "f8ff621a0b9b": ("Finance", "Business"), "ffc109d474fd": ("Finance", "Business"),
    "f81c6c05d9cb": ("Finance",),
    # politics
    "7a664e40d256": ("Politics",), "82b6d780c792": ("Politics",), "c90731f051d0": ("Politics",),
    "a6968f427cdb": ("Politics",), "e7994d550087": ("Politics",), "db6b0816c612": ("Politics", "News"),
    # entertainment and music
    "3d8f3404cf97": ("Entertainment", "Music"), "7dfc3e359d7c": ("Entertainment",),
    "785affa2c34e": ("Entertainment",), "35b158918c67": ("Music", "Entertainment"),
    "9cb8224b660f": ("Music", "Entertainment"), "ac1bfdd4c510": ("Music", "Entertainment"),
    # general news
    "2c46804d9db4": ("News",), "5caf91b8a442": ("News",), "961bd85ca85a": ("News",),
    "d0382c0d9573": ("News", "Business"), "7916ecca969f": ("News", "Politics"),
    "6ebac05f637e": ("News", "Politics"), "ef2b3f268a67": ("News",),
    # food, books, education, design
    "4219d096902d": ("Food", "Personal"), "ec3878db7e49": ("Food",), "851498a2b9f4": ("Books", "Entertainment"),
    "7de5241947a5": ("Education", "Politics", "News"), "94fbcc267720": ("Design", "Art"),
    # second batch: mixed sections
    "042bb7b5feda": ("Gaming", "Technology"), "04a6711caa7c": ("Politics",),
    "05844573ca7e": ("Business", "Technology", "News"), "06ee193de4bd": ("Technology", "Business"),
    "098bb3e96c0a": ("Entertainment", "Business", "Technology"), "0dd135704572": ("Politics",),
    "156770d676ce": ("Politics", "Health", "News"), "16c30add7e96": ("Science", "Health", "News"),
    "1ace8c85aaee": ("Business", "Finance", "News"), "1f765c487806": ("News", "Politics", "Entertainment"),
    "287e4d9f4af3": ("Gaming", "Technology"), "2f42ef1d3ea0": ("Finance", "Technology", "Business"),
    "360c732d1fdb": ("Finance", "Business"), "39d5c43beb60": ("Business", "Politics", "Finance"),
    "3cb22bfabed8": ("Technology", "Business"), "42aad16bde92": ("Science", "Business", "Technology"),
    "432362af0be4": ("Health", "News"), "4a44ab3e4c41": ("News", "Politics"),
    "51374560f400": ("Finance", "Business"), "51d066b0602c": ("News",),
    "5f03fc173ebc": ("Food", "Health"), "5fa3154ec031": ("Politics", "News"),
    "624fcd903d56": ("News", "Politics"), "65408257dbe4": ("Finance", "Business"),
    "65bf3048b500": ("Technology",), "702d1da63b8e": ("Politics", "Business", "Finance"),
    "70cb2d5bca75": ("Music", "Entertainment", "Business"), "7a457a4f7173": ("News", "Politics"),
    "833caf3bdba5": ("Politics", "News"), "8b1945303082": ("Health", "News"),
    "9eef8162bbb6": ("Health",), "a078b3656adc": ("Health",), "a1fca19b884e": ("News", "Politics"),
    "aec5deeaada8": ("Politics",), "b0cf2bbf0192": ("Business", "Technology", "Politics", "Science"),
    "b37be3535e1f": ("Science", "Health"), "b6906ca016bb": ("Politics", "Business", "Finance"),
    "ba4dfe2d3e81": ("Health", "News", "Science"), "bdb56ac83513": ("Science", "Health"),
    "c00962aabe7b": ("Science", "Technology"), "c50845a7158a": ("Science", "Business", "Technology"),
    "c58aa507c4de": ("News", "Politics"), "c7e39ac49fa1": ("News", "Politics"),
    "dc7ccccc1f34": ("News", "Politics"), "e4c6a3b48240": ("Politics", "News"),
    "ea25dd7edff4": ("Health", "Science", "News"), "eb62ac8425e5": ("Music", "Entertainment"),
    "ef4e67b66d63": ("Politics", "Health"), "f5c90a6d5253": ("Politics",),
    "abd9d6291b6b": ("Health", "Politics", "News"), "e7d77f186980": ("Technology", "Business", "Finance"),
    "ad826691a8a2": ("Technology",), "358cc4a08045": ("Sports",), "3ce1c8fdf6ad": ("Sports",),
    "7ab16ade3238": ("Sports", "News"),
}  # fmt: skip


Classify = Callable[[str, str | None, str], tuple[str, ...]]


def load_old(directory: Path, revision: str, files: tuple[str, ...]) -> Classify:
    """enrich.topics as of ``revision``, with its data ``files``, imported from ``directory``."""
    for name in files:
        blob = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{revision}:{name}"], capture_output=True, check=True
        ).stdout
        target = directory / name.removeprefix("enrich/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith(".py"):
            source = blob.decode()
            for old, new in MOVED_IMPORTS.items():
                source = source.replace(old, new)
            blob = source.encode()
        target.write_bytes(blob)
    spec = importlib.util.spec_from_file_location(f"topics_{revision[:8]}", directory / "topics.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    module.topic_model()  # trained or loaded at first use: keep it out of the per-article time
    return lambda text, title, language: module.classify_topics(text, title=title, language=language).topics


def new_classifier() -> Classify:
    return lambda text, title, language: topics.classify_topics(text, title=title, language=language).topics


def one_model_classifier(model: Callable[[], topics.TopicModel]) -> Classify:
    """The current classifier with ``model`` for every text, whatever its length (to show what routing adds)."""

    def classify(text: str, title: str | None, language: str) -> tuple[str, ...]:
        routed = topics.model_for
        topics.model_for = lambda body: model()
        try:
            return topics.classify_topics(text, title=title, language=language).topics
        finally:
            topics.model_for = routed

    return classify


def title_and_text(item: Item) -> tuple[str | None, str]:
    """Headline and description of a news or passage item (split on the first line), a SIB item as text."""
    if item.corpus in ("sib", "pages"):
        return None, item.text
    head, _, rest = item.text.partition("\n")
    return (head, rest) if rest else (None, head)


def bbc_items() -> list[Item]:
    items = []
    for line in BBC.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            label = BBC_TOPIC[row["topic"]]
            text = row["title"] + "\n" + "\n".join(row["article_sentences"])
            items.append(Item("bbc", "en", text, label, frozenset({label}), row["id"]))
    return items


def page_items() -> list[Item]:
    truth = json.loads(AEB.read_text(encoding="utf-8"))
    by_prefix = {key[:12]: value for key, value in truth.items()}
    return [
        Item("pages", "en", by_prefix[prefix]["articleBody"], acceptable[0], frozenset(acceptable), prefix)
        for prefix, acceptable in DEV_LABELS.items()
    ]


def secondary_allowed(item: Item) -> frozenset[str]:
    return item.allowed | BBC_ALSO.get(item.label, set()) if item.corpus == "bbc" else item.allowed


def news_mixes(gold: list[str], predicted: list[str | None], ours: Counter[str]) -> str:
    """``news_macro_f1s`` with the sections as in our copy by its counts (``ours``), as a sample may
    hold them in other proportions."""
    return " / ".join(f"{f:.3f}" for f in news_macro_f1s(gold, predicted, ours).values())


def run(classify: Classify, items: list[Item]) -> tuple[list[tuple[str, ...]], float]:
    """Topics of every item and the CPU milliseconds per item."""
    started = time.process_time()
    out = [classify(text, title, item.language) for item in items for title, text in [title_and_text(item)]]
    return out, 1000 * (time.process_time() - started) / len(items)


def scores(items: list[Item], results: list[tuple[str, ...]]) -> dict[str, float]:
    first = [r[0] if r else None for r in results]
    secondaries = [(t in secondary_allowed(i)) for i, r in zip(items, results, strict=True) for t in r[1:]]
    return {
        "macro-F1": macro_f1([i.label for i in items], first),
        "macro-F1, classes equal": reweighted_macro_f1([i.label for i in items], first),
        "accuracy": sum(f == i.label for i, f in zip(items, first, strict=True)) / len(items),
        "first allowed": sum(f in i.allowed for i, f in zip(items, first, strict=True)) / len(items),
        "in stored": sum(i.label in r for i, r in zip(items, results, strict=True)) / len(items),
        "secondary precision": sum(secondaries) / len(secondaries) if secondaries else float("nan"),
        "secondaries": len(secondaries),
        "no topic": sum(f is None for f in first),
    }


def main() -> int:
    if not BBC.exists():
        print(f"{BBC.parent.parent} not found: the topic benchmark needs ../shared", file=sys.stderr)
        return 2
    process = psutil.Process()
    rss_before = process.memory_info().rss
    started, cpu_started = time.perf_counter(), time.process_time()
    model, page_model = topics.topic_model(), topics.page_topic_model()
    load_wall, load_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    rss_added = (process.memory_info().rss - rss_before) / 2**20
    size = (topics.MODEL_FILE.stat().st_size + topics.PAGE_MODEL_FILE.stat().st_size) / 1e6
    print(f"new models: {topics.MODEL_FILE.name} + {topics.PAGE_MODEL_FILE.name} {size:.1f} MB, {len(model.classes)} "
          f"and {len(page_model.classes)} topics, {len(model.languages)} languages; both load {load_cpu:.2f} s CPU ({load_wall:.2f} s wall), RSS +{rss_added:.0f} MB")

    with tempfile.TemporaryDirectory() as tmp:
        started = time.process_time()
        first = load_old(Path(tmp) / "first", FIRST_REVISION, FIRST_FILES)
        previous = load_old(Path(tmp) / "previous", PREVIOUS_REVISION, PREVIOUS_FILES)
        print(f"first and previous classifiers loaded (first trained) in {time.process_time() - started:.2f} s CPU\n")
        data = splits()
        sets = {
            "news (held back)": data.held_back["news"],
            "news, 12 sections": data.held_back["news 12"],
            "passages (held back)": data.held_back["passages"],
            "SIB-200 dev, 3 sentences": data.held_back["sib-dev"],
            "SIB-200 dev, 1 sentence": data.held_back["sib-dev sentences"],
            "BBC60": bbc_items(),
            "real pages (AEB, labelled)": page_items(),
        }
        classifiers = {
            "first": first,
            "previous": previous,
            "short": one_model_classifier(topics.topic_model),
            "page": one_model_classifier(topics.page_topic_model),
            "routed": new_classifier(),
        }
        results = {}
        sets = {name: limited(items) for name, items in sets.items()}
        for name, items in sets.items():
            for label, classify in classifiers.items():
                results[name, label] = run(classify, items)

    metrics = ("macro-F1", "macro-F1, classes equal", "accuracy", "first allowed", "in stored", "secondary precision",
               "secondaries")
    rows: list[tuple[str, ...]] = []
    for name, items in sets.items():
        rows.append((f"{name}: {len(items)} items",))
        for label in classifiers:
            got = scores(items, results[name, label][0])
            rows.append((label, *(f"{got[m]:.3f}" for m in metrics[:-1]), f"{got['secondaries']:d}",
                         f"{results[name, label][1]:.2f}"))
    print_table(("set / model", *metrics, "ms/article"), rows)

    print("\nnews, 12 sections, macro-F1 of the first topic with the sections as in our copy / as in the whole "
          "dataset / equally frequent")
    twelve = sets["news, 12 sections"]
    news = [i for i in news_items() if i.origin in NEWS_CLEAR_SECTIONS]
    ours = Counter(i.label for i in news)
    for label in classifiers:
        firsts = [r[0] if r else None for r in results["news, 12 sections", label][0]]
        print(f"  {label:<9} {news_mixes([i.label for i in twelve], firsts, ours)}")
    read = news_labels(READER_LABELS)
    sample = [i for i in news if i.key in read]
    print(f"  a reader against the editors, {len(sample)} items of the 12 sections read without their section: "
          f"{news_mixes([i.label for i in sample], [read[i.key] for i in sample], ours)}")
    held = [k for k, i in enumerate(twelve) if i.key in read]
    if held:  # a smoke run's few items may hold none
        routed_firsts = [results["news, 12 sections", "routed"][0][k] for k in held]
        gold = [twelve[k].label for k in held]
        print(f"  the same on the {len(held)} of them held back: reader "
              f"{news_mixes(gold, [read[twelve[k].key] for k in held], ours)}, routed "
              f"{news_mixes(gold, [r[0] if r else None for r in routed_firsts], ours)}")

    # The goal's secondary precision is about the text's own second topics: Personal comes from the
    # writer's voice, not from the classifier.
    print("\nsecond and third topics from the text (Personal aside), routed: precision (given)")
    for name, items in sets.items():
        outcomes = [
            t in secondary_allowed(i)
            for i, r in zip(items, results[name, "routed"][0], strict=True)
            for t in r[1:]
            if t != "Personal"
        ]
        precision = f"{sum(outcomes) / len(outcomes):.3f}" if outcomes else "-"
        print(f"  {name}: {precision} ({len(outcomes)})")

    print("\nSIB-200 dev, 3 sentences an item: first topic allowed, per language (first / previous / short / page / routed)")
    sib = sets["SIB-200 dev, 3 sentences"]
    by_language: dict[str, list[int]] = {}
    for index, item in enumerate(sib):
        by_language.setdefault(item.language, []).append(index)
    row = []
    for language, indices in sorted(by_language.items()):
        part = [sib[i] for i in indices]
        rates = [
            scores(part, [results["SIB-200 dev, 3 sentences", c][0][i] for i in indices])["first allowed"]
            for c in classifiers
        ]
        row.append(f"{language} " + "/".join(f"{r:.2f}" for r in rates))
    for start in range(0, len(row), 6):
        print("  " + "   ".join(row[start : start + 6]))

    routed_to_page = sum(topics.model_for("\n".join(filter(None, title_and_text(i)))) is page_model for i in sib)
    print(f"  routed to the page model: {routed_to_page} of {len(sib)} items")

    print("\nnews (held back), routed classifier: first topic per gold topic")
    news = sets["news (held back)"]
    firsts = [r[0] if r else None for r in results["news (held back)", "routed"][0]]
    for label in sorted({i.label for i in news}):
        counts = Counter(f for i, f in zip(news, firsts, strict=True) if i.label == label)
        print(f"  {label:<14} " + ", ".join(f"{p} {n}" for p, n in counts.most_common(4)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
