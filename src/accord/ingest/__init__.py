"""The single write path: every producer (CLI, REST, TAXII, web, federation, sweeps) ingests here."""

from accord.ingest.pipeline import IngestOptions, IngestResult, Outcome, ingest_items

__all__ = ["IngestOptions", "IngestResult", "Outcome", "ingest_items"]
