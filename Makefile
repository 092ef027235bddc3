# The one interface between the components: CI and the README call these targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DISRUPTIONS_HOME ?= $(CURDIR)/data

.PHONY: help venv venv-postgres venv-celery venv-spark system-deps demo test lint format bench fuzz clean

help:
	@echo "make demo   - generate the national sample and run the nightly pipeline through Airflow"
	@echo "make test   - lint, then every test (unit, dbt, GX, Airflow, browser)"
	@echo "make bench  - scale benchmarks (BENCH_ROWS=10000000 for 10M rows)"
	@echo "make fuzz   - the hostile-input property tests, with many more examples"

# The virtualenv is rebuilt whenever the lock file changes.
$(BIN)/.installed: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.8
	$(BIN)/uv pip install --quiet --python $(BIN)/python --require-hashes -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

venv: $(BIN)/.installed

# The PostgreSQL engine's extra (dbt-postgres), hash-pinned; `make demo` never needs it.
$(BIN)/.postgres-installed: requirements-postgres.lock $(BIN)/.installed
	$(BIN)/uv pip install --quiet --python $(BIN)/python --require-hashes -r requirements-postgres.lock
	touch $@

venv-postgres: $(BIN)/.postgres-installed

# Airflow's Celery executor (celery, the provider, redis's client), hash-pinned; for the
# docker-compose.celery.yml topology and its bare-metal test.
$(BIN)/.celery-installed: requirements-celery.lock $(BIN)/.installed
	$(BIN)/uv pip install --quiet --python $(BIN)/python --require-hashes -r requirements-celery.lock
	touch $@

venv-celery: $(BIN)/.celery-installed

# The spark engine's dbt (dbt-spark and pyspark, with Spark's jars), hash-pinned, in a
# virtualenv of its own: Great Expectations misbehaves beside pyspark (requirements-spark.in).
SPARK_VENV := .venv-spark
$(SPARK_VENV)/bin/.installed: requirements-spark.lock $(BIN)/.installed
	test -x $(SPARK_VENV)/bin/python || $(PYTHON) -m venv $(SPARK_VENV)
	$(BIN)/uv pip install --quiet --python $(SPARK_VENV)/bin/python --require-hashes -r requirements-spark.lock
	touch $@

venv-spark: $(SPARK_VENV)/bin/.installed

# Debian packages the end-to-end tests use for real: PostgreSQL (the docker-compose
# topology without Docker) and Chromium (the report rendered in a real browser).
system-deps:
	@bash scripts/install-system-deps.sh

demo: venv
	$(BIN)/disruptions demo

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Two workers, one per core, each running whole test modules (their module fixtures, such
# as a night on a Spark cluster, are built once): most tests wait on subprocesses, servers
# and JVMs, so the second worker nearly halves the wall time.
test: venv venv-postgres venv-celery venv-spark system-deps lint
	$(BIN)/python -m pytest -n 2 --dist loadscope

# The property tests of tests/fuzz with the `fuzz` Hypothesis profile: 400 examples of
# ingest and validation, 25 whole nights (about an hour on 2 cores).
fuzz: venv system-deps
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest tests/fuzz -p no:cacheprovider

bench: venv venv-postgres venv-spark system-deps
	$(BIN)/python -m benchmarks.run --rows $${BENCH_ROWS:-1000000} $${BENCH_ARGS:-}

clean:
	rm -rf data dbt_project/target dbt_project/logs .pytest_cache
