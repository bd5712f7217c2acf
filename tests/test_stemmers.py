"""Stemmers: Greek and Polish work with their packages, and without them fall back to no
stemming for that language (logged once) instead of failing the summary or the vectors."""

from __future__ import annotations

import logging
import sys

from enrich import related, summarize, text

# Inflected forms that share a stem: what stemming is for.
GREEK = ("πολιτική", "πολιτικής", "πολιτικές")
POLISH = ("prezydent", "prezydenta", "prezydentem")
GREEK_SENTENCES = [
    "Η κυβέρνηση ανακοίνωσε νέα μέτρα για την οικονομία της χώρας.",
    "Οι υπουργοί συζήτησαν τα μέτρα στη συνεδρίαση της Τρίτης.",
    "Η αντιπολίτευση ζήτησε περισσότερες πληροφορίες για το κόστος.",
    "Οι πολίτες περιμένουν να δουν τα αποτελέσματα των μέτρων.",
    "Η οικονομία της χώρας αναπτύσσεται με αργούς ρυθμούς φέτος.",
    "Οι αναλυτές εκτιμούν ότι τα μέτρα θα βοηθήσουν την οικονομία.",
]


def test_greek_inflections_share_a_stem():
    stem = text.stemmer_for("el")
    assert stem is not None
    assert len({stem(word) for word in GREEK}) == 1
    assert stem("ΠΟΛΙΤΙΚΗ") == stem("πολιτική") and stem("κυβέρνηση") == stem("κυβέρνησης") != stem("πολιτική")


def test_polish_inflections_share_a_stem_and_loading_prints_nothing(capfd):
    text.stemmer_for.cache_clear()
    stem = text.stemmer_for("pl")
    assert stem is not None
    assert len({stem(word) for word in POLISH}) == 1
    out, err = capfd.readouterr()
    assert (out, err) == ("", ""), "no progress bar on stderr"
    assert text.stemmer_for("pl") is stem, "loaded once per process"


def test_snowball_stemmers_stem_as_snowball_does():
    # PyStemmer runs Snowball's own algorithms; NLTK's English port cut "added" to "ad".
    english, dutch = text.stemmer_for("en"), text.stemmer_for("nl")
    assert english("added") == english("adding") == english("Adds") == "add"
    assert dutch("gemeenten") == dutch("gemeente")  # the Porter-based Dutch that NLTK's was


def test_languages_without_a_stemmer_get_none():
    assert text.stemmer_for("th") is None  # sumy has none
    assert text.stemmer_for("vi") is None  # sumy does not know the language


def test_missing_greek_package_falls_back_to_no_stemming(fresh_stemmers, monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "Stemmer", None)  # what an uninstalled package looks like (PyStemmer)
    with caplog.at_level(logging.WARNING, logger="enrich.text"):
        assert text.stemmer_for("el") is None
        assert text.stemmer_for("el") is None
    assert len([r for r in caplog.records if "greek" in r.getMessage()]) == 1, "logged once"

    summary = summarize.summarize(GREEK_SENTENCES, "el", max_sentences=2)
    assert len(summary) == 2 and set(summary) <= set(GREEK_SENTENCES)
    words = related.content_words(" ".join(GREEK), "el")
    assert words == [w.lower() for w in GREEK], "words as they are, not stemmed"


def test_missing_polish_package_falls_back_to_no_stemming(fresh_stemmers, monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "Stemmer", None)
    with caplog.at_level(logging.WARNING, logger="enrich.text"):
        assert text.stemmer_for("pl") is None
    assert "polish" in caplog.text and "without stemming" in caplog.text
    assert related.content_words("Prezydenta prezydentem", "pl") == ["prezydenta", "prezydentem"]


def test_a_stemmer_that_raises_on_one_word_keeps_that_word(fresh_stemmers, monkeypatch, caplog):
    def fussy(word: str) -> str:
        if word == "zebra":
            raise IndexError("no rule")
        return word[:4]

    monkeypatch.setitem(text._BUILDERS, "english", lambda: fussy)
    stem = text.stemmer_for("en")
    with caplog.at_level(logging.WARNING, logger="enrich.text"):
        assert [stem(w) for w in ("running", "Zebra".lower(), "zebra", "walking")] == ["runn", "zebra", "zebra", "walk"]
    assert len(caplog.records) == 1, "logged once per language"


def test_czech_stemming_prints_no_warning_for_mixed_case_words():
    # sumy's Czech stemmer warns for each mixed-case word it skips; on a run's terminal that was
    # dozens of lines a Czech page, from every worker.
    import subprocess
    import sys

    code = "from enrich.text import stemmer_for\nstem = stemmer_for('cs')\nprint([stem(w) for w in ('iPhone', '2G', 'WiFi', 'města')])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert "iPhone" in out.stdout and "mixed case" not in out.stderr, out.stderr


def test_stems_are_remembered_and_the_memory_is_bounded(fresh_stemmers, monkeypatch):
    calls = []

    def counting(word: str) -> str:
        calls.append(word)
        return word[:4]

    monkeypatch.setitem(text._BUILDERS, "english", lambda: counting)
    monkeypatch.setattr(text, "STEM_CACHE_SIZE", 3)
    stem = text.stemmer_for("en")
    calls.clear()  # stemmer_for tries the stemmer once on a probe word
    assert [stem(w) for w in ("running", "running", "walking", "running")] == ["runn", "runn", "walk", "runn"]
    assert calls == ["running", "walking"]
    for word in ("jumping", "singing", "reading"):  # the fourth distinct word finds the memory full
        stem(word)
    assert stem("running") == "runn" and calls[-1] == "running", "asked again once forgotten"
