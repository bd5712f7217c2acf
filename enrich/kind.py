"""The kind of an article: News, Insight, Opinion, Guide, Review, Announcement or Personal.

An ordered cascade of named rules; the first that matches decides, so every label can be
explained by the rule that produced it (``KindDecision.rule``). The publisher's own statements come
first, the reader's guesses last:

1. the page's schema.org type (``OpinionNewsArticle``, ``Review``, ``HowTo``, ``ClaimReview`` ...);
2. its section (``article:section``, JSON-LD ``articleSection``) and kicker ("Opinion", "Column",
   "Analysis", "Meinung", "Tribune" ...), in the languages of ``LABELS``; a byline that calls the
   writer a columnist ("Opinion Columnist", "칼럼니스트");
3. the entry's tags naming a kind ("review", "tutorial", "opinion", "日記" ...);
4. the URL's path (``/opinion/``, ``/reviews/``, ``/how-to/``, ``/press/``, a ``...-review`` slug);
5. the title's shape ("How to ...", "Review: ...", "... v1.2 released"), by rules of the article's
   own language (English rules never read an Italian title) and a few that need none (versions);
6. the text's voice and vocabulary in its own language, each with a stated density threshold:
   first-person writing (Personal; a lower bar on a page that calls itself a blog post),
   verdicts and ratings (Review), numbered steps (Guide), press-release formulas and release
   notes (Announcement), then the writer's voice: an organisation naming itself as "we"
   (Announcement), a blog written as "we" (Personal), a long text citing no one (Opinion) or few
   (Insight); then opinion markers (Opinion), analysis vocabulary (Insight);
7. otherwise News.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from enrich.models import PageSignals
from enrich.pagesignals import COLUMNIST_WORDS, site_name_of
from enrich.text import WORD, own_voice
from enrich.topics import personal_evidence

KINDS = ("News", "Insight", "Opinion", "Guide", "Review", "Announcement", "Personal")
DEFAULT_KIND = "News"

# --- text thresholds ------------------------------------------------------------------------
# First-person singular pronouns per word (outside quotations) for a Personal post. Higher than
# the topic signal's 0.02: first-person reviews and guides on the benchmark pages of
# bench/topics.py run at 0.026-0.035 and are still reviews and guides; an advice letter runs at
# 0.064. Title and tag rules come first, so a review that says so stays a Review.
PERSONAL_MIN_DENSITY = 0.035
# ... on a page that says it is a blog post (schema.org BlogPosting, a /blog/ path), the topic
# signal's own bar: a blogger writing about a day out at 0.02-0.035 is writing a personal post.
PERSONAL_MIN_DENSITY_BLOG = 0.02
PERSONAL_MIN_DENSITY_UNSPACED = 0.005  # Japanese drops pronouns; the demo diaries run at 0.006-0.008
# Analysis vocabulary ("study", "data", "according to", "percent" ...) per 100 words. BBC news
# (../shared bbc60) peaks at 2.15 and has a median of 0; a study write-up runs at 4 and more.
INSIGHT_MIN_DENSITY = 2.5
INSIGHT_MIN_COUNT = 8
# Opinion markers ("I believe", "we must", "should" ...) per 100 words of the writer's own voice.
# BBC news stays at or under 1.1 (median 0).
OPINION_MIN_DENSITY = 1.2
OPINION_MIN_COUNT = 5
# An essay: a long text in the writer's own voice that attributes almost nothing. Reporting
# leans on sources: the tuned English news pages run at 0-4.8 attribution verbs ("said", "told",
# "according to" ...) per 100 words outside quotations, a median of 1.5, the two over 1,000
# words at 1.7 and 2.1 (short briefs may cite no one, hence the length); a 1,800-word column
# runs at 0.11.
ESSAY_MIN_WORDS = 1000
ESSAY_MAX_ATTRIBUTION = 0.15
# A long read: 1,200 words and more that cite sources, but sparingly (under 1.2 per 100 words):
# the tuned long analyses run at 0.8-1.0, the long news pieces (a trial, an interview) at 1.7-2.1.
LONG_READ_MIN_WORDS = 1200
LONG_READ_MAX_ATTRIBUTION = 1.2
# An organisation's blog writing about itself speaks as "we" and names itself: on the tuned
# pages such posts name the site 3-13 times at 1.1-5 first-person plural words per 100; the
# news pages that name their own site outside quotations (Reuters, Fox News ...) do so once or
# twice, at 0-1.0 "we" per 100.
SELF_MIN_NAMES = 3
SELF_MIN_WE_DENSITY = 1.0
# A family blog written as "we" ("we moved here two years ago"): 5 per 100 words on the
# labelled blog posts; news quoting a "we" outside quotation marks stays under 2.
PERSONAL_MIN_WE_DENSITY_BLOG = 3.0
GUIDE_MIN_STEPS = 3  # numbered or "Step N" lines
REVIEW_MIN_MARKERS = 2  # "verdict", "pros", "cons", "score: 8", "4 out of 5", stars

@dataclass(frozen=True, slots=True)
class KindDecision:
    """The kind and the name of the rule that decided it (e.g. ``section.opinion``, ``default``)."""

    kind: str
    rule: str


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().strip()


# --- 1. schema.org types ----------------------------------------------------------------------

# https://schema.org/NewsArticle's subtypes name the kind of piece; Review and HowTo are their own types.
SCHEMA_KINDS: dict[str, str] = {
    "OpinionNewsArticle": "Opinion",
    "AnalysisNewsArticle": "Insight",
    "BackgroundNewsArticle": "Insight",
    "ClaimReview": "Insight",  # a fact check
    "ReviewNewsArticle": "Review",
    "Review": "Review",
    "CriticReview": "Review",
    "UserReview": "Review",
    "HowTo": "Guide",
    "Recipe": "Guide",
    "SpecialAnnouncement": "Announcement",
    "PressRelease": "Announcement",  # not schema.org's, but what press pages write
    "ReportageNewsArticle": "News",
}
# Types that only say "a blog post": first-person writing there is personal at a lower bar.
BLOG_TYPES = frozenset({"BlogPosting", "LiveBlogPosting", "SocialMediaPosting"})


def _kind_from_schema(types: Sequence[str]) -> str | None:
    for kind in ("Opinion", "Review", "Insight", "Guide", "Announcement", "News"):
        if any(SCHEMA_KINDS.get(t) == kind for t in types):
            return kind
    return None


# --- 2. sections and kickers, 3. tags, 4. URL paths: the publisher's labels -------------------------

# A label names a kind when it is one of these phrases, or holds one as whole words (a label is
# a few words: "Opinion", "Guest Commentary", "Fact Check", "Gift Guide").
LABELS: dict[str, tuple[str, ...]] = {
    "Opinion": ("opinion", "opinions", "op-ed", "op-eds", "oped", "op ed", "commentary", "commentisfree",
                "comment is free", "column", "columns", "columnist", "columnists", "editorial", "editorials",
                "ideas", "viewpoint", "viewpoints", "letters to the editor", "guest essay",
                "meinung", "meinungen", "kommentar", "kommentare", "gastbeitrag", "gastkommentar", "leitartikel",
                "standpunkt", "kolumne", "opinión", "tribuna", "columna", "columnas", "punto de vista",
                "tribune", "tribunes", "point de vue", "éditorial", "chronique", "chroniques", "opinione",
                "opinioni", "commento", "editoriale", "opinião", "coluna", "colunas", "opinie", "opinia",
                "komentarz", "felieton", "мнение", "мнения", "колонка", "колонки", "колумнисты", "오피니언",
                "사설", "칼럼", "オピニオン", "社説", "コラム", "观点", "评论", "社论"),
    "Review": ("review", "reviews", "critic's pick", "rezension", "rezensionen", "kritik", "kritiken", "im test",
               "crítica", "críticas", "reseña", "reseñas", "critique", "critiques", "recensione", "recensioni",
               "resenha", "resenhas", "recenzja", "recenzje", "обзор", "обзоры", "рецензия", "рецензии", "리뷰",
               "レビュー", "評測", "评测", "影评"),
    "Insight": ("analysis", "news analysis", "explainer", "explainers", "explained", "fact check", "fact-check",
                "factcheck", "fact checks", "investigation", "investigations", "in depth", "in-depth", "deep dive",
                "long read", "analyse", "analysen", "hintergrund", "faktencheck", "análisis", "verificación",
                "décryptage", "analisi", "approfondimento", "análise", "checagem", "аналитика", "분석", "팩트체크",
                "分析", "解説", "深度"),
    "Guide": ("how to", "how-to", "howto", "guide", "guides", "gift guide", "buying guide", "tutorial", "tutorials",
              "tips", "recipe", "recipes", "deals", "meal plans", "meal prep", "ratgeber", "anleitung", "tipps", "rezept", "rezepte", "guía",
              "guías", "consejos", "receta", "recetas", "conseils", "recette", "recettes", "guida", "consigli",
              "ricetta", "ricette", "guia", "dicas", "receita", "receitas", "poradnik", "советы", "инструкция",
              "рецепты", "가이드", "ハウツー", "使い方", "レシピ", "指南", "教程"),
    "Announcement": ("press release", "press releases", "press", "pressroom", "news release", "announcement",
                     "announcements", "pressemitteilung", "pressemitteilungen", "nota de prensa",
                     "comunicado", "comunicados", "communiqué", "communiqués", "communiqué de presse",
                     "comunicato stampa", "comunicati stampa", "пресс-релиз", "пресс-релизы", "보도자료",
                     "プレスリリース", "お知らせ", "新闻稿", "公告"),
    "Personal": ("diary", "weeknotes", "personal", "tagebuch", "persönlich", "日記", "日々", "日常", "雑記",
                 "エッセイ"),
}  # fmt: skip
# Order of precedence when labels name two kinds ("Opinion | Analysis"): the more specific first.
_LABEL_ORDER = ("Opinion", "Review", "Guide", "Announcement", "Insight", "Personal")
LABEL_MAX_WORDS = 4  # longer strings are headlines or keyword lists, not labels

TAG_KINDS: dict[str, tuple[str, ...]] = {
    "Review": ("review", "reviews", "reseña", "reseñas", "crítica", "rezension", "rezensionen", "kritik", "test",
               "hands-on", "book review", "film review", "レビュー", "感想", "書評"),
    "Guide": ("guide", "guides", "how-to", "howto", "how to", "tutorial", "tutorials", "tips", "recipe", "recipes",
              "guía", "guias", "guías", "consejos", "trucos", "tutorial", "receta", "recetas", "anleitung", "ratgeber",
              "tipps", "rezept", "rezepte", "レシピ", "ハウツー", "使い方"),
    "Announcement": ("announcement", "announcements", "release", "releases", "release notes", "changelog",
                     "press release", "press", "news release", "launch", "anuncio", "lanzamiento", "nota de prensa",
                     "pressemitteilung", "ankündigung", "お知らせ", "リリース"),
    "Opinion": ("opinion", "opinions", "op-ed", "oped", "editorial", "commentary", "column", "comment",
                "opinión", "tribuna", "columna", "meinung", "kommentar", "gastbeitrag", "leitartikel", "コラム", "社説"),
    "Insight": ("analysis", "explainer", "research", "deep dive", "data", "análisis", "investigación",
                "analyse", "hintergrund", "studie", "解説", "分析"),
    "Personal": ("diary", "journal", "personal", "weeknotes", "life", "diario", "tagebuch", "persönlich",
                 "日記", "日々", "日常", "雑記", "エッセイ"),
}  # fmt: skip


def _label_pattern(phrases: Iterable[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


_LABEL_PATTERNS = {kind: _label_pattern(phrases) for kind, phrases in LABELS.items()}


def _kind_from_labels(labels: Iterable[str]) -> str | None:
    """The kind the first label that names one names; labels are read in the order given."""
    for label in labels:
        text = _norm(label).replace("_", " ")
        if not text or len(text.split()) > LABEL_MAX_WORDS:
            continue
        for kind in _LABEL_ORDER:
            if _LABEL_PATTERNS[kind].search(text):
                return kind
    return None


_COLUMNIST = _label_pattern(COLUMNIST_WORDS)


def _kind_from_tags(tags: Sequence[str]) -> str | None:
    normalised = {_norm(t).strip("#") for t in tags}
    for kind in ("Review", "Guide", "Announcement", "Opinion", "Insight", "Personal"):
        if normalised & set(TAG_KINDS[kind]):
            return kind
    return None


# The last segment of a path is the slug: the headline's words, not a section. Only these
# slug words are taken as labels (a headline "review" is a review in every language we see).
_SLUG_KINDS = (
    ("Review", re.compile(r"(?:^|-)reviews?(?:-|$)")),
    ("Guide", re.compile(r"^how-to-|(?:^|-)(?:gift|buying)-guide(?:-|$)")),
    ("Insight", re.compile(r"(?:^|-)fact-?check(?:-|$)")),
    ("Opinion", re.compile(r"^(?:op-?ed|opinion|column)-")),
)


def _path_parts(path: str | None) -> tuple[list[str], str]:
    segments = [s for s in (path or "").lower().split("/") if s]
    if not segments:
        return [], ""
    slug = re.sub(r"\.\w+$", "", segments[-1])
    return segments[:-1], slug


def _kind_from_path(path: str | None) -> str | None:
    sections, slug = _path_parts(path)
    found = _kind_from_labels(s.replace("-", " ") for s in sections) or _kind_from_labels(sections)
    if found:
        return found
    return next((kind for kind, pattern in _SLUG_KINDS if pattern.search(slug)), None)


# A company writing about itself: the site's own name announcing something in the title
# ("Ascom announces a distribution partnership" on ascom.com). Elsewhere the same verbs are news.
_SELF_ANNOUNCING = re.compile(
    r"\b(?:announces?|announcing|introduces?|launch(?:es)?|names|appoints|unveils?|partners with|releases?"
    r"|welcomes|opens|expands|joins|presents|celebrates|awarded|wins)\b", re.IGNORECASE)


def _announces_itself(title: str, signals: PageSignals) -> bool:
    site = site_name_of(signals.host)
    if not site or len(site) < 3 or not _SELF_ANNOUNCING.search(title):
        return False
    return re.search(rf"(?<!\w){re.escape(site)}(?!\w)", _norm(title)) is not None


def _is_blog(signals: PageSignals) -> bool:
    sections, _ = _path_parts(signals.url_path)
    host = (signals.host or "").lower()
    return bool(BLOG_TYPES & set(signals.schema_types)) or "blog" in sections or host.startswith("blog.")


# --- 5. title -------------------------------------------------------------------------------

Rule = tuple[str, str, re.Pattern[str]]

# Rules any title can be read by: version numbers are no language's words.
NEUTRAL_TITLE_RULES: tuple[Rule, ...] = (
    ("Announcement", "title.version", re.compile(
        r"(?<![\d.,$€£])\b(?!\d{1,2}\.\d{1,2}\.\d{2,4}\b)v?\d+\.\d+(?:\.\d+)?(?:[-.]?(?:rc|beta|alpha)\d*)?\b"
        r"(?!\s*(?:%|percent|per cent|prozent|por ciento|pour cent|million|billion|bn|m\b))", re.IGNORECASE)),
)  # fmt: skip

TITLE_RULES: dict[str, tuple[Rule, ...]] = {
    "en": (
        ("Opinion", "title.opinion", re.compile(
            r"^(opinion|op-ed|comment|commentary|editorial|column|view|letters?)\s*[:|\-–]|\bthe case (?:for|against)\b"
            r"|\bin defen[cs]e of\b|\bit'?s time (?:to|for)\b|\bwhy (?:we|you) should\b", re.IGNORECASE)),
        ("Review", "title.review", re.compile(
            r"^(review|test)\b\s*[:\-–|]|[:\-–|]\s*(review|test)\s*$|\breview(ed|s)?\b|\bhands[- ]on\b|\bwe tested\b"
            r"|^(?:the )?(?:\d+ )?best\b.{3,60}\b(?:of|in|for) (?:19|20)\d\d\b",
            re.IGNORECASE)),
        ("Guide", "title.guide", re.compile(
            r"^how to\b|\bhow to (?:make|build|use|set up|get|choose|cook|write|fix|install)\b|\bguide\b|\btutorial\b"
            r"|\bstep[- ]by[- ]step\b|^\d+ (?:ways|tips|steps|things to)\b|\btips (?:for|to)\b|\bcheat ?sheet\b"
            r"|\bdeals?\b.{0,40}\b(?:live|now|today|sale)\b|^daily deals\b|\bwhere to (?:buy|watch|stream)\b",
            re.IGNORECASE)),
        # "X announces Y" is how news reports someone else's announcement; a publisher announcing
        # its own speaks in the first person ("Announcing ...") or is caught by title.own_announcement.
        ("Announcement", "title.announcement", re.compile(
            r"^announcing\b|\b(introducing|now available|is (?:out|here|live)|press release)\b", re.IGNORECASE)),
        ("Insight", "title.insight", re.compile(
            r"^(analysis|explainer|explained|deep dive|fact check)\s*[:|\-–]|\bstudy (?:finds|shows|suggests)\b"
            r"|\bresearch(?:ers)? (?:finds?|shows?)\b|\bwhat .{2,60} means\b|\bby the numbers\b|\bexplained\b"
            r"|^how (?!to\b)\w+|^why (?!i\b|we\b)\w+|\bfact[- ]check\b", re.IGNORECASE)),
        ("Personal", "title.personal", re.compile(
            r"^(my|how i|why i|what i|i|i'm|i've)\b|\bmy (?:year|week|month|life|journey|first)\b", re.IGNORECASE)),
    ),
    "es": (
        ("Opinion", "title.opinion", re.compile(r"^(opinión|tribuna|editorial|columna)\s*[:|\-–]", re.IGNORECASE)),
        ("Review", "title.review", re.compile(
            r"^(reseña|crítica|análisis)\s*[:|\-–]|[:\-–|]\s*reseña\s*$|\bprobado\b|\ba prueba\b", re.IGNORECASE)),
        ("Guide", "title.guide", re.compile(
            r"^cómo\b|\bguía\b|\bpaso a paso\b|\bconsejos para\b|\btrucos\b|^\d+ (?:formas|consejos|trucos)\b",
            re.IGNORECASE)),
        ("Announcement", "title.announcement", re.compile(
            r"\b(anuncia|lanza|presenta|ya disponible|nueva versión)\b", re.IGNORECASE)),
        ("Insight", "title.insight", re.compile(r"^(análisis|claves)\s*[:|\-–]|\bestudio\b", re.IGNORECASE)),
        ("Personal", "title.personal", re.compile(r"^(mi|mis|cómo (?:aprendí|dejé))\b", re.IGNORECASE)),
    ),
    "de": (
        ("Opinion", "title.opinion", re.compile(
            r"^(kommentar|meinung|gastbeitrag|leitartikel|kolumne)\s*[:|\-–]", re.IGNORECASE)),
        ("Review", "title.review", re.compile(
            r"^(test|rezension|kritik)\b\s*[:\-–|]|[:\-–|]\s*(test|rezension)\s*$|\bim test\b", re.IGNORECASE)),
        ("Guide", "title.guide", re.compile(
            r"^wie (?:sie|man|du)\b|\banleitung\b|\bratgeber\b|\bschritt für schritt\b|\btipps\b|^so (?:geht|gelingt)\b",
            re.IGNORECASE)),
        ("Announcement", "title.announcement", re.compile(
            r"\b(veröffentlicht|stellt .{1,40} vor|kündigt .{1,40} an|ab sofort|neue version)\b", re.IGNORECASE)),
        ("Insight", "title.insight", re.compile(r"^(analyse|hintergrund)\s*[:|\-–]|\bstudie\b", re.IGNORECASE)),
        ("Personal", "title.personal", re.compile(r"^(mein|meine|wie ich|warum ich)\b", re.IGNORECASE)),
    ),
    "fr": (
        ("Opinion", "title.opinion", re.compile(r"^(tribune|opinion|éditorial|chronique|point de vue)\s*[:|\-–]",
                                                re.IGNORECASE)),
        ("Review", "title.review", re.compile(r"^(critique|test)\s*[:|\-–]|\bon a testé\b", re.IGNORECASE)),
        ("Guide", "title.guide", re.compile(
            r"^comment\b|\bguide\b|\btutoriel\b|\bastuces?\b|(?:^|:\s*)\d+ (?:façons|conseils|astuces|étapes)\b", re.IGNORECASE)),
        ("Announcement", "title.announcement", re.compile(r"^nous lançons\b|\bdésormais disponible\b|\bnouvelle version\b",
                                                          re.IGNORECASE)),
        ("Insight", "title.insight", re.compile(r"^(analyse|décryptage)\s*[:|\-–]|\bétude\b", re.IGNORECASE)),
        ("Personal", "title.personal", re.compile(r"^(mon|ma|mes|comment j'ai|pourquoi j'ai|ce que j'ai)\b",
                                                  re.IGNORECASE)),
    ),
    "it": (
        ("Opinion", "title.opinion", re.compile(r"^(opinione|editoriale|commento|il commento)\s*[:|\-–]",
                                                re.IGNORECASE)),
        ("Review", "title.review", re.compile(r"^(recensione|la recensione)\b|\brecensione\b", re.IGNORECASE)),
        ("Guide", "title.guide", re.compile(
            r"^come\b|\bguida\b|\btutorial\b|\bconsigli\b|\ble occasioni da non perdere\b|\boffert[ae]\b"
            r"|(?:^|:\s*)\d+ (?:modi|consigli|trucchi|passi)\b", re.IGNORECASE)),
        ("Announcement", "title.announcement", re.compile(r"^(?:annunciamo|presentiamo)\b|\bora disponibile\b"
                                                          r"|\bnuova versione\b", re.IGNORECASE)),
        ("Insight", "title.insight", re.compile(r"^(analisi)\s*[:|\-–]|\bstudio\b", re.IGNORECASE)),
        ("Personal", "title.personal", re.compile(r"^(il mio|la mia|i miei|le mie|come ho|perché ho)\b", re.IGNORECASE)),
    ),
    "pt": (
        ("Opinion", "title.opinion", re.compile(r"^(opinião|artigo|coluna|editorial)\s*[:|\-–]", re.IGNORECASE)),
        ("Review", "title.review", re.compile(r"^(análise|resenha|crítica)\s*[:|\-–]|\bresenha\b", re.IGNORECASE)),
        ("Guide", "title.guide", re.compile(
            r"^como\b|\bguia\b|\bdicas\b|\bpasso a passo\b|(?:^|:\s*)\d+ (?:maneiras|formas|dicas|passos)\b", re.IGNORECASE)),
        ("Announcement", "title.announcement", re.compile(r"^(?:apresentamos|anunciamos)\b|\bjá disponível\b"
                                                          r"|\bnova versão\b", re.IGNORECASE)),
        ("Insight", "title.insight", re.compile(r"^(análise|entenda)\s*[:|\-–]|\bestudo\b", re.IGNORECASE)),
        ("Personal", "title.personal", re.compile(r"^(meu|minha|meus|minhas|como eu|por que eu)\b", re.IGNORECASE)),
    ),
    "ru": (
        ("Opinion", "title.opinion", re.compile(r"^(мнение|колонка|комментарий)\s*[:|\-–]", re.IGNORECASE)),
        ("Review", "title.review", re.compile(r"\bобзор\b|\bрецензия\b", re.IGNORECASE)),
        # A numbered list of the best or the ways is a reader's guide ("23 самых ...", "5 способов ...").
        ("Guide", "title.guide", re.compile(
            r"\bкак\b|\bсоветы\b|\bинструкция\b|\bруководство\b|\bдиета\b"
            r"|(?:^|:\s*)\d+\s+(?:способ|совет|правил|шаг|лучш|самых)\w*", re.IGNORECASE)),
        ("Announcement", "title.announcement", re.compile(r"\bновая версия\b|\bуже доступ", re.IGNORECASE)),
        ("Personal", "title.personal", re.compile(r"^(мой|моя|мои|моё|как я|почему я)\b", re.IGNORECASE)),
    ),
    "ja": (
        ("Opinion", "title.opinion", re.compile(r"^[【\[]?(?:コラム|社説|オピニオン)[】\]]")),
        ("Guide", "title.guide", re.compile(r"方法|やり方|使い方|手順|入門|レシピ")),
        ("Review", "title.review", re.compile(r"レビュー|感想|書評")),
        ("Announcement", "title.announcement", re.compile(r"^[【\[]?(?:お知らせ|リリース|新機能)")),
        ("Personal", "title.personal", re.compile(r"日記|日誌|雑記")),
    ),
}  # fmt: skip


def _kind_from_title(title: str, language: str) -> tuple[str, str] | None:
    title = _norm(title)
    for kind, rule, pattern in (*TITLE_RULES.get(language, ()), *NEUTRAL_TITLE_RULES):
        if pattern.search(title):
            return kind, rule
    return None


# --- 6. text --------------------------------------------------------------------------------


def _vocabulary(*phrases: str, flags: int = re.IGNORECASE) -> re.Pattern[str]:
    """Whole-word alternation, opened by a lookahead on the first characters its phrases start with.

    Case-insensitive alternations are slow in Python's re: no alternative can be skipped by its
    first letter. The lookahead lets the engine skip most positions: a third faster, same matches.
    """
    digits = any(p.startswith(r"\d") for p in phrases)
    letters = sorted({c for p in phrases if not p.startswith("\\") for c in (p[0].lower(), p[0].upper())})
    allowed = re.escape("".join(letters)) + (r"\d" if digits else "")
    alternatives = "|".join(sorted(phrases, key=len, reverse=True))
    return re.compile(rf"\b(?=[{allowed}])(?:{alternatives})\b", flags)


_REVIEW_MARKERS = {
    # "verdict" and "pros" alone are a court's and a market's: a review sets them as labels.
    "en": _vocabulary(r"verdict(?=\s*[:—–-])", r"pros(?=\s*[:—–-])", r"cons(?=\s*[:—–-])", r"rated \d", r"our score",
                      r"score:\s*\d",
                      r"\d(?:\.\d)? out of (?:5|10)", r"four stars", r"three stars",
                      r"five stars"),
    "es": _vocabulary(r"veredicto", r"puntuación", r"lo mejor", r"lo peor", r"\d(?:[.,]\d)? de (?:5|10)"),
    "de": _vocabulary(r"fazit(?=\s*[:—–-])", r"testurteil", r"pro und contra", r"vorteile(?=\s*[:—–-])",
                      r"nachteile(?=\s*[:—–-])", r"wertung(?=\s*:)"),
    "fr": _vocabulary(r"verdict(?=\s*[:—–-])", r"points forts", r"points faibles", r"on a aimé", r"on n'a pas aimé",
                      r"note\s*:\s*\d", r"\d(?:[.,]\d)?\s*/\s*(?:5|10|20)\b"),
    "it": _vocabulary(r"verdetto(?=\s*[:—–-])", r"pro e contro", r"pregi(?=\s*[:—–-])", r"difetti(?=\s*[:—–-])",
                      r"voto\s*:\s*\d", r"giudizio finale"),
    "pt": _vocabulary(r"veredito(?=\s*[:—–-])", r"prós(?=\s*[:—–-])", r"contras(?=\s*[:—–-])", r"nota\s*:\s*\d",
                      r"pontos positivos", r"pontos negativos"),
    "ru": _vocabulary(r"вердикт(?=\s*[:—–-])", r"плюсы(?=\s*[:—–-])", r"минусы(?=\s*[:—–-])", r"оценка\s*:\s*\d",
                      r"итог(?=\s*[:—–-])"),
}  # fmt: skip
# Japanese has no spaces for word boundaries: its review labels stand at a line's start.
_REVIEW_MARKERS_UNSPACED = {"ja": re.compile(r"^\s*(?:評価|総評|良い点|悪い点|メリット|デメリット)\s*[:：]", re.MULTILINE)}
_STARS = re.compile(r"★|☆")
_STEP = {
    "en": re.compile(r"^\s*(?:step \d+|\d+[.)]\s+\w)", re.IGNORECASE | re.MULTILINE),
    "es": re.compile(r"^\s*(?:paso \d+|\d+[.)]\s+\w)", re.IGNORECASE | re.MULTILINE),
    "de": re.compile(r"^\s*(?:schritt \d+|\d+[.)]\s+\w)", re.IGNORECASE | re.MULTILINE),
    "fr": re.compile(r"^\s*(?:étape \d+|\d+[.)]\s+\w)", re.IGNORECASE | re.MULTILINE),
    "it": re.compile(r"^\s*(?:passo \d+|passaggio \d+|\d+[.)]\s+\w)", re.IGNORECASE | re.MULTILINE),
    "pt": re.compile(r"^\s*(?:passo \d+|etapa \d+|\d+[.)]\s+\w)", re.IGNORECASE | re.MULTILINE),
    "ru": re.compile(r"^\s*(?:шаг \d+|\d+[.)]\s+\w)", re.IGNORECASE | re.MULTILINE),
    "ja": re.compile(r"^\s*(?:ステップ\s*\d+|手順\s*\d+|\d+[.)．]\s*\w)", re.MULTILINE),
}
_ANY_STEP = re.compile(r"^\s*\d+[.)]\s+\w", re.MULTILINE)
_ANNOUNCEMENT = {
    "en": re.compile(
        r"\b(today announced|is (?:pleased|proud|excited|thrilled) to announce|we(?:'re| are) (?:pleased|proud|excited"
        r"|happy) to announce|press release|for (?:media|press) (?:inquiries|enquiries|contact)"
        r"|about [A-Z][\w&.]+(?: [A-Z][\w&.]+)*\s*$)", re.MULTILINE),
    "es": re.compile(r"\b(anuncia hoy|nota de prensa|se complace en anunciar|contacto de prensa)", re.IGNORECASE),
    "de": re.compile(r"\b(gibt heute bekannt|pressekontakt|über [A-Z]\w+\s*$)", re.MULTILINE),
    "fr": re.compile(r"\b(communiqué de presse|annonce aujourd'hui|a le plaisir d'annoncer|sommes (?:heureux|fiers)"
                     r" d'annoncer|contact presse|à propos de [A-Z]\w+\s*$)", re.MULTILINE),
    "it": re.compile(r"\b(comunicato stampa|annuncia oggi|è lieta di annunciare|siamo (?:lieti|felici|orgogliosi) di"
                     r" annunciare|ufficio stampa|contatti stampa)", re.IGNORECASE),
    "pt": re.compile(r"\b(comunicado de imprensa|anuncia hoje|tem o prazer de anunciar|temos o prazer de anunciar"
                     r"|assessoria de imprensa|release para imprensa)", re.IGNORECASE),
    "ru": re.compile(r"(пресс-релиз|пресс-служба|объявила сегодня|объявляет сегодня|рады сообщить|с радостью сообщаем)",
                     re.IGNORECASE),
    "ja": re.compile(r"(プレスリリース|を発表しました|をリリースしました|を開始しました|本件に関するお問い合わせ|報道関係者)"),
}  # fmt: skip
_OPINION = {
    "en": _vocabulary(r"i think", r"i believe", r"in my (?:view|opinion)", r"we should", r"we must", r"should",
                      r"must", r"ought to", r"it'?s time", r"frankly", r"surely", r"absurd", r"ridiculous",
                      r"shameful", r"disgrace", r"deserves?", r"need to"),
    "es": _vocabulary(r"creo que", r"en mi opinión", r"deberíamos", r"debemos", r"hay que", r"debería", r"es hora de"),
    "de": _vocabulary(r"ich finde", r"ich glaube", r"meiner meinung nach", r"wir müssen", r"wir sollten", r"sollte",
                      r"müssen"),
    "fr": _vocabulary(r"je pense", r"je crois", r"à mon avis", r"selon moi", r"il faut", r"nous devons", r"devrait",
                      r"devrions", r"il est temps", r"absurde", r"honteux"),
    "it": _vocabulary(r"penso che", r"credo che", r"secondo me", r"a mio avviso", r"bisogna", r"dobbiamo",
                      r"dovrebbe", r"dovremmo", r"è ora di", r"assurdo", r"vergognoso"),
    "pt": _vocabulary(r"acho que", r"penso que", r"creio que", r"na minha opinião", r"é preciso", r"devemos",
                      r"deveria", r"deveríamos", r"está na hora de", r"absurdo", r"vergonhoso"),
    "ru": _vocabulary(r"я считаю", r"я думаю", r"по-моему", r"на мой взгляд", r"мы должны", r"нужно", r"надо",
                      r"следует", r"должны", r"абсурд", r"позор"),
    # Indonesian sermons and columns: "kita harus" (we must), "jangan" (do not), "sebaiknya" (should).
    "id": _vocabulary(r"menurut saya", r"saya kira", r"saya rasa", r"kita harus", r"harus", r"jangan",
                      r"janganlah", r"sebaiknya", r"seharusnya", r"hendaknya", r"mestinya", r"perlu"),
}  # fmt: skip
_ANALYSIS = {
    "en": _vocabulary(r"study", r"studies", r"survey", r"data", r"dataset", r"analysis", r"analy[sz]ed",
                      r"research", r"researchers", r"percent", r"per cent", r"percentage", r"according to",
                      r"found that", r"figures", r"statistics", r"average", r"median", r"trend", r"compared with",
                      r"compared to", r"estimated?"),
    "es": _vocabulary(r"estudio", r"encuesta", r"datos", r"análisis", r"según", r"por ciento", r"porcentaje",
                      r"promedio", r"media"),
    "de": _vocabulary(r"studie", r"umfrage", r"daten", r"analyse", r"laut", r"prozent", r"durchschnitt",
                      r"durchschnittlich", r"im vergleich"),
}  # fmt: skip
# A fact check's ruling: "We rate this claim Mostly False", a Truth-O-Meter. One is enough.
_FACT_CHECK = {
    "en": re.compile(
        r"\bwe rate (?:this|the|that|it|his|her|their)\b.{0,60}?\b(?:true|false|mostly|half[- ]true|pants on fire"
        r"|misleading|unproven|mixture)\b|\btruth-o-meter\b", re.IGNORECASE),
}
# Reporting's attribution verbs, the essay rule's evidence of sources.
_ATTRIBUTION = {
    "en": _vocabulary(r"said", r"says", r"told", r"according to", r"stated", r"reported", r"added", r"explained",
                      r"announced", r"confirmed", r"spokesman", r"spokeswoman", r"spokesperson"),
    "es": _vocabulary(r"dijo", r"dice", r"afirmó", r"declaró", r"explicó", r"señaló", r"aseguró", r"añadió",
                      r"según", r"informó", r"indicó", r"portavoz"),
    "de": _vocabulary(r"sagte", r"sagt", r"erklärte", r"teilte", r"berichtete", r"betonte", r"laut", r"zufolge",
                      r"sprecher", r"sprecherin"),
    "fr": _vocabulary(r"a déclaré", r"a dit", r"a affirmé", r"a expliqué", r"a indiqué", r"a précisé", r"selon",
                      r"d'après", r"porte-parole", r"a annoncé"),
    "it": _vocabulary(r"ha detto", r"ha dichiarato", r"ha affermato", r"ha spiegato", r"secondo",
                      r"ha annunciato", r"portavoce", r"ha aggiunto"),
    "pt": _vocabulary(r"disse", r"afirmou", r"declarou", r"explicou", r"segundo", r"de acordo com", r"informou",
                      r"porta-voz", r"acrescentou"),
}  # fmt: skip
# The writer speaking for a group: an organisation ("we recommended a grant") or a family.
FIRST_PERSON_PLURAL = {
    "en": {"we", "us", "our", "ours", "ourselves"},
    "es": {"nosotros", "nosotras", "nuestro", "nuestra", "nuestros", "nuestras"},
    "de": {"wir", "uns", "unser", "unsere", "unseren", "unserem", "unserer", "unseres"},
    "fr": {"nous", "notre", "nos"},
    "it": {"noi", "nostro", "nostra", "nostri", "nostre"},
    "pt": {"nós", "nosso", "nossa", "nossos", "nossas"},
}
# Release notes: a line that opens "What's new in 2.26", "Changelog", "Release notes".
_RELEASE_NOTES = re.compile(
    r"^\s*(?:what['’]?s new in\b|release notes\b|changelog\b|novedades (?:de|en) (?:la )?(?:versión|v?\d)"
    r"|neu in (?:version )?v?\d|nouveautés de la version|novità (?:della versione|in)\b)", re.IGNORECASE | re.MULTILINE)


def _density(pattern: re.Pattern[str], text: str) -> tuple[int, float]:
    words = len(WORD.findall(text))
    count = len(pattern.findall(text))
    return count, (100.0 * count / words if words else 0.0)


def _names_itself(voice: str, site: str | None) -> int:
    """How often the text names the site it is on ("GiveWell" on blog.givewell.org, "Jeongdong
    Theater" on jeongdongtheater.com): the host's name, spaces or hyphens allowed between letters."""
    if not site or len(site) < 4 or not site.isalpha():
        return 0
    pattern = r"[\s-]?".join(re.escape(ch) for ch in site)
    return len(re.findall(rf"(?<!\w){pattern}(?!\w)", voice, re.IGNORECASE))


def _we_density(voice: str, language: str) -> float:
    """First-person plural words per 100 words of the writer's own voice."""
    pronouns = FIRST_PERSON_PLURAL.get(language)
    tokens = WORD.findall(voice.lower())
    if not pronouns or not tokens:
        return 0.0
    return 100.0 * sum(1 for t in tokens if t in pronouns) / len(tokens)


def _kind_from_voice(text: str, language: str, *, blog: bool, site: str | None) -> tuple[str, str] | None:
    """Who is speaking: an organisation about itself, a family blog as "we", an essayist citing no
    one, a long read citing few."""
    voice = own_voice(text)
    we = _we_density(voice, language)
    if we >= SELF_MIN_WE_DENSITY and _names_itself(voice, site) >= SELF_MIN_NAMES:
        return "Announcement", "text.self_report"
    if blog and we >= PERSONAL_MIN_WE_DENSITY_BLOG:
        return "Personal", "text.first_person_plural_blog"
    attribution = _ATTRIBUTION.get(language)
    words = len(WORD.findall(voice))
    if attribution and words >= ESSAY_MIN_WORDS:
        _, density = _density(attribution, voice)
        if density <= ESSAY_MAX_ATTRIBUTION:
            return "Opinion", "text.unattributed_essay"
        if words >= LONG_READ_MIN_WORDS and density < LONG_READ_MAX_ATTRIBUTION:
            return "Insight", "text.long_read"
    return None


def _kind_from_text(
    text: str, language: str, *, blog: bool = False, site: str | None = None
) -> tuple[str, str] | None:
    evidence = personal_evidence(text, language)
    if evidence.threshold < 0.01:
        threshold = PERSONAL_MIN_DENSITY_UNSPACED
    else:
        threshold = PERSONAL_MIN_DENSITY_BLOG if blog else PERSONAL_MIN_DENSITY
    if evidence.count >= 3 and evidence.density >= threshold:
        return "Personal", "text.first_person_blog" if blog and evidence.density < PERSONAL_MIN_DENSITY else (
            "text.first_person")
    fact_check = _FACT_CHECK.get(language)
    if fact_check and fact_check.search(text):
        return "Insight", "text.fact_check"
    markers = _REVIEW_MARKERS.get(language)
    markers = markers or _REVIEW_MARKERS_UNSPACED.get(language)
    if len(_STARS.findall(text)) + (len(markers.findall(text)) if markers else 0) >= REVIEW_MIN_MARKERS:
        return "Review", "text.review_markers"
    if len(_STEP.get(language, _ANY_STEP).findall(text)) >= GUIDE_MIN_STEPS:
        return "Guide", "text.numbered_steps"
    announcement = _ANNOUNCEMENT.get(language)
    if announcement and (announcement.search(text[:1500]) or announcement.search(text[-600:])):
        return "Announcement", "text.press_release"
    if _RELEASE_NOTES.search(text):
        return "Announcement", "text.release_notes"
    found = _kind_from_voice(text, language, blog=blog, site=site)
    if found:
        return found
    if language in _OPINION:
        count, density = _density(_OPINION[language], own_voice(text))
        if count >= OPINION_MIN_COUNT and density >= OPINION_MIN_DENSITY:
            return "Opinion", "text.opinion_markers"
    if language in _ANALYSIS:
        count, density = _density(_ANALYSIS[language], text)
        if count >= INSIGHT_MIN_COUNT and density >= INSIGHT_MIN_DENSITY:
            return "Insight", "text.analysis_vocabulary"
    return None


# --- the cascade ------------------------------------------------------------------------------


def classify_kind(
    text: str,
    *,
    title: str | None = None,
    tags: Sequence[str] = (),
    language: str = "en",
    signals: PageSignals | None = None,
) -> KindDecision:
    """The kind of an article (one of ``KINDS``, ``News`` when no rule applies) and the rule that decided it."""
    signals = signals or PageSignals()
    # 1. The page's schema.org type.
    kind = _kind_from_schema(signals.schema_types)
    if kind:
        return KindDecision(kind, f"schema.{kind.lower()}")
    # 2. The publisher's section and kicker.
    kind = _kind_from_labels(signals.sections)
    if kind:
        return KindDecision(kind, f"section.{kind.lower()}")
    kind = _kind_from_labels(signals.kickers)
    if kind:
        return KindDecision(kind, f"kicker.{kind.lower()}")
    if any(_COLUMNIST.search(_norm(role)) for role in signals.author_roles):
        return KindDecision("Opinion", "byline.columnist")
    # 3. The feed's tags.
    kind = _kind_from_tags(tags)
    if kind:
        return KindDecision(kind, f"tags.{kind.lower()}")
    # 4. The URL's path.
    kind = _kind_from_path(signals.url_path)
    if kind:
        return KindDecision(kind, f"path.{kind.lower()}")
    # 5. The headline's shape: a company's news about itself, then the rules of its language.
    if _announces_itself(title or "", signals):
        return KindDecision("Announcement", "title.own_announcement")
    found = _kind_from_title(title or "", language)
    if found:
        return KindDecision(*found)
    # 6. The text's voice and vocabulary.
    found = _kind_from_text(text or "", language, blog=_is_blog(signals), site=site_name_of(signals.host))
    if found:
        return KindDecision(*found)
    # 7. Reporting.
    return KindDecision(DEFAULT_KIND, "default")
