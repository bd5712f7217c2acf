"""Headlines: the page's title without the site's name, and whether a feed's title was cut off.

A page's <title> and og:title often carry the site ("Title | Site", "Title - Section - Site",
"Site | Title"). The page's own headline (its <h1>) settles where the headline ends when it is
one of the title's parts; otherwise parts that name the site (``enrich.sitenames``) are
dropped from either end, and short section labels next to them ("Title | World | News | Site").
What is left gives way to the <h1> when that is a variant of it: readers see the <h1>.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from enrich.sitenames import names_site, site_keys
from enrich.text import words

_TRUNCATION_MARKS = ("…", "...", "[…]", "[...]")
# Between a headline and the site's name: a bar, a dash, a bullet or a colon with spaces around.
_SEPARATOR = re.compile(r"\s+[|\-–—:·•»/]\s+|\s*\|\s*")
# A section label next to the site's name has at most this many words ("Afghanistan News").
MAX_SECTION_WORDS = 2
# A part naming the site has at most this many words ("The GiveWell Blog"); a longer part that
# mentions the site ("comwrap auf der DMEXCO 2018" on comwrap's blog) is the headline.
MAX_SITE_WORDS = 4
# An <h1> replaces the stated title when it has at least this many words and shares at least this
# share of its words with it (Jaccard); a different story's <h1> or a section name shares fewer.
# Set on the tuned labelled pages (page title exact 87.6% -> 94.2%; held back 88.3% -> 91.7%).
MIN_HEADLINE_WORDS = 3
MIN_HEADLINE_OVERLAP = 0.5


def _norm(text: str) -> str:
    return " ".join(words(text.casefold()))


def _parts(title: str) -> tuple[list[str], list[str]]:
    """The title's parts and the separators between them."""
    pieces = re.split(f"({_SEPARATOR.pattern})", title)
    return [p.strip() for p in pieces[::2]], pieces[1::2]


def _join(parts: list[str], separators: list[str]) -> str:
    out = parts[0]
    for separator, part in zip(separators, parts[1:], strict=True):
        out += separator + part
    return out


def _site(part: str, keys: frozenset[str]) -> bool:
    return len(part.split()) <= MAX_SITE_WORDS and names_site(part, keys)


def _headline_part(title: str, headlines: list[str], keys: frozenset[str]) -> str | None:
    """The run of the title's parts that is one of the page's headlines, when there is one."""
    parts, separators = _parts(title)
    wanted = {_norm(h) for h in headlines if _norm(h) and not _site(h, keys)}
    for start in range(len(parts)):
        for end in range(len(parts), start, -1):
            if (start, end) != (0, len(parts)) and _norm(" ".join(parts[start:end])) in wanted:
                return _join(parts[start:end], separators[start : end - 1])
    return None


def _after_site(title: str, headlines: list[str], keys: frozenset[str]) -> str | None:
    """A headline the title ends with after the site and its slogan ("Site | Slogan: Headline")."""
    for headline in headlines:
        head, tail = _norm(title), _norm(headline)
        if (
            tail
            and head.endswith(tail)
            and len(tail) < len(head)
            and names_site(head[: -len(tail)], keys)
        ):
            return " ".join(headline.split())
    return None


def page_title(
    stated: str | None,
    *,
    headlines: Sequence[str] = (),
    site_name: str | None = None,
    url: str | None = None,
) -> str | None:
    """``stated`` (the page's <title> or og:title) without the site's name around the headline."""
    if not stated:
        return None
    title = " ".join(stated.split())
    keys = site_keys(site_name, url)
    parts, separators = _parts(title)
    if len(parts) == 1:
        return _visible_headline(title, headlines, keys)
    found = _headline_part(title, list(headlines), keys) or _after_site(
        title, list(headlines), keys
    )
    if found:
        return found
    start, end = 0, len(parts)
    dropped = False
    while end - start > 1 and _site(parts[end - 1], keys):
        end, dropped = end - 1, True
    while end - start > 1 and _site(parts[start], keys):
        start, dropped = start + 1, True
    # With the site gone, the section labels beside it go too ("Title | World | News | Site").
    while dropped and end - start > 1 and len(parts[end - 1].split()) <= MAX_SECTION_WORDS:
        end -= 1
    return _visible_headline(_join(parts[start:end], separators[start : end - 1]), headlines, keys)


def _visible_headline(title: str, headlines: Sequence[str], keys: frozenset[str]) -> str:
    """The page's <h1> when it is a variant of ``title`` (the headline readers see, where og:title
    and <title> carry a search-engine variant: "HS Roundup" for "High School Roundup")."""
    words = set(_norm(title).split())
    for headline in headlines:
        shown = set(_norm(headline).split())
        if len(shown) < MIN_HEADLINE_WORDS or _site(headline, keys):
            continue
        if len(words & shown) / len(words | shown) >= MIN_HEADLINE_OVERLAP:
            return " ".join(headline.split())
    return title


def cut_off(short: str, full: str) -> bool:
    """Is ``short`` a cut-off ``full``: ending in an ellipsis, or stopping in the middle of a word?

    "Night ferry to leave…" and "Night ferry to lea" are cut-off forms of "Night ferry to leave
    later"; "Night ferry to leave later" is not one of "Night ferry to leave later | Harbour
    Notes", which only adds the site.
    """
    stem = short.rstrip()
    mark = next((m for m in _TRUNCATION_MARKS if stem.endswith(m)), None)
    stem = stem.removesuffix(mark).rstrip() if mark else stem
    stem_words, full_words = _norm(stem), _norm(full)
    if not stem_words or len(stem_words) >= len(full_words):
        return False
    if not full_words.startswith(stem_words):
        return False
    if mark:
        return True
    # Cut mid-word: the stem ends in a letter and the full title's word goes on after it.
    return stem[-1].isalnum() and full_words[len(stem_words)] != " "
