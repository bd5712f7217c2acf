"""Does a string name the site itself ("Cleveland.com", "The GiveWell Blog", "VG247")?

Bylines and titles carry the site's own name where a person or a headline should be; the site is
known by its og:site_name and its host name, squashed to letters and digits so that spelling
("SpaceNews.com", "Space News") does not matter.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

# Host labels that are no part of a site's name.
_GENERIC_LABELS = frozenset({"www", "m", "amp", "blog", "blogs", "news", "edition", "en", "mobile"})
# Shorter keys match too much ("ap", "tv").
MIN_KEY_CHARS = 3
# A string this long or longer may be found inside a host name ("Vortex" in vortexcannon.org).
MIN_INSIDE_CHARS = 4
# A site name this long or longer may be found inside a string ("The GiveWell Blog"); a short one
# ("post", "news") would find itself in people's names and headlines.
MIN_CONTAINED_KEY_CHARS = 5


def squash(text: str) -> str:
    """Letters and digits only, without accents, case-folded ("Condé Nast" -> "condenast")."""
    plain = "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
    )
    return "".join(re.findall(r"\w", plain.casefold())).replace("_", "")


def site_keys(site_name: str | None, url: str | None) -> frozenset[str]:
    """The site's names, squashed: its og:site_name and its host name less the suffix."""
    keys = set()
    if site_name:
        keys.add(squash(site_name))
    host = urlsplit(url).hostname if url else None
    if host:
        labels = [label for label in host.split(".") if label not in _GENERIC_LABELS]
        keys.update(squash(label) for label in (labels[:-1] or labels))
    return frozenset(key for key in keys if len(key) >= MIN_KEY_CHARS)


def names_site(text: str, keys: frozenset[str]) -> bool:
    """Is ``text`` the site's name, its host, or a longer form of either ("The GiveWell Blog")?"""
    squashed = squash(text)
    if not squashed:
        return False
    return any(
        squashed == key
        or (len(key) >= MIN_CONTAINED_KEY_CHARS and key in squashed)
        or (len(squashed) >= MIN_INSIDE_CHARS and squashed in key)
        for key in keys
    )
