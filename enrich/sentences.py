"""Sentence splitting with offline spaCy pipelines: ``spacy.blank(lang)`` plus a sentencizer."""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import TYPE_CHECKING

from enrich.text import WORD, word_count

if TYPE_CHECKING:
    from spacy.language import Language

# spaCy is imported where a pipeline is built: importing it costs ~2 s, and the regex helpers below
# (is_complete_sentence, dangling_opener) never need it.

log = logging.getLogger(__name__)

# Japanese needs SudachiPy for spacy.blank("ja"); the Chinese pipeline segments by character
# and splits on 。！？ just as well, with nothing to install.
_PIPELINE_FOR = {"ja": "zh"}


@lru_cache(maxsize=8)
def _trained(model: str) -> Language | None:
    """An installed trained pipeline (a package name or a path), or None when it does not load."""
    import spacy

    try:
        nlp = spacy.load(model)
    except (OSError, ImportError, ValueError) as exc:
        log.warning("spaCy model %s not available (%s); using a blank pipeline", model, exc)
        return None
    if not {"parser", "senter", "sentencizer"} & set(nlp.pipe_names):
        nlp.add_pipe("sentencizer", first=True)  # sentences are needed whatever the model has
    return nlp


@lru_cache(maxsize=32)
def nlp_for(language: str, model: str | None = None) -> Language:
    """A cached spaCy pipeline with sentence boundaries for ``language`` (``xx`` if unsupported).

    ``model`` names an installed trained pipeline (e.g. ``en_core_web_sm``, or a path); it is
    used for texts in its own language when it loads, and the blank pipeline otherwise, so a
    missing model never stops the run and an English model never reads Japanese.
    """
    if model:
        trained = _trained(model)
        if trained is not None and trained.lang in (language, "xx"):
            return trained
    import spacy

    name = _PIPELINE_FOR.get(language, language)
    try:
        nlp = _blank(name)
    except (ImportError, KeyError, ValueError) as exc:
        log.info("no spaCy tokenizer for %r (%s); using the multi-language one", language, exc)
        nlp = spacy.blank("xx")
    nlp.add_pipe("sentencizer")
    return nlp


# The lexeme attributes read here: punctuation (the sentencizer), and quotation marks, number
# words and a sentence's first word (enrich.quotes); LANG names the vocabulary's language. spaCy
# computes some twenty for every new word, and for each tokenizer exception when a pipeline is
# built; the others are never read.
_LEXEME_ATTRIBUTES = ("IS_PUNCT", "IS_QUOTE", "LIKE_NUM", "IS_ALPHA", "LOWER", "LANG")
# Every character spaCy's is_quote accepts on its own (tests/test_sentences.py holds the list to it).
_QUOTE_CHARACTERS = "\"'`«»‘’‚‛“”„‟‹›❮❯"


def _blank(name: str) -> Language:
    """``spacy.blank(name)`` for sentences: the same tokens where a sentence can end or a quotation
    mark stands, built in a fraction of the time.

    Building a tokenizer adds its exceptions one by one, making lexemes for each: Indonesian's
    15,963 (reduplications such as "anak-anak") took 1.6 s of CPU and Dutch's 0.29 s, in every
    worker that met such a page, against 20-50 ms for most languages. Only the exceptions that
    hold sentence punctuation ("dll.", "a.n.") or a quotation mark ("don't", "z'n") are kept: the
    others split a word into words, which moves no sentence boundary and adds no quotation mark
    (the same sentences and quote picks on 282 texts in 32 languages). One thing reads differently:
    a hyphenated word that opens a sentence ("Anak-anak bermain") is now words, so its capital
    counts as the sentence's first word, where the one token had sent enrich.quotes to the next
    word and taken the sentence for a fragment. Lexemes get only the attributes read here.

    French is built without the pattern of words its tokenizer keeps whole, never compiled
    (``enrich.deferred_patterns``: 2.3 s saved): the same sentences on 664 French paragraphs, and
    the same quote scores but for four sentences of 1,000, where a hyphenated word now counts as
    words ("Vingt-six" a number, "avant-première" too).
    """
    import spacy
    from spacy import attrs
    from spacy.pipeline.sentencizer import Sentencizer
    from spacy.vocab import create_vocab

    from enrich.deferred_patterns import DeferredPattern, deferring

    with deferring():
        language_class = spacy.util.get_lang_class(name)
    marks = set(Sentencizer.default_punct_chars) | set(_QUOTE_CHARACTERS)
    kept = {
        text: tokens for text, tokens in language_class.Defaults.tokenizer_exceptions.items() if marks.intersection(text)
    }
    overrides: dict[str, object] = {"tokenizer_exceptions": kept}
    if isinstance(getattr(language_class.Defaults.token_match, "__self__", None), DeferredPattern):
        overrides["token_match"] = None  # French: words it keeps whole ("peut-être") hold no sentence end
    defaults = type("Defaults", (language_class.Defaults,), overrides)
    light = type(language_class.__name__, (language_class,), {"Defaults": defaults})
    vocab = create_vocab(light.lang, defaults)
    wanted = {getattr(attrs, attribute) for attribute in _LEXEME_ATTRIBUTES}
    vocab.lex_attr_getters = {attr: get for attr, get in vocab.lex_attr_getters.items() if attr in wanted}
    return light(vocab=vocab)


def paragraphs_of(text: str) -> list[str]:
    """Non-empty lines of extracted text: trafilatura puts one paragraph per line."""
    return [line.strip() for line in text.splitlines() if line.strip()]


_OPENING_QUOTES = "“„«‹「『\"'‘"
# Full stops and question marks of every script the language stage reports: Latin, CJK, the
# danda of Hindi and Bengali (without it no Bengali sentence was complete and its summary was
# empty), Arabic's question mark, Urdu's full stop, the Greek question mark.
_TERMINAL = re.compile(r"[.!?。！？…।॥؟۔;][\"'”’»›」』)\]]*$")
# A question or exclamation mark inside a quotation, with only closing marks or a comma after it.
_QUOTED_QUESTION = re.compile(r"[?!？！][\"'”’»›」』“]+,?$")


def _opens_next(chunk: str) -> int:
    """Length of ``chunk`` without a trailing opening quote that belongs to the next sentence.

    The same marks open and close quotations (English “ opens, German “ closes; " and ' do
    both), so the position decides: after whitespace a mark opens, after a letter or a stop it
    closes. Scripts without spaces put the opening 「 or “ right after 。, so that counts too.
    """
    stripped = chunk.rstrip(_OPENING_QUOTES)
    before = stripped[-1:]
    opens = before.isspace() or before in "。！？"
    if stripped != chunk and opens and _TERMINAL.search(stripped.rstrip()):
        return len(stripped)
    return len(chunk)


# Abbreviations spaCy's tokenizer exceptions miss, so the sentencizer ends a sentence at their
# full stop ("See No." | "5 and ..."): found by splitting our own test sentences in each language
# the project splits (tests/test_sentences.py lists them). Titles (and "cf.", "vgl.") never end
# a sentence; the others stand before a number.
_NEVER_FINAL = {
    "en": "mr mrs ms dr prof st mt ft gen col lt sgt capt cmdr adm gov sen rep rev pres supt det cpl maj brig hon cf",
    "de": "hr fr dr prof st vgl",
    "fr": "m mme mlle mgr me st ste dr pr",
    "es": "sr sra srta dr dra d dña lic ing sto sta",
    "it": "sig dott prof avv ing on s",
    "pt": "sr sra dr dra prof eng",
    "nl": "dhr mevr mr dr prof ir drs st bijv",
}
_BEFORE_NUMBER = {
    "en": "no nos nr vol vols p pp fig figs ch chap sec art approx ca est pt ed op "
          "jan feb mar apr jun jul aug sep sept oct nov dec",
    "de": "nr s abs art ca bd kap ziff jan feb mär apr jun jul aug sep sept okt nov dez",
    "fr": "n no art p chap vol env janv févr avr juil sept oct nov déc",
    "es": "núm n art pág p cap vol aprox ene feb abr jun jul ago sept oct nov dic",
    "it": "n pag art cap vol ca gen feb mar apr mag giu lug ago set ott nov dic",
    "pt": "n art pág p cap vol jan fev mar abr mai jun jul ago set out nov dez",
    "nl": "nr blz art p hfst ca jan feb mrt apr jun jul aug sep sept okt nov dec",
}
NEVER_FINAL_ABBREVIATIONS = {lang: frozenset(words.split()) for lang, words in _NEVER_FINAL.items()}
NUMBER_ABBREVIATIONS = {lang: frozenset(words.split()) for lang, words in _BEFORE_NUMBER.items()}
_LAST_WORD = re.compile(r"(?:^|[\s('’])(\w{1,6})\.$")


def _after_abbreviation(previous: str, following: str, language: str) -> bool:
    """Did the sentencizer split after an abbreviation: "No." before a number, "Lt." before a
    name, or any short word with a full stop before a lower-case word ("approx.", "ecc.")?"""
    match = _LAST_WORD.search(previous)
    if match is None:
        return False
    word = match.group(1).lower()
    first = following[:1]
    return (
        word in NEVER_FINAL_ABBREVIATIONS.get(language, ())
        or (first.isdigit() and word in NUMBER_ABBREVIATIONS.get(language, ()))
        or (first.islower() and not word.isdigit())
    )


def _continues(previous: str, following: str, language: str) -> bool:
    """Is ``following`` the rest of ``previous``, split after a quoted question or exclamation,
    or after an abbreviation?

    The sentencizer ends a sentence at any ? or !, so in “Are you sure?” she asked. or
    „Wirklich?“, fragte sie. or 「本当？」と彼は言った。 the speech tag would stand alone.
    """
    if _QUOTED_QUESTION.search(previous) and following[:1].islower():
        return True
    if _after_abbreviation(previous, following, language):
        return True
    # Japanese quotes with the particle と: 「…。」と言った。 is one sentence.
    return previous.endswith(tuple("」』")) and following.startswith("と")


@lru_cache(maxsize=1)
def _final_marks() -> frozenset[int]:
    """The hashes (spaCy ORTH ids) of the sentencizer's sentence-final marks."""
    from spacy.pipeline.sentencizer import Sentencizer
    from spacy.strings import StringStore

    strings = StringStore()
    return frozenset(strings.add(mark) for mark in Sentencizer.default_punct_chars)


def _sentencizer_bounds(doc) -> list[list[int]]:
    """Character bounds of the sentences spaCy's default Sentencizer would mark in ``doc``.

    The same rule, read from the doc's token array: a sentence starts at the first token, and at
    a token that is neither punctuation nor a final mark once a final mark has been seen since the
    last start. spaCy's component makes a Python object of every token to test it: 11 us a
    paragraph this way against 21 (tests/test_sentences.py compares the two).
    """
    from spacy.attrs import IDX, IS_PUNCT, LENGTH, ORTH

    if not len(doc):
        return []
    final = _final_marks()
    tokens = doc.to_array([ORTH, IS_PUNCT, IDX, LENGTH]).tolist()
    starts, seen_final = [0], False
    for i, (orth, punct, _idx, _length) in enumerate(tokens):
        if orth in final:
            seen_final = True
        elif seen_final and not punct:  # never the first token: nothing was seen before it
            starts.append(i)
            seen_final = False
    ends = [*starts[1:], len(tokens)]
    return [[tokens[a][2], tokens[b - 1][2] + tokens[b - 1][3]] for a, b in zip(starts, ends, strict=True)]


def _sentence_spans(paragraph: str, bounds: list[list[int]], language: str) -> list[str]:
    """Sentence texts of one paragraph (``bounds``: the sentencizer's character bounds), with
    quotation marks kept on the sentence they belong to.

    The sentencizer ends a sentence after its final punctuation and token, so in
    ``...the project. “A publisher`` the opening quote closes the first sentence; we move it to
    the start of the next one so both stay verbatim substrings of the paragraph. A speech tag
    split off after a quoted question, or a piece split off after an abbreviation, is joined back.
    """
    for current, following in zip(bounds, bounds[1:]):
        chunk = paragraph[current[0] : current[1]].rstrip()
        keep = _opens_next(chunk)
        if keep < len(chunk):
            current[1] = current[0] + keep
            following[0] = current[1]
    spans: list[list[int]] = []
    for start, end in bounds:
        text = paragraph[start:end].strip()
        if not text:
            continue
        if spans and _continues(paragraph[spans[-1][0] : spans[-1][1]].strip(), text, language):
            spans[-1][1] = end
        else:
            spans.append([start, end])
    return [paragraph[a:b].strip() for a, b in spans]


def split_sentences(text: str, language: str, model: str | None = None) -> list[str]:
    """Sentences of ``text`` in order, each verbatim (trimmed), never crossing a paragraph."""
    nlp = nlp_for(language, model)
    paragraphs = paragraphs_of(text)
    if nlp.pipe_names == ["sentencizer"]:  # a blank pipeline: its tokens, and the sentencizer's rule on arrays
        bounds = map(_sentencizer_bounds, nlp.tokenizer.pipe(paragraphs))
    else:  # a trained pipeline: its parser or senter decides
        bounds = ([[s.start_char, s.end_char] for s in doc.sents] for doc in nlp.pipe(paragraphs))
    sentences: list[str] = []
    for paragraph, paragraph_bounds in zip(paragraphs, bounds, strict=True):
        sentences.extend(_sentence_spans(paragraph, paragraph_bounds, language))
    return sentences


def is_complete_sentence(sentence: str, min_words: int = 5) -> bool:
    """Ends like a sentence and is long enough to be one: headings and kickers are not."""
    return bool(_TERMINAL.search(sentence)) and word_count(sentence) >= min_words


# Words that make a sentence lean on the one before it ("This former third-round pick", "But",
# "However,", "He"), per language, lower case, and phrases that do the same. Existential "there"
# and articles that double as pronouns ("das", "het") are left out: they open self-contained
# sentences far more often than not.
_DANGLING_WORDS = {
    "en": "this that these those it its they them their he she his her him such both another also but and or so "
          "yet still however meanwhile instead moreover furthermore nevertheless nonetheless otherwise thus "
          "therefore hence likewise similarly besides additionally plus then",
    "de": "dies diese dieser dieses diesem diesen er sie es ihr ihre sein seine seiner dabei damit dadurch deshalb "
          "deswegen daher darum dazu danach dann doch aber und oder auch jedoch trotzdem außerdem allerdings "
          "zudem ebenfalls denn somit",
    "fr": "cela ceci ce cette ces ceux celui celle celles il elle ils elles lui leur mais et ou donc aussi pourtant "
          "cependant toutefois ainsi puis alors néanmoins également",
    "es": "esto eso esta este estos estas ese esa esos esas ello él ella ellos ellas su sus pero y o también además "
          "así entonces asimismo",
    "it": "questo questa questi queste ciò quello quella lui lei loro suo sua ma e o però tuttavia inoltre anche "
          "quindi così poi infatti",
    "pt": "isso isto este esta esse essa estes estas esses essas ele ela eles elas seu sua mas e ou também porém "
          "contudo entretanto assim então",
    "nl": "dit dat deze die hij zij ze haar maar en of ook echter daarom toch bovendien daarnaast dus",
    "ru": "это этот эта эти он она они его её ее их но и а однако также поэтому тогда",
}
_DANGLING_PHRASES = {
    "en": ("even so", "as a result", "on the other hand", "by contrast", "in contrast", "as such",
           "for this reason", "the former", "the latter"),
    "fr": ("en effet", "de plus", "par ailleurs"),
    "es": ("sin embargo", "por eso", "por ello", "no obstante"),
    "pt": ("além disso", "no entanto"),
}
DANGLING_OPENERS = {
    lang: frozenset(words.split()) | frozenset(_DANGLING_PHRASES.get(lang, ())) for lang, words in _DANGLING_WORDS.items()
}


def dangling_opener(sentence: str, language: str) -> str | None:
    """The word or phrase that makes ``sentence`` lean on the one before it, if it opens with one."""
    openers = DANGLING_OPENERS.get(language)
    if not openers:
        return None
    first = list(WORD.finditer(sentence[:80]))[:4]
    for size in range(1, len(first) + 1):
        opener = " ".join(m.group().lower() for m in first[:size])
        if opener in openers:
            # "So-called", "Its-" compounds: the word is part of another one.
            return None if sentence[first[size - 1].end() : first[size - 1].end() + 1] == "-" else opener
    return None
