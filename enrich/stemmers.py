"""One stemmer per language, shared by the summariser and the related-articles vectors.

sumy names a stemmer for each language it supports: NLTK's Snowball for most, its own wrappers
for Czech/Slovak and Ukrainian, and two that need optional packages, Greek (greek-stemmer-pos)
and Polish (pystempel). The stated fallback: when a stemmer's package is missing or the stemmer
raises on a probe word, that language is read without stemming (lower-cased words), and the
reason is logged once per process. A stemmer that raises on one word later gives that word back
lower-cased, so one odd token costs nothing but its own stem.

Polish: pystempel builds its ~11 MB stemming trie from a gzip stream byte by byte, behind a tqdm
progress bar on stderr. Read through sumy it cost 5.4 s of CPU per process and printed the bar;
decompressed in one go and parsed from memory without the bar it costs 3.1 s, and the trie holds
~160 MiB (bench/stemmers.py). It is loaded once per process, on the first Polish word, so a run
without Polish articles pays nothing. Greek loads in 0.1 s but tries 49 part-of-speech tags per
word (~0.5 ms a word); the callers remember every word's stem, so that is paid once per word.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import lru_cache

log = logging.getLogger(__name__)

# A few ordinary words per language the stemmers are probed with when first asked for; any word
# does, the probe only proves the stemmer's package is present and working.
_PROBES = {"greek": "πολιτικής", "polish": "rozmowy"}
_DEFAULT_PROBE = "running"


def _polish() -> Callable[[str], str | None]:
    """pystempel's Polimorf stemmer (the table sumy uses), loaded quietly from memory."""
    import gzip
    import io
    from importlib import resources

    from pystempel import Stemmer as Stempel
    from pystempel.streams import DataInputStream

    table = resources.files("pystempel.data.polimorf").joinpath("stemmer_polimorf.tbl.gz").read_bytes()
    # Without a byte count DataInputStream reads directly, with no tqdm progress bar around it.
    stempel = Stempel.from_stream(DataInputStream(io.BytesIO(gzip.decompress(table))))
    return lambda word: stempel(word) or word  # pystempel gives None for words it has no rule for


def _sumy(name: str) -> Callable[[str], str]:
    from sumy.nlp.stemmers import Stemmer

    return Stemmer(name)  # LookupError when sumy has no stemmer for the language


_BUILDERS: dict[str, Callable[[], Callable[[str], str | None]]] = {"polish": _polish}


class _Tolerant:
    """A stemmer that gives a word back lower-cased when the stemmer raises on it (logged once)."""

    __slots__ = ("language", "stem", "warned")

    def __init__(self, language: str, stem: Callable[[str], str | None]) -> None:
        self.language, self.stem, self.warned = language, stem, False

    def __call__(self, word: str) -> str:
        try:
            return self.stem(word)
        except Exception as exc:  # noqa: BLE001 - a stemmer's bug costs one word its stem
            if not self.warned:
                self.warned = True
                log.warning("the %s stemmer failed on %r (%s: %s); such words stay unstemmed",
                            self.language, word, type(exc).__name__, exc)
            return word.lower()


@lru_cache(maxsize=64)
def stemmer_for(name: str) -> Callable[[str], str] | None:
    """The stemmer for a sumy language name (``"polish"``), or None: no stemmer, or its fallback.

    None means "do not stem" and callers read words as they are; it is returned when sumy has no
    stemmer for the language, or when the stemmer's optional package is missing or broken.
    """
    try:
        stem = _BUILDERS[name]() if name in _BUILDERS else _sumy(name)
    except LookupError:
        return None
    except Exception as exc:  # noqa: BLE001 - e.g. ImportError of an optional package: the stated fallback
        log.warning("no %s stemmer (%s: %s); %s text is read without stemming", name, type(exc).__name__, exc, name)
        return None
    try:
        stem(_PROBES.get(name, _DEFAULT_PROBE))
    except Exception as exc:  # noqa: BLE001 - sumy's Greek wrapper raises only when a word is stemmed
        log.warning("the %s stemmer does not work (%s: %s); %s text is read without stemming",
                    name, type(exc).__name__, exc, name)
        return None
    return _Tolerant(name, stem)
