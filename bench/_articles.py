"""Synthetic English news on a loopback site: feeds of generated article pages, for bench/poll.py and
bench/large_store.py.

Each article is 300-600 words of generated sentences in ``<article><p>`` (one theme per feed, named
people, places, figures and quotations, varied per article), with a title, an author and a date.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape

from enrich.sites import Route, ok

# Word lists for generated English prose: one theme per feed, shared connective tissue.
THEMES = {
    "harbour": {
        "things": ["ferry timetable", "harbour wall", "pilot boat", "container crane", "fish market",
                   "tide gauge", "dredging plan", "cruise terminal", "lighthouse", "mooring fee"],
        "people": ["harbour master", "ferry operator", "dock workers' union", "port authority",
                   "fishing cooperative", "coast guard"],
        "units": ["ships", "ferries", "containers", "tonnes of cargo", "passengers", "fishing boats"],
    },
    "science": {
        "things": ["comet survey", "soil sensor network", "telescope upgrade", "battery trial",
                   "climate model", "gene library", "seismic array", "research vessel", "vaccine study",
                   "particle detector"],
        "people": ["research team", "university laboratory", "national institute", "field station",
                   "observatory", "funding council"],
        "units": ["samples", "sensors", "observations", "volunteers", "datasets", "experiments"],
    },
    "city": {
        "things": ["cycle lane", "housing budget", "tram extension", "library renovation",
                   "parking reform", "school canteen", "park restoration", "bus network", "rent index",
                   "street market"],
        "people": ["city council", "mayor's office", "residents' association", "planning committee",
                   "transport department", "local traders"],
        "units": ["households", "flats", "bus routes", "residents", "councillors", "street trees"],
    },
    "food": {
        "things": ["rice harvest", "bakery", "night market", "olive oil press", "cheese cellar",
                   "cooking school", "spice trade", "vineyard", "coffee roastery", "tasting menu"],
        "people": ["growers' union", "chef", "market inspectors", "food bank", "farmers", "restaurant guild"],
        "units": ["kilograms of rice", "loaves", "stalls", "restaurants", "bottles", "growers"],
    },
    "software": {
        "things": ["build system", "compiler release", "package registry", "database engine",
                   "test suite", "security patch", "open source library", "cloud migration",
                   "code review process", "language server"],
        "people": ["maintainers", "core developers", "security team", "platform group",
                   "open source foundation", "release managers"],
        "units": ["commits", "contributors", "packages", "bug reports", "servers", "pull requests"],
    },
    "sport": {
        "things": ["derby", "training ground", "youth academy", "stadium roof", "transfer window",
                   "cup final", "season ticket price", "relay team", "marathon route", "handball league"],
        "people": ["coach", "club board", "supporters' trust", "league officials", "team captain",
                   "sports ministry"],
        "units": ["goals", "spectators", "matches", "season tickets", "players", "points"],
    },
}
FIRST = ["Ana", "Tomas", "Ingrid", "Kofi", "Mei", "Rafael", "Sofia", "Jonas", "Amara", "Lukas",
         "Helena", "Omar", "Priya", "Niall", "Yuki", "Clara", "Dmitri", "Leila", "Marta", "Samuel"]
LAST = ["Okafor", "Lindqvist", "Moreau", "Castillo", "Brennan", "Novak", "Haddad", "Ferreira",
        "Kowalski", "Tanaka", "Achterberg", "Mensah", "Rossi", "Varga", "Delgado", "Nakamura"]
PLACES = ["Alcandra", "Lindenbrueck", "Northwind Bay", "Casarredonda", "Port Eldern", "Kestrel Point",
          "Marrowgate", "Vellmar", "Southmoor", "Ostrava Quay"]
VERBS = ["approved", "delayed", "reviewed", "expanded", "questioned", "announced", "funded",
         "redesigned", "postponed", "tested", "defended", "published", "rejected", "extended"]
VERBS_BASE = ["finish", "repair", "expand", "replace", "measure", "publish", "protect", "simplify",
              "reopen", "fund", "rethink", "document"]
ADJ = ["new", "long-awaited", "controversial", "modest", "ambitious", "overdue", "cheaper",
       "larger", "revised", "experimental", "quieter", "temporary"]
WHEN = ["on Tuesday", "last week", "this spring", "after months of debate", "late on Friday",
        "at the start of the month", "over the winter", "before the summer break", "in March",
        "earlier this year"]
CONNECT = ["Meanwhile", "Even so", "In practice", "For now", "By contrast", "At the same time",
           "In the end", "Still", "Until then", "As a result"]
REASONS = ["to keep costs down", "so that the work can finish before autumn",
           "because the old arrangement no longer worked", "after complaints from neighbours",
           "to meet the new safety rules", "while the budget is still being negotiated"]
QUOTES = ["we had to make a decision before the season starts",
          "nobody expected the numbers to move this quickly",
          "this is the most practical option we have seen in years",
          "the details matter more than the headline",
          "we will look at the results again in six months",
          "people deserve a clear answer, not another study",
          "it is cheaper to fix it now than to patch it every winter",
          "the first weeks will tell us whether the plan works"]
ROLES = ["who has followed the project since it began", "speaking after the meeting",
         "in a statement", "who chairs the committee", "at a press briefing", "in an interview"]


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def _sentence(rng: random.Random, theme: dict, place: str) -> str:
    thing, other = rng.sample(theme["things"], 2)
    who = rng.choice(theme["people"])
    kind = rng.randrange(7)
    if kind == 0:
        return f"The {who} {rng.choice(VERBS)} the {rng.choice(ADJ)} {thing} in {place} {rng.choice(WHEN)}."
    if kind == 1:
        return f'"{rng.choice(QUOTES).capitalize()}," said {_person(rng)}, {rng.choice(ROLES)}.'
    if kind == 2:
        a, b = rng.randint(12, 950), rng.randint(10, 900)
        return (f"{a} {rng.choice(theme['units'])} were counted {rng.choice(WHEN)}, "
                f"up from {b} a year earlier, according to the {rng.choice(theme['people'])}.")
    if kind == 3:
        return (f"{rng.choice(CONNECT)}, the {who} wants to {rng.choice(VERBS_BASE)} the {thing} "
                f"{rng.choice(REASONS)}.")
    if kind == 4:
        return (f"Critics say the {thing} and the {other} compete for the same money, "
                f"and that {place} cannot afford both.")
    if kind == 5:
        pct = rng.randint(3, 48)
        return f"The cost of the {thing} rose by {pct} percent, a figure the {who} has not disputed."
    return (f"Residents of {place} will see the first changes to the {other} {rng.choice(WHEN)}, "
            f"{rng.choice(REASONS)}.")


@dataclass(frozen=True)
class Article:
    path: str
    title: str
    teaser: str
    published: datetime
    html: bytes
    text: str  # the article's paragraphs, one a line, as extraction should find them


def make_article(feed: int, entry: int, theme: dict, base: str, published: datetime) -> Article:
    rng = random.Random(f"article-{feed}-{entry}")
    place = rng.choice(PLACES)
    thing = rng.choice(theme["things"])
    who = rng.choice(theme["people"]).capitalize()
    title = f"{place}: {who} {rng.choice(VERBS)} {rng.choice(ADJ)} {thing}"
    target = rng.randint(300, 600)
    paragraphs: list[list[str]] = [[]]
    words = 0
    while words < target:
        sentence = _sentence(rng, theme, place)
        paragraphs[-1].append(sentence)
        words += len(sentence.split())
        if len(paragraphs[-1]) >= rng.randint(3, 6):
            paragraphs.append([])
    paragraphs = [p for p in paragraphs if p]
    author = _person(rng)
    path = f"/news/feed-{feed}/story-{entry}.html"
    body = "\n".join(f"    <p>{escape(' '.join(p))}</p>" for p in paragraphs)
    html = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{escape(title)} | {place} Courier</title>
  <meta name="author" content="{escape(author)}">
  <meta name="description" content="{escape(paragraphs[0][0])}">
  <meta property="og:site_name" content="{place} Courier">
  <meta property="article:published_time" content="{published.isoformat()}">
  <link rel="canonical" href="{base}{path}">
</head>
<body>
  <header><nav><a href="/">Home</a> <a href="/news/">News</a> <a href="/about/">About us</a></nav></header>
  <main>
  <article>
    <h1>{escape(title)}</h1>
    <p class="byline">By {escape(author)}, {published:%d %B %Y}</p>
{body}
  </article>
  </main>
  <footer><p>&copy; {place} Courier. Subscribe to our newsletter. Contact the newsroom.</p></footer>
</body>
</html>
"""
    return Article(path, title, paragraphs[0][0], published, html.encode(), "\n".join(" ".join(p) for p in paragraphs))


def make_feed(feed: int, theme_name: str, base: str, articles: list[Article]) -> bytes:
    items = "".join(
        "<item>"
        f"<title>{escape(a.title)}</title><link>{base}{a.path}</link>"
        f'<guid isPermaLink="true">{base}{a.path}</guid>'
        f"<pubDate>{format_datetime(a.published, usegmt=True)}</pubDate>"
        f"<category>{theme_name}</category>"
        f"<description>{escape(a.teaser)}</description>"
        "</item>"
        for a in articles
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>Feed {feed}: {theme_name}</title><link>{base}/</link><language>en</language>"
        f"<description>Synthetic {theme_name} news for the polling benchmark</description>"
        f"{items}</channel></rss>"
    ).encode()


ROBOTS = b"User-agent: *\nDisallow: /admin/\n"


def build_site(bases: list[str], n_feeds: int, n_entries: int) -> tuple[list[str], dict[str, bytes], dict[str, Route]]:
    """Feed i lives on host i % hosts with its pages; feeds carry an ETag (so a second poll gets a 304).

    Returns the feed URLs, the bytes of every feed and page by path, and the site's routes."""
    now = datetime.now(UTC).replace(microsecond=0)
    theme_names = list(THEMES)
    feed_urls = []
    bodies: dict[str, bytes] = {}
    routes = {"/robots.txt": ok(ROBOTS, "text/plain")}
    for feed in range(n_feeds):
        base = bases[feed % len(bases)]
        theme_name = theme_names[feed % len(theme_names)]
        articles = [
            make_article(feed, entry, THEMES[theme_name], base, now - timedelta(hours=3 * entry + feed % 7))
            for entry in range(n_entries)
        ]
        for a in articles:
            bodies[a.path] = a.html
            routes[a.path] = ok(a.html)
        body = make_feed(feed, theme_name, base, articles)
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        path = f"/feeds/feed-{feed}.xml"
        bodies[path] = body
        routes[path] = ok(body, "application/rss+xml; charset=utf-8", ETag=etag)
        feed_urls.append(base + path)
    return feed_urls, bodies, routes
