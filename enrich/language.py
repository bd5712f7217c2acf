"""Language detection with langdetect, made deterministic."""

from __future__ import annotations

from langdetect import DetectorFactory, detect_langs
from langdetect.lang_detect_exception import LangDetectException

from enrich.models import LanguageGuess

# langdetect samples n-grams at random; a fixed seed makes the same text give the same answer.
DetectorFactory.seed = 0

UNDETERMINED = LanguageGuess("und", 0.0)
# langdetect speaks in regional codes for Chinese; the reader wants ISO 639-1.
_CODE_MAP = {"zh-cn": "zh", "zh-tw": "zh"}


def detect_language(text: str, *, min_confidence: float = 0.70, max_chars: int = 5000) -> LanguageGuess:
    """ISO 639-1 code of ``text`` with langdetect's probability, or ``und`` when unsure."""
    sample = text[:max_chars]
    if not any(ch.isalpha() for ch in sample):
        return UNDETERMINED
    try:
        best = detect_langs(sample)[0]
    except LangDetectException:
        return UNDETERMINED
    if best.prob < min_confidence:
        return LanguageGuess("und", best.prob)
    return LanguageGuess(_CODE_MAP.get(best.lang, best.lang), best.prob)
