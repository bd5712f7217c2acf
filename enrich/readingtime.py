"""Reading time, the way reader apps state it: whole minutes, never zero."""

from __future__ import annotations

import math

from enrich.models import ReadingTime
from enrich.text import char_count, compound_word_count, is_unspaced_language

# Medium's rule for images: 12 seconds for the first, one second less for each next one, and
# 3 seconds for every image from the tenth on.
FIRST_IMAGE_SECONDS = 12
LAST_IMAGE_SECONDS = 3


def image_seconds(images: int) -> int:
    """Seconds a reader spends on ``images`` pictures: 12 + 11 + ... + 4, then 3 for each further one."""
    return sum(max(FIRST_IMAGE_SECONDS - i, LAST_IMAGE_SECONDS) for i in range(max(images, 0)))


def estimate_reading_time(
    text: str, language: str, *, words_per_minute: int = 230, cjk_chars_per_minute: int = 500, images: int = 0
) -> ReadingTime:
    """Minutes to read ``text`` and look at its ``images``, rounded to the nearest minute, at least 1."""
    # Scripts written without spaces between words are counted by characters instead of words.
    if is_unspaced_language(language):
        units, unit, rate = char_count(text), "chars", cjk_chars_per_minute
    else:
        units, unit, rate = compound_word_count(text), "words", words_per_minute
    minutes = units / rate + image_seconds(images) / 60
    # Round half up: 1.5 minutes reads as "2 min", 1.2 as "1 min" (Medium rounds the same way).
    return ReadingTime(max(1, math.floor(minutes + 0.5)), units, unit)
