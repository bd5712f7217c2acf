"""The text toolkit (enrich/text.py): tokens, the one rule for scripts without spaces, word counts
across languages, quoted speech, and the per-language tables with the stemmers' stated fallback."""

from __future__ import annotations

import logging
import re
import sys
import unicodedata
from pathlib import Path

import pytest

from enrich import related, text
from enrich.dedup import fingerprint_of
from enrich.readingtime import estimate_reading_time
from enrich.text import (
    QUOTED_SPEECH,
    SUMY_LANGUAGES,
    UNSPACED_LANGUAGES,
    compound_word_count,
    is_unspaced,
    is_unspaced_language,
    letters_and_digits,
    mixed_script_word_count,
    own_voice,
    stemmer_for,
    stop_words_for,
    word_count,
    words,
    words_of,
)

ENRICH = Path(__file__).resolve().parents[1] / "enrich"

# --- tokens -----------------------------------------------------------------------------------------


def test_words_of_spaced_text_are_word_runs():
    assert words_of("Rust's build-time budget, 2026!") == ["Rust", "s", "build", "time", "budget", "2026"]


def test_words_of_unspaced_text_are_character_bigrams():
    assert words_of("焙煎機を") == ["焙煎", "煎機", "機を"]
    assert words_of("猫") == ["猫"]
    assert words_of("、。") == []


def test_letters_and_digits_are_what_isalnum_says_for_every_code_point():
    everything = "".join(map(chr, range(sys.maxunicode + 1)))
    assert letters_and_digits(everything) == [c for c in everything if c.isalnum()]


def test_tokens_stay_backslash_w_runs_because_stored_fingerprints_are_made_of_them():
    # A Hindi word is cut at its vowel signs, as it always was: a text fingerprinted before this
    # module existed still matches the same text fingerprinted now.
    assert words("नमस्ते") == ["नमस", "त"]
    assert words("a_b 2026") == ["a_b", "2026"]


# --- the one rule for scripts without spaces ------------------------------------------------------


@pytest.mark.parametrize(
    ("sample", "unspaced"),
    [("焙煎機を買った。", True), ("The team split the crate.", False), ("", False), ("。、「」", False),
     ("Tokyo 東京 is big and busy and full of people", False), ("東京は大きい, big", True)],
)
def test_is_unspaced(sample, unspaced):
    assert is_unspaced(sample) is unspaced


# One sentence per language of the language table the text rule covers (Han, kana, Hangul).
UNSPACED_SAMPLES = {
    "zh": "研究人员在北京发布了新的气候报告。",
    "ja": "研究者たちは東京で新しい気候報告書を発表した。",
    "ko": "연구자들은 서울에서 새로운 기후 보고서를 발표했다.",
}


@pytest.mark.parametrize("language", sorted(UNSPACED_SAMPLES))
def test_the_language_rule_and_the_text_rule_agree_on_chinese_japanese_and_korean(language):
    sample = UNSPACED_SAMPLES[language]
    assert is_unspaced_language(language) and is_unspaced(sample)
    assert word_count(sample) == len(letters_and_digits(sample)) // 2
    assert estimate_reading_time(sample, language).unit == "chars"
    assert all(len(w) == 2 for w in related.content_words(sample, language))  # character bigrams
    assert stemmer_for(language) is None  # sumy's stemmers for these only lower-case


def test_unspaced_languages_are_the_cjk_and_southeast_asian_ones():
    assert {"zh", "ja", "ko", "th", "lo", "km", "my"} == UNSPACED_LANGUAGES
    assert not any(is_unspaced_language(code) for code in ("en", "de", "ru", "ar", "hi", "vi", "und"))


def test_dedup_reads_unspaced_text_by_characters():
    sample = UNSPACED_SAMPLES["ja"] * 3
    spaced = "The researchers published a new climate report in Tokyo on Monday."
    assert fingerprint_of(sample).shingle_count > fingerprint_of(spaced).shingle_count > 0


def test_no_stage_defines_its_own_tokens_unspaced_rule_or_quotation_pattern():
    """What enrich/text.py owns is written once: a second copy would drift (issue 16)."""
    owned = {
        "the \\w+ token": re.compile(r"""re\.compile\(r["']\\w\+["']"""),
        "the CJK ranges of the unspaced rule": re.compile(re.escape(r"\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900")),
        "the isalnum() class": re.compile(re.escape(r"[^\W_]")),
        "the own-voice quotation pattern": re.compile(re.escape("「[^」\\n]{0,600}」")),
        "the sumy language names": re.compile(r'"ar": "arabic"'),
        "a stemmer loader": re.compile(r"from sumy\.nlp\.stemmers import Stemmer|import Stemmer"),
    }
    found = [
        f"{path.name}: {name}"
        for path in sorted(ENRICH.rglob("*.py")) if path.name != "text.py"
        for name, pattern in owned.items() if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert found == []


# --- word counts across languages -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "sample", "count"),
    [
        ("en", "The council approved the new budget on Tuesday.", 8),
        ("de", "Der Stadtrat hat den neuen Haushalt am Dienstag beschlossen.", 9),
        ("fr", "Le conseil a approuvé le nouveau budget mardi.", 8),
        ("ru", "Городской совет утвердил новый бюджет во вторник.", 7),
        ("el", "Το δημοτικό συμβούλιο ενέκρινε τον νέο προϋπολογισμό.", 7),
        ("ar", "وافق المجلس البلدي على الميزانية الجديدة يوم الثلاثاء.", 8),
        ("he", "מועצת העיר אישרה את התקציב החדש ביום שלישי.", 8),
        # Vowel signs and viramas are combining marks: \w+ used to cut these words apart.
        ("hi", "नगर परिषद ने मंगलवार को नया बजट मंज़ूर किया।", 9),
        ("bn", "নগর পরিষদ মঙ্গলবার নতুন বাজেট অনুমোদন করেছে।", 7),
        ("ta", "நகர சபை செவ்வாய்க்கிழமை புதிய வரவு செலவுத் திட்டத்தை அங்கீகரித்தது.", 8),
        ("vi", "Hội đồng thành phố đã thông qua ngân sách mới.", 10),
    ],
)
def test_words_are_counted_as_a_reader_counts_them(language, sample, count):
    assert word_count(sample) == count
    assert mixed_script_word_count(sample) == count
    assert estimate_reading_time(sample, language).units == count


def test_decomposed_accents_do_not_split_words():
    composed = "Le café est naïf."
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    assert word_count(decomposed) == word_count(composed) == 4
    assert compound_word_count(decomposed) == 4


def test_a_mark_alone_is_no_word():
    assert word_count("⬇️ go") == 1  # the emoji's variation selector is a mark, the arrow a symbol
    assert word_count("\u0301\u0301") == 0


def test_word_count():
    assert word_count("The team split the crate.") == 5
    assert word_count("焙煎機を買った。") == 3  # seven characters, two a word
    assert word_count("") == 0


def test_mixed_script_count_reads_latin_words_inside_japanese_whole():
    sample = "新しいiPhoneを買った"  # 7 CJK characters and one Latin word
    assert mixed_script_word_count(sample) == 7 // 2 + 1
    assert word_count(sample) == len(letters_and_digits(sample)) // 2  # the text rule: all by characters


def test_compound_words_count_once_for_reading_time():
    assert compound_word_count("state-of-the-art don't rock’n’roll") == 3
    assert compound_word_count("मंज़ूर-शुदा बजट") == 2


def test_the_mark_table_holds_every_combining_mark():
    marks = {chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)).startswith("M")}
    listed = {chr(c) for plane in text._MARK_PLANES for c in plane}
    assert marks <= listed
    word = text._reader_words()[0]
    assert all(word.fullmatch("a" + m) for m in marks)


# --- quoted speech ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "quoted",
    ["“We will rebuild the bridge”", "„Wir bauen die Brücke wieder auf“", "„Wir bauen die Brücke”",
     "«Nous reconstruirons le pont»", "「橋を再建します」", "『橋を再建します』", '"We will rebuild the bridge"'],
)
def test_own_voice_removes_quoted_speech_in_every_script(quoted):
    sample = f"The mayor spoke. {quoted} The council listened."
    assert own_voice(sample) == "The mayor spoke.   The council listened."
    assert QUOTED_SPEECH.fullmatch(quoted)


def test_own_voice_keeps_unpaired_marks_and_never_crosses_a_paragraph():
    assert own_voice("He said “yes.\nThen he left.”") == "He said “yes.\nThen he left.”"


def test_kind_and_topics_hear_the_writer_not_the_people_quoted_in_japanese():
    from enrich.kind import classify_kind
    from enrich.topics import personal_evidence

    diary = "私は毎日コーヒーを飲みます。私は朝が好きです。私はよく歩きます。"
    record = "町の記録が続く。" * 20
    quoted = "町の人々は話した。「" + diary + "」と彼女は言った。"
    assert personal_evidence(diary + record, "ja").count == 3
    assert classify_kind(diary + record, title="町の記録", language="ja").kind == "Personal"
    assert personal_evidence(quoted + record, "ja").count == 0  # all of them inside 「」
    assert classify_kind(quoted + record, title="町の記録", language="ja").kind != "Personal"


# --- languages: sumy's names, stop words, stemmers ----------------------------------------------------


def test_stop_words_by_language_code():
    assert {"the", "and", "of"} <= stop_words_for("en")
    assert {"und", "der"} <= stop_words_for("de")
    assert all(w == w.lower() for w in stop_words_for("de"))
    assert stop_words_for("vi") == frozenset()  # sumy has no list: nothing is a stop word
    assert stop_words_for("da") == frozenset()  # a sumy name but no list: the same fallback


def test_every_sumy_language_gets_a_stemmer_or_the_stated_none():
    for code in SUMY_LANGUAGES:
        stem = stemmer_for(code)
        assert stem is None or isinstance(stem("running"), str), code


def _without_stemmer(package: str, language: str, name: str, monkeypatch, caplog) -> None:
    """With ``package`` missing, ``language`` gets no stemmer, and says so once."""
    monkeypatch.setitem(sys.modules, package, None)
    with caplog.at_level(logging.WARNING, logger="enrich.text"):
        assert stemmer_for(language) is None
        assert stemmer_for(language) is None
    assert len([r for r in caplog.records if name in r.getMessage()]) == 1, "logged once"


def test_missing_snowball_falls_back_to_unstemmed_words(fresh_stemmers, monkeypatch, caplog):
    """Snowball's stemmers come from PyStemmer: without it, words are read as they are, logged once."""
    _without_stemmer("Stemmer", "de", "german", monkeypatch, caplog)
    assert "without stemming" in caplog.text
    assert related.content_words("Die Mannschaften gewannen die Spiele", "de") == ["mannschaften", "gewannen", "spiele"]


def test_missing_sumy_stemmers_fall_back_to_unstemmed_words(fresh_stemmers, monkeypatch, caplog):
    """Czech's stemmer is sumy's own: without sumy's stemmers, words are read as they are, logged once."""
    _without_stemmer("sumy.nlp.stemmers", "cs", "czech", monkeypatch, caplog)
