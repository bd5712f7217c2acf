"""The reader preview: static HTML pages rendered from the reader's records.

A pure renderer: it takes the dicts :meth:`enrich.store.Store.reader_records` returns and writes
plain HTML files, no JavaScript, no database access. Pages written:

1. ``index.html``: the "All Topics" tab, every article as a card, newest first;
2. ``topic-<slug>.html``: one tab per topic in :data:`TOPICS`, always all 19, an empty one says so;
3. ``articles/<hash>.html``: one page per article with everything the reader shows.

Every value from the database is escaped with :func:`html.escape` (titles and snippets come from
strangers' feeds), and a URL becomes an ``href`` only when it is http(s). A Content-Security-Policy
that allows no scripts at all is a second line of defence should an escape ever be missed.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from itertools import zip_longest
from pathlib import Path
from urllib.parse import urlsplit

# The reader's topic tabs, in the order it shows them after "All Topics".
TOPICS: tuple[str, ...] = (
    "Technology", "Design", "Programming", "Science", "News", "Gaming", "Entertainment", "Business",
    "Finance", "Sports", "Health", "Food", "Travel", "Art", "Music", "Books", "Education", "Politics",
    "Personal",
)
ALL_TOPICS = "All Topics"
INDEX_PAGE = "index.html"
ARTICLES_DIR = "articles"
# 16 hex digits = 64 bits of SHA-256: collisions are out of reach for any reader's archive, and the
# name stays short and the same across renders, so links to a page keep working.
ARTICLE_SLUG_CHARS = 16
SAFE_SCHEMES = frozenset({"http", "https"})
# Languages written right to left; the article page sets dir="rtl" for them.
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ps", "ur", "yi"})
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")
_CANONICAL_TOPIC = {topic.casefold(): topic for topic in TOPICS}

CSS = """
:root { --ink: #1d2330; --muted: #5f6b7a; --line: #e3e7ee; --bg: #f5f7fa; --card: #fff; --accent: #2f5bd3; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); line-height: 1.55;
  font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Sans CJK JP", sans-serif; }
a { color: var(--accent); }
header.site { background: var(--card); border-bottom: 1px solid var(--line); }
header.site .brand { max-width: 72rem; margin: 0 auto; padding: .75rem 1rem .25rem; font-weight: 700; }
header.site .brand a { color: var(--ink); text-decoration: none; }
nav.tabs { max-width: 72rem; margin: 0 auto; padding: 0 .4rem; display: flex; flex-wrap: wrap; }
nav.tabs a { display: inline-block; padding: .45rem .6rem; white-space: nowrap; color: var(--muted); text-decoration: none;
  border-bottom: 3px solid transparent; font-size: .92rem; }
nav.tabs a:hover { color: var(--ink); }
nav.tabs a[aria-current="page"] { color: var(--ink); border-bottom-color: var(--accent); font-weight: 600; }
nav.tabs .count { color: var(--muted); font-size: .75rem; margin-left: .2rem; }
main { max-width: 72rem; margin: 0 auto; padding: 1.25rem 1rem 3rem; }
h1 { font-size: 1.6rem; line-height: 1.25; margin: .25rem 0 .5rem; }
.lead { color: var(--muted); margin-top: 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(20rem, 1fr)); gap: 1rem;
  list-style: none; padding: 0; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 1rem 1.1rem;
  box-shadow: 0 1px 2px rgba(20, 30, 50, .05); display: flex; flex-direction: column; gap: .35rem; }
.card h2 { font-size: 1.08rem; line-height: 1.3; margin: 0; }
.card h2 a { color: var(--ink); text-decoration: none; }
.card h2 a:hover { text-decoration: underline; }
.card .teaser { margin: 0; color: #333b48; font-size: .94rem; }
.source { color: var(--muted); font-size: .8rem; text-transform: uppercase; letter-spacing: .04em; margin: 0; }
.meta { color: var(--muted); font-size: .86rem; margin: 0; }
.meta > span + span::before { content: " · "; }
.topics { list-style: none; padding: 0; margin: .2rem 0; display: flex; flex-wrap: wrap; gap: .35rem; }
.topics li a, .topics li span { display: inline-block; font-size: .78rem; padding: .1rem .55rem; border-radius: 999px;
  background: #eaf0ff; color: #2a4aa8; text-decoration: none; }
.empty { background: var(--card); border: 1px dashed var(--line); border-radius: 10px; padding: 2rem;
  text-align: center; color: var(--muted); }
article.full { max-width: 42rem; margin: 0 auto; background: var(--card); border: 1px solid var(--line);
  border-radius: 12px; padding: 1.5rem 1.75rem 2rem; }
article.full h1 { font-size: 1.85rem; }
article.full section { margin-top: 1.6rem; }
article.full h2 { font-size: 1rem; color: var(--muted);
  margin: 0 0 .5rem; border-bottom: 1px solid var(--line); padding-bottom: .3rem; }
article.full .summary li { margin: .35rem 0; }
blockquote { margin: .6rem 0; padding: .4rem .9rem; border-left: 3px solid var(--accent); background: #f7f9fe;
  font-style: italic; }
figure.quote { margin: 0; }
figure.quote figcaption { margin: -.3rem 0 .6rem .9rem; color: var(--muted); font-size: .9rem; }
.snippet p { margin: 0; color: #333b48; }
.none { color: var(--muted); font-style: italic; }
.original { margin-top: 1.8rem; font-size: .95rem; }
footer.site { max-width: 72rem; margin: 0 auto; padding: 0 1rem 2rem; color: var(--muted); font-size: .8rem; }
"""

# No scripts, no plugins, no remote fetches: the pages are text, links and one inline stylesheet.
CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def topic_slug(topic: str) -> str:
    """The file-name part of a topic's page: lower case, runs of other characters become '-'."""
    return re.sub(r"[^a-z0-9]+", "-", topic.casefold()).strip("-") or "topic"


def topic_page(topic: str) -> str:
    """The file name of a topic tab's page, e.g. ``topic-technology.html``."""
    return f"topic-{topic_slug(topic)}.html"


def article_slug(url: str) -> str:
    """A stable file-name slug for an article: the start of the SHA-256 of its URL."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:ARTICLE_SLUG_CHARS]


def article_page(url: str) -> str:
    """The path of an article's page relative to the site root."""
    return f"{ARTICLES_DIR}/{article_slug(url)}.html"


def format_age(when: datetime | None, now: datetime) -> str:
    """How long ago, the way the reader says it: "4d ago", "3h ago", "12m ago", "just now"."""
    if when is None:
        return "date unknown"
    seconds = max(0.0, (_aware(now) - _aware(when)).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit} ago"
    return "just now"


def safe_href(url: str | None) -> str | None:
    """``url`` when it is an absolute http(s) URL fit for an href, else None.

    Anything with spaces or control characters is refused outright: browsers strip some of them
    before reading the scheme, which is how ``java\\tscript:`` gets past naive checks.
    """
    if not url or _CONTROL_OR_SPACE.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in SAFE_SCHEMES or not parts.netloc:
        return None
    return url


def render_site(records: Sequence[Mapping], out_dir: Path, *, now: datetime) -> list[Path]:
    """Write the preview site for ``records`` under ``out_dir``; returns the files written.

    Records are the reader's dicts (only ``url`` is required). Ages are relative to ``now``.
    Pages of articles no longer in ``records`` are left where they are, unlinked.
    """
    out_dir = Path(out_dir)
    (out_dir / ARTICLES_DIR).mkdir(parents=True, exist_ok=True)
    now = _aware(now)
    articles = _newest_first(records)
    by_topic: dict[str, list[Mapping]] = {topic: [] for topic in TOPICS}
    for record in articles:
        for topic in _tab_topics(record):
            by_topic[topic].append(record)
    counts = {ALL_TOPICS: len(articles)} | {topic: len(items) for topic, items in by_topic.items()}
    rendered_urls = {record["url"] for record in articles}

    written = [_write(out_dir / INDEX_PAGE, _listing_page(ALL_TOPICS, articles, counts, now))]
    for topic in TOPICS:
        page = _listing_page(topic, by_topic[topic], counts, now)
        written.append(_write(out_dir / topic_page(topic), page))
    for record in articles:
        page = _article_page(record, counts, rendered_urls, now)
        written.append(_write(out_dir / article_page(record["url"]), page))
    return written


# -- helpers --------------------------------------------------------------------------------------
def _e(value: object) -> str:
    """Escape any value for HTML text or a quoted attribute; None becomes ''."""
    return html.escape("" if value is None else str(value), quote=True)


def _articles(n: int) -> str:
    return f"{n} article" if n == 1 else f"{n} articles"


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _newest_first(records: Iterable[Mapping]) -> list[Mapping]:
    """Newest first, ties by URL, undated last: the order ``reader_records`` uses."""
    by_url = sorted(records, key=lambda r: r["url"])
    dated = [r for r in by_url if r.get("published_at") is not None]
    undated = [r for r in by_url if r.get("published_at") is None]
    return sorted(dated, key=lambda r: _aware(r["published_at"]), reverse=True) + undated


def _tab_topics(record: Mapping) -> list[str]:
    """The record's topics that are reader tabs, in their canonical spelling, without repeats."""
    found = (_CANONICAL_TOPIC.get(str(t).casefold()) for t in record.get("topics") or ())
    return list(dict.fromkeys(t for t in found if t))


def _language(record: Mapping) -> str:
    """A BCP 47 tag for ``lang`` attributes; 'und' (undetermined) when missing or malformed."""
    language = record.get("language") or "und"
    return language if _LANGUAGE_TAG.match(language) else "und"


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8", newline="\n")
    return path


def _layout(*, title: str, lang: str, root: str, active: str | None, counts: Mapping[str, int],
            body: str, now: datetime) -> str:
    direction = ' dir="rtl"' if lang.split("-")[0].lower() in RTL_LANGUAGES else ""
    return f"""<!DOCTYPE html>
<html lang="{_e(lang)}"{direction}>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{_e(CSP)}">
<meta name="referrer" content="no-referrer">
<link rel="alternate" type="application/atom+xml" title="enrich · all articles" href="{root}feeds/all.atom">
<title>{_e(title)}</title>
<style>{CSS}</style>
</head>
<body>
<header class="site" lang="en" dir="ltr">
<div class="brand"><a href="{root}{INDEX_PAGE}">enrich · reader preview</a></div>
{_tab_bar(root, active, counts)}
</header>
{body}
<footer class="site" lang="en" dir="ltr">Rendered {_e(now.strftime("%Y-%m-%d %H:%M"))} UTC from \
{_articles(counts[ALL_TOPICS])}.</footer>
</body>
</html>
"""


def _tab_bar(root: str, active: str | None, counts: Mapping[str, int]) -> str:
    tabs = []
    for name, href in ((ALL_TOPICS, INDEX_PAGE), *((t, topic_page(t)) for t in TOPICS)):
        current = ' aria-current="page"' if name == active else ""
        count = f'<span class="count" aria-hidden="true">{counts[name]}</span>'
        tabs.append(f'<a href="{root}{href}"{current}>{_e(name)}{count}</a>')
    return '<nav class="tabs" aria-label="Topics">' + "".join(tabs) + "</nav>"


def _meta_spans(record: Mapping, now: datetime, *, with_author: bool) -> str:
    spans = []
    if with_author and record.get("author"):
        spans.append(f'<span class="author">{_e(record["author"])}</span>')
    published = record.get("published_at")
    if published is not None:
        iso = _aware(published).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        spans.append(f'<span class="age"><time datetime="{iso}" title="{iso}">'
                     f"{_e(format_age(published, now))}</time></span>")
    else:
        spans.append(f'<span class="age">{_e(format_age(None, now))}</span>')
    if record.get("reading_minutes") is not None:
        spans.append(f'<span class="reading">{int(record["reading_minutes"])} min read</span>')
    language = record.get("language") or "und"
    kind = f" · {_e(record['kind'])}" if record.get("kind") else ""
    spans.append(f'<span class="language">{_e(language)}{kind}</span>')
    return "".join(spans)


def _topic_chips(record: Mapping, root: str) -> str:
    """Topics as chips; tab topics link to their tab, any other topic is plain text."""
    chips = []
    for topic in dict.fromkeys(str(t) for t in record.get("topics") or ()):
        tab = _CANONICAL_TOPIC.get(topic.casefold())
        if tab:
            chips.append(f'<li><a href="{root}{topic_page(tab)}">{_e(tab)}</a></li>')
        else:
            chips.append(f"<li><span>{_e(topic)}</span></li>")
    return f'<ul class="topics" aria-label="Topics">{"".join(chips)}</ul>' if chips else ""


def _card(record: Mapping, now: datetime) -> str:
    teaser = record.get("feed_snippet") or next(iter(record.get("summary") or ()), "")
    source = record.get("feed_title") or record.get("site_name")
    title = record.get("title") or "(untitled)"
    return (
        f'<li class="card" lang="{_e(_language(record))}">'
        + (f'<p class="source">{_e(source)}</p>' if source else "")
        + f'<h2><a href="{article_page(record["url"])}">{_e(title)}</a></h2>'
        + f'<p class="meta">{_meta_spans(record, now, with_author=True)}</p>'
        + (f'<p class="teaser">{_e(teaser)}</p>' if teaser else "")
        + _topic_chips(record, "")
        + "</li>"
    )


def _listing_page(tab: str, records: Sequence[Mapping], counts: Mapping[str, int],
                  now: datetime) -> str:
    if records:
        body = (f'<p class="lead">{_articles(len(records))}, newest first.</p>'
                '<ol class="cards">' + "".join(_card(r, now) for r in records) + "</ol>")
    elif tab == ALL_TOPICS:
        body = '<p class="empty">No articles yet. Run the pipeline, then render the preview again.</p>'
    else:
        body = f'<p class="empty">No articles in {_e(tab)} yet.</p>'
    main = f'<main lang="en"><h1>{_e(tab)}</h1>{body}</main>'
    return _layout(title=f"{tab} · enrich preview", lang="en", root="", active=tab, counts=counts,
                   body=main, now=now)


def _quote(quote: str, speaker: str | None) -> str:
    """A key quote, and "— Name" under it when its speaker is known."""
    if not speaker:
        return f"<blockquote>{_e(quote)}</blockquote>"
    return f'<figure class="quote"><blockquote>{_e(quote)}</blockquote><figcaption>— {_e(speaker)}</figcaption></figure>'


def _article_page(record: Mapping, counts: Mapping[str, int], rendered_urls: set[str],
                  now: datetime) -> str:
    title = record.get("title") or "(untitled)"
    source = record.get("feed_title") or record.get("site_name")
    summary = record.get("summary") or []
    quotes = record.get("key_quotes") or []
    snippet = record.get("feed_snippet")
    author = record.get("author")

    parts = ['<main><article class="full">']
    if source:
        parts.append(f'<p class="source">{_e(source)}</p>')
    parts.append(f"<h1>{_e(title)}</h1>")
    byline = f'<span class="author">By {_e(author)}</span>' if author else ""
    parts.append(f'<p class="meta">{byline}{_meta_spans(record, now, with_author=False)}</p>')
    parts.append(_topic_chips(record, "../") or '<p class="meta none" lang="en">No topics yet.</p>')

    parts.append('<section class="summary"><h2 lang="en">Summary</h2>')
    parts.append("<ul>" + "".join(f"<li>{_e(s)}</li>" for s in summary) + "</ul>" if summary
                 else '<p class="none" lang="en">No summary.</p>')
    parts.append("</section>")

    parts.append(f'<section class="quotes"><h2 lang="en">Key quotes · {len(quotes)} pulled</h2>')
    speakers = record.get("key_quote_speakers") or []
    parts.append("".join(_quote(q, speaker) for q, speaker in zip_longest(quotes, speakers[: len(quotes)]))
                 if quotes else '<p class="none" lang="en">No quotes pulled.</p>')
    parts.append("</section>")

    parts.append('<section class="snippet"><h2 lang="en">Snippet from the RSS feed</h2>')
    parts.append(f"<p>{_e(snippet)}</p>" if snippet
                 else '<p class="none" lang="en">The feed gave no snippet.</p>')
    parts.append("</section>")

    parts.append('<section class="related"><h2 lang="en">You might also want to read</h2>')
    parts.append(_related_list(record.get("related") or [], rendered_urls))
    parts.append("</section>")

    parts.append(_original_link(record))
    parts.append("</article></main>")
    return _layout(title=f"{title} · enrich preview", lang=_language(record), root="../", active=None,
                   counts=counts, body="".join(parts), now=now)


def _related_list(related: Sequence[Mapping], rendered_urls: set[str]) -> str:
    """Related articles link to their preview page; one not in the preview links out, if http(s)."""
    items = []
    for entry in related:
        url = entry.get("url") or ""
        label = _e(entry.get("title") or url or "(untitled)")
        score = entry.get("score")
        hint = f' title="similarity {float(score):.2f}"' if isinstance(score, int | float) else ""
        if url in rendered_urls:
            items.append(f'<li><a href="{article_slug(url)}.html"{hint}>{label}</a></li>')
        elif href := safe_href(url):
            items.append(f'<li><a href="{_e(href)}" rel="noopener noreferrer"{hint}>{label}</a></li>')
        else:
            items.append(f"<li>{label}</li>")
    if not items:
        return '<p class="none" lang="en">No related articles yet.</p>'
    return "<ul>" + "".join(items) + "</ul>"


def _original_link(record: Mapping) -> str:
    href = safe_href(record.get("canonical_url")) or safe_href(record.get("url"))
    if href is None:
        return '<p class="original none" lang="en">No link to the original (not an http(s) URL).</p>'
    host = urlsplit(href).hostname or href
    return (f'<p class="original" lang="en"><a class="original-link" href="{_e(href)}" '
            f'rel="noopener noreferrer">Read the original on {_e(host)}</a></p>')
