"""Reading time, the way reader apps state it: whole minutes, never zero."""

from __future__ import annotations

import math
import re

from enrich.models import ReadingTime

# Scripts written without spaces between words are counted by characters instead of words.
UNSPACED_LANGUAGES = frozenset({"zh", "ja", "ko", "th", "lo", "km", "my"})
_WORD = re.compile(r"\w+(?:[-'’]\w+)*")


def count_words(text: str) -> int:
    return len(_WORD.findall(text))


def count_chars(text: str) -> int:
    """Characters a reader actually reads: letters and digits, not spaces or punctuation."""
    return sum(1 for ch in text if ch.isalnum())


def estimate_reading_time(
    text: str, language: str, *, words_per_minute: int = 230, cjk_chars_per_minute: int = 500
) -> ReadingTime:
    """Minutes to read ``text``, rounded to the nearest minute, at least 1."""
    if language in UNSPACED_LANGUAGES:
        units, unit, rate = count_chars(text), "chars", cjk_chars_per_minute
    else:
        units, unit, rate = count_words(text), "words", words_per_minute
    # Round half up: 1.5 minutes reads as "2 min", 1.2 as "1 min" (Medium rounds the same way).
    return ReadingTime(max(1, math.floor(units / rate + 0.5)), units, unit)
