"""Sentence splitting with offline spaCy pipelines: ``spacy.blank(lang)`` plus a sentencizer."""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.language import Language

# spaCy is imported where a pipeline is built: the flow's own process uses the regex helpers
# below (through enrich.related) but never splits sentences, and importing spaCy costs ~2 s.

log = logging.getLogger(__name__)

# Japanese needs SudachiPy for spacy.blank("ja"); the Chinese pipeline segments by character
# and splits on 。！？ just as well, with nothing to install.
_PIPELINE_FOR = {"ja": "zh"}
_WORD = re.compile(r"\w+", re.UNICODE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")
# Exactly the characters for which str.isalnum() is true (\w is isalnum() or "_"; the tests check
# every code point). Counting them with findall instead of a generator took pick_quotes from
# 7.6 to 6.9 ms an article and the summary from 2.5 to 2.1 ms.
_ALNUM = re.compile(r"[^\W_]")


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
        nlp = spacy.blank(name)
    except (ImportError, KeyError, ValueError) as exc:
        log.info("no spaCy tokenizer for %r (%s); using the multi-language one", language, exc)
        nlp = spacy.blank("xx")
    nlp.add_pipe("sentencizer")
    return nlp


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


def _continues(previous: str, following: str) -> bool:
    """Is ``following`` the rest of ``previous``, split after a quoted question or exclamation?

    The sentencizer ends a sentence at any ? or !, so in “Are you sure?” she asked. or
    „Wirklich?“, fragte sie. or 「本当？」と彼は言った。 the speech tag would stand alone.
    """
    if _QUOTED_QUESTION.search(previous) and following[:1].islower():
        return True
    # Japanese quotes with the particle と: 「…。」と言った。 is one sentence.
    return previous.endswith(tuple("」』")) and following.startswith("と")


def _sentence_spans(paragraph: str, doc) -> list[str]:
    """Sentence texts of one paragraph, with quotation marks kept on the sentence they belong to.

    The sentencizer ends a sentence after its final punctuation and token, so in
    ``...the project. “A publisher`` the opening quote closes the first sentence; we move it to
    the start of the next one so both stay verbatim substrings of the paragraph. A speech tag
    split off after a quoted question is joined back to its quotation.
    """
    bounds = [[s.start_char, s.end_char] for s in doc.sents]
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
        if spans and _continues(paragraph[spans[-1][0] : spans[-1][1]].strip(), text):
            spans[-1][1] = end
        else:
            spans.append([start, end])
    return [paragraph[a:b].strip() for a, b in spans]


def split_sentences(text: str, language: str, model: str | None = None) -> list[str]:
    """Sentences of ``text`` in order, each verbatim (trimmed), never crossing a paragraph."""
    nlp = nlp_for(language, model)
    paragraphs = paragraphs_of(text)
    sentences: list[str] = []
    for paragraph, doc in zip(paragraphs, nlp.pipe(paragraphs)):
        sentences.extend(_sentence_spans(paragraph, doc))
    return sentences


def is_complete_sentence(sentence: str, min_words: int = 5) -> bool:
    """Ends like a sentence and is long enough to be one: headings and kickers are not."""
    return bool(_TERMINAL.search(sentence)) and word_count(sentence) >= min_words


def is_unspaced(text: str) -> bool:
    """Mostly written in a script without spaces between words (Chinese, Japanese)?"""
    sample = text[:2000]
    if _CJK.search(sample) is None:  # the usual case, and no count needed: 0 is never > 0.3 x letters
        return False
    letters = len(_ALNUM.findall(sample))
    return letters > 0 and len(_CJK.findall(sample)) > 0.3 * letters


def words_of(sentence: str) -> list[str]:
    """Word tokens for similarity: ``\\w+`` runs, or character bigrams in unspaced scripts."""
    if is_unspaced(sentence):
        chars = _ALNUM.findall(sentence)
        return [a + b for a, b in zip(chars, chars[1:])] or chars
    return _WORD.findall(sentence)


def word_count(sentence: str) -> int:
    """Words a reader sees; unspaced scripts count two characters as a word."""
    if is_unspaced(sentence):
        return len(_ALNUM.findall(sentence)) // 2
    return len(_WORD.findall(sentence))
