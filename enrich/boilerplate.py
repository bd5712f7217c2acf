"""Boilerplate at the two ends of an article's text: peeled off, line by line, until an article line shows.

What an extractor lets through sits at the edges of the text: datelines and "3 min read" above the
article; newsletter and app promos, affiliate disclaimers, "Reporting by ...; Editing by ...",
contact lines, the author's bio, the publisher's "About us" paragraph and a "Sources:" list
below it. Inside the article the same words may be the story ("the app store", "a newsletter"),
so only the ends are peeled, repeatedly, and a line is peeled only when it is short enough to be
furniture. Patterns cover English, German, Spanish, French, Italian and Portuguese, with a few
Russian, Japanese and Korean forms.

Every pattern was written from pages of the article-extraction benchmark and the usual news-site
chrome, and kept only where bench/extraction.py measured it not to cost recall.
"""

from __future__ import annotations

import re

# A furniture line is at most this many words; longer lines are article paragraphs even when they
# mention a newsletter (a 45-word closing paragraph of the benchmark ends "Leave a comment ...").
EDGE_MAX_WORDS = 40
# Bios, publishers' "about us" paragraphs and reprint notices are longer: up to ~60 words on the
# benchmark pages.
LONG_MAX_WORDS = 70
# Above the article, a line that ends no sentence and has at most this many words is a headline, a
# subtitle or a label (the page's own headline in another wording, "2019 American Music Awards").
HEADLINE_MAX_WORDS = 25
# At most this many headlines and datelines are peeled: further down, such lines are the article's
# own subheadings, table rows and dates ("GIRLS BASKETBALL", "1a etapa: 10 de março").
HEADLINE_LINES = 2
# Peeling never removes more than this share of a text's words: a page that looks like nothing but
# boilerplate (a short press notice, a promo page) is left as extracted.
MAX_PEEL_SHARE = 0.5
# A tail section ("Sources", "Further reading", "About the author") goes with everything after it
# only when that is at most this share of the text's words.
TAIL_SECTION_MAX_SHARE = 0.35

_F = re.IGNORECASE

# -- lines that are furniture at either end ------------------------------------------------------------
_EITHER_END = re.compile(
    # copyright and rights notices
    r"^\W*(?:©|\(c\)\s*\d|copyright\b)|all rights reserved|alle rechte vorbehalten|todos los derechos reservados"
    r"|tous droits réservés|tutti i diritti riservati|todos os direitos reservados|все права защищены"
    # newsletters, subscriptions, sign-up boxes
    r"|\bsign(?:ing)? up\b|\bsubscribe\b|\bnewsletter|\binbox\b|\babonnieren\b|suscr[ií]b[ea]|"
    r"\b(?:day|week)['’]?s (?:big(?:gest)? |top |best )?(?:stories|news|headlines)\b|"
    r"inscreva-se|iscriviti|abonnez-vous|подпишитесь|\bregistr(?:ieren|ate|arse) (?:sie sich )?(?:gratis|kostenlos)"
    # apps
    r"|\b(?:download|get|install)\b.{0,40}\bapp\b|\bapp store\b|\bgoogle play\b"
    # social media and contact lines
    r"|\bfollow (?:us|@\w+|[\w.'’]+(?: [\w.'’]+){0,6}) on (?:twitter|facebook|instagram|linkedin|x\b|tiktok|youtube)"
    r"|^\W*follow @?\w+\b|síguenos|folgen sie uns|suivez-nous|seguici|siga-nos"
    r"|^\W*(?:write to|reach|contact|email|e-mail)\b.{0,60}(?:@|\bat\b|twitter)"
    r"|\bhave a (?:news )?tip\b|^\W*(?:twitter\.com|www\.)\S*\s*$|^\W*\S+@\S+\.\w+\s*$|^\W*https?://\S+\s*$"
    # credits
    r"|^\W*(?:reporting|writing|editing|additional reporting|compiled|produced) by\b|\bediting by\b"
    r"|contributed (?:to )?this (?:report|story|article)|\bcontributed reporting\b|"
    r"^\W*(?:updated|published|posted|publicado|publié|veröffentlicht|aktualisiert|pubblicato)\b.{0,40}\d|"
    r"^\W*(?:tags?|filed under|categor(?:y|ies)|schlagwörter|etiquetas)\s*:|^\W*(?:contributing|sources?|quellen?|fuentes?|fontes?)\s*:"
    r"|^\W*(?:with|mit material von|con información de|avec) (?:afp|ap|dpa|reuters|efe|agencies|agenturen)\W*$"
    r"|^\W*(?:\(?(?:afp|ap|dpa|reuters|efe|ansa|kna|epd)\)?(?:\s*[/,]\s*\w+)*)\W*$"
    # affiliate and sponsorship disclaimers
    r"|\b(?:earns?|receives?|get) (?:a )?(?:small )?(?:commission|affiliate|share of (?:the )?sales?)"
    r"|\baffiliate (?:links?|commission|partner)|\bwhen you (?:buy|shop|purchase) (?:something )?(?:through|via)"
    r"|\bas an amazon associate\b|\bprices are subject to change\b|\bquantities may be limited\b"
    r"|\bsponsored (?:by|content|post)\b|\bprovisions-?links?\b|\bwerbung\b|enlaces de afiliados"
    # calls to action and widgets
    r"|\bclick here\b|\btap here\b|^\W*(?:listen|watch|download|itunes|spotify|podcast)\s*:|^\W*listen to\b"
    r"|\bif you enjoyed this (?:article|story|post)\b|\bsupport (?:our|independent) journalism\b|\bbecome a member\b"
    r"|\bshare (?:it|this)\b|\btell us what you think\b|\bwe['’]?d like to hear (?:what you think|from you)\b"
    r"|^\W*how to (?:listen|watch|subscribe)\b|\blet us know (?:in the comments|what you think)\b|\bleave a comment\b"
    r"|\[/?(?:button|caption|embed|su_\w+|vc_\w+)\b[^\]]*\]"
    # "Related: ...", "Read more" lines, and "More: ..." announcing other stories
    r"|^\W*(?:related|read more|read also|see also|more from|more on this|don['’]?t miss|recommended|you may also like"
    r"|leggi anche|lesen sie auch|mehr zum thema|lee también|leia também|veja também|saiba mais|à lire aussi"
    r"|читайте также)\b",
    _F,
)

# The labels of the page's tools, whole lines, list items too ("- Print Article").
_WIDGET = re.compile(
    r"^\W*(?:an error has occurred|thank you|this article has been sent to|text size|print(?: article| this)?|share"
    r"|share this (?:article|story)|tweet|e-?mail|comments?|order reprints|reprints?|save|bookmark|listen"
    r"|drucken|teilen|imprimir|compartir|partager|imprimer|condividi|stampa|compartilhar)"
    r"\W*(?:please try again later\.?)?\s*$",
    _F,
)
# Long notices that are still furniture: reprint and personal-use notices, subscription offers.
_NOTICE = re.compile(
    r"\bfor your personal,? non-commercial use\b|\bsubscriber agreement\b|\buse (?:the )?(?:promo |coupon )?code\b", _F
)

# -- lines that are furniture only above the article ------------------------------------------------------
_MONTH = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?"
    r"|nov(?:ember)?|dec(?:ember)?|januar|februar|märz|mai|juni|juli|oktober|dezember|enero|febrero|marzo|abril|mayo"
    r"|junio|julio|agosto|septiembre|octubre|noviembre|diciembre|janvier|février|mars|avril|juin|juillet|août"
    r"|septembre|octobre|novembre|décembre|gennaio|febbraio|aprile|maggio|giugno|luglio|settembre|ottobre|dicembre"
    r"|janeiro|fevereiro|março|maio|junho|julho|setembro|outubro|novembro|dezembro"
)
_DATE = re.compile(
    rf"\b\d{{1,2}}[/.-]\d{{1,2}}[/.-]\d{{2,4}}\b|\b\d{{4}}-\d{{2}}-\d{{2}}\b|\b(?:{_MONTH})\.?\s+\d{{1,2}}\b"
    rf"|\b\d{{1,2}}\.?\s+(?:de\s+)?(?:{_MONTH})\b|\b\d{{1,2}}:\d{{2}}\b",
    _F,
)
_HEAD_ONLY = re.compile(
    # reading time
    r"\b\d+\s*(?:min(?:ute)?s?|minutos?|minuten|minuti)\.?\s+(?:read|de leitura|de lectura|lesezeit|di lettura)\b"
    r"|^\W*(?:reading time|tempo de leitura|tiempo de lectura|lesezeit|temps de lecture|tempo di lettura)\b"
    r"|\bmin(?:ute)? read\b"
    # bylines and publication lines
    r"|^\W*(?:by|von|por|par|di|de)\s*$|^\W*(?:by|von)\s+[A-Z]\w+(?:\s+[A-Z][\w.'’-]*){0,3}\W*$"
    r"|\bpublicado por\b|\bcategoria\s*:|\bposted (?:by|in)\b",
    _F,
)
# A line that is a date (and perhaps a time, a zone or a byline), above the article.
_DATELINE_MAX_WORDS = 12

# -- lines that are furniture only below the article -------------------------------------------------------
_TAIL_ONLY = re.compile(
    # the author's bio: "Jane Roe is a reporter at ...", "John Doe covers energy for ..."
    r"^[A-Z][\w.'’-]+(?:\s+[A-Z][\w.'’-]+){0,3}\s+(?:is|was|has been)\s+(?:a|an|the)\s+(?:[\w,'’-]+\s+){0,8}?"
    r"(?:reporter|writer|journalist|editor|correspondent|columnist|contributor|author|producer|blogger|critic"
    r"|photographer|intern|freelancer|fellow|professor|analyst|researcher|host|anchor)\b"
    r"|^[A-Z][\w.'’-]+(?:\s+[A-Z][\w.'’-]+){0,3}\s+(?:covers|writes about|reports on)\b.{0,80}\bfor\b"
    r"|^[A-Z][\w.'’-]+(?:\s+[A-Z][\w.'’-]+){0,3}\s+(?:ist|war)\s+(?:freie[rs]?\s+)?"
    r"(?i:redakteur|journalist|autor|korrespondent|reporter)"
    r"|^[A-Z][\w.'’-]+(?:\s+[A-Z][\w.'’-]+){0,3}\s+(?:es|est|è|é)\s+(?:una?\s+)?"
    r"(?i:periodista|journaliste|giornalista|jornalista|redactora?|rédact(?:eur|rice)|correspons?al)"
    # the publisher's own paragraph at the end of a press release
    r"|^[A-Z][\w&.'’-]+(?:\s+[A-Z][\w&.'’-]+){0,3}\s+(?:is|are)\s+(?:headquartered|based) in\b"
    r"|^[A-Z][\w&.'’-]+(?:\s+[A-Z][\w&.'’-]+){0,3}\s+is\s+(?:a|an|the)\s+(?:[\w,'’-]+\s+){0,6}?"
    r"(?:provider|company|manufacturer|supplier|developer|maker|leader|firm|group|organi[sz]ation|platform)\b"
    r".{0,200}\b(?:solutions|products|services|customers|worldwide|employees|founded|headquartered|listed)\b",
)
# A heading after which, to the end, nothing is the article.
_TAIL_SECTION = re.compile(
    r"^\W*(?:sources?|references?|bibliography|further reading|notes|footnotes|about the authors?|about us"
    r"|something to consider|more (?:stories|articles|from [\w ]{1,30})|related (?:stories|articles|posts|coverage|links)"
    r"|recommended(?: for you)?|you might also like|most (?:popular|read)|quellen|literatur|weiterführende links"
    r"|über (?:den autor|die autorin|uns)|fuentes|referencias|bibliografía|sobre el autor|références|à propos de l'auteur"
    r"|fonti|bibliografia|riferimenti|fontes|referências|sobre o autor|источники|литература|参考文献|出典|참고 문헌)\W*$"
    r"|^\W*about [A-Z][\w&.'’-]+(?:\s+[A-Z][\w&.'’-]+){0,3}\s*:?\s*$",
    _F,
)
_TAIL_SECTION_MAX_WORDS = 6
# "- NASA Europa Mission Could Potentially Spot Signs of Alien Life": a trailing list of headlines.
_HEADLINE_ITEM = re.compile(r"^[-•*]\s+(?:[\w'’:,]+\s+){3,}[\w'’]+\W?$")
_CAPITALISED_SHARE = 0.6
# A spec box or disclosure ("More info: www.example.com", "... #ad") is no headline.
_CONTACT_OR_TAG = re.compile(r"www\.|https?:|@|#\w")
_SENTENCE_ENDS = (".", "!", "?", "…", ":", ";", '"', "”", "»", "’", "'", ")", "。", "！", "？", "」", "』")
_QUOTES = ('"', "“", "„", "«", "»", "‘", "'", "「", "『")


def _words(line: str) -> int:
    return len(line.split())


def _is_dateline(line: str) -> bool:
    if _words(line) > _DATELINE_MAX_WORDS or not _DATE.search(line):
        return False
    # What is left once the dates, times and names of days are gone is a byline or nothing at all.
    rest = _DATE.sub(" ", line)
    rest = re.sub(r"\b(?:\d+|am|pm|[A-Z]{2,4}|by|por|von|às|at|um|a las|de|del|\w+-feira|\w+day|\w+tag)\b", " ", rest)
    return len(re.findall(r"[^\W\d]{2,}", rest)) <= 3


def _is_headline_item(line: str) -> bool:
    if not _HEADLINE_ITEM.match(line) or line.rstrip().endswith("."):
        return False
    words = [w for w in line[1:].split() if w[:1].isalpha()]
    return bool(words) and sum(w[0].isupper() for w in words) / len(words) >= _CAPITALISED_SHARE


def _edge_line(line: str) -> bool:
    """Furniture at either end; a list item ("- Sign up for the bundle") is a step of the article, and
    a line opening with a quotation mark is someone speaking ("... worth a digital subscription?")."""
    return (
        _words(line) <= EDGE_MAX_WORDS
        and not line.startswith(("- ", *_QUOTES))
        and bool(_EITHER_END.search(line))
    )


def _notice(line: str) -> bool:
    return _WIDGET.match(line) is not None or (_words(line) <= LONG_MAX_WORDS and _NOTICE.search(line) is not None)


def _unfinished(line: str) -> bool:
    """No sentence ends this line: a headline, a label, a list entry."""
    return not line.rstrip().endswith(_SENTENCE_ENDS)


def _is_headline(line: str) -> bool:
    return _words(line) <= HEADLINE_MAX_WORDS and _unfinished(line) and not _CONTACT_OR_TAG.search(line)


def _furniture_above(line: str) -> bool:
    return _edge_line(line) or _notice(line) or (_words(line) <= EDGE_MAX_WORDS and bool(_HEAD_ONLY.search(line)))


def _headline_above(lines: list[str], index: int) -> bool:
    """A headline or a dateline; a line the next one continues in lower case is a wrapped sentence."""
    continued = index + 1 < len(lines) and lines[index + 1][:1].islower()
    return not continued and (_is_dateline(lines[index]) or _is_headline(lines[index]))


def _tail_line(line: str) -> bool:
    return (
        _edge_line(line)
        or _notice(line)
        or (_words(line) <= LONG_MAX_WORDS and bool(_TAIL_ONLY.search(line)))
        or _is_headline_item(line)
    )


def _tail_section_start(lines: list[str], total_words: int) -> int | None:
    """Where a closing section ("Sources", "About the author" ...) starts, if the text has one."""
    after = 0
    for i in range(len(lines) - 1, 0, -1):
        if after > TAIL_SECTION_MAX_SHARE * total_words:
            return None
        line = lines[i]
        if _words(line) <= _TAIL_SECTION_MAX_WORDS and _TAIL_SECTION.match(line):
            return i
        after += _words(line)
    return None


def peel_boilerplate(text: str) -> str:
    """``text`` (one paragraph per line) without the furniture at its two ends."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    total = sum(_words(line) for line in lines)
    start, end, headlines = 0, len(lines), 0
    while True:
        before = (start, end)
        while start < end:
            if _furniture_above(lines[start]):
                start += 1
            elif headlines < HEADLINE_LINES and _headline_above(lines, start):
                start, headlines = start + 1, headlines + 1
            else:
                break
        section = _tail_section_start(lines[start:end], total)
        if section is not None:
            end = start + section
        while end > start and _tail_line(lines[end - 1]):
            end -= 1
        if (start, end) == before:
            break
    kept = lines[start:end]
    if total and sum(_words(line) for line in kept) < (1 - MAX_PEEL_SHARE) * total:
        return "\n".join(lines)
    return "\n".join(kept)
