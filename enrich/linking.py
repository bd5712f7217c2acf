"""After enrichment: fold duplicate stories and update "you might also want to read" lists."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from enrich.dedup import DedupCandidate, DuplicateIndex, DuplicateMatch
from enrich.models import LinkCandidate, LinkResult
from enrich.related import RelatedIndex, RelatedRow, StoredLists


def _rows(articles: Sequence[LinkCandidate]) -> list[RelatedRow]:
    return [RelatedRow(a.url, a.language, a.published_at, a.vector) for a in articles if a.vector]


def link_articles(
    new: Sequence[LinkCandidate],
    pool: Sequence[LinkCandidate],
    stored_lists: Mapping[str, Sequence[tuple[str, float]]] | StoredLists | None = None,
) -> LinkResult:
    """Match new articles against stored ones: duplicates first, then related lists (new x pool only).

    ``stored_lists`` are the pool's related lists as stored, or the function that reads them
    (``Store.related_lists``: only the lists a new article may enter are read). A duplicate is
    never offered as related to its original, nor ranked itself; lists of stored articles change
    only where a new article outranks what they had.
    """
    # 1. Same story: the same canonical URL or near-identical text; the first one seen stays.
    stories = DuplicateIndex(DedupCandidate(a.url, a.canonical_url, a.fingerprint) for a in pool)
    duplicates: dict[str, DuplicateMatch] = {}
    originals: list[LinkCandidate] = []
    for article in new:
        match = stories.match(article.url, article.canonical_url, article.fingerprint)
        if match is not None:
            duplicates[article.url] = match
            continue
        stories.add(DedupCandidate(article.url, article.canonical_url, article.fingerprint))
        originals.append(article)

    # 2. Related: score the originals against the pool (and each other), merge into stored lists.
    index = RelatedIndex(
        _rows(pool),
        related=stored_lists,
        exclude=[(url, match.url) for url, match in duplicates.items()],
    )
    updates = index.add(_rows(originals))
    return LinkResult(duplicates, {url: list(ranked) for url, ranked in updates.items()})
