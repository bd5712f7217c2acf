"""Extractive summaries with sumy's LexRank over sentences split by spaCy (no NLTK data needed)."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from functools import lru_cache

from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
from sumy.nlp.stemmers import Stemmer, null_stemmer
from sumy.summarizers.lex_rank import LexRankSummarizer
from sumy.utils import get_stop_words

from enrich.sentences import is_complete_sentence, words_of

log = logging.getLogger(__name__)

# ISO 639-1 to the names sumy uses for its stop-word lists and NLTK's Snowball stemmers.
SUMY_LANGUAGES = {
    "ar": "arabic", "cs": "czech", "de": "german", "el": "greek", "en": "english", "es": "spanish",
    "fr": "french", "he": "hebrew", "it": "italian", "ja": "japanese", "ko": "korean",
    "pl": "polish", "pt": "portuguese", "sk": "slovak", "sv": "swedish", "uk": "ukrainian",
    "zh": "chinese", "th": "thai", "nl": "dutch", "ru": "russian", "da": "danish", "fi": "finnish",
    "hu": "hungarian", "no": "norwegian", "ro": "romanian", "tr": "turkish",
}
# Below this many sentences, centrality is noise: the summary is the lead.
MIN_SENTENCES_FOR_LEXRANK = 5


class _WordTokenizer:
    """The tokenizer interface sumy's Sentence needs; sentences are already split by spaCy."""

    def to_words(self, sentence: str) -> list[str]:
        return words_of(sentence)


_TOKENIZER = _WordTokenizer()


@lru_cache(maxsize=32)
def _summarizer(language: str) -> LexRankSummarizer:
    name = SUMY_LANGUAGES.get(language)
    try:
        stemmer = Stemmer(name) if name else null_stemmer
    except LookupError:
        stemmer = null_stemmer
    summarizer = LexRankSummarizer(stemmer)
    try:
        summarizer.stop_words = get_stop_words(name) if name else ()
    except LookupError:
        summarizer.stop_words = ()
    return summarizer


def summary_length(sentence_count: int, wanted: int) -> int:
    """At most ``wanted`` sentences and about a quarter of a short text (4 sentences -> 1)."""
    return max(1, min(wanted, math.ceil(sentence_count / 4)))


def summarize(sentences: Sequence[str], language: str, *, max_sentences: int = 3) -> tuple[str, ...]:
    """The most central sentences by LexRank, verbatim and in document order, without repeats.

    Only complete sentences compete: subheads, kickers and the repeated headline do not.
    """
    unique = list(dict.fromkeys(s for s in sentences if is_complete_sentence(s)))
    if not unique:
        return ()
    count = summary_length(len(unique), max_sentences)
    if len(unique) < MIN_SENTENCES_FOR_LEXRANK:
        return tuple(unique[:count])
    document = ObjectDocumentModel([Paragraph([Sentence(s, _TOKENIZER) for s in unique])])
    picked = _summarizer(language)(document, count)
    return tuple(str(s) for s in picked)
