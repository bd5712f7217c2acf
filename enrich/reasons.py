"""Stable reason keys for what went wrong with an article or a run, in one place.

Fetch failures carry their own ``fetch.*`` keys from enrich.fetch and feed polls ``poll.*`` or
``fetch.*``; the keys below are the ones enrichment and the run's bookkeeping give. They are
stored in ``failures.reason`` and ``articles.reason``, so they never change once released.
"""

from __future__ import annotations

# The stages of enrich_entry that run guarded: when one raises, its field is left empty, the
# article keeps the rest, and the failure is recorded as enrich.<stage>.
STAGES = (
    "extract", "feed_text", "metadata", "language", "reading_time", "sentences", "summary", "quotes",
    "topics", "kind", "vector", "fingerprint", "snippet",
)
STAGE_REASONS = {stage: f"enrich.{stage}" for stage in STAGES}

EXTRACT_EMPTY = "extract.empty"  # no article text in the page or the feed
ENRICH_FAILED = "enrich.failed"  # the whole record broke outside any stage (e.g. a worker died)
ENRICH_CRASHED = "enrich.crashed"  # the batch's fetch-and-enrich task raised: its articles were not enriched
STORE_FAILED = "store.failed"  # the database refused an article's row
LINK_FAILED = "link.failed"  # duplicate folding and related lists could not be updated
