"""Article enrichment for an RSS reader: pure stages, no orchestration."""

__version__ = "0.1.0"
