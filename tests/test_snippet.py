"""make_snippet / html_to_text: a feed's description as short, clean plain text.

Expected values are written by hand from the input; the property test checks the cut rule on
generated text.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from enrich.snippet import html_to_text, make_snippet

FEEDS = Path(__file__).resolve().parents[1] / "data" / "demo" / "site" / "feeds"


def _feed_descriptions(name: str) -> dict[str, str]:
    """Item title -> <description> as an XML parser hands it over (one level of escaping gone)."""
    root = etree.parse(str(FEEDS / name))
    # "{*}" matches RSS 1.0's namespaced elements and RSS 2.0's plain ones alike.
    return {item.findtext("{*}title"): item.findtext("{*}description") for item in root.iter("{*}item")}


# -- stripping and decoding ---------------------------------------------------------------------

def test_tags_are_stripped_and_their_text_kept():
    assert html_to_text('<p>The <em>diff</em> shows <a href="/x">what</a> changed.</p>') == (
        "The diff shows what changed."
    )


def test_block_elements_separate_words():
    assert html_to_text("<p>one</p><p>two</p><ul><li>three</li><li>four</li></ul>") == "one two three four"
    assert html_to_text("first<br>second") == "first second"


def test_paragraph_mode_puts_each_block_on_its_own_line():
    assert html_to_text("<p>one  two</p><p>three</p>", paragraphs=True) == "one two\nthree"


@pytest.mark.parametrize(
    ("fragment", "expected"),
    [
        ("Tom &amp; Jerry", "Tom & Jerry"),
        ("Caf&eacute; &amp; bar &mdash; open", "Café & bar — open"),
        # Escaped twice by the publisher: "&amp;amp;" in the HTML still means "&".
        ("Bahnhof, Innenstadt &amp;amp; Hochschule", "Bahnhof, Innenstadt & Hochschule"),
        ("&amp;mdash; and &amp;#8217;", "— and ’"),
        ("a&nbsp;&nbsp;b", "a b"),
    ],
)
def test_entities_are_decoded_including_double_escaped(fragment, expected):
    assert make_snippet(fragment) == expected


def test_whitespace_is_collapsed():
    assert make_snippet("<p>  lots\n\n of \t  space  </p>\n") == "lots of space"


def test_script_style_and_noscript_content_is_dropped():
    fragment = (
        "<p>Visible words.</p><script>var tracking = 'do not show';</script>"
        "<style>p { color: red }</style><noscript>Enable JavaScript</noscript><p>More words.</p>"
    )
    assert make_snippet(fragment) == "Visible words. More words."


def test_demo_feed_descriptions_come_out_clean():
    # RSS 2.0 escapes its markup once ("&lt;em&gt;") and writes "&amp;mdash;": after the XML
    # parser that is HTML with an <em> and an entity, as feedparser hands it over.
    northwind = _feed_descriptions("northwind.rss.xml")
    commit = northwind["A Practical Guide to Commit Messages Your Colleagues Will Actually Read"]
    assert make_snippet(commit) == (
        "The diff shows what changed. A good commit message explains why — and rarely takes "
        "more than two minutes to write."
    )
    # RSS 1.0 with "&amp;amp;": the HTML says "&amp;", the reader must see "&".
    stadtleben = _feed_descriptions("stadtleben.rdf.xml")
    radwege = stadtleben["Stadtrat gibt 14 Millionen Euro für neue Radwege frei"]
    assert make_snippet(radwege).endswith("zwischen Bahnhof, Innenstadt & Hochschule.")
    assert "&" + "amp;" not in make_snippet(radwege)


# -- empty input and fallbacks ------------------------------------------------------------------

@pytest.mark.parametrize("empty", [None, "", "   ", "\n\t", "<p></p>", "<!-- nothing -->", "<br/>"])
def test_empty_input_gives_empty_string(empty):
    assert make_snippet(empty) == ""
    assert html_to_text(empty) == ""


def test_falls_back_to_content_when_summary_is_empty():
    assert make_snippet("", "<p>The body of the entry.</p>") == "The body of the entry."
    assert make_snippet(None, "<p>The body of the entry.</p>") == "The body of the entry."
    # A summary that is only an image carries no text either.
    assert make_snippet('<img src="a.jpg" alt="">', "<p>Body.</p>") == "Body."


def test_summary_wins_over_content():
    assert make_snippet("<p>Short summary.</p>", "<p>Much longer content of the entry.</p>") == (
        "Short summary."
    )


# -- the cut ------------------------------------------------------------------------------------

def test_short_text_is_unchanged():
    text = "A sentence that fits."
    assert make_snippet(text, max_chars=300) == text
    exactly = "x" * 50
    assert make_snippet(exactly, max_chars=50) == exactly  # no ellipsis at exactly max_chars


def test_cut_at_a_word_boundary_with_ellipsis():
    text = "The quick brown fox jumps over the lazy dog near the river bank"
    # max_chars=20 keeps 19 characters, "The quick brown fox", and a space follows it.
    assert make_snippet(text, max_chars=20) == "The quick brown fox…"
    # max_chars=18 would end inside "fox", so the partial word goes.
    assert make_snippet(text, max_chars=18) == "The quick brown…"


def test_cut_drops_trailing_punctuation_before_the_ellipsis():
    assert make_snippet("Hello, world, and then many more words", max_chars=14) == "Hello, world…"


def test_a_single_long_word_is_cut_hard():
    assert make_snippet("x" * 400, max_chars=50) == "x" * 49 + "…"


WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzäöüßé0123456789,.;:-", min_size=1, max_size=15)


@settings(max_examples=200, deadline=None)
@given(words=st.lists(WORDS, min_size=1, max_size=80), max_chars=st.integers(min_value=1, max_value=200))
def test_snippet_never_exceeds_max_chars_and_cuts_between_words(words, max_chars):
    text = " ".join(words)
    snippet = make_snippet(text, max_chars=max_chars)
    assert len(snippet) <= max_chars
    if len(text) <= max_chars:
        assert snippet == text
        return
    assert snippet.endswith("…")
    kept = snippet[:-1]
    assert text.startswith(kept)
    if " " in text[: max_chars - 1]:
        # The cut falls between words: what follows the kept part is a space or punctuation
        # stripped before the ellipsis, never the rest of a word.
        assert kept == "" or text[len(kept)] in " ,;:.-–—"
