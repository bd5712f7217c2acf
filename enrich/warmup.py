"""Imported by the enrichment workers' fork server before it forks a worker: enriches two small
English articles, so everything the stages load on first use is loaded once, in the fork server,
and every worker starts with it (shared copy-on-write) instead of loading it again.

First use is mostly imports and models: NLTK (which imports scipy.stats) and sumy for the
summary, spaCy and the English pipeline for sentences and quotes, langdetect's profiles, both
topic models. Measured in a fresh process: the first English page cost 1.6 s of CPU, the next
ones 20-100 ms; a run with two workers paid it twice, then again in every run.

Other languages' pipelines still load in a worker on its first article in that language.
A warm-up that fails only costs the time it would have saved: the fork server must start whatever
happens here, or no worker could.

It runs with the cyclic garbage collector off and freezes what it loaded
(``enrich.workers.loading_frozen``): 1.9 s of CPU instead of 2.35, on the path to the first worker.
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import UTC, datetime

from enrich.workers import loading_frozen, quiet_cut_off_starts

log = logging.getLogger(__name__)

# Written for this project: a short page (the page topic model, summary and quotes) and a feed
# entry without a page (the short-text topic model).
_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Town library reopens after a year of repairs</title>
<meta name="author" content="Sam Rivera"></head><body><article>
<h1>Town library reopens after a year of repairs</h1>
<p>The public library on Mill Street reopened on Saturday after a year of repairs to its roof,
its heating and the reading room that flooded during the storms of last winter.</p>
<p>"We missed the noise of the children's corner more than anything," said the head librarian,
who has worked in the building for twenty-two years. About 400 people came through the doors
in the first hour, many of them returning books borrowed before the closure.</p>
<p>The council paid for most of the work, and a fundraising drive by local schools covered new
shelves and a small room for study groups. The library will now stay open until eight in the
evening on weekdays, two hours later than before.</p>
<p>Volunteers are still needed for the Saturday reading club, which starts again next month.</p>
</article></body></html>"""
_FEED_TEXT = "Volunteers wanted for the Saturday reading club at the reopened town library."


def import_nltk() -> None:
    """Import sumy's stemmers, and with them NLTK (sumy's rankers import it too), without scipy.stats.

    NLTK's package imports all its modules; one of them, ``nltk.metrics.association``, imports
    scipy.stats for a Fisher test that nothing here calls, and falls back to a stub when it cannot:
    0.42 s of the warm-up's 1.9 s of CPU, on the way to the first worker. A ``None`` entry in
    ``sys.modules`` makes that import fail (Python's documented way); it is removed straight after,
    so anything that does need scipy.stats still imports it.
    """
    if "nltk" in sys.modules or "scipy.stats" in sys.modules:
        return
    sys.modules["scipy.stats"] = None
    try:
        import sumy.nlp.stemmers  # noqa: F401 - NLTK through the package that needs it
    except Exception:  # noqa: BLE001 - the stages import it again, and report what is wrong then
        pass
    finally:
        del sys.modules["scipy.stats"]


def warm_up() -> None:
    """Enrich the two articles above, in this process; log and go on if that fails."""
    try:
        from enrich.models import EnrichOptions, FeedEntry, FetchResult
        from enrich.pipeline import enrich_entry

        now = datetime.now(UTC)
        options = EnrichOptions()
        for number, page in ((1, _PAGE), (2, None)):
            url = f"https://library.example/news/{number}"
            entry = FeedEntry(
                feed_url="https://library.example/feed", entry_id=url, url=url,
                link=url if page else None,
                title="Town library reopens after a year of repairs", author=None, published_at=now,
                updated_at=None, tags=(), summary_html=_FEED_TEXT, content_html=None, content_hash=str(number),
            )
            fetched = None if page is None else FetchResult(
                url=url, final_url=url, ok=True, http_status=200, content_type="text/html",
                body=page.encode(), encoding="utf-8",
            )
            enrich_entry(entry, fetched, options, now=now)
    except Exception:  # noqa: BLE001 - the workers then load on first use, as they would without this
        log.exception("warming up the enrichment stages failed")


with loading_frozen():
    import_nltk()
    warm_up()
quiet_cut_off_starts(os.getpid())
