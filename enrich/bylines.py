"""Who wrote an article: people's names from a page's structured data and its visible byline.

A byline is shown to the reader as a person's name, so a wrong one is worse than none. Every
stated author ("By TOM EXAMPLE, AP Auto Writer", "Troy Sample | tsample@example.com",
"Analysis by Chris Example, CNN Editor-at-large") is cut into names and each name must look
like a person's: a few capitalised words, no digits, handles, URLs or e-mail addresses, no
newsroom or company words ("Staff", "Reuters", "Media", "University"), not the site's own name.

Sources, most trusted first (``page_authors``):

1. JSON-LD: the ``author`` of the page's article objects (strings, Person objects, arrays,
   ``@graph`` entries); Organization authors are not people. A Person only referenced by ``@id``
   (a CMS account, as WordPress SEO plugins publish it) counts only when the page shows the name.
2. The visible byline: elements marked as byline or author (rel=author, itemprop=author,
   /author/ links, class names), outside comments, related-article lists and navigation.
3. Meta tags: ``author``, ``article:author``, ``dc.creator`` and the like.

The first source with a name wins; a visible byline that names the same people and more
(co-authors the structured data left out) replaces it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from lxml import etree

from enrich.jsonld import json_ld_objects
from enrich.limits import MAX_AUTHOR_CHARS
from enrich.sitenames import names_site, site_keys

# The separator the pipeline joins several authors with (trafilatura's too).
AUTHOR_SEPARATOR = "; "
# A person's name: at most this many words and characters (longer strings are sentences).
MAX_NAME_WORDS = 5
MAX_NAME_CHARS = 40
MAX_UNSPACED_NAME_CHARS = 12  # a CJK name with its particles; longer runs are sentences
# A visible byline naming more people than this is a list (of columnists, of related stories).
MAX_BYLINE_NAMES = 6

# Words that end a name: what follows is the person's role ("Tom Sample, News reporter").
_ROLE_WORDS = frozenset(
    """
    staff staffer writer writers reporter reporters correspondent correspondents contributor contributors
    contributing columnist columnists editor editors editor-at-large producer photographer senior chief
    published updated posted redakteur redakteurin reportera periodista 기자 특파원 記者 记者 特派員 特派员
    """.split()
)
# Role words that, ending a string, name a whole newsroom ("Science X staff"), unlike "Staff Writer".
_COLLECTIVE = frozenset({"staff", "editors"})
# Words that say a string names an organisation, a newsroom or page furniture, not a person.
# Casefolded, matched as whole words; several languages because bylines are.
_ORG_WORDS = frozenset(
    """
    editorial redaktion redacción redação rédaction redazione author authors autor autora team desk bureau
    newsroom admin administrator webmaster guest sponsored sponsor partner partners wire wires services
    service agency agencia agência agenzia agentur news nieuws noticias notícias nachrichten notizie press
    presse prensa associated reuters afp dpa ansa efe pti ians xinhua bloomberg media medien group grupo
    gruppe network magazine magazin revista journal daily weekly times post tribune herald gazette
    chronicle telegraph online digital blog blogs website site tv radio channel studio studios company inc
    ltd llc gmbh ag corp corporation plc limited university universität universidad universidade college
    institute institut foundation stiftung fundación association society council ministry ministries
    department government governo gobierno prefeitura municipal municipality ayuntamiento stadt verlag
    editora international national sport sports official officials
    about sobre über view watch read more follow see all latest contact email share subscribe articles
    stories posts profile home page http https www com org net
    """.split()
)
# Prefixes of a byline before the names ("By", "Words by", "Text:", "Von", "Текст:").
_LEAD = re.compile(
    r"^\s*(?:(?:(?:words|posted|written|analysis|commentary|reporting|story|text|photos?)\s+by|by|von|por|par|"
    r"door|di|av|af|texto?|text|текст|автор|autor(?:a|in)?|author)\b|记者|記者|(?:作者|撰文|文|글)(?=\s*[:：]))"
    r"\s*[:：]?\s*",
    re.IGNORECASE,
)
# Where a name ends: a date, a time, a handle, a bar, a bullet, " - ", a sentence about the person.
_TAIL = re.compile(
    r"\s+(?:is|was|ist|war|es|est|è)\s+.*$|\s*[|•·—–]\s*.*$|\s+-\s+.*$|\s*@\S.*$|\s*\(.*$|"
    r"\s*\b(?:on\s+)?(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?\b.*$|"
    r"\s*\b(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?\s*\d.*$|\s*\d.*$",
    re.IGNORECASE,
)
# Between names: commas, semicolons, slashes and the word "and" in the languages bylines use.
_BETWEEN = re.compile(r"(\s*[,;/&+]\s*|\s+(?:and|und|y|e|et|og|och|en|i|и)\s+)", re.IGNORECASE)
# A sentence end inside a stated author ("Finn Example. Sputnik International"), not an initial.
_SENTENCE_END = re.compile(r"(?<=\w{2})\.\s+(?=[A-Z])")
# Lower-case words allowed inside a name: particles and connectors of family names.
_PARTICLES = frozenset(
    "van von der den de del della di da das dos du le la les ter ten bin ibn al el st y e zu af av".split()
)
# A capital after four lower-case letters: not McDonald, DeArdo or MacKenzie, but words run together.
_RUN_TOGETHER = re.compile(r"[a-z\u00df-\u00ff]{4}[A-Z]")
_EMAIL_THEN_NAME = re.compile(r"\S+@\S+\s*\(([^()]*)\)")
_URL_OR_EMAIL = re.compile(r"https?://\S+|www\.\S+|\S+@\S+")
_URLISH = re.compile(r"https?://|www\.|\.\w{2,4}\b(?!\.)|@", re.IGNORECASE)
_CASELESS_SCRIPTS = re.compile(
    r"[\u0600-\u06ff\u0e00-\u0e7f\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]"
)

_LD_ARTICLE_TYPES = re.compile(
    r"article|posting|report|review|webpage|creativework|blog", re.IGNORECASE
)
# Meta tags naming the author, in the order they are trusted.
_META_AUTHOR_KEYS = (
    "author", "article:author", "dc.creator", "dcterms.creator", "byl", "sailthru.author", "parsely-author",
    "author.name", "analyticsattributes.author",
)  # fmt: skip
# Elements of the visible byline, and the page regions where author names are not the article's.
# Byline elements: rel or itemprop "author", one of these in the class, one of these in the link.
BYLINE_CLASSES = ("byline", "Byline", "author", "Author")
AUTHOR_PATHS = ("/author/", "/authors/", "/writers/", "/staff/", "/autor/", "/autores/", "/autoren/")
# Fewer, shorter parts of the above, each of them holding one: elements without any are passed
# over after two or three tests instead of eleven.
BYLINE_CLASS_HINTS = ("yline", "uthor")
AUTHOR_PATH_HINTS = ("/aut", "/writers/", "/staff/")


def _contains_any(attribute: str, parts: tuple[str, ...]) -> str:
    return "(" + " or ".join(f"contains(@{attribute}, '{part}')" for part in parts) + ")"


# The guards (the attribute is there, a hint is in it) select the same elements as the plain
# contains() tests and cost 0.9 ms a page against 2.6 (process time, the 181 benchmark pages):
# libxml2 turns the attribute into a new string for every contains() of every element.
# ("/descendant::*" is what "//*" means here, a little faster in libxml2.)
_BYLINE_XPATH = etree.XPath(
    "/descendant::*[@rel='author' or @itemprop='author'"
    f" or @class and {_contains_any('class', BYLINE_CLASS_HINTS)} and {_contains_any('class', BYLINE_CLASSES)}"
    f" or @href and {_contains_any('href', AUTHOR_PATH_HINTS)} and {_contains_any('href', AUTHOR_PATHS)}]"
)
_ELSEWHERE = re.compile(
    r"comment|related|recirc|footer|menu|navigation|navbar|promo|newsletter|teaser|popular|trending|"
    r"recommend|widget|share|social|login|signup",
    re.IGNORECASE,
)
_BYLINE_MARK = re.compile(r"byline|author", re.IGNORECASE)
_AUTHOR_HREF = re.compile(
    r"/(?:authors?|writers?|staff|autor|autores|autoren|people|profile)/", re.IGNORECASE
)
_ELSEWHERE_TAGS = frozenset({"nav", "footer", "aside", "form", "script", "style", "noscript"})
# Elements too big to be a byline (a whole article whose class names its author, a page).
_CONTAINER_TAGS = frozenset({"html", "body", "article", "main", "section"})
MAX_BYLINE_CHARS = 200
_VISIBLE_TEXT = etree.XPath(
    "//body//text()[not(ancestor::script) and not(ancestor::style) and not(ancestor::noscript)]",
    smart_strings=False,
)
# The visible byline is the element naming the most people among the first few that name any
# (a header that links one author and names both in the next element).
BYLINE_ELEMENTS_READ = 3


# -- names -----------------------------------------------------------------------------------------


def _key(name: str) -> str:
    """A name compared case- and diacritics-insensitively."""
    plain = "".join(
        ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch)
    )
    return " ".join(re.findall(r"\w+", plain.casefold()))


def _recase(name: str) -> str:
    """ALL-CAPS names as a reader would print them ("TOM EXAMPLE" -> "Tom Example")."""
    letters = [ch for ch in name if ch.isalpha()]
    if letters and all(ch.isupper() for ch in letters) and len(letters) > 3:
        return " ".join(
            word.capitalize() if "'" not in word else word.title() for word in name.split()
        )
    return name


def _word(word: str) -> str:
    return word.casefold().strip(".,'’")


def _acronym(word: str) -> bool:
    letters = [ch for ch in word if ch.isalpha()]
    return 2 <= len(letters) <= 4 and all(ch.isupper() for ch in letters)


def _person(candidate: str, keys: frozenset[str]) -> tuple[str | None, bool]:
    """``candidate`` as a person's name (None when it names no person), and whether a role was cut off."""
    name = _recase(_TAIL.sub("", _LEAD.sub("", candidate.strip())).strip(" .,:;-–—'\"“”‘’"))
    if (
        not name
        or len(name) > MAX_NAME_CHARS
        or _URLISH.search(name)
        or "_" in name
        or any(ch.isdigit() for ch in name)
    ):
        return None, False
    words = name.split()
    # A role ends the name, and the newsroom before it goes with the role: "Tom Sample News
    # reporter", "Paul Example Staff Writer"; "HNN Staff" and "Science X staff" name nobody.
    role = next(
        (
            i
            for i, word in enumerate(words)
            if _word(word) in _ROLE_WORDS or _word(word).split("-")[0] in _ROLE_WORDS
        ),
        None,
    )
    if (
        role is not None
        and _word(words[role]) in _COLLECTIVE
        and (role + 1 == len(words) or _word(words[role + 1]) not in _ROLE_WORDS)
    ):
        return None, True  # "Harbour Editorial Staff", "HNN Staff": a newsroom, not a role
    if role is not None:
        words = words[:role]
        while words and (_word(words[-1]) in _ORG_WORDS or _acronym(words[-1])):
            words.pop()
        if len(words) < 2 and not (words and _CASELESS_SCRIPTS.search(words[0])):
            return (
                None,
                True,
            )  # one word before a role is a newsroom, except an unspaced name ("정덕현 기자")
        name = _recase(" ".join(words))
    if (
        words[0].casefold() == "the"
        or any(_word(word) in _ORG_WORDS for word in words)
        or len(words) > MAX_NAME_WORDS
        or (len(words) > 1 and len(words[-1]) == 1)  # "Science X": no family name is one letter
        or names_site(name, keys)
    ):
        return None, role is not None
    if _CASELESS_SCRIPTS.search(name):
        # Unspaced (CJK) names are short; spaced ones (Arabic) have a few words.
        fits = len(name) <= MAX_UNSPACED_NAME_CHARS if len(words) == 1 else len(words) <= 4
        return (name if fits else None), role is not None
    for word in words:
        if word.casefold() in _PARTICLES:
            continue
        # Capitalised or an initial ("L."); not a handle ("kevin-r"), an acronym ("CNN", "RDN")
        # or the text of two elements run together ("SampleMonday").
        if not word[0].isupper() or _acronym(word) or _RUN_TOGETHER.search(word):
            return None, role is not None
    return name, role is not None


def person_names(
    stated: str | None,
    *,
    site_name: str | None = None,
    url: str | None = None,
    single_word: bool = True,
) -> tuple[str, ...]:
    """The people a stated author names, in order, each once; () when it names none.

    After a comma, a part that needed a role cut off is an affiliation ("Tom Example, AP Auto
    Writer"), and a single word among several parts is one too ("Victor Example, Futurism",
    "PTI, Washington"); alone ("by Regan") a single word is kept when ``single_word`` allows it.
    """
    if not stated:
        return ()
    # A stated author longer than the stored cap is no byline, and the name rules' patterns cost
    # the square of their input on long runs of letters (0.23 s CPU at 8,000 characters).
    if len(stated) > MAX_AUTHOR_CHARS:
        return ()
    keys = site_keys(site_name, url)
    # RSS writes "e-mail (Name)"; the name in brackets is the person.
    stated = _EMAIL_THEN_NAME.sub(r"\1", stated)
    text = _SENTENCE_END.sub("; ", " ".join(_URL_OR_EMAIL.sub(" ", stated).split()))
    pieces = _BETWEEN.split(_LEAD.sub("", text))
    # re.split with a group alternates parts and the separators before them.
    parts = [(pieces[0], "")] + list(zip(pieces[2::2], pieces[1::2], strict=True))
    parts = [(part, sep) for part, sep in parts if part and part.strip()]
    names = []
    for part, separator in parts:
        name, role_cut = _person(part, keys)
        if name is None or (role_cut and "," in separator):
            continue
        if (
            (len(parts) > 1 or not single_word)
            and len(name.split()) == 1
            and not _CASELESS_SCRIPTS.search(name)
        ):
            continue
        names.append(name)
    return _unique(names)


def _unique(names: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(_key(name), name)
    return tuple(seen.values())


def format_authors(names: Iterable[str]) -> str | None:
    """Names joined the way the pipeline stores them; None for none."""
    joined = AUTHOR_SEPARATOR.join(names)
    return joined or None


# -- the page's sources ----------------------------------------------------------------------------


def _types(obj: dict) -> str:
    kind = obj.get("@type", obj.get("type", ""))
    return " ".join(map(str, kind)) if isinstance(kind, list) else str(kind)


def _ld_authors(tree) -> tuple[list[str], list[str]]:
    """(names the article objects state, names of CMS accounts they only reference by @id)."""
    objects = list(json_ld_objects(tree))
    people = {
        obj["@id"]: obj
        for obj in objects
        if isinstance(obj.get("@id"), str) and "person" in _types(obj).casefold()
    }
    stated: list[str] = []
    referenced: list[str] = []
    for obj in objects:
        if not _LD_ARTICLE_TYPES.search(_types(obj)) or "author" not in obj:
            continue
        authors = obj["author"] if isinstance(obj["author"], list) else [obj["author"]]
        for author in authors:
            if isinstance(author, str):
                stated.append(author)
            elif isinstance(author, dict):
                kind = _types(author).casefold()
                if "organization" in kind or "organisation" in kind:
                    continue
                if isinstance(author.get("name"), str):
                    stated.append(author["name"])
                elif isinstance(author.get("@id"), str) and author["@id"] in people:
                    name = people[author["@id"]].get("name")
                    if isinstance(name, str):
                        referenced.append(name)
    return stated, referenced


def _meta_authors(tree) -> list[str]:
    found: dict[str, list[str]] = {}
    for meta in tree.xpath("//meta[@content]"):
        key = (meta.get("name") or meta.get("property") or "").strip().casefold()
        if key in _META_AUTHOR_KEYS:
            found.setdefault(key, []).append(meta.get("content"))
    return [value for key in _META_AUTHOR_KEYS for value in found.get(key, [])]


def _elsewhere(element) -> bool:
    """Is the element in comments, navigation, related lists or an author bio, not the byline?"""
    for node in (element, *element.iterancestors()):
        if not isinstance(node.tag, str) or node.tag in _CONTAINER_TAGS:
            continue
        if node.tag in _ELSEWHERE_TAGS:
            return True
        marks = f"{node.get('class', '')} {node.get('id', '')}"
        # Only the surroundings can say "social", "share" etc., and not a surrounding byline
        # ("byline-social" holds the byline and its share buttons).
        if node is not element and _ELSEWHERE.search(marks) and not _BYLINE_MARK.search(marks):
            return True
        if node is element and re.search(r"comment|related|card|bio", marks, re.IGNORECASE):
            return True
    return False


def _text(element) -> str:
    """The element's text with a space between its children's ("Jeff Sample" + "Monday", not "SampleMonday")."""
    return " ".join(" ".join(element.itertext()).split())


def _byline_readings(element) -> list[str]:
    """The ways to read one byline element: its text, and its links' texts ("A, B")."""
    text = _text(element)
    if element.tag == "a":
        # Author links side by side ("By <a>Ann Example</a>, <a>Bo Sample</a>"): all of them.
        parent = element.getparent()
        links = parent.iter("a") if parent is not None else [element]
        together = [_text(a) for a in links if _AUTHOR_HREF.search(a.get("href", ""))]
        return [", ".join(together), text] if 1 < len(together) <= MAX_BYLINE_NAMES else [text]
    links = [label for a in element.iter("a") if (label := _text(a))]
    if len(text) > MAX_BYLINE_CHARS or len(links) > MAX_BYLINE_NAMES:
        return []  # a list of links or a paragraph, not a byline
    return [text, ", ".join(links)] if links else [text]


def _visible_byline(tree, site_name: str | None, url: str | None) -> tuple[str, ...]:
    """The names of the byline element naming the most people, among the first that name any."""
    found: list[tuple[str, ...]] = []
    for element in _BYLINE_XPATH(tree):
        if element.tag in _CONTAINER_TAGS or _elsewhere(element):
            continue
        # A single word in a byline element is as often a place or a desk ("Washington,") as a name.
        readings = [
            person_names(text, site_name=site_name, url=url, single_word=False)
            for text in _byline_readings(element)
        ]
        names = max((r for r in readings if len(r) <= MAX_BYLINE_NAMES), key=len, default=())
        if names:
            found.append(names)
            if len(found) == BYLINE_ELEMENTS_READ:
                break
    return max(found, key=len, default=())


def _shown(name: str, visible: str) -> bool:
    return f" {_key(name)} " in visible


def page_authors(tree, *, site_name: str | None = None, url: str | None = None) -> tuple[str, ...]:
    """The people who wrote the page's article, most trusted source first; () when it names none."""
    stated, referenced = _ld_authors(tree)
    byline = _visible_byline(tree, site_name, url)
    names = _unique(n for s in stated for n in person_names(s, site_name=site_name, url=url))
    if not names and referenced:
        # What the reader sees: the body's text, not its scripts (which repeat the CMS account).
        visible = f" {_key(' '.join(_VISIBLE_TEXT(tree)))} "
        names = _unique(
            n
            for s in referenced
            for n in person_names(s, site_name=site_name, url=url)
            if _shown(n, visible)
        )
    if not names:
        names = byline
    if not names:
        names = _unique(
            n
            for s in _meta_authors(tree)
            for n in person_names(s, site_name=site_name, url=url, single_word=False)
        )
    if (
        byline
        and len(byline) > len(names)
        and {_key(n) for n in names} <= {_key(n) for n in byline}
    ):
        names = byline  # the byline names co-authors the structured data left out
    return names
