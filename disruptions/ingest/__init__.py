"""Landing folder → raw.* tables, with the load ledger and the quarantine (see loader.py).

Files are found and fingerprinted (discovery.py), read whatever their format into one
SQL relation (readers.py), checked by the feed rules (rules.py) and loaded or
quarantined in one transaction per file (loader.py).
"""

from disruptions.ingest.loader import FileResult, IngestSummary, ingest_landing

__all__ = ["FileResult", "IngestSummary", "ingest_landing"]
