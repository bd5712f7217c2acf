"""canonical_link / entry_identity: one article, one URL, whatever a feed adds to its links."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enrich.urls import _ALREADY_CANONICAL, _normalised, canonical_link, entry_identity

TRACKING = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "fbclid", "gclid"]


@pytest.mark.parametrize("param", TRACKING)
def test_tracking_parameters_are_stripped(param):
    assert canonical_link(f"https://example.org/story.html?{param}=rss") == "https://example.org/story.html"


def test_tracking_stripped_and_meaningful_parameters_kept():
    link = "https://example.org/a/b?utm_source=x&utm_medium=y&id=5&fbclid=abc&gclid=1"
    assert canonical_link(link) == "https://example.org/a/b?id=5"


@pytest.mark.parametrize(
    "link",
    [
        "https://example.org/watch?v=abc123",
        "https://example.org/article.php?id=42",
        "https://example.org/list?page=2",
        "https://example.org/search?q=rust",
    ],
)
def test_meaningful_query_parameters_are_kept(link):
    assert canonical_link(link) == link
    assert canonical_link(link + "&utm_campaign=z") == link


def test_several_meaningful_parameters_all_survive():
    result = canonical_link("https://example.org/search?q=rust+build&b=2&a=1&utm_source=feed")
    assert dict(parse_qsl(urlsplit(result).query)) == {"q": "rust build", "b": "2", "a": "1"}


def test_host_and_scheme_are_lower_cased_but_not_the_path():
    assert canonical_link("HTTPS://Example.COM/Path/Case.html") == "https://example.com/Path/Case.html"


def test_fragment_is_dropped():
    assert canonical_link("https://example.org/story.html#comments") == "https://example.org/story.html"
    assert canonical_link("https://example.org/story.html#") == "https://example.org/story.html"


def test_surrounding_whitespace_is_ignored():
    assert canonical_link("  https://example.org/p\n") == "https://example.org/p"


@pytest.mark.parametrize(
    ("link", "base", "expected"),
    [
        ("/news/story.html", "https://example.org/feed.xml", "https://example.org/news/story.html"),
        ("story.html", "https://example.org/news/feed.xml", "https://example.org/news/story.html"),
        ("../x.html", "https://example.org/a/b/feed.xml", "https://example.org/a/x.html"),
        ("//cdn.example.org/x.html", "https://example.org/", "https://cdn.example.org/x.html"),
        ("/p?gclid=1&page=2#top", "https://Site.Example.org/feed", "https://site.example.org/p?page=2"),
        ("https://other.example/x", "https://example.org/feed.xml", "https://other.example/x"),
    ],
)
def test_relative_links_are_resolved_against_the_base(link, base, expected):
    assert canonical_link(link, base) == expected


def test_default_port_is_dropped():
    assert canonical_link("https://example.org:443/p") == "https://example.org/p"
    assert canonical_link("http://example.org:80/p") == "http://example.org/p"


HOST = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,8}\.(org|com|de)", fullmatch=True)
SEGMENT = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,9}", fullmatch=True)
VALUE = st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True)
MEANINGFUL = st.sampled_from(["id", "page", "v", "q", "lang", "p"])


@settings(max_examples=150, deadline=None)
@given(
    host=HOST,
    path=st.lists(SEGMENT, max_size=4),
    kept=st.dictionaries(MEANINGFUL, VALUE, max_size=3),
    tracking=st.dictionaries(st.sampled_from(TRACKING), VALUE, max_size=3),
    fragment=st.one_of(st.just(""), SEGMENT),
    order=st.randoms(use_true_random=False),
)
def test_canonical_link_properties(host, path, kept, tracking, fragment, order):
    params = [*kept.items(), *tracking.items()]
    order.shuffle(params)
    query = "&".join(f"{k}={v}" for k, v in params)
    link = f"https://{host}/{'/'.join(path)}" + (f"?{query}" if query else "") + (f"#{fragment}" if fragment else "")
    result = canonical_link(link)
    parts = urlsplit(result)
    assert parts.netloc == host.lower()
    assert parts.fragment == "" and "#" not in result
    assert dict(parse_qsl(parts.query)) == kept  # tracking gone, the rest intact
    assert canonical_link(result) == result  # idempotent


# -- entry_identity ---------------------------------------------------------------------------

FEED = "https://example.org/feed.xml"


def test_entry_identity_is_stable():
    assert entry_identity(FEED, "northwind-2026-048") == entry_identity(FEED, "northwind-2026-048")


def test_entry_identity_differs_per_entry_and_per_feed():
    identities = {
        entry_identity(FEED, "guid-1"),
        entry_identity(FEED, "guid-2"),
        entry_identity("https://other.example/feed.xml", "guid-1"),
        entry_identity("https://example.org/other.xml", "guid-1"),
    }
    assert len(identities) == 4


def test_entry_identity_is_url_shaped_under_the_feed():
    identity = entry_identity("https://Example.ORG/feed.xml?utm_source=x", "guid-1")
    assert identity.startswith("https://example.org/feed.xml#entry-")
    assert re.fullmatch(r"[0-9a-f]{20}", identity.rsplit("#entry-", 1)[1])



# URLs built from the characters that decide the fast path: host case, ports, punycode; "//" and
# "/..", characters courlan quotes or HTML-unescapes, queries and fragments.
# Plain characters are drawn most often, so that about half the URLs take the fast path.
_HOST_PARTS = st.lists(st.sampled_from(["a", "b", "0", ".", "-"] * 12 + ["B", "xn--", ":80", ":443", ":8080", "@", "_"]),
                       min_size=1, max_size=8)
_PATH_PARTS = st.lists(
    st.sampled_from(["a", "B", "0", ".", "-", "_", "~", "/", "%", "%2F", "!", "=", ":", ","] * 6
                    + ["//", "/..", "..", "/../", "é", " ", "?", "#", "&amp;", ";", "+", "'", "(", "|", "\t"]),
    max_size=12,
)


@settings(max_examples=1500, deadline=None)
@given(scheme=st.sampled_from(["http", "https", "HTTP", "ftp"]), host=_HOST_PARTS, path=_PATH_PARTS)
def test_the_fast_path_gives_what_courlan_gives(scheme, host, path):
    """canonical_link skips courlan only for URLs courlan would give back unchanged."""
    url = f"{scheme}://{''.join(host)}{''.join(path)}"
    if _ALREADY_CANONICAL.fullmatch(url):
        assert _normalised(url) == url


@pytest.mark.parametrize("url", ["https://example.org/2026/11/story-title.html", "http://127.0.0.1/a/",
                                 "https://news.example.co.uk/section/a-b_c~d", "https://example.org",
                                 "https://example.org/", "https://example.org/x/..b/c%20d"])
def test_plain_article_urls_take_the_fast_path(url):
    assert _ALREADY_CANONICAL.fullmatch(url) and _normalised(url) == url
