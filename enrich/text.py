"""What every stage means by a word: tokens, counts, scripts without spaces, quoted speech, and the
per-language tables (sumy's names, stop words, stemmers) the stages share.

1. tokens: ``WORD`` (``\\w+`` runs) and ``words``; ``words_of`` gives similarity tokens, character
   bigrams in scripts without spaces;
2. the one rule for scripts without spaces: by language code (``UNSPACED_LANGUAGES``) when the
   language is known, by the text's share of CJK characters (``is_unspaced``) when it is not;
3. counts: ``word_count`` (words a reader sees, each with its combining marks), extraction's
   ``mixed_script_word_count``, and reading time's units (``compound_word_count``, ``char_count``);
4. quoted speech: ``own_voice`` removes paired quotations, leaving the writer's own words;
5. languages: ``SUMY_LANGUAGES``, ``stop_words_for`` and ``stemmer_for`` by ISO 639-1 code.

Stemmers: Snowball's own algorithms through PyStemmer (C) for the languages Snowball covers
(``_SNOWBALL``), sumy's for Arabic, Czech/Slovak and Ukrainian. sumy's Snowball stemmers are NLTK's
Python ports, 4-24 us a word against PyStemmer's 1 (English 7.3): in a fresh worker, where most of
an article's ~310 distinct words are new, the summary and vector stages went from 4.3 to 3.5 ms an
article, with the same stems but for 0.0-2.3% of the words (English 0.3%: NLTK cut "added" to "ad";
Romanian 5.6%, Snowball writing ș with a comma below) and BBC60 ROUGE-2 0.549 -> 0.551
(bench/summary.py). For Greek and Polish sumy wrapped other
packages, the slowest part of enrichment in those languages:

- Greek: sumy's wrapper of greek-stemmer-pos tries the word with each of 49 part-of-speech tags and
  keeps the shortest stem, 480 us a word (bench/stemmers.py): a Greek article took 0.2-0.3 s of CPU
  against 20-30 ms in the other languages. Snowball's: ~1 us (5.5 through the cache below).
- Polish: pystempel builds an ~11 MB trie from its table in Python, 3.0 s of CPU and ~167 MiB in
  every worker that met a Polish page (4.4 s and a progress bar on stderr through sumy). Snowball's
  Polish stemmer loads at once and holds nothing.

The stated fallback: when a stemmer's package is missing or the stemmer raises on a probe word,
that language is read without stemming (lower-cased words), and the reason is logged once per
process. A stemmer that raises on one word later gives that word back lower-cased, so one odd token
costs nothing but its own stem.

sumy is imported only where a stemmer or a stop-word list is first asked for: it pulls in NLTK,
~3 s of imports a process that only counts words never needs.
"""

from __future__ import annotations

import logging
import re
import unicodedata
import warnings
from collections.abc import Callable
from functools import lru_cache

log = logging.getLogger(__name__)

# --- 1. tokens ------------------------------------------------------------------------------------

# A word token: a run of letters, digits (and "_", which \w includes; callers that care drop it).
WORD = re.compile(r"\w+")
# Exactly the characters for which str.isalnum() is true (\w is isalnum() or "_"; tests/test_text.py
# checks every code point). Counting them with findall instead of a generator took pick_quotes from
# 7.6 to 6.9 ms an article and the summary from 2.5 to 2.1 ms.
_ALNUM = re.compile(r"[^\W_]")


def words(text: str) -> list[str]:
    """The text's ``\\w+`` runs, in order, as written."""
    return WORD.findall(text)


def letters_and_digits(text: str) -> list[str]:
    """The text's characters for which ``str.isalnum()`` is true, in order."""
    return _ALNUM.findall(text)


# --- 2. scripts without spaces --------------------------------------------------------------------

# Languages whose words are not separated by spaces: Chinese, Japanese, Thai, Lao, Khmer, Burmese.
# Korean does separate words, but its syllable blocks are read and counted like Chinese characters
# (Medium and Miniflux rate all three CJK languages in characters per minute), and the text rule
# below counts Hangul with Han and kana, so Korean is read the same way here too.
UNSPACED_LANGUAGES = frozenset({"zh", "ja", "ko", "th", "lo", "km", "my"})
# Han, kana and Hangul: the characters the text rule counts.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")
# A text is unspaced when more than this share of its letters and digits are CJK, judged on its
# opening: a Japanese article quoting an English name is still Japanese, an English one quoting a
# Japanese title is still English.
UNSPACED_MIN_SHARE = 0.3
UNSPACED_SAMPLE_CHARS = 2000


def is_unspaced_language(language: str) -> bool:
    """Is ``language`` (ISO 639-1) written without spaces between words?"""
    return language in UNSPACED_LANGUAGES


def is_unspaced(text: str) -> bool:
    """Mostly written in a script without spaces between words (Chinese, Japanese, Korean)?"""
    sample = text[:UNSPACED_SAMPLE_CHARS]
    if _CJK.search(sample) is None:  # the usual case, and no count needed: 0 is never > 0.3 x letters
        return False
    letters = len(_ALNUM.findall(sample))
    return letters > 0 and len(_CJK.findall(sample)) > UNSPACED_MIN_SHARE * letters


def words_of(sentence: str) -> list[str]:
    """Word tokens for similarity: ``\\w+`` runs, or character bigrams in unspaced scripts."""
    if is_unspaced(sentence):
        chars = _ALNUM.findall(sentence)
        return [a + b for a, b in zip(chars, chars[1:])] or chars
    return WORD.findall(sentence)


# --- 3. counts ------------------------------------------------------------------------------------

# A word as a reader counts it keeps its combining marks (Unicode categories Mn, Mc, Me): the vowel
# signs and viramas of Devanagari, Bengali or Tamil, Arabic harakat, decomposed accents. Python's
# \w does not match them, so \w+ cuts "नमस्ते दुनिया" into five pieces and a Hindi article was
# counted 2.5 times its words (reading time too). Tokens (WORD) keep \w+ on purpose: the stored
# fingerprints and vectors and the trained topic model are made of them.
# Marks live in the first two planes and among the variation selectors (E0100-E01EF); the tests
# check this list against every code point.
_MARK_PLANES = (range(0x20000), range(0xE0100, 0xE01F0))


@lru_cache(maxsize=1)
def _reader_words() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(a word with its marks, a compound of them), built on first use: the scan takes ~15 ms."""
    marks = [c for plane in _MARK_PLANES for c in plane if unicodedata.category(chr(c)).startswith("M")]
    ranges: list[list[int]] = []
    for c in marks:
        if ranges and ranges[-1][1] == c - 1:
            ranges[-1][1] = c
        else:
            ranges.append([c, c])
    mark = "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges)
    word = rf"\w[\w{mark}]*"  # a word starts with a letter or digit; marks only continue one
    # Reading time's word: a hyphenated or apostrophed compound ("state-of-the-art", "don't") is one.
    return re.compile(word), re.compile(rf"{word}(?:[-'’]{word})*")


# Remembered: the stages count the same texts again (the article's text five times: its source,
# language, reading time, topic model, kind; each candidate sentence in summary and quotes), at
# ~0.26 ms a page of text; a repeat costs a hash and a comparison instead.
@lru_cache(maxsize=4096)
def word_count(text: str) -> int:
    """Words a reader sees; unspaced scripts count two characters as a word."""
    if is_unspaced(text):
        return len(_ALNUM.findall(text)) // 2
    return len(_reader_words()[0].findall(text))


def mixed_script_word_count(text: str) -> int:
    """Words of a text that may mix scripts: two CJK characters make a word, other words count whole.

    Unlike ``word_count``, which reads a mostly-CJK text wholly by characters, this counts the
    Latin words inside Japanese text ("iPhone") as one each. Only extraction's rescue threshold
    uses it; on the 181 benchmark pages swapping it for ``word_count`` changes no page's text.
    """
    return len(_reader_words()[0].findall(_CJK.sub(" ", text))) + len(_CJK.findall(text)) // 2


def compound_word_count(text: str) -> int:
    """Words as reading time counts them: a hyphenated or apostrophed compound is one word."""
    return len(_reader_words()[1].findall(text))


def char_count(text: str) -> int:
    """Characters a reader actually reads: letters and digits, not spaces or punctuation."""
    return len(_ALNUM.findall(text))


# --- 4. quoted speech -----------------------------------------------------------------------------

# Paired quotation marks (“…”, „…“, «…», 「…」, 『…』, "…"); a quoted span is at most a paragraph.
QUOTED_SPEECH = re.compile(
    r"“[^”\n]{0,600}”|„[^“”\n]{0,600}[“”]|«[^»\n]{0,600}»|「[^」\n]{0,600}」|『[^』\n]{0,600}』|\"[^\"\n]{0,600}\""
)


def own_voice(text: str) -> str:
    """``text`` with quoted speech blanked out: what the writer says in their own voice."""
    return QUOTED_SPEECH.sub(" ", text)


# --- 5. languages: sumy's names, stop words, stemmers ---------------------------------------------

# ISO 639-1 to the names sumy uses for its stop-word lists and NLTK's Snowball stemmers.
SUMY_LANGUAGES = {
    "ar": "arabic", "cs": "czech", "de": "german", "el": "greek", "en": "english", "es": "spanish",
    "fr": "french", "he": "hebrew", "it": "italian", "ja": "japanese", "ko": "korean",
    "pl": "polish", "pt": "portuguese", "sk": "slovak", "sv": "swedish", "uk": "ukrainian",
    "zh": "chinese", "th": "thai", "nl": "dutch", "ru": "russian", "da": "danish", "fi": "finnish",
    "hu": "hungarian", "no": "norwegian", "ro": "romanian", "tr": "turkish",
}  # fmt: skip


@lru_cache(maxsize=64)
def stop_words_for(language: str) -> frozenset[str]:
    """sumy's stop words for ``language`` (ISO 639-1), lower-cased, or none when it has no list."""
    name = SUMY_LANGUAGES.get(language)
    if not name:
        return frozenset()
    from sumy.utils import get_stop_words

    try:
        return frozenset(w.lower() for w in get_stop_words(name))
    except LookupError:
        return frozenset()


# The word a stemmer is probed with when first asked for: any word does, the probe only proves
# the stemmer's package is present and working.
_PROBE = "running"


def _sumy(name: str) -> Callable[[str], str]:
    from sumy.nlp.stemmers import Stemmer

    if name in ("czech", "slovak"):
        # sumy's Czech stemmer warns once per distinct mixed-case word it leaves as it is ("iPhone",
        # "2G"): a Czech page printed dozens of lines on the run's terminal from every worker.
        warnings.filterwarnings("ignore", message="skipping word with mixed case", module=r"sumy\.nlp\.stemmers\.czech")
    return Stemmer(name)  # LookupError when sumy has no stemmer for the language


def _snowball(name: str) -> Callable[[], Callable[[str], str]]:
    """A builder of Snowball's stemmer for ``name`` (PyStemmer), on lower-cased words as sumy's are."""

    def build() -> Callable[[str], str]:
        import Stemmer

        stem = Stemmer.Stemmer(name).stemWord
        return lambda word: stem(word.lower())

    return build


# sumy's language names whose stemmer is Snowball's own, run by PyStemmer (C) instead of NLTK's
# Python ports: 1 us a word against 4-24. Dutch is Snowball's Porter-based Dutch, which NLTK's is
# (its newer Dutch stems differently); Arabic, Czech, Slovak and Ukrainian stay sumy's.
_SNOWBALL = {
    "danish": "danish", "dutch": "dutch_porter", "english": "english", "finnish": "finnish",
    "french": "french", "german": "german", "greek": "greek", "hungarian": "hungarian",
    "italian": "italian", "norwegian": "norwegian", "polish": "polish", "portuguese": "portuguese",
    "romanian": "romanian", "russian": "russian", "spanish": "spanish", "swedish": "swedish",
}  # fmt: skip
_BUILDERS: dict[str, Callable[[], Callable[[str], str]]] = {
    name: _snowball(algorithm) for name, algorithm in _SNOWBALL.items()
}


# Stems remembered per language: an article's words are stemmed twice (summary, related vector)
# and most recur across articles; sumy's own stemmers cost 2-24 us a word in Python. An LRU cache
# of this size keeps a long-lived worker's memory bounded (~25 MB at most).
STEM_CACHE_SIZE = 200_000


class _Tolerant:
    """A stemmer that gives a word back lower-cased when the stemmer raises on it (logged once)."""

    __slots__ = ("language", "stem", "warned")

    def __init__(self, language: str, stem: Callable[[str], str]) -> None:
        self.language, self.stem, self.warned = language, stem, False

    def __call__(self, word: str) -> str:
        try:
            return self.stem(word)
        except Exception as exc:  # noqa: BLE001 - a stemmer's bug costs one word its stem
            if not self.warned:
                self.warned = True
                log.warning("the %s stemmer failed on %r (%s: %s); such words stay unstemmed",
                            self.language, word, type(exc).__name__, exc)
            return word.lower()


@lru_cache(maxsize=64)
def stemmer_for(language: str) -> Callable[[str], str] | None:
    """The stemmer for ``language`` (ISO 639-1), or None: read its words as they are.

    None when sumy has no stemmer for the language, when the language is written without spaces
    (sumy's stemmers for Chinese, Japanese and Korean only lower-case), or when the stemmer's
    optional package is missing or broken: the stated fallback, logged once.
    """
    name = SUMY_LANGUAGES.get(language)
    if not name or is_unspaced_language(language):
        return None
    try:
        stem = _BUILDERS[name]() if name in _BUILDERS else _sumy(name)
    except LookupError:
        return None
    except Exception as exc:  # noqa: BLE001 - e.g. ImportError of an optional package: the stated fallback
        log.warning("no %s stemmer (%s: %s); %s text is read without stemming", name, type(exc).__name__, exc, name)
        return None
    try:
        stem(_PROBE)
    except Exception as exc:  # noqa: BLE001 - a broken package may raise only when a word is stemmed
        log.warning("the %s stemmer does not work (%s: %s); %s text is read without stemming",
                    name, type(exc).__name__, exc, name)
        return None
    return lru_cache(maxsize=STEM_CACHE_SIZE)(_Tolerant(name, stem))
