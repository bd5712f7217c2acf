"""split_sentences and friends: verbatim sentences that keep their quotation marks, per paragraph."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import pytest
from conftest import shared_or_skip
from hypothesis import given, settings
from hypothesis import strategies as st

from enrich.extract import extract_article
from enrich.sentences import is_complete_sentence, split_sentences

DEMO_SITE = Path(__file__).resolve().parents[1] / "data" / "demo" / "site"
DEMO_PAGES = sorted(DEMO_SITE.rglob("*.html"))
LANGUAGE_OF_SITE = {"northwind": "en", "cuaderno": "es", "stadtleben": "de", "kissa": "ja"}  # CORPUS_SPEC.md


@lru_cache(maxsize=None)
def demo_text(path: Path) -> str:
    html = path.read_bytes().replace(b"{{DEMO_BASE}}", b"http://127.0.0.1:1")
    return extract_article(html).text


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def assert_partition(text: str, sentences: list[str]) -> None:
    """Sentences are verbatim, in order, inside one line each, and together cover every line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    position = 0
    for sentence in sentences:
        assert sentence == sentence.strip() and sentence
        assert "\n" not in sentence
        found = text.find(sentence, position)
        assert found >= 0, f"not verbatim or out of order: {sentence!r}"
        position = found + len(sentence)
        assert any(sentence in line for line in lines)
    # Nothing lost, nothing doubled: without whitespace the sentences spell out the text.
    assert "".join(_squeeze(s) for s in sentences) == _squeeze(text)


# -- quotation marks stay with their sentence -------------------------------------------------

@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        (
            "“We will,” said Dr. Amara Okafor. “Next year, if the money comes.”",
            "en",
            ["“We will,” said Dr. Amara Okafor.", "“Next year, if the money comes.”"],
        ),
        (
            "“Yes,” said Okafor. “Soon.”",
            "en",
            ["“Yes,” said Okafor.", "“Soon.”"],
        ),
        (
            "The project ended in May. “A publisher called it overdue.”",
            "en",
            ["The project ended in May.", "“A publisher called it overdue.”"],
        ),
        (
            "“Yes.” “No.” “Maybe.”",
            "en",
            ["“Yes.”", "“No.”", "“Maybe.”"],
        ),
        (  # straight quotes: the same mark opens and closes
            'He laughed. "It is a good day." Then he went home.',
            "en",
            ["He laughed.", '"It is a good day."', "Then he went home."],
        ),
        (
            "'We will,' she said. 'Next year.'",
            "en",
            ["'We will,' she said.", "'Next year.'"],
        ),
        (  # German: „ opens and “ closes
            "Sie lachte. „Das ist ein guter Tag.“ Dann ging sie nach Hause.",
            "de",
            ["Sie lachte.", "„Das ist ein guter Tag.“", "Dann ging sie nach Hause."],
        ),
        (
            "«Hola», dijo Ana. «Adiós.» Y se fue.",
            "es",
            ["«Hola», dijo Ana.", "«Adiós.»", "Y se fue."],
        ),
        (  # no spaces: the opening 「 or “ follows 。 directly
            "今日は晴れ。「明日は雨です。」と彼は言った。",
            "ja",
            ["今日は晴れ。", "「明日は雨です。」と彼は言った。"],
        ),
        (
            "他说了一句话。“明天见。”我们就走了。",
            "zh",
            ["他说了一句话。", "“明天见。”", "我们就走了。"],
        ),
    ],
)
def test_quotes_stay_attached_to_their_sentence(text, language, expected):
    assert split_sentences(text, language) == expected


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("“Are you sure?” she asked. “Yes.”", "en", ["“Are you sure?” she asked.", "“Yes.”"]),
        ("“It works!” he shouted, and left.", "en", ["“It works!” he shouted, and left."]),
        ("„Wirklich?“, fragte sie. Dann ging sie.", "de", ["„Wirklich?“, fragte sie.", "Dann ging sie."]),
        ("«¿De verdad?», preguntó Ana. Luego se fue.", "es", ["«¿De verdad?», preguntó Ana.", "Luego se fue."]),
        ("雨だ。「本当？」と彼は言った。", "ja", ["雨だ。", "「本当？」と彼は言った。"]),
    ],
)
def test_speech_tag_after_a_quoted_question_stays_with_it(text, language, expected):
    assert split_sentences(text, language) == expected


def test_a_capitalised_sentence_after_a_quoted_question_is_its_own():
    assert split_sentences("“Why not?” Nobody answered.", "en") == ["“Why not?”", "Nobody answered."]


def test_abbreviations_do_not_end_sentences():
    assert split_sentences("The U.S. economy grew 3.5 percent in 2024. Dr. Smith agreed.", "en") == [
        "The U.S. economy grew 3.5 percent in 2024.",
        "Dr. Smith agreed.",
    ]


@pytest.mark.parametrize(
    ("language", "sentences"),
    [
        ("en", ["He lives at No. 10 Downing Street with Lt. Col. Ann Baker.", "She met Sgt. Pepper on Sept. 11."]),
        ("en", ["ST. JOSEPH, Mich. (AP) — A man died in St. Louis on Jan. 5.", "Capt. Kirk saw approx. 40 ships."]),
        ("en", ["See vol. 2 and fig. 3 of the report by Gov. Jay Inslee.", "Martin Luther King Jr. spoke."]),
        ("de", ["Das ist z. B. ein Test in Nr. 5 der Zeitung.", "Hr. Maier las vgl. Abs. 2 des Gesetzes."]),
        ("fr", ["M. Dupont a lu l'art. 5 de la loi.", "Voir chap. 3 du livre de Mme Durand."]),
        ("es", ["El Sr. García leyó el núm. 3 del boletín.", "La Sra. López vio la pág. 4 del informe."]),
        ("it", ["Il Sig. Rossi legge il n. 3 della rivista.", "Il dott. Bianchi arriva, ecc. e poi parla."]),
        ("pt", ["O Sr. Silva leu o art. 5 da lei.", "A Sra. Costa leu a pág. 3 do texto."]),
        ("nl", ["Dhr. Jansen las nr. 5 van het blad.", "Mevr. de Vries las blz. 3 van het boek."]),
    ],
)
def test_abbreviations_in_each_split_language_do_not_end_sentences(language, sentences):
    # Each of these was cut after its abbreviation by the sentencizer alone ("No." | "10 Downing").
    assert split_sentences(" ".join(sentences), language) == sentences


# -- scripts, paragraphs, languages -------------------------------------------------------------

def test_japanese_is_split_on_full_stops():
    text = "今日は晴れです。明日は雨が降るでしょう！週末は曇りですか？"
    assert split_sentences(text, "ja") == ["今日は晴れです。", "明日は雨が降るでしょう！", "週末は曇りですか？"]


def test_no_sentence_crosses_a_newline():
    text = "A heading without a stop\nThe first paragraph ends here. It has two sentences.\nLast line"
    sentences = split_sentences(text, "en")
    assert sentences == [
        "A heading without a stop",
        "The first paragraph ends here.",
        "It has two sentences.",
        "Last line",
    ]


@pytest.mark.parametrize("language", ["xx", "und", "vi", "no", "th"])
def test_languages_without_a_spacy_tokenizer_fall_back(language):
    text = "Một câu ngắn. Câu thứ hai dài hơn một chút.\nDòng mới."
    assert_partition(text, split_sentences(text, language))


def test_empty_text_has_no_sentences():
    assert split_sentences("", "en") == []
    assert split_sentences(" \n\n ", "de") == []


@pytest.mark.parametrize("page", DEMO_PAGES, ids=lambda p: p.stem)
def test_demo_articles_split_into_verbatim_sentences(page):
    text = demo_text(page)
    sentences = split_sentences(text, LANGUAGE_OF_SITE[page.parent.name])
    assert len(sentences) >= 20
    assert_partition(text, sentences)
    # Quotation marks belong to the sentence they open: none dangles at an end.
    assert not [s for s in sentences if s[-1] in "“„«「『‘"]


def test_bbc_articles_split_into_verbatim_sentences():
    path = shared_or_skip("bbc-news-summary/bbc60.jsonl")
    for line in path.read_text(encoding="utf-8").splitlines():
        article = json.loads(line)
        text = " ".join(article["article_sentences"])
        assert_partition(text, split_sentences(text, "en"))


SENTENCE_WORDS = st.sampled_from(
    ["the", "council", "said", "2026", "Dr.", "U.S.", "build", "„Ja“", "“yes”", "(maybe)", "it’s", "«bien»"]
)
ENDINGS = st.sampled_from([".", "!", "?", ".”", "?”", "!»", ".“", "…", ""])


@settings(max_examples=80, deadline=None)
@given(
    paragraphs=st.lists(
        st.lists(st.tuples(st.lists(SENTENCE_WORDS, min_size=1, max_size=12), ENDINGS), min_size=1, max_size=6),
        min_size=1,
        max_size=4,
    ),
    language=st.sampled_from(["en", "de", "es"]),
)
def test_sentences_partition_any_text(paragraphs, language):
    text = "\n".join(
        " ".join(" ".join(words).capitalize() + end for words, end in sentences) for sentences in paragraphs
    )
    assert_partition(text, split_sentences(text, language))


# -- complete sentences, words -----------------------------------------------------------------

@pytest.mark.parametrize(
    "heading",
    [
        "Drei Achsen, 23 Kilometer",  # a German subhead
        "Measuring before cutting",
        "Von 52 auf 19 Minuten",
        "Programming",  # a kicker
        "一ハゼから先の二分間",
        "Short one.",  # a stop, but two words
        "",
    ],
)
def test_headings_and_kickers_are_not_sentences(heading):
    assert not is_complete_sentence(heading)


@pytest.mark.parametrize(
    "sentence",
    [
        "The team split the utils crate into eleven smaller crates grouped by purpose.",
        "Die Zusagen dafür stehen allerdings noch aus.",
        "¿Abre también los sábados por la mañana?",
        "“We stopped thinking of slow builds as weather,” said Marta Lindqvist.",
        "„Das ist ein guter Tag“, sagte Sprecherin Miriam Oltmanns.",
        "“It means the compiler is no longer the thing everyone complains about.”",
        "店で出しているコーヒー豆は、すべて私が自分で焙煎している。",
    ],
)
def test_real_sentences_are_complete(sentence):
    assert is_complete_sentence(sentence)


def test_min_words_is_a_parameter():
    assert is_complete_sentence("Go home now.", min_words=3)
    assert not is_complete_sentence("Go home now.")


# Written for this test: abbreviations that must not end a sentence, elisions and contractions
# (tokenizer exceptions holding a quotation mark), hyphenated words, numbers and quotations.
_LIGHT_PIPELINE_TEXTS = {
    "id": "Di halaman sekolah anak-anak bermain, dll. sambil menunggu orang tua mereka. Kata Bpk. Sutrisno, "
          "kegiatan itu berlangsung setiap hari! Apakah hujan turun-temurun? Mereka pulang pukul 17.30 WIB.\n"
          "\"Kami senang sekali,\" kata a.n. kepala sekolah. Dua belas murid ikut lomba.",
    "nl": "Dhr. de Vries zei: „Het is z'n eerste dag.” Zo'n 's-Hertogenbosch-achtige stad heeft o.a. een markt. "
          "Dat gebeurde in 't voorjaar, d.w.z. in april. Twaalf mensen kwamen!",
    "en": "Mr. O'Neill said he won't go. \"It's not my fight,\" he told the U.S. paper on Jan. 5. "
          "They're twelve in all, e.g. the well-known ones. Rock 'n' roll isn't dead?",
    "de": "Dr. Müller sagt: „Das ist z.B. nicht gut.“ Am 3. Okt. kamen ca. zwölf Gäste, u.a. Frau Schmidt. "
          "Geht's dir gut? Ja, s'ist alles in Ordnung.",
    "it": "L'on. Rossi ha detto: «Non c'è tempo». Sant'Angelo è a 12 km, ecc. ecc. Dov'è il sig. Bianchi?",
    "ru": "Проф. Иванов сказал: «Это т.е. не так». В 2024 г. приехали двенадцать человек и т.д. Что дальше?",
}


@pytest.mark.parametrize("language", sorted(_LIGHT_PIPELINE_TEXTS))
def test_the_light_pipeline_splits_and_scores_as_spacys_blank_pipeline(language):
    # nlp_for keeps only the tokenizer exceptions and lexeme attributes sentences and quotes read.
    import spacy

    from enrich.quotes import score_quote
    from enrich.sentences import nlp_for

    full = spacy.blank(language)
    full.add_pipe("sentencizer")
    light = nlp_for(language)
    assert len(light.tokenizer.rules) < len(full.tokenizer.rules)
    text = _LIGHT_PIPELINE_TEXTS[language]
    paragraphs = text.splitlines()
    assert [s.text for p in paragraphs for s in light(p).sents] == [s.text for p in paragraphs for s in full(p).sents]
    sentences = split_sentences(text, language)
    top = {"tempo", "markt", "fight", "gäste", "sekolah", "человек"}
    assert [score_quote(light.make_doc(s), top) for s in sentences] == [score_quote(full.make_doc(s), top) for s in sentences]


def test_the_light_pipeline_keeps_the_exceptions_that_hide_a_sentence_end():
    from enrich.quotes import score_quote
    from enrich.sentences import nlp_for

    nlp = nlp_for("id")
    assert "dll." in nlp.tokenizer.rules and "a.n." in nlp.tokenizer.rules
    assert "Anak-anak" not in nlp.tokenizer.rules  # no sentence punctuation, no quotation mark: not needed
    # So a hyphenated word's first part is the sentence's first word, and its capital counts: as one
    # token "Anak-anak" was no word, "bermain" came first, and the sentence was taken for a fragment.
    opening = "Anak-anak bermain di halaman sekolah sambil menunggu orang tua mereka."
    assert score_quote(nlp.make_doc(opening), set()) == score_quote(nlp.make_doc("Mereka" + opening[9:]), set())


def test_the_quotation_characters_are_every_character_spacy_calls_a_quote():
    from spacy.lang.lex_attrs import is_quote

    from enrich.sentences import _QUOTE_CHARACTERS

    assert {c for c in map(chr, range(0x110000)) if is_quote(c)} == set(_QUOTE_CHARACTERS)


_PIECES = ["Word", "word", "Mr", "3.5", "“", "”", "\"", "'", "(", ")", ".", "?", "!", "…", "...", "。", "？", "।",
           "؟", ",", ";", "-", " ", "  ", "\n", "u.s.", "e.g.", "Dr.", "—", "«", "»", "“Yes?”", "x!?", "!!"]


@settings(max_examples=300, deadline=None)
@given(pieces=st.lists(st.tuples(st.sampled_from(_PIECES), st.sampled_from(["", " "])), max_size=40),
       language=st.sampled_from(["en", "de", "fr", "ja", "hi", "ar", "xx"]))
def test_the_array_sentencizer_marks_what_spacys_sentencizer_marks(pieces, language):
    from enrich.sentences import _sentencizer_bounds, nlp_for

    nlp = nlp_for(language)
    text = "".join(piece + glue for piece, glue in pieces)  # glued or spaced: "word." and "word ."
    expected = [[s.start_char, s.end_char] for s in nlp(text).sents]
    assert _sentencizer_bounds(nlp.make_doc(text)) == expected


def test_french_is_built_without_compiling_the_pattern_its_module_compiles_on_import():
    # In a fresh interpreter: spaCy's French module compiles a 1.45-million-character pattern on
    # import (2.3 s in every worker that met a French page); the sentence pipeline never needs it.
    import subprocess
    import sys

    code = """
import spacy
from enrich.sentences import nlp_for, split_sentences
light = nlp_for("fr")
import spacy.lang.fr.tokenizer_exceptions as exceptions
deferred = exceptions.TOKEN_MATCH.__self__
print(type(deferred).__name__, deferred.compiled, light.tokenizer.token_match)
text = ("M. Dupont a dit : « C'est peut-être fini. » Aujourd'hui, vingt-six personnes sont venues, "
        "c.-à-d. presque toutes. Un saut-de-ski, un faux-vampire ! Entr'ouvrez la porte ! Et après ?")
full = spacy.blank("fr")
full.add_pipe("sentencizer")
print(split_sentences(text, "fr") == [s.text for s in full(text).sents], deferred.compiled)
print(bool(exceptions.TOKEN_MATCH("faux-vampire")), exceptions.TOKEN_MATCH("maison") is None)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    # Not compiled until a full pipeline tokenizes with it; then it matches as spaCy's own would.
    assert out.stdout.split("\n")[:3] == ["DeferredPattern False None", "True True", "True True"]
