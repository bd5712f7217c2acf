"""estimate_reading_time: whole minutes, never zero; words for spaced scripts, characters otherwise.

Every expected value is worked out by hand from the rate: minutes = round-half-up(units / rate).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enrich.readingtime import estimate_reading_time, image_seconds
from enrich.text import char_count, compound_word_count


def words(n: int) -> str:
    return " ".join(["word"] * n)


@pytest.mark.parametrize(
    ("n", "minutes"),
    [
        (0, 1),  # never zero
        (1, 1),
        (230, 1),
        (344, 1),  # 1.496 min
        (345, 2),  # 1.5 min rounds half up
        (460, 2),
        (575, 3),  # 2.5 min rounds half up
        (690, 3),
        (804, 3),  # 3.496 min
        (805, 4),  # 3.5 min
    ],
)
def test_minutes_for_word_counts_at_230_wpm(n, minutes):
    result = estimate_reading_time(words(n), "en")
    assert result.minutes == minutes
    assert result.units == n
    assert result.unit == "words"


def test_custom_reading_speed():
    assert estimate_reading_time(words(200), "de", words_per_minute=100).minutes == 2
    assert estimate_reading_time(words(250), "de", words_per_minute=100).minutes == 3  # 2.5


def test_empty_text_reads_in_one_minute():
    assert estimate_reading_time("", "en").minutes == 1
    assert estimate_reading_time("", "ja").minutes == 1


def test_japanese_counts_characters_at_500_per_minute():
    result = estimate_reading_time("あ" * 1000, "ja")
    assert (result.minutes, result.units, result.unit) == (2, 1000, "chars")
    assert estimate_reading_time("あ" * 1250, "ja").minutes == 3  # 2.5 min rounds half up
    assert estimate_reading_time("あ" * 1000, "ja", cjk_chars_per_minute=250).minutes == 4


def test_punctuation_and_spaces_are_not_read_as_characters():
    text = "コーヒーを飲む。" * 125  # 7 letters and a full stop, 125 times
    result = estimate_reading_time(text, "ja")
    assert result.units == 7 * 125
    assert char_count("焙煎、 二百度！ 12") == 7  # 2 + 3 + 2


@pytest.mark.parametrize("language", ["ja", "zh", "ko", "th"])
def test_unspaced_languages_count_characters(language):
    assert estimate_reading_time("字" * 600, language).unit == "chars"


@pytest.mark.parametrize("language", ["en", "de", "es", "fr", "ru", "vi", "und"])
def test_spaced_languages_count_words(language):
    assert estimate_reading_time(words(10), language).unit == "words"


def test_words_with_hyphens_and_apostrophes_count_once():
    assert compound_word_count("state-of-the-art don't rock’n’roll") == 3
    assert compound_word_count("Straße, café; naïve — 2026!") == 4


@settings(max_examples=150, deadline=None)
@given(
    first=st.lists(st.sampled_from(["word", "Wort", "palabra", "ﾃｽﾄ", "二百度", "a-b", "x"]), max_size=700),
    more=st.lists(st.sampled_from(["more", "mehr", "más", "焙煎"]), min_size=1, max_size=700),
    language=st.sampled_from(["en", "de", "ja", "zh"]),
)
def test_reading_time_grows_with_length(first, more, language):
    shorter = " ".join(first)
    longer = " ".join(first + more)
    a, b = estimate_reading_time(shorter, language), estimate_reading_time(longer, language)
    assert a.units < b.units  # every added token is at least one word or character
    assert 1 <= a.minutes <= b.minutes


# -- images, Medium's rule: 12 s for the first, one less for each next, 3 s from the tenth on ------

@pytest.mark.parametrize(
    ("images", "seconds"),
    [(0, 0), (1, 12), (2, 23), (3, 33), (9, 72), (10, 75), (11, 78), (20, 105), (-1, 0)],
)
def test_image_seconds(images, seconds):
    # 12+11+10+9+8+7+6+5+4 = 72 for nine images, then 3 s each.
    assert image_seconds(images) == seconds


@pytest.mark.parametrize(
    ("n_words", "images", "minutes"),
    [
        (230, 1, 1),  # 60 s + 12 s = 1.2 min
        (230, 3, 2),  # 60 + 33 = 93 s = 1.55 min
        (300, 1, 2),  # 78.26 + 12 = 90.26 s: just over 1.5 min
        (290, 1, 1),  # 75.65 + 12 = 87.65 s: just under
        (0, 10, 1),  # 75 s of pictures alone
        (0, 20, 2),  # 105 s = 1.75 min
        (460, 9, 3),  # 120 + 72 = 192 s = 3.2 min
        (690, 0, 3),  # images default to none
    ],
)
def test_minutes_with_images(n_words, images, minutes):
    result = estimate_reading_time(words(n_words), "en", images=images)
    assert result.minutes == minutes
    assert result.units == n_words  # images add time, not words


def test_images_count_for_unspaced_scripts_too():
    # 1000 characters at 500 per minute = 2 min; three images add 33 s: 2.55 min.
    assert estimate_reading_time("あ" * 1000, "ja", images=3).minutes == 3


def test_images_with_a_custom_reading_speed():
    # 265 wpm, Medium's own speed: 530 words = 2 min, one image 12 s: 2.2 min.
    assert estimate_reading_time(words(530), "en", words_per_minute=265, images=1).minutes == 2
    assert estimate_reading_time(words(530), "en", words_per_minute=265, images=6).minutes == 3  # +57 s
