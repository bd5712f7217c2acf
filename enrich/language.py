"""Language detection with langdetect, made deterministic."""

from __future__ import annotations

import re

from langdetect import DetectorFactory, detect_langs
from langdetect.lang_detect_exception import LangDetectException

from enrich.models import LanguageGuess

# langdetect samples n-grams at random; a fixed seed makes the same text give the same answer.
DetectorFactory.seed = 0

UNDETERMINED = LanguageGuess("und", 0.0)
# langdetect speaks in regional codes for Chinese; the reader wants ISO 639-1.
_CODE_MAP = {"zh-cn": "zh", "zh-tw": "zh"}
_HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")


def detect_language(text: str, *, min_confidence: float = 0.70, max_chars: int = 5000) -> LanguageGuess:
    """ISO 639-1 code of ``text`` with langdetect's probability, or ``und`` when unsure."""
    sample = text[:max_chars]
    if not any(ch.isalpha() for ch in sample):
        return UNDETERMINED
    try:
        candidates = [(guess.lang, guess.prob) for guess in detect_langs(sample)]
    except LangDetectException:
        return UNDETERMINED
    if not _HANGUL.search(sample):
        # langdetect's Korean profile is mostly Han characters, so Chinese (traditional above
        # all) can come out as "ko"; text without a single Hangul letter is not Korean. The
        # other candidates are renormalised, as if Korean had never been a choice.
        rest = [(lang, prob) for lang, prob in candidates if lang != "ko"]
        total = sum(prob for _, prob in rest)
        candidates = [(lang, prob / total) for lang, prob in rest] if total else []
    if not candidates:
        return UNDETERMINED
    lang, prob = candidates[0]
    if prob < min_confidence:
        return LanguageGuess("und", prob)
    return LanguageGuess(_CODE_MAP.get(lang, lang), prob)
