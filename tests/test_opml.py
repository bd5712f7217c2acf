"""parse_opml / read_feed_list: subscription lists in, feed URLs with their folder out."""

from __future__ import annotations

from pathlib import Path

import pytest

from enrich.opml import FeedListError, Subscription, parse_opml, read_feed_list

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "text"
DEMO_OPML = Path(__file__).resolve().parents[1] / "data" / "demo" / "site" / "feeds.opml"


def test_demo_opml_gives_each_feed_its_folder_as_category():
    subscriptions = read_feed_list(DEMO_OPML)
    assert subscriptions == [
        Subscription("{{DEMO_BASE}}/feeds/northwind.rss.xml", "Northwind Tech Journal", "Technology"),
        Subscription("{{DEMO_BASE}}/feeds/cuaderno.atom.xml", "Cuaderno de Mesa y Camino", "Food"),
        Subscription("{{DEMO_BASE}}/feeds/stadtleben.rdf.xml", "Stadtleben Rundschau", "News"),
        Subscription("{{DEMO_BASE}}/feeds/kissa.rss.xml", "喫茶ノート", "Personal"),
    ]


def test_nested_outlines():
    subscriptions = read_feed_list(FIXTURES / "nested.opml")
    assert subscriptions == [
        Subscription("https://unfiled.example/feed.xml", "Unfiled Blog", None),
        Subscription("https://compilers.example/rss", "Compilers Weekly", "Programming"),
        Subscription("https://crates.example/atom.xml", "This Week in Crates", "Rust"),
        Subscription("https://cuaderno.example/atom.xml", "Cuaderno de Mesa y Camino", "Noticias"),
        Subscription("https://podcast.example/feed", "Podcast", None),
        Subscription("https://podcast.example/episode-feed", "Episode feed", None),
    ]


def test_lower_case_xmlurl_attribute_is_accepted():
    data = b'<opml version="1.0"><body><outline text="Old export" xmlurl="https://old.example/rss"/></body></opml>'
    assert parse_opml(data) == [Subscription("https://old.example/rss", "Old export", None)]


def test_opml_without_feeds_is_an_empty_list():
    assert parse_opml(b'<opml version="2.0"><head/><body><outline text="Empty"/></body></opml>') == []


def test_byte_order_mark_before_the_xml_declaration():
    data = b'\xef\xbb\xbf<?xml version="1.0" encoding="UTF-8"?><opml><body><outline xmlUrl="https://z.example/f"/></body></opml>'
    assert parse_opml(data) == [Subscription("https://z.example/f")]


# -- plain text lists -----------------------------------------------------------------------------

def test_plain_text_list_with_comments_and_blank_lines():
    assert [s.url for s in read_feed_list(FIXTURES / "feeds.txt")] == [
        "https://northwind.example/feeds/northwind.rss.xml",
        "https://cuaderno.example/atom.xml",
        "http://stadtleben.example/rdf.xml",
        "https://kissa.example/index.xml#latest",
    ]


def test_plain_text_list_saved_with_a_byte_order_mark(tmp_path):
    path = tmp_path / "feeds.txt"
    path.write_bytes("https://a.example/feed.xml\r\nhttps://b.example/rss\r\n".encode("utf-8-sig"))
    assert [s.url for s in read_feed_list(path)] == ["https://a.example/feed.xml", "https://b.example/rss"]


def test_an_empty_list_is_empty(tmp_path):
    path = tmp_path / "feeds.txt"
    path.write_text("# nothing yet\n\n")
    assert read_feed_list(path) == []


@pytest.mark.parametrize(
    ("content", "number"),
    [
        ("https://ok.example/feed\nnot a url\n", 2),
        ("# header\n\nftp://files.example/feed.xml\n", 3),
        ("www.example.org/feed.xml\n", 1),
        ("https://ok.example/feed\n  feeds/local.xml  # relative\n", 2),
    ],
)
def test_a_bad_line_is_reported_with_its_number(tmp_path, content, number):
    path = tmp_path / "feeds.txt"
    path.write_text(content)
    with pytest.raises(FeedListError, match=rf"feeds\.txt:{number}:"):
        read_feed_list(path)


def test_a_missing_file_is_a_feed_list_error(tmp_path):
    with pytest.raises(FeedListError):
        read_feed_list(tmp_path / "absent.opml")


def test_opml_is_recognised_by_content_whatever_the_suffix(tmp_path):
    path = tmp_path / "subscriptions.txt"
    path.write_bytes(DEMO_OPML.read_bytes())
    assert len(read_feed_list(path)) == 4


# -- broken and hostile XML ---------------------------------------------------------------------

@pytest.mark.parametrize(
    "data",
    [
        b'<opml><body><outline text="broken"></body>',  # mismatched tags
        b"<opml><body><outline xmlUrl='https://a.example/f'>",  # truncated
        b"",
        b"\x00\x01\x02 not xml at all",
    ],
)
def test_malformed_xml_is_a_feed_list_error(data):
    with pytest.raises(FeedListError):
        parse_opml(data)


def test_malformed_opml_file_is_a_feed_list_error(tmp_path):
    path = tmp_path / "broken.opml"
    path.write_bytes(b'<?xml version="1.0"?><opml><body><outline text="a" xmlUrl="https://a.example/f"></opml>')
    with pytest.raises(FeedListError):
        read_feed_list(path)


def _hostile(entity_target: str, use: str) -> bytes:
    return (
        f'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY e SYSTEM "{entity_target}">]>'
        f'<opml version="2.0"><body>{use}</body></opml>'
    ).encode()


@pytest.mark.parametrize(
    "use",
    [
        '<outline text="&e;" title="&e;" xmlUrl="https://a.example/feed"/>',  # in attributes
        '<outline text="x" xmlUrl="https://a.example/feed">&e;</outline>',  # in content
    ],
)
def test_external_entities_are_never_read(tmp_path, use):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-MARKER")
    for target in ("file:///etc/passwd", secret.as_uri()):
        try:
            subscriptions = parse_opml(_hostile(target, use))
        except FeedListError:
            continue  # refusing the document is fine too
        dumped = repr(subscriptions)
        assert "TOPSECRET-MARKER" not in dumped and "root:" not in dumped


def test_external_entity_file_in_read_feed_list(tmp_path):
    path = tmp_path / "xxe.opml"
    path.write_bytes(_hostile("file:///etc/passwd", '<outline text="&e;" xmlUrl="https://a.example/feed"/>'))
    try:
        subscriptions = read_feed_list(path)
    except FeedListError:
        return
    assert "root:" not in repr(subscriptions)


def test_entity_expansion_bomb_is_refused_quickly():
    entities = '<!ENTITY l0 "lollollollollollollollollollol">' + "".join(
        f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)
    )
    data = (
        f'<?xml version="1.0"?><!DOCTYPE opml [{entities}]>'
        '<opml><body><outline text="&l9;" xmlUrl="https://a.example/f"/></body></opml>'
    ).encode()
    # 10^9 "lol"s if expanded: the parser's amplification limit refuses it before that happens.
    with pytest.raises(FeedListError, match="(?i)amplification|entity"):
        parse_opml(data)
