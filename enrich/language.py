"""Language detection: writing systems first, then langdetect (seeded) checked against letters and words.

1. A script that one language owns decides alone (Hangul is Korean, kana Japanese, Thai, Greek,
   Hebrew...), whatever the length: langdetect adds nothing there, and its Korean profile is
   mostly Han characters, so Chinese came out as Korean.
2. Otherwise langdetect ranks candidates and the text's letters rule some out (Bulgarian has no
   ы/э/ё, Slovak no ř/ů/ě, Macedonian always shows one of ѓќѕљњџј). Close relatives split
   langdetect's probability between them (cs 0.57, sk 0.43); their sum is the confidence, and
   marks only one of them has (letters, then a few common words spelt differently) choose.
3. On one or two words langdetect is wrong one time in six whatever probability it reports
   (bench/language.py), so there a guess stands only when a letter confirms it ("ß" for German,
   "ł" for Polish); otherwise the answer is ``und`` and the caller's declared language decides.

Every rule was kept only if it raised accuracy on ../shared/corpora/langid (bench/language.py).
langdetect itself runs as ``_FastDetector``: its own answers, to the bit, in a third of the time
(7.4 -> 2.7 ms CPU on an article, bench/language.py).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache

import numpy as np
from langdetect import DetectorFactory, detector_factory
from langdetect.detector import Detector
from langdetect.detector_factory import init_factory
from langdetect.lang_detect_exception import ErrorCode, LangDetectException
from langdetect.utils.ngram import NGram
from langdetect.utils.unicode_block import unicode_block

from enrich.models import LanguageGuess
from enrich.text import words

# langdetect samples n-grams at random; a fixed seed makes the same text give the same answer.
DetectorFactory.seed = 0
# langdetect loads its language profiles lazily, on first use and without a lock: threads racing
# through that first call got wrong answers (en read as af, da, pl). Load them once, at import.
init_factory()


# -- langdetect, read faster ----------------------------------------------------------------------
# The profiles init_factory loaded: langdetect keeps its factory in this module global.
_FACTORY = detector_factory._factory
_SPACES = re.compile(" +")
_ASCII_LETTERS_AND_BETWEEN = re.compile("[A-z]")  # langdetect's 'A' <= ch <= 'z', brackets and all


class _NgramChars(dict):
    """``str.translate`` table: each character as langdetect's n-grams see it, computed on first sight."""

    def __missing__(self, code: int) -> str:
        self[code] = NGram.normalize(chr(code))
        return self[code]


_NGRAM_CHARS = _NgramChars()


@lru_cache(maxsize=65536)
def _word_ngrams(padded: str) -> tuple[str, ...]:
    """The n-grams langdetect takes from `` word`` (or `` word ``, followed by a space), in its order.

    At each character the 1-, 2- and 3-grams ending there, none reaching before the leading space;
    none at all where this character and the one before are capitals (an acronym).
    """
    found = []
    for end in range(1, len(padded)):
        if padded[end].isupper() and padded[end - 1].isupper():
            continue
        for n in range(1, min(NGram.N_GRAM, end + 1) + 1):
            gram = padded[end + 1 - n : end + 1]
            if gram != " " and gram in _FACTORY.word_lang_prob_map:
                found.append(gram)
    return tuple(found)


@lru_cache(maxsize=32768)
def _ngram_probabilities(ngram: str) -> np.ndarray:
    """An n-gram's probability in each language, in the factory's language order."""
    return np.array(_FACTORY.word_lang_prob_map[ngram])


class _FastDetector(Detector):
    """langdetect's ``Detector`` with its Python loops replaced, giving the same answers faster.

    langdetect reads a text one character at a time in Python: three quarters of the time
    ``detect_language`` took on an article (5.1 of 7.3 ms). These overrides find the same
    n-grams in the same order (str methods, and a cache of each word's n-grams); the seeded
    sampling then draws the same n-grams and does the same arithmetic, element by element, with
    numpy arrays for its loops over the 55 languages. The probabilities are langdetect's, to the
    bit: tests/test_language.py compares the two.
    """

    def append(self, text: str) -> None:
        text = NGram.normalize_vi(self.MAIL_RE.sub(" ", self.URL_RE.sub(" ", text)))
        self.text += _SPACES.sub(" ", text[: self.max_text_length])  # runs of spaces count once

    def cleaning_text(self) -> None:
        """Drop Latin letters from a text mostly in another script (as langdetect does, per character)."""
        counts = Counter(self.text)
        latin = sum(n for ch, n in counts.items() if "A" <= ch <= "z")
        # langdetect's own test, as it stands (its blocks are numbers, so this is every letter from U+0300).
        non_latin = sum(
            n for ch, n in counts.items() if ch >= "\u0300" and unicode_block(ch) != "Latin Extended Additional"
        )
        if latin * 2 < non_latin:
            self.text = _ASCII_LETTERS_AND_BETWEEN.sub("", self.text)

    def _extract_ngrams(self) -> list[str]:
        # langdetect's n-gram window starts afresh after every space, so a text's n-grams are its
        # words' n-grams in order; a word's depend only on it and on whether a space follows it.
        words = self.text.translate(_NGRAM_CHARS).split(" ")
        last = len(words) - 1
        ngrams: list[str] = []
        for i, word in enumerate(words):
            if word:
                ngrams.extend(_word_ngrams(f" {word} " if i < last else f" {word}"))
        return ngrams

    def _detect_block(self) -> None:
        """langdetect's ``_detect_block``: n_trial random walks over the n-grams, averaged."""
        self.cleaning_text()
        ngrams = self._extract_ngrams()
        if not ngrams:
            raise LangDetectException(ErrorCode.CantDetectError, "No features in text.")
        langprob = [0.0] * len(self.langlist)
        self.random.seed(self.seed)
        for _ in range(self.n_trial):
            prob = np.array(self._init_probability())
            alpha = self.alpha + self.random.gauss(0.0, 1.0) * self.ALPHA_WIDTH
            weight = alpha / self.BASE_FREQ
            factors: dict[str, np.ndarray] = {}  # weight + p(n-gram | language), per n-gram drawn
            i = 0
            while True:
                ngram = self.random.choice(ngrams)  # all known to the profiles (_word_ngrams)
                factor = factors.get(ngram)
                if factor is None:
                    factor = factors[ngram] = weight + _ngram_probabilities(ngram)
                prob *= factor
                if i % 5 == 0:
                    # Python's sum, as langdetect's: numpy's adds in another order and rounds otherwise.
                    prob /= sum(prob.tolist())
                    if max(prob.tolist()) > self.CONV_THRESHOLD or i >= self.ITERATION_LIMIT:
                        break
                i += 1
            for j, p in enumerate(prob.tolist()):
                langprob[j] += p / self.n_trial
        self.langprob = langprob


def _detect_langs(text: str) -> list:
    """langdetect's ``detect_langs``, by :class:`_FastDetector`."""
    detector = _FastDetector(_FACTORY)
    detector.append(text)
    return detector.get_probabilities()


UNDETERMINED = LanguageGuess("und", 0.0)
# langdetect speaks in regional codes for Chinese; the reader wants ISO 639-1.
_CODE_MAP = {"zh-cn": "zh", "zh-tw": "zh"}

# -- 1. scripts ---------------------------------------------------------------------------------
# Scripts that belong to one language (prefix of the Unicode character name -> ISO 639-1).
SCRIPT_LANGUAGES = {
    "HANGUL": "ko", "HIRAGANA": "ja", "KATAKANA": "ja", "THAI": "th", "GREEK": "el", "HEBREW": "he",
    "BENGALI": "bn", "GUJARATI": "gu", "GURMUKHI": "pa", "TAMIL": "ta", "TELUGU": "te", "KANNADA": "kn",
    "MALAYALAM": "ml", "GEORGIAN": "ka", "ARMENIAN": "hy", "KHMER": "km", "LAO": "lo", "MYANMAR": "my",
    "SINHALA": "si",
}
# Share of a text's letters in one script for the script to decide (Japanese counts kana + Han).
SCRIPT_SHARE = 0.5
# Han without kana or Hangul is Chinese from this many characters on; fewer could be a Japanese
# compound written in kanji alone (the langid two-word prefixes of Japanese are often just that).
MIN_HAN_FOR_CHINESE = 8

# -- 2. letters and words -------------------------------------------------------------------------
# A language is ruled out when the text has any of its forbidden letters, or none of its required.
FORBIDDEN_LETTERS = {
    "ru": "іїєґѓќѕљњџјђћ", "bg": "ыэёіїєґѓќѕљњџјђћ", "uk": "ыэёъѓќѕљњџјђћ", "mk": "ыэёщъіїєґ",
    "cs": "äľĺŕô", "sk": "řůě", "sl": "ćđ", "ar": "پچژگ", "da": "äö", "no": "äö", "sv": "æø",
}
REQUIRED_LETTERS = {"mk": "ѓќѕљњџј"}
# Spellings a language never has: Bulgarian writes no soft sign except in ьо, and no reflexive
# -ся/-сь (Russian and Ukrainian do).
FORBIDDEN_SPELLINGS = {"bg": re.compile(r"ь(?!о)|(?:ся|сь)\b")}
# A letter counts as present from one in LETTER_DENSITY letters on (and at least once), so a
# quoted name (Київ in a Russian paragraph) does not rule out the language around it.
LETTER_DENSITY = 100
# Groups of close relatives langdetect confuses.
CLOSE_LANGUAGES = (
    frozenset({"cs", "sk"}), frozenset({"da", "no", "sv"}), frozenset({"hr", "sl", "sr", "bs"}),
    frozenset({"ru", "bg", "mk", "uk"}), frozenset({"es", "pt", "ca", "gl"}), frozenset({"id", "ms", "tl"}),
    frozenset({"nl", "af"}), frozenset({"ar", "fa", "ur"}),
)
# Marks of one member of a group: when exactly one member shows its marks, it is the answer
# (langdetect calls short Russian sentences Bulgarian or Ukrainian; Russian has ы/э/ё,
# Ukrainian і/ї/є/ґ, Bulgarian a vowel ъ and ьо).
MARKS = {
    "uk": re.compile(r"[іїєґ]"),
    "ru": re.compile(r"[ыэё]"),
    "bg": re.compile(r"ъ(?![еёюя])|ьо"),
    "mk": re.compile(r"[ѓќѕљњџј]"),
    "cs": re.compile(r"[řůě]"),
    "sk": re.compile(r"[äľĺŕô]"),
    "hr": re.compile(r"[ćđ]"),
    "fa": re.compile(r"[پچژگ]"),
}
# Close relatives sharing their letters (or losing them when typed without diacritics) are told
# apart by common words spelt differently; the member with clearly more of them wins.
MARK_WORDS = {
    "da": frozenset("af noget nogen nogle meget hvad nyt gøre spørgsmål slet ikke også".split()),
    "no": frozenset("noe noen mye hva nytt gjøre spørsmål ikke også meg deg seg ble etter ikkje eg kva".split()),
    "sv": frozenset("och inte är jag från detta finns fanns inget mycket hur ej sedan att vad någon några blir "
                    "också".split()),
    "cs": frozenset("se jako jak nebo který ktery která ktera které ktere jsou jsem jest také take pouze mezi "
                    "když kdyz ve".split()),
    "sk": frozenset("sa ako alebo ktorý ktory ktorá ktora ktoré ktore som nie aj len medzi keď ked vo".split()),
    "hr": frozenset("i su što sto nije će ce koji koja kako razdoblje".split()),
    "sl": frozenset("in so ki tudi kot bo še".split()),
    "nl": frozenset("de een niet zijn werd wordt ook aan bij naar zich".split()),
    "af": frozenset("die nie ek jy hulle ons".split()),
    "ru": frozenset("что это как его она они мы вы вот сейчас был была было если чтобы надо очень или ещё".split()),
    "uk": frozenset("що це та він вона але від щоб треба дуже або також ще був була було якщо".split()),
    "bg": frozenset("че са се ще бих във със към това който които аз ние".split()),
}

# -- 3. short texts -------------------------------------------------------------------------------
# Below this many words a guess needs a letter that confirms it. Measured: with 4, sentences of
# three words went to und (98.8% right); with 3, 99.0% right and two-word texts stay < 5% wrong.
SHORT_WORDS = 3
# Letters that point to few languages (letters -> the languages they confirm).
TELLTALE_LETTERS = {
    "ß": "de", "ñ": "es", "őű": "hu", "łśźż": "pl", "ąę": "pl lt", "řůě": "cs", "ãõ": "pt vi et",
    "ăîâșțşţ": "ro tr", "ğı": "tr", "ơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹđ": "vi hr",
    "ľĺŕô": "sk", "æø": "da no", "ыэё": "ru", "іїєґ": "uk", "ѓќѕљњџј": "mk sr", "ъщ": "bg ru",
    "پچژگ": "fa ur", "ةيك": "ar",
}
# ... and spellings: the soft sign and the reflexive -ся/-сь are Russian or Ukrainian, never
# Bulgarian, Macedonian or Serbian.
TELLTALE_SPELLINGS = {"ru uk": re.compile(r"ь|(?:ся|сь)\b")}


@lru_cache(maxsize=8192)
def _script_of(ch: str) -> str | None:
    """The single-language script (or HAN) of a letter, None for the shared ones (Latin, Cyrillic...)."""
    name = unicodedata.name(ch, "")
    return next((s for s in SCRIPT_LANGUAGES if name.startswith(s)), "HAN" if name.startswith("CJK") else None)


def _letter_counts(text: str) -> dict[str, int]:
    """How often each letter occurs (counted per character, then filtered: faster than the reverse)."""
    return {ch: n for ch, n in Counter(text).items() if ch.isalpha()}


def _script_counts(letters: dict[str, int]) -> tuple[Counter[str], int]:
    """Letters per single-language script (plus HAN for CJK ideographs), and all letters."""
    counts: Counter[str] = Counter()
    for ch, n in letters.items():
        if script := _script_of(ch):
            counts[script] += n
    return counts, sum(letters.values())


def _by_script(counts: Counter[str], letters: int) -> LanguageGuess | None:
    """The language a single-language script gives the text, ``und`` for short Han, None otherwise."""
    if not letters:
        return None
    kana = counts["HIRAGANA"] + counts["KATAKANA"]
    if kana and kana + counts["HAN"] >= SCRIPT_SHARE * letters:
        return LanguageGuess("ja", 1.0)
    for script, language in SCRIPT_LANGUAGES.items():
        if counts[script] >= SCRIPT_SHARE * letters:
            return LanguageGuess(language, 1.0)
    if counts["HAN"] >= SCRIPT_SHARE * letters:
        return LanguageGuess("zh", 1.0) if counts["HAN"] >= MIN_HAN_FOR_CHINESE else UNDETERMINED
    return None


def _script_fits(language: str, counts: Counter[str]) -> bool:
    """A language with a script of its own is a candidate only if the text has that script
    (langdetect's Korean profile is mostly Han, so Chinese came out as Korean)."""
    if language == "zh":
        return counts["HAN"] > 0
    if language == "ja":
        return counts["HIRAGANA"] + counts["KATAKANA"] > 0
    own = [script for script, code in SCRIPT_LANGUAGES.items() if code == language]
    return not own or any(counts[script] for script in own)


def _allowed(language: str, letters: set[str], text: str = "") -> bool:
    if letters & set(FORBIDDEN_LETTERS.get(language, "")):
        return False
    spelling = FORBIDDEN_SPELLINGS.get(language)
    if spelling is not None and spelling.search(text):
        return False
    required = REQUIRED_LETTERS.get(language)
    return not required or bool(letters & set(required))


def _by_words(text: str, candidates: set[str]) -> str | None:
    """The candidate whose marker words the text uses most, if one clearly leads."""
    found = {w.lower() for w in words(text)}
    hits = sorted(((len(found & MARK_WORDS[c]), c) for c in candidates if c in MARK_WORDS), reverse=True)
    if hits and hits[0][0] and (len(hits) == 1 or hits[0][0] > hits[1][0]):
        return hits[0][1]
    return None


def _confirmed_by_letters(language: str, letters: set[str], text: str) -> bool:
    if any(letters & set(chars) and language in langs.split() for chars, langs in TELLTALE_LETTERS.items()):
        return True
    return any(language in langs.split() and pattern.search(text) for langs, pattern in TELLTALE_SPELLINGS.items())


def detect_language(text: str, *, min_confidence: float = 0.70, max_chars: int = 5000) -> LanguageGuess:
    """ISO 639-1 code of ``text`` with its confidence, or ``und`` when unsure."""
    sample = text[:max_chars]
    sample_letters = _letter_counts(sample)
    if not sample_letters:
        return UNDETERMINED
    # 1. A writing system of its own.
    counts, n_letters = _script_counts(sample_letters)
    by_script = _by_script(counts, n_letters)
    if by_script is not None:
        return by_script
    # 2. langdetect's candidates, minus those the letters rule out.
    try:
        ranked = [(_CODE_MAP.get(g.lang, g.lang), g.prob) for g in _detect_langs(sample)]
    except LangDetectException:
        return UNDETERMINED
    lowered = sample.lower()
    lower_letters = _letter_counts(lowered)
    floor = max(1, sum(lower_letters.values()) // LETTER_DENSITY)
    letters = {ch for ch, n in lower_letters.items() if n >= floor}
    kept = [(lang, p) for lang, p in ranked if _script_fits(lang, counts) and _allowed(lang, letters, lowered)]
    total = sum(p for _, p in kept)
    top = kept[0][0] if kept else ranked[0][0]
    group = next((g for g in CLOSE_LANGUAGES if top in g), frozenset({top}))
    prob = sum(p for lang, p in kept if lang in group) / total if total else 0.0
    marked = [lang for lang in sorted(group) if lang in MARKS and MARKS[lang].search(lowered) and _allowed(lang, letters, lowered)]
    by_words = None
    if len(marked) == 1:
        lang, prob = marked[0], prob or 1.0
    else:
        by_words = _by_words(sample, {c for c in group if _allowed(c, letters, lowered)})
        if by_words:
            lang = by_words
        elif kept:
            lang = kept[0][0]
        else:
            # Every candidate ruled out by a letter it never uses: likely mojibake (the langid
            # Czech has ą and ľ for š and ž), so langdetect's first choice that has the letters
            # it must have stands (a Macedonian guess without ѓќѕљњџј never does).
            relaxed = [(code, p) for code, p in ranked if _script_fits(code, counts)
                       and (code not in REQUIRED_LETTERS or letters & set(REQUIRED_LETTERS[code]))]
            if not relaxed:
                return UNDETERMINED
            lang, prob = relaxed[0]
    # 3. Short texts need a letter that confirms the guess; longer ones the caller's floor.
    confirmed = bool(marked) or by_words == lang or _confirmed_by_letters(lang, letters, lowered)
    if len(words(sample)) < SHORT_WORDS and not confirmed:
        return UNDETERMINED  # langdetect's probability means nothing here (measured)
    if prob < min_confidence:
        return LanguageGuess("und", prob)
    return LanguageGuess(lang, prob)


# -- declared languages ---------------------------------------------------------------------------
# Writing system of the languages that do not use the Latin alphabet (the rest do).
_CYRILLIC = frozenset({"ru", "uk", "bg", "mk", "sr", "be", "kk", "ky", "mn", "tg"})
_ARABIC = frozenset({"ar", "fa", "ur", "ps"})
_DEVANAGARI = frozenset({"hi", "mr", "ne", "sa"})
_HAN = frozenset({"zh", "ja"})


@lru_cache(maxsize=8192)
def _script_family(ch: str) -> str | None:
    name = unicodedata.name(ch, "")
    if name.startswith("LATIN"):
        return "latin"
    if name.startswith("CYRILLIC"):
        return "cyrillic"
    if name.startswith("ARABIC"):
        return "arabic"
    if name.startswith("DEVANAGARI"):
        return "devanagari"
    if name.startswith(("CJK", "HIRAGANA", "KATAKANA")):
        return "han"
    return next((s for s in SCRIPT_LANGUAGES if name.startswith(s)), None)


def _family_of(language: str) -> str:
    if language in _CYRILLIC:
        return "cyrillic"
    if language in _ARABIC:
        return "arabic"
    if language in _DEVANAGARI:
        return "devanagari"
    if language in _HAN:
        return "han"
    own = [script for script, code in SCRIPT_LANGUAGES.items() if code == language]
    return own[0] if own else "latin"


def can_be_written_in(language: str, text: str) -> bool:
    """Could ``text`` be in ``language``, judging by its writing system? (A Russian text cannot be English.)"""
    families = Counter(f for f in map(_script_family, text[:2000]) if f)
    if not families:
        return True
    main = families.most_common(1)[0][0]
    family = _family_of(language)
    # Korean may be written with Han characters (hanja).
    return main == family or (language == "ko" and main == "han")


def are_close(a: str, b: str) -> bool:
    """Are ``a`` and ``b`` the same language, close relatives langdetect confuses, or zh/ja?

    Chinese and Japanese are no relatives, but a Japanese headline in kanji alone reads as Chinese.
    """
    return a == b or {a, b} == {"zh", "ja"} or any(a in group and b in group for group in CLOSE_LANGUAGES)
