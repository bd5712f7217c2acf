"""Key quotes: sentences worth pulling out of an article, scored over spaCy Docs, with their speaker.

``score_quote(doc, top_words)`` is the scoring function: a direct quotation with a named speaker
beats a figure or a striking claim beats being on-topic; questions, fragments, list items, page
furniture and sentences that lean on the previous one ("This", "But") lose. Summary sentences
never compete, and some lines never are quotes at all (``rejection``): boilerplate, meta lines
("Editor's note", "In this article"), calls to action ("Click here", "Sign up") and fragments
with unbalanced quotation marks. Only quotes scoring at least MIN_SCORE are kept, so an article
with nothing quotable gets fewer quotes, or none, rather than filler.

Speakers: with the blank pipeline (the default) rules read "..., said Dr. Amara Okafor." and
"Okafor said"; when a trained pipeline is installed and named (``ENRICH_SPACY_MODEL`` /
``model``), its PERSON entities are used, and with a dependency parse the subject of the speech
verb decides, so "said the mayor, Helga Brandt, on Monday" is attributed too.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from enrich.sentences import nlp_for
from enrich.text import word_count, words_of

if TYPE_CHECKING:  # spaCy loads with the first sentence split (enrich/sentences.py), not with this module
    from spacy.tokens import Doc, Span

MIN_WORDS, MAX_WORDS = 8, 60

# Weights of the quotability score; chosen by reading the picks on the demo articles and a
# dozen benchmark pages (bench/summary.py prints none of this: there is no reference for quotes),
# each feature roughly worth what an editor would give it: a quoted speaker beats a number beats
# being on-topic, and a question or a sentence that needs the previous one loses.
W_SPEECH = 2.0  # a direct quotation with a speech verb next to it
W_QUOTED = 1.0  # quotation marks without a speech verb
W_SPEAKER = 1.0  # ... and the speaker is named (issue 12: the reader prints "— Name")
W_NUMBER = 0.8  # carries a figure
W_CLAIM = 0.8  # a striking claim, worth a figure: a superlative or an absolute ("the first", "never", "a record")
W_CENTRAL = 1.0  # shares the article's frequent content words (0..1 scaled)
W_LENGTH = 0.3  # comfortable length for a pull quote
P_QUESTION = 1.5
P_DANGLING = 1.0
P_FRAGMENT = 1.0  # no closing punctuation, or starts in lower case: a piece of something
P_LIST_ITEM = 0.8  # "- SoftBank CEO ..." is a bullet of a digest, usually another story's headline
P_FURNITURE = 3.0  # links, phone numbers, "Label: value" strings, shortcodes
# The floor a quote must reach: a quotation with a speech verb (2.0), or a figure or a claim in a
# sentence on the article's topic. A plain on-topic sentence (at most W_CENTRAL + W_LENGTH = 1.3)
# never reaches it. Set by reading the picks on the benchmark pages (bench/quotes.py prints the
# make-up of the picks, old and new): at 1.5 filler such as "We moved here two years ago" passed.
MIN_SCORE = 2.0

QUOTE_MARKS = "\"“”„«»「」『』‹›"
_QUOTE_MARK = re.compile(f"[{QUOTE_MARKS}]")
_QUOTED = re.compile(r"[\"“„«「『‹][^\"“”„«»「」『』‹›]{12,}[\"”“»」』›]")
_QUOTED_SPAN = re.compile(r"[\"“„«「『‹][^\"“”„«»「」『』‹›]*[\"”“»」』›]")
# Case-insensitive alternations are slow in Python's re: no alternative can be skipped by its
# first letter. Each pattern below opens with a lookahead on the first letters its alternatives
# can start with (tests/test_quotes.py checks the lists), which halves the time and never
# changes a match.
SPEECH_VERBS = re.compile(
    r"(?=[abcdefimnrstwと])"
    r"(?:\b(said|says|told|added|explained|argued|noted|warned|recalled|insisted|wrote|asked|"
    r"sagte|sagt|erklärte|betonte|meinte|fügte|so|"
    r"dijo|dice|explica|explicó|afirma|afirmó|asegura|aseguró|cuenta|contó|añade|añadió|"
    r"a déclaré|dit|explique|affirme)\b|と(?:言う|言った|話す|話した|語る|語った|笑う)|と\S{1,8}さんは)",
    re.IGNORECASE,
)
SPEECH_LEMMAS = frozenset(
    "say tell add explain argue note warn recall insist write ask claim state "
    "sagen erklären betonen meinen decir explicar afirmar asegurar contar añadir dire expliquer affirmer".split()
)
_NAME = r"[A-ZÄÖÜÁÉÍÓÚÑ][\w.'’-]+"
# Speech verbs the speaker rules read around a name (English, German, Spanish).
_SAID = (
    r"said|says|told|added|explained|recalled|warned|insisted|argued|noted|conceded|admitted|"
    r"responded|claimed|confessed|confesses|wrote|asked|"
    r"sagte|sagt|erklärte|betonte|meinte|dijo|dice|explica|explicó|afirma|afirmó|cuenta|contó|añadió"
)
# '..." said [economy minister] Heizo Takenaka': lowercase role words may stand before the name,
# but a comma ends the search ("said the mayor, Helga Brandt" needs a parse to be sure).
_SPEAKER_AFTER = re.compile(
    rf"[\"”“»」』›],?\s*(?:{_SAID})\s+(?:[a-z][\w’'-]*\s+){{0,3}}((?:{_NAME}\s?){{1,4}})"
)
# 'Sir Digby added:', 'Hailey later recalled', 'Okafor said'.
_SPEAKER_BEFORE = re.compile(
    rf"((?:{_NAME}\s){{0,3}}{_NAME}),?\s+(?:[a-z]+ly\s+|later\s+)?(?:{_SAID})\b"
)
_SPEAKER_JA = re.compile(r"と(\S{1,8}?さん)は")
# "Omar Lamrani, a senior analyst at Stratfor, told ...", "Mark Milley, chairman of ..., told":
# a full name, an apposition in lower case, the verb.
_SPEAKER_APPOSITION = re.compile(
    rf"((?:{_NAME}\s){{1,3}}{_NAME}), [a-z][^\"“”„«»]{{2,100}}?,\s+(?:{_SAID})\b"
)
# The end of a phrase a capitalised run continues: "the envoy in Brussels, said", "of Staff".
_INSIDE_PHRASE = re.compile(r"\b(?:of|for|in|at|the|from|to|and|on|with|by)\s+$")
NOT_A_NAME = frozenset(
    "that this these those it he she they we i you there here then on in at after before when while "
    "monday tuesday wednesday thursday friday saturday sunday the a an but and so also".split()
)
# "said a WeWork spokesperson": the capitalised word names an organisation, not the speaker.
_ROLE_AFTER = re.compile(
    r"\s*(?:spokes(?:man|woman|person|people)|officials?|executives?|sources?|representatives?|statement|"
    r"analysts?|staff|employees?|aides?|lawyers?|attorneys?|directors?|report|researchers?|fans?|users?)\b"
)
PERSON_LABELS = frozenset({"PERSON", "PER"})
DANGLING_STARTS = frozenset(
    "this that these those it its they them he she his her but and or so also however "
    "das dies diese es aber und oder doch sie er "
    "esto eso esta este pero y o también ella él "
    "cela mais et il elle".split()
)
BOILERPLATE = re.compile(
    r"(?=[acdfnprst©クス])"
    r"(?:subscribe|newsletter|sign up|cookie|all rights reserved|advertis|click here|follow us|"
    r"terms of (use|service)|privacy policy|©|read more|share this|"
    r"abonnieren|anzeige|alle rechte|datenschutz|"
    r"suscr[ií]b|publicidad|derechos reservados|"
    r"クッキー|スポンサー|all rights)",
    re.IGNORECASE,
)
# Lines about the page rather than the story: editor's notes, tables of contents, pointers
# elsewhere, sharing and signing up. Seen picked as key quotes on the benchmark pages (issue 12).
META = re.compile(
    r"(?=[cdefilmrst])"
    r"(?:editor[’']?s[’']? note|in this (?:article|story|post|guide)|more information\b.{0,80}\b(?:can be found|is available)|"
    r"can be found here|click here|sign up|follow us|find out more|learn more|for more information|read the full|"
    r"share this|subscribe to|like us on|don[’']?t miss|see also|related (?:articles?|stories|coverage)|"
    r"this (?:article|story|post) (?:was|has been|is|first|originally))",
    re.IGNORECASE,
)
# A call to action opens with an imperative and its object: "Click here", "Download the app",
# "Don't forget to", and the same in the other languages we quote (de, es, fr, it, pt). The object
# is required in English, where "Share prices", "Like many cities" and "Shop owners" open news
# sentences. Not inside a quotation: there it is someone speaking.
CALL_TO_ACTION = re.compile(
    r"(?=[abcdefghijklmorstvw])"
    r"(?:(?:click|tap)\s+(?:here|on|the|this|below)|"
    r"(?:subscribe|sign up|register|donate|apply|order|book|buy|shop|download|watch|listen|join)\s+"
    r"(?:now|today|here|to|for|our|the|us|your|it|this)|"
    r"(?:follow|like|email|e-mail|contact|tell|call)\s+us|share\s+(?:this|your|it)|visit\s+(?:our|us|the website|www)|"
    r"call\s+(?:now|today)|let\s+us\s+know|check\s+out|learn\s+more|find\s+out\s+more|read\s+(?:more|the full|our)|"
    r"don[’']?t\s+(?:forget|miss)|do\s+not\s+(?:forget|miss)|(?:make|be)\s+sure\s+(?:to|you)|remember\s+to|"
    r"head\s+(?:to|over)|discover\s+(?:our|more|the)|explore\s+(?:our|more)|enter\s+(?:your|now|here)|"
    r"grab\s+(?:your|it|one)|get\s+(?:your|yours)|"
    r"klicken sie|abonnieren sie|folgen sie|laden sie|lesen sie|melden sie|"
    r"haz clic|suscr[ií]bete|s[ií]guenos|desc[aá]rgala|desc[aá]rgalo|reg[ií]strate|"
    r"cliquez|abonnez|suivez|t[ée]l[ée]chargez|inscrivez|d[ée]couvrez|"
    r"clicca|iscriviti|seguici|scopri|"
    r"receba|clique|assine|inscreva|siga|baixe|confira|coloque|acesse)\b",
    re.IGNORECASE,
)
# Superlatives and absolutes that make a claim worth pulling out (English, German, Spanish, French).
CLAIM = re.compile(
    r"(?=[abdefghjlmnoprsuwèéú])"
    r"(?:\b(?:first|largest|biggest|highest|lowest|fastest|best|worst|most|least|never|record|only|every|"
    r"unprecedented|historic|all-time|ever|"
    r"erste|größte|höchste|niemals|nie|rekord|einzige|"
    r"primer|primera|mayor|mejor|peor|nunca|récord|único|única|"
    r"premier|première|plus grand|jamais|seul|seule|meilleur|pire)\b)",
    re.IGNORECASE,
)
REJECTIONS = ("boilerplate", "meta", "call_to_action", "unbalanced_quotes")
# Page furniture that reads like a sentence: links, e-mail, phone numbers, shortcodes, a run of
# "Label: value" fields ("Tested by: ... RRP: ... More info: ..."). One pattern would do; the
# e-mail and field patterns are slow, so they run apart and only on text with an @ or three ": ".
_FURNITURE = re.compile(r"https?://|www\.|\+?\d[\d ()-]{8,}\d|\[/?\w+[^\]]*\]|\s\|\s")
_EMAIL = re.compile(r"\S+@\S+\.\w")
_FIELDS = re.compile(r"(?:\b\w+(?: \w+)?: .*){3,}")
_TERMINAL = re.compile(r"[.!?。！？…।॥؟۔][\"'”’»›」』)\]]*$")
_DIGIT = re.compile(r"\d")
NEAR_DUPLICATE = 0.6  # Jaccard overlap of word sets above which two quotes say the same thing
TOP_WORDS = 20  # the article's most frequent content words, for centrality
# Scoring is linear in the candidates, but a 5 MB page can hold ~100,000 sentences: quotes come
# from the first MAX_CANDIDATES (the benchmark pages' largest has 500 candidate sentences).
MAX_CANDIDATES = 1000


@dataclass(frozen=True, slots=True)
class Quote:
    text: str
    score: float
    speaker: str | None = None


def attribute_speaker(sentence: str) -> str | None:
    """The person a direct quotation is attributed to, by rules, when the sentence names one."""
    for pattern in (_SPEAKER_AFTER, _SPEAKER_APPOSITION, _SPEAKER_BEFORE, _SPEAKER_JA):
        match = pattern.search(sentence)
        if match and _names_a_speaker(sentence, match):
            return match.group(1).strip(" ,.")
    return None


def _names_a_speaker(sentence: str, match: re.Match) -> bool:
    """Is the capitalised run the rules found a speaker, not an organisation, a pronoun or a phrase?"""
    words = match.group(1).split()
    return not (
        _ROLE_AFTER.match(sentence, match.end(1))  # "said a WeWork spokesperson"
        or _INSIDE_PHRASE.search(sentence, 0, match.start(1))  # "chairman of the Joint Chiefs of Staff, told"
        or words[0].lower() in NOT_A_NAME  # "That said", "She added", "On Monday, ... warned"
        or (len(words) == 1 and words[0].isupper() and len(words[0]) > 1)  # "WHO said"
    )


def _outside_quotes(doc: Doc) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _QUOTED_SPAN.finditer(doc.text)]


def _in_quotes(span: Span, quoted: list[tuple[int, int]]) -> bool:
    return any(start <= span.start_char and span.end_char <= end for start, end in quoted)


def speaker_from_model(doc: Doc) -> str | None:
    """The speaker by a trained pipeline: the PERSON that is the speech verb's subject (with a
    parse), else the PERSON outside the quotation nearest the speech verb; None without one."""
    quoted = _outside_quotes(doc)
    people = [ent for ent in doc.ents if ent.label_ in PERSON_LABELS and not _in_quotes(ent, quoted)]
    if not people:
        return None
    verbs = [t for t in doc if (t.lemma_.lower() in SPEECH_LEMMAS) or SPEECH_VERBS.fullmatch(t.text)]
    verbs = [v for v in verbs if not any(start <= v.idx < end for start, end in quoted)]
    if doc.has_annotation("DEP"):
        for verb in verbs:
            for subject in (c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass", "sb")):
                span = doc[subject.left_edge.i : subject.right_edge.i + 1]
                named = [p for p in people if p.start >= span.start and p.end <= span.end]
                if named:
                    return named[-1].text  # "the mayor, Helga Brandt": the apposition's name
    if verbs:
        verb = verbs[0]
        return min(people, key=lambda p: min(abs(p.start - verb.i), abs(p.end - 1 - verb.i))).text
    return people[-1].text if quoted else None


def _has_entities(doc: Doc) -> bool:
    return doc.has_annotation("ENT_IOB")


def is_furniture(text: str) -> bool:
    """Links, e-mail addresses, phone numbers, shortcodes or a run of "Label: value" fields?"""
    return bool(
        _FURNITURE.search(text)
        or ("@" in text and _EMAIL.search(text))
        or (text.count(": ") >= 3 and _FIELDS.search(text))
    )


# Iterating a Doc builds a Python object per token, and so does Doc.text (it joins the tokens):
# the helpers below read the text the caller already has and count token attributes in C
# (Doc.count_by), and walk the tokens only when the text says they must.
def _quotation_mark_tokens(doc: Doc, text: str) -> int:
    """Tokens that are quotation marks: spaCy's ``is_quote``, or made of ``QUOTE_MARKS``."""
    if _QUOTE_MARK.search(text):
        return sum(1 for t in doc if t.is_quote or t.text in QUOTE_MARKS)
    from spacy.attrs import IS_QUOTE

    return doc.count_by(IS_QUOTE).get(1, 0)  # no token can be made of QUOTE_MARKS


def _has_number(doc: Doc, text: str) -> bool:
    """A token that looks like a number ("12", "twelve") or has a digit in it."""
    # A digit in the text is a digit in a token: only single spaces fall between tokens. For
    # ASCII, str.isdigit is \d; other scripts have digits \d does not match (², ①).
    if _DIGIT.search(text) or (not text.isascii() and any(map(str.isdigit, text))):
        return True
    from spacy.attrs import LIKE_NUM

    return bool(doc.count_by(LIKE_NUM).get(1, 0))


def _balanced(text: str) -> bool:
    """Do the quotation marks pair up? ("„…“" and "„…”" in German and Polish, "“…”" elsewhere.)"""
    if text.count('"') % 2 or text.count("«") != text.count("»") or text.count("「") != text.count("」"):
        return False
    if text.count("『") != text.count("』"):
        return False
    low, left, right = text.count("„"), text.count("“"), text.count("”")
    return low == left + right if low else left == right


def rejection(sentence: str) -> str | None:
    """Why ``sentence`` can never be a key quote (a key of REJECTIONS), or None when it may be one."""
    if BOILERPLATE.search(sentence):
        return "boilerplate"
    if META.search(sentence):
        return "meta"
    if CALL_TO_ACTION.match(sentence.lstrip("-*•·–— ")):
        return "call_to_action"
    if not _balanced(sentence):
        return "unbalanced_quotes"
    return None


def score_quote(doc: Doc, top_words: set[str], *, text: str | None = None) -> tuple[float, str | None]:
    """Quotability of one sentence (a spaCy Doc, whose ``text`` may be given) and its speaker, if it names one."""
    text = doc.text if text is None else text
    words = {w.lower() for w in words_of(text)}
    score = 0.0
    quoted = bool(_QUOTED.search(text)) or _quotation_mark_tokens(doc, text) >= 2
    speaker = None
    if quoted:
        speaker = speaker_from_model(doc) if _has_entities(doc) else None
        speaker = speaker or attribute_speaker(text)
        score += W_SPEECH if SPEECH_VERBS.search(text) else W_QUOTED
        score += W_SPEAKER if speaker else 0.0
    if _has_number(doc, text):
        score += W_NUMBER
    if CLAIM.search(text):
        score += W_CLAIM
    score += W_CENTRAL * min(1.0, len(words & top_words) / 5)
    if 15 <= word_count(text) <= 35:
        score += W_LENGTH
    if text.rstrip(QUOTE_MARKS + " ").endswith(("?", "？", "¿")):
        score -= P_QUESTION
    first = next((t for t in doc if t.is_alpha), None)
    if first is not None and first.lower_ in DANGLING_STARTS:
        score -= P_DANGLING
    if not _TERMINAL.search(text) or (first is not None and first.text[:1].islower()):
        score -= P_FRAGMENT
    if text.startswith(("- ", "* ", "• ")):
        score -= P_LIST_ITEM
    if is_furniture(text):
        score -= P_FURNITURE
    return round(score, 3), speaker


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def pick_quotes(
    sentences: Sequence[str],
    language: str,
    *,
    exclude: Sequence[str] = (),
    count: int = 4,
    model: str | None = None,
) -> tuple[Quote, ...]:
    """Up to ``count`` quotable sentences scoring at least MIN_SCORE, verbatim, in document order,
    none from (or containing a sentence of) ``exclude``; none at all when nothing is quotable.

    ``model`` names a trained spaCy pipeline (package or path) used for speakers when it loads.
    """
    excluded = set(exclude)
    candidates = [
        s for s in dict.fromkeys(sentences)
        if s not in excluded and MIN_WORDS <= word_count(s) <= MAX_WORDS and rejection(s) is None
        # A summary sentence may be a sentence without its dateline.
        and not any(e in s for e in excluded)
    ][:MAX_CANDIDATES]
    if not candidates:
        return ()
    nlp = nlp_for(language, model)
    frequency = Counter(
        w.lower() for s in candidates for w in words_of(s) if len(w) > 3 or not w.isascii()
    )
    top = {w for w, _ in frequency.most_common(TOP_WORDS)}
    # The blank pipeline's only component, the sentencizer, sets nothing score_quote reads.
    tokenize_only = set(nlp.pipe_names) <= {"sentencizer"}
    docs = map(nlp.make_doc, candidates) if tokenize_only else nlp.pipe(candidates)
    scored = [Quote(text, *score_quote(doc, top, text=text)) for text, doc in zip(candidates, docs)]

    chosen: list[Quote] = []
    chosen_words: list[set[str]] = []
    for quote in sorted(scored, key=lambda q: -q.score):
        if len(chosen) == count or quote.score < MIN_SCORE:
            break
        words = set(words_of(quote.text.lower()))
        if any(_jaccard(words, other) > NEAR_DUPLICATE for other in chosen_words):
            continue
        chosen.append(quote)
        chosen_words.append(words)
    order = {text: i for i, text in enumerate(candidates)}
    return tuple(sorted(chosen, key=lambda q: order[q.text]))
