"""Data quality: Great Expectations on every load (suites, frames, batches), held batches
and the steward's decisions, alerts, and the load-validation pages."""
