"""The kind of an article: News, Insight, Opinion, Guide, Review, Announcement or Personal.

An ordered cascade of named rules; the first that matches decides, so every label can be
explained by the rule that produced it (``explain_kind``). Strongest evidence first:

1. the entry's tags naming a kind ("review", "tutorial", "opinion", "日記" ...);
2. the title's shape ("How to ...", "Review: ...", "... v1.2 released", "Opinion: ...");
3. the text's voice and vocabulary, each with a stated density threshold: first-person
   writing (Personal), verdicts and ratings (Review), numbered steps (Guide), press-release
   formulas (Announcement), opinion markers (Opinion), analysis vocabulary (Insight);
4. otherwise News.

Cues exist for English, German and Spanish; other languages get the tag rules, the first-person
rule (enrich.topics.FIRST_PERSON) and the language-neutral title rules (version numbers).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from enrich.topics import personal_evidence

KINDS = ("News", "Insight", "Opinion", "Guide", "Review", "Announcement", "Personal")
DEFAULT_KIND = "News"

# --- text thresholds ------------------------------------------------------------------------
# First-person singular pronouns per word (outside quotations) for a Personal post. Higher than
# the topic signal's 0.02: first-person reviews and guides on the benchmark pages of
# bench/topics.py run at 0.026-0.035 and are still reviews and guides; an advice letter runs at
# 0.064. Title and tag rules come first, so a review that says so stays a Review.
PERSONAL_MIN_DENSITY = 0.035
PERSONAL_MIN_DENSITY_UNSPACED = 0.005  # Japanese drops pronouns; the demo diaries run at 0.006-0.008
# Analysis vocabulary ("study", "data", "according to", "percent" ...) per 100 words. BBC news
# (../shared bbc60) peaks at 2.15 and has a median of 0; a study write-up runs at 4 and more.
INSIGHT_MIN_DENSITY = 2.5
INSIGHT_MIN_COUNT = 8
# Opinion markers ("I believe", "we must", "should" ...) per 100 words of the writer's own voice.
# BBC news stays at or under 1.1 (median 0).
OPINION_MIN_DENSITY = 1.2
OPINION_MIN_COUNT = 5
GUIDE_MIN_STEPS = 3  # numbered or "Step N" lines
REVIEW_MIN_MARKERS = 2  # "verdict", "pros", "cons", "score: 8", "4 out of 5", stars

_QUOTED = re.compile(r"“[^”\n]{0,600}”|„[^“”\n]{0,600}[“”]|«[^»\n]{0,600}»|\"[^\"\n]{0,600}\"")


@dataclass(frozen=True, slots=True)
class KindDecision:
    """The kind and the name of the rule that decided it (e.g. ``title.guide``, ``default``)."""

    kind: str
    rule: str


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower().strip()


# --- 1. tags --------------------------------------------------------------------------------

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


def _kind_from_tags(tags: Sequence[str]) -> str | None:
    normalised = {_norm(t).strip("#") for t in tags}
    for kind in ("Review", "Guide", "Announcement", "Opinion", "Insight", "Personal"):
        if normalised & set(TAG_KINDS[kind]):
            return kind
    return None


# --- 2. title -------------------------------------------------------------------------------

TITLE_RULES: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    ("Review", "title.review", re.compile(
        r"^(review|test|rezension|kritik|reseña|crítica)\b\s*[:\-–|]|[:\-–|]\s*(review|test|rezension|reseña)\s*$"
        r"|\breview(ed)?\b|\bhands[- ]on\b|\bim test\b|\bwe tested\b|\bprobado\b|\ba prueba\b", re.IGNORECASE)),
    ("Guide", "title.guide", re.compile(
        r"^how to\b|\bhow to (?:make|build|use|set up|get|choose|cook|write|fix|install)\b|\bguide\b|\btutorial\b"
        r"|\bstep[- ]by[- ]step\b|^\d+ (?:ways|tips|steps|things to)\b|\btips for\b|\bcheat ?sheet\b"
        r"|^cómo\b|\bguía\b|\bpaso a paso\b|\bconsejos para\b|\btrucos\b"
        r"|^wie (?:sie|man|du)\b|\banleitung\b|\bratgeber\b|\bschritt für schritt\b|\btipps\b|^so (?:geht|gelingt)\b", re.IGNORECASE)),
    ("Announcement", "title.announcement", re.compile(
        r"\b(announc(?:es|ing|ed|ement)|introducing|now available|is (?:out|here|live)|launch(?:es|ed)?"
        r"|released?|releasing|press release)\b|\bv?\d+\.\d+(?:\.\d+)?(?:[-.]?(?:rc|beta|alpha)\d*)?\b(?!\s*(?:%|percent|prozent))"
        r"|\b(anuncia|lanza|presenta|ya disponible|nueva versión)\b"
        r"|\b(veröffentlicht|stellt .{1,40} vor|kündigt .{1,40} an|ab sofort|neue version)\b", re.IGNORECASE)),
    ("Opinion", "title.opinion", re.compile(
        r"^(opinion|op-ed|comment|commentary|editorial|column|view)\s*[:|\-–]|\bthe case (?:for|against)\b"
        r"|\bin defen[cs]e of\b|\bit'?s time (?:to|for)\b|\bwhy (?:we|you) should\b|\bshould(?:n'?t)? be\b|\bmust\b"
        r"|^(opinión|tribuna|editorial|columna)\s*[:|\-–]|^(kommentar|meinung|gastbeitrag|leitartikel)\s*[:|\-–]", re.IGNORECASE)),
    ("Insight", "title.insight", re.compile(
        r"^(analysis|explainer|explained|deep dive)\s*[:|\-–]|\bstudy (?:finds|shows|suggests)\b|\bresearch(?:ers)? (?:finds?|shows?)\b"
        r"|\bwhat .{2,60} means\b|\bby the numbers\b|\bexplained\b|^how (?!to\b)\w+"
        r"|^(análisis|claves)\s*[:|\-–]|\bestudio\b|^(analyse|hintergrund)\s*[:|\-–]|\bstudie\b", re.IGNORECASE)),
    ("Personal", "title.personal", re.compile(
        r"^(my|how i|why i|what i|i|i'm|i've)\b|\bmy (?:year|week|month|life|journey|first)\b"
        r"|^(mi|mis|cómo (?:aprendí|dejé))\b|^(mein|meine|wie ich|warum ich)\b", re.IGNORECASE)),
)  # fmt: skip


def _kind_from_title(title: str) -> tuple[str, str] | None:
    title = _norm(title)
    for kind, rule, pattern in TITLE_RULES:
        if pattern.search(title):
            return kind, rule
    return None


# --- 3. text --------------------------------------------------------------------------------

# Case-insensitive alternations are slow in Python's re: no alternative can be skipped by its
# first letter. The vocabulary patterns open with a lookahead on the first characters their
# alternatives can start with (tests/test_kind.py checks the lists): a third faster, same matches.
_REVIEW_MARKERS = re.compile(
    r"(?=[bcflnoprstv\d★☆])"
    r"(?:\b(?:verdict|pros|cons|rated \d|our score|score:\s*\d|\d(?:\.\d)? out of (?:5|10)|(?:four|three|five) stars"
    r"|veredicto|puntuación|lo mejor|lo peor|fazit|bewertung|pro und contra|vorteile|nachteile)\b|★|☆)", re.IGNORECASE)
_STEP = re.compile(r"^\s*(?:step \d+|paso \d+|schritt \d+|\d+[.)]\s+\w)", re.IGNORECASE | re.MULTILINE)
_ANNOUNCEMENT = re.compile(
    r"\b(today announced|is (?:pleased|proud|excited|thrilled) to announce|we(?:'re| are) (?:pleased|proud|excited|happy) to"
    r" announce|press release|for (?:media|press) (?:inquiries|enquiries|contact)|about [A-Z][\w&.]+(?: [A-Z][\w&.]+)*\s*$"
    r"|anuncia hoy|nota de prensa|gibt heute bekannt|pressekontakt|über [A-Z]\w+\s*$)", re.MULTILINE)
_OPINION = re.compile(
    r"\b(?=[acdefhimnorsw])(i think|i believe|in my (?:view|opinion)|we should|we must|should|must|ought to|it'?s time|frankly|surely"
    r"|absurd|ridiculous|shameful|disgrace|deserves?|need to|creo que|en mi opinión|deberíamos|debemos|hay que"
    r"|ich finde|ich glaube|meiner meinung nach|wir müssen|wir sollten|sollte|müssen)\b", re.IGNORECASE)
_ANALYSIS = re.compile(
    r"\b(?=[acdefilmprstu])(study|studies|survey|data|dataset|analysis|analy[sz]ed|research|researchers|percent|per cent|percentage"
    r"|according to|found that|figures|statistics|average|median|trend|compared with|compared to|estimated?"
    r"|estudio|encuesta|datos|análisis|según|por ciento|porcentaje|promedio|media"
    r"|studie|umfrage|daten|analyse|laut|prozent|durchschnitt|durchschnittlich|im vergleich)\b", re.IGNORECASE)
_WORD = re.compile(r"\w+", re.UNICODE)


def _density(pattern: re.Pattern[str], text: str) -> tuple[int, float]:
    words = len(_WORD.findall(text))
    count = len(pattern.findall(text))
    return count, (100.0 * count / words if words else 0.0)


def _kind_from_text(text: str, language: str) -> tuple[str, str] | None:
    evidence = personal_evidence(text, language)
    threshold = PERSONAL_MIN_DENSITY_UNSPACED if evidence.threshold < 0.01 else PERSONAL_MIN_DENSITY
    if evidence.count >= 3 and evidence.density >= threshold:
        return "Personal", "text.first_person"
    if len(_REVIEW_MARKERS.findall(text)) >= REVIEW_MIN_MARKERS:
        return "Review", "text.review_markers"
    if len(_STEP.findall(text)) >= GUIDE_MIN_STEPS:
        return "Guide", "text.numbered_steps"
    if _ANNOUNCEMENT.search(text[:1500]) or _ANNOUNCEMENT.search(text[-600:]):
        return "Announcement", "text.press_release"
    own_voice = _QUOTED.sub(" ", text)
    count, density = _density(_OPINION, own_voice)
    if count >= OPINION_MIN_COUNT and density >= OPINION_MIN_DENSITY:
        return "Opinion", "text.opinion_markers"
    count, density = _density(_ANALYSIS, text)
    if count >= INSIGHT_MIN_COUNT and density >= INSIGHT_MIN_DENSITY:
        return "Insight", "text.analysis_vocabulary"
    return None


# --- the cascade ------------------------------------------------------------------------------


def explain_kind(
    text: str, *, title: str | None = None, tags: Sequence[str] = (), language: str = "en"
) -> KindDecision:
    """The kind of an article and the rule that decided it."""
    # 1. The publisher's own label.
    kind = _kind_from_tags(tags)
    if kind:
        return KindDecision(kind, f"tags.{kind.lower()}")
    # 2. The headline's shape.
    found = _kind_from_title(title or "")
    if found:
        return KindDecision(*found)
    # 3. The text's voice and vocabulary.
    found = _kind_from_text(text or "", language)
    if found:
        return KindDecision(*found)
    # 4. Reporting.
    return KindDecision(DEFAULT_KIND, "default")


def classify_kind(text: str, *, title: str | None = None, tags: Sequence[str] = (), language: str = "en") -> str:
    """One of ``KINDS`` for an article (``News`` when no rule applies)."""
    return explain_kind(text, title=title, tags=tags, language=language).kind
