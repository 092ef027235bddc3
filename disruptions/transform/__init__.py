"""The models: dbt runs (dbt.py), the nightly build (build.py) and the dbt docs (docs.py)."""
