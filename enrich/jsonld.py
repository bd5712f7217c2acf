"""The page's JSON-LD: the objects its ``<script type="application/ld+json">`` blocks hold.

Shared by the metadata (dates, bylines) and the page signals (schema.org types, sections), which
read the same blocks two ways: every object, however deeply nested, or only the page's own items.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from lxml import etree

# Plain strings: lxml's default "smart" strings, which remember their parent element, cost more
# to make than the JSON costs to parse on most pages.
_SCRIPTS = etree.XPath("//script[@type='application/ld+json']/text()", smart_strings=False)


def _documents(tree) -> Iterator[object]:
    for script in _SCRIPTS(tree):
        try:
            yield json.loads(script)
        except ValueError:
            continue  # a broken block costs that block alone


def json_ld_objects(tree) -> Iterator[dict]:
    """Every JSON-LD object of the page, breadth first: top level, ``@graph`` members and lists within."""
    for data in _documents(tree):
        stack = [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                yield item
                stack.extend(v for k, v in item.items() if k == "@graph" or isinstance(v, list))


def json_ld_items(tree) -> Iterator[dict]:
    """The page's own JSON-LD items: top level, in a list, or in ``@graph``; not items nested in them."""
    for data in _documents(tree):
        for item in data if isinstance(data, list) else [data]:
            if not isinstance(item, dict):
                continue
            yield item
            graph = item.get("@graph")
            if isinstance(graph, list):
                yield from (member for member in graph if isinstance(member, dict))
