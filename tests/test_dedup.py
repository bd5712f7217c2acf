"""Same story, many feeds: URL identity and near-duplicate text, against different stories."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from enrich.dedup import (
    MIN_CONTAINMENT,
    NUM_PERM,
    DedupCandidate,
    DuplicateIndex,
    TextFingerprint,
    _containment,
    fingerprint_of,
    story_key,
    text_fingerprint,
)
from enrich.feeds import parse_feed
from enrich.urls import canonical_link
from tests.conftest import shared_or_skip
from tests.test_topics import demo_articles


def similarity(a: TextFingerprint | bytes, b: TextFingerprint | bytes) -> tuple[float, float]:
    """Estimated (Jaccard, containment of the smaller in the larger) of two texts: what
    DuplicateIndex.match computes for every stored article at once, for one pair."""
    a = a if isinstance(a, TextFingerprint) else TextFingerprint.from_bytes(a)
    b = b if isinstance(b, TextFingerprint) else TextFingerprint.from_bytes(b)
    if not a.shingle_count or not b.shingle_count:
        return 0.0, 0.0
    jaccard = float(np.mean(a.signature == b.signature))
    return jaccard, float(_containment(jaccard, a.shingle_count, b.shingle_count))


STORY = demo_articles()["northwind/new-comet-catalogued.html"]["text"]
SAME_SUBJECT = demo_articles()["northwind/battery-recycling-yields.html"]["text"]


def edited(text: str, every: int = 50) -> str:
    """A syndicated copy with a word changed every ``every`` words (house style, typo fixes)."""
    words = text.split(" ")
    return " ".join("amended" if i % every == 7 else w for i, w in enumerate(words))


def with_boilerplate(text: str) -> str:
    head = "Sign up for our morning newsletter and never miss a story. Follow us on every network.\n"
    tail = (
        "\nThis story was first published by the Northwind Tech Journal and is republished with permission."
        "\nRead more: the week in science, our best long reads, and the newsletter archive. Advertisement."
    )
    return head * 2 + text + tail


# --- fingerprints ---------------------------------------------------------------------------------


def test_fingerprint_is_stable_bytes():
    blob = text_fingerprint(STORY)
    assert isinstance(blob, bytes) and len(blob) == 8 + 4 * NUM_PERM
    assert blob == text_fingerprint(STORY)
    back = TextFingerprint.from_bytes(blob)
    assert back.shingle_count == fingerprint_of(STORY).shingle_count
    with pytest.raises(ValueError):
        TextFingerprint.from_bytes(b"MH1\x00short")


GOLDEN_EN = (
    "The regional rail operator will run extra trains on the northern line from Monday, after weeks of "
    "complaints about overcrowding at peak times. Four additional services will leave the central station "
    "between 7 and 9 in the morning, a spokesperson said."
)
GOLDEN_JA = "店で出しているコーヒー豆は、すべて私が自分で焙煎している。焙煎機を買ったのは三年前のことだ。"


@pytest.mark.parametrize(
    ("text", "sha256"),
    [
        (GOLDEN_EN, "62b8bc3b84eb3a47137260253d14f987b3c857472958085ba38ad6396a26704d"),
        (GOLDEN_JA, "c644c8efbbfceaef7ab4e227c3e62cc4ac4da6fb2900abcca07717f5ba4cc907"),
    ],
)
def test_fingerprints_never_change(text, sha256):
    # Stored fingerprints are compared with new ones: any change to shingling, hashing or MinHash
    # (a speed-up included) must leave the bytes as they were. Pinned on the first implementation.
    import hashlib

    assert hashlib.sha256(text_fingerprint(text)).hexdigest() == sha256


def test_identical_texts_are_identical():
    jaccard, containment = similarity(text_fingerprint(STORY), text_fingerprint(STORY))
    assert jaccard == 1.0 and containment == 1.0


def test_case_and_punctuation_do_not_matter():
    jaccard, _ = similarity(fingerprint_of(STORY), fingerprint_of(STORY.upper().replace(",", " ,")))
    assert jaccard == 1.0


@pytest.mark.parametrize(("name", "copy"), [("edited", edited(STORY)), ("boilerplate", with_boilerplate(STORY))])
def test_copies_of_one_story_are_near_duplicates(name, copy):
    _, containment = similarity(fingerprint_of(STORY), fingerprint_of(copy))
    assert containment >= MIN_CONTAINMENT, name


def test_different_stories_on_the_same_subject_are_not():
    # two demo science stories from one publication, and two German local stories
    _, containment = similarity(fingerprint_of(STORY), fingerprint_of(SAME_SUBJECT))
    assert containment < MIN_CONTAINMENT / 3
    a = demo_articles()["stadtleben/stadtrat-haushalt-radwege.html"]["text"]
    b = demo_articles()["stadtleben/mietspiegel-wohnungsbau.html"]["text"]
    assert similarity(fingerprint_of(a), fingerprint_of(b))[1] < MIN_CONTAINMENT / 3


def test_no_two_demo_articles_are_duplicates():
    fps = {rel: text_fingerprint(a["text"]) for rel, a in demo_articles().items()}
    for (r1, f1), (r2, f2) in itertools.combinations(fps.items(), 2):
        assert similarity(f1, f2)[1] < MIN_CONTAINMENT, (r1, r2)


def test_japanese_copies_match_by_character_shingles():
    diary = demo_articles()["kissa/roasting-mandheling-notes.html"]["text"]
    other = demo_articles()["kissa/record-night-vol12.html"]["text"]
    copy = "【転載】" + diary.replace("焙煎", "ロースト", 2)
    assert similarity(fingerprint_of(diary), fingerprint_of(copy))[1] >= MIN_CONTAINMENT
    assert similarity(fingerprint_of(diary), fingerprint_of(other))[1] < MIN_CONTAINMENT / 3


# --- matching ------------------------------------------------------------------------------------

ORIGINAL = "https://northwind.example/science/new-comet-catalogued"


def test_same_canonical_url_with_different_tracking_parameters():
    first = ORIGINAL + "?utm_source=rss&utm_medium=feed"
    second = ORIGINAL + "?utm_campaign=weekly#comments"
    assert story_key(first) == story_key(second) == canonical_link(ORIGINAL)
    match = DuplicateIndex([DedupCandidate(first, None, None)]).match(second, None, None)
    assert match is not None and match.url == first and match.reason == "canonical_url"


def test_syndicated_copy_naming_the_original_as_canonical():
    copy_url = "https://aggregator.example/stories/88123"
    match = DuplicateIndex([DedupCandidate(ORIGINAL, None, text_fingerprint(STORY))]).match(copy_url, ORIGINAL, None)
    assert match is not None and match.url == ORIGINAL and match.reason == "canonical_url"


@pytest.mark.parametrize("copy", [edited(STORY), with_boilerplate(STORY)], ids=["edited", "boilerplate"])
def test_copy_under_another_url_matches_on_text(copy):
    candidates = [
        DedupCandidate(ORIGINAL, None, text_fingerprint(STORY)),
        DedupCandidate("https://northwind.example/battery", None, text_fingerprint(SAME_SUBJECT)),
    ]
    match = DuplicateIndex(candidates).match("https://aggregator.example/comet-copy", None, text_fingerprint(copy))
    assert match is not None and match.url == ORIGINAL and match.reason == "text"
    assert MIN_CONTAINMENT <= match.similarity <= 1.0


def test_a_different_story_does_not_match():
    candidates = [DedupCandidate(ORIGINAL, None, text_fingerprint(STORY))]
    assert DuplicateIndex(candidates).match("https://northwind.example/battery", None, text_fingerprint(SAME_SUBJECT)) is None


def test_an_article_is_not_its_own_duplicate():
    index = DuplicateIndex([DedupCandidate(ORIGINAL, None, text_fingerprint(STORY))])
    assert index.match(ORIGINAL, None, text_fingerprint(STORY)) is None


def test_short_texts_never_match_on_text():
    short = "Comet found. More soon."
    candidates = [DedupCandidate("https://a.example/1", None, text_fingerprint(short))]
    index = DuplicateIndex(candidates)
    assert index.match("https://b.example/2", None, text_fingerprint(short)) is None
    assert index.match("https://b.example/2", None, text_fingerprint("")) is None


def test_two_feeds_carrying_the_same_story_under_different_urls():
    """Feed A links the original; feed B, an aggregator, its own copy with extra boilerplate.

    Entries go through the real feed adapter; the first one seen stays the stored article and the
    second is recognised as the same story, however the batch is ordered.
    """
    feed_a = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>A</title><link>https://a.example/</link>
      <item><title>Comet catalogued</title><link>{ORIGINAL}?utm_source=rss</link><guid>a-1</guid></item>
      <item><title>Battery recycling</title><link>https://northwind.example/battery</link><guid>a-2</guid></item>
    </channel></rss>""".encode()
    feed_b = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>B</title><link>https://b.example/</link>
      <item><title>Astronomers pin down a new comet</title><link>https://b.example/wire/77?ref=home</link>
      <guid>b-1</guid></item>
    </channel></rss>"""
    entries = parse_feed(feed_a, "https://a.example/feed").entries + parse_feed(feed_b, "https://b.example/feed").entries
    texts = {entries[0].url: STORY, entries[1].url: SAME_SUBJECT, entries[2].url: with_boilerplate(STORY)}
    assert len({e.url for e in entries}) == 3  # three different URLs

    index = DuplicateIndex()
    stored, duplicates = [], {}
    for entry in entries:
        fp = text_fingerprint(texts[entry.url])
        match = index.match(entry.url, None, fp)
        if match:
            duplicates[entry.url] = match.url
        else:
            stored.append(entry.url)
            index.add(DedupCandidate(entry.url, None, fp))
    assert stored == [entries[0].url, entries[1].url]
    assert duplicates == {entries[2].url: entries[0].url}
    assert entries[0].url == canonical_link(ORIGINAL)  # tracking parameters already gone


def test_bbc_articles_are_pairwise_distinct():
    """Same-section news stories share vocabulary, never their text."""
    path = shared_or_skip("bbc-news-summary/bbc60.jsonl")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    index = DuplicateIndex()
    for r in rows:
        fp = text_fingerprint("\n".join(r["article_sentences"]))
        assert index.match(r["id"], None, fp) is None, r["title"]
        index.add(DedupCandidate(r["id"], None, fp))


def test_a_malformed_stored_fingerprint_costs_that_article_alone():
    """A fingerprint the store holds broken (truncated, another format) reads as no text: it never
    matches on text, and the other stored articles still do."""
    copy = with_boilerplate(STORY)
    candidates = [
        DedupCandidate("https://a.example/broken", None, text_fingerprint(STORY)[:-7]),
        DedupCandidate("https://a.example/other-format", None, b"XX01" + text_fingerprint(STORY)[4:]),
        DedupCandidate("https://a.example/original", None, text_fingerprint(STORY)),
    ]
    match = DuplicateIndex(candidates).match("https://b.example/copy", None, text_fingerprint(copy))
    assert match is not None and match.url == "https://a.example/original"


def test_articles_added_one_by_one_match_as_when_loaded_at_once():
    """The index's signature buffer grows as articles are added: what it holds after many adds
    matches exactly as the same articles loaded in one go."""
    texts = [a["text"] for a in demo_articles().values()]
    candidates = [DedupCandidate(f"https://s.example/{i}", None, text_fingerprint(t)) for i, t in enumerate(texts * 3)]
    grown = DuplicateIndex()
    for candidate in candidates:
        grown.add(candidate)
    at_once = DuplicateIndex(candidates)
    assert len(grown) == len(at_once) == len(candidates) > 16
    for i, text in enumerate(texts):
        fp = text_fingerprint(with_boilerplate(text))
        assert grown.match(f"https://new.example/{i}", None, fp) == at_once.match(f"https://new.example/{i}", None, fp)
        assert grown.match(f"https://new.example/{i}", None, fp).url == f"https://s.example/{i}"  # the first stays
