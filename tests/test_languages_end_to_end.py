"""Every language the language stage can report enriches, end to end, in one real flow run.

One article page per language of ../shared/corpora/langid/sentences (32 languages): a headline
and 15 of the corpus's sentences in five paragraphs, between a navigation bar and a footer, plus
one RSS feed listing them all, served on 127.0.0.1. The real flow (worker processes, stemmers,
spaCy, everything) runs once over the feed; every article must come out ``ok``, with no stage
failure and a summary, and its detected language must be the corpus's for nearly all of them.

Without ../shared the same test runs over tests/fixtures/languages (four languages written for
this project), so the path is still exercised.
"""

from __future__ import annotations

import html
import unicodedata
from pathlib import Path

import pytest

from enrich.settings import Settings
from enrich.sites import LoopbackSite, ok
from enrich.store import open_store
from enrich.text import is_unspaced
from tests.conftest import FIXTURES, SHARED_CORPORA
from tests.flow import enrich_feeds

CORPUS = SHARED_CORPORA / "langid" / "sentences"
FALLBACK = FIXTURES / "languages"
SENTENCES_PER_ARTICLE = 15  # a short news article
SENTENCES_PER_PARAGRAPH = 3
# Sentences too short to be a line of prose (corpus lines are sometimes menu fragments).
MIN_SENTENCE_CHARS = {"spaced": 40, "unspaced": 15}
# langdetect on 15 sentences is right for every language of the corpus in bench/language.py's
# 3-sentence test; one miss is tolerated so a single ambiguous page cannot fail the suite.
MAX_LANGUAGE_MISSES = 1
HEADLINE_WORDS, HEADLINE_CHARS = 8, 24


def _source() -> Path:
    return CORPUS if CORPUS.is_dir() else FALLBACK


def _sentences(path: Path) -> list[str]:
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return [line for line in lines
            if len(line) >= MIN_SENTENCE_CHARS["unspaced" if is_unspaced(line) else "spaced"]]


def _headline(sentence: str) -> str:
    if is_unspaced(sentence):
        return sentence[:HEADLINE_CHARS]
    return " ".join(sentence.split()[:HEADLINE_WORDS]).rstrip(",.;:")


def _plain(text: str) -> str:
    """Text as extraction gives it back: whitespace runs as one space, no format characters (the
    zero-width non-joiner of Persian spelling is dropped on the way)."""
    return " ".join("".join(c for c in text if unicodedata.category(c) != "Cf").split())


def article_page(language: str, headline: str, sentences: list[str]) -> str:
    paragraphs = "\n".join(
        "<p>" + html.escape(" ".join(sentences[i : i + SENTENCES_PER_PARAGRAPH])) + "</p>"
        for i in range(0, len(sentences), SENTENCES_PER_PARAGRAPH)
    )
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(headline)} | World Desk</title></head>
<body>
<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/about">About</a></nav>
<main><article>
<h1>{html.escape(headline)}</h1>
<p class="byline">World Desk, {language}</p>
{paragraphs}
</article></main>
<footer><p>World Desk. All rights reserved.</p></footer>
</body></html>"""


def feed(base: str, articles: dict[str, tuple[str, list[str]]]) -> str:
    items = "".join(
        f"<item><guid isPermaLink='false'>article-{language}</guid><title>{html.escape(headline)}</title>"
        f"<link>{base}/{language}.html</link><pubDate>Mon, 16 Nov 2026 10:00:00 GMT</pubDate>"
        f"<description>{html.escape(sentences[0])}</description></item>"
        for language, (headline, sentences) in articles.items()
    )
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>World Desk</title>'
            f"<link>{base}/</link>{items}</channel></rss>")


@pytest.fixture(scope="module")
def world_desk():
    """The articles by language code, and the site serving them and their feed."""
    source = _source()
    articles = {}
    for path in sorted(source.glob("*.txt")):
        sentences = _sentences(path)
        assert len(sentences) > SENTENCES_PER_ARTICLE, f"{path} has too few sentences"
        articles[path.stem] = (_headline(sentences[SENTENCES_PER_ARTICLE]), sentences[:SENTENCES_PER_ARTICLE])
    with LoopbackSite({}) as site:
        site.routes["/feed.xml"] = ok(feed(site.base, articles), "application/rss+xml")
        for language, (headline, sentences) in articles.items():
            site.routes[f"/{language}.html"] = ok(article_page(language, headline, sentences))
        yield articles, site


@pytest.mark.usefixtures("prefect_harness")
def test_every_language_enriches_in_one_run(world_desk, tmp_path):
    articles, site = world_desk
    if _source() == CORPUS:
        assert len(articles) == 32
    db = tmp_path / "languages.duckdb"

    report = enrich_feeds([site.url("/feed.xml")], Settings(db_path=db))

    with open_store(db, read_only=True) as store:
        rows = store.query(
            """SELECT regexp_extract(url, '/([a-z]+)\\.html$', 1), status, reason, failed_stages, summary,
                      language, text_source, text
               FROM articles""")
        failures = store.query("SELECT stage, article_url, reason, message FROM failures WHERE run_id = ?",
                               [report.run_id])
    by_language = {row[0]: row[1:] for row in rows}
    assert sorted(by_language) == sorted(articles)
    assert failures == []
    for language, (status, reason, failed_stages, summary, _detected, source, text) in by_language.items():
        assert (status, reason, failed_stages or []) == ("ok", None, []), language
        assert source == "page" and _plain(articles[language][1][-1]) in _plain(text), "the whole article is read"
        assert summary and all(sentence in text for sentence in summary), language
    misses = {language: detected for language, (*_, detected, _source, _text) in by_language.items()
              if detected != language}
    assert len(misses) <= MAX_LANGUAGE_MISSES, misses
    assert (report.enriched, report.failed, report.status) == (len(articles), 0, "completed")
