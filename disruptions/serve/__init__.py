"""The read side: everything a reader of the published marts uses. Queries (query.py),
exports (export.py), the HTML report (report.py, charts.py), `status` (status.py), the
leads' glossary (glossary.py); readers open the published file only (published.py)."""
