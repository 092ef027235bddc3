# The image every Airflow service in docker-compose.yml runs: the pinned Airflow release
# (matching requirements.in) with this project and its locked dependencies installed.
FROM apache/airflow:3.3.2-python3.11

ENV DISRUPTIONS_PROJECT=/opt/disruptions \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

USER root
RUN mkdir -p ${DISRUPTIONS_PROJECT} /data/disruptions /data/landing /opt/airflow/auth \
 && chown -R airflow:0 ${DISRUPTIONS_PROJECT} /data /opt/airflow/auth
USER airflow

# Dependencies first, so that a code change does not reinstall them.
COPY --chown=airflow:0 requirements.lock ${DISRUPTIONS_PROJECT}/requirements.lock
RUN pip install --require-hashes -r ${DISRUPTIONS_PROJECT}/requirements.lock
# The PostgreSQL engine's extra (dbt-postgres), so the image runs either engine.
COPY --chown=airflow:0 requirements-postgres.lock ${DISRUPTIONS_PROJECT}/requirements-postgres.lock
RUN pip install --require-hashes -r ${DISRUPTIONS_PROJECT}/requirements-postgres.lock
# Celery workers (docker-compose.celery.yml).
COPY --chown=airflow:0 requirements-celery.lock ${DISRUPTIONS_PROJECT}/requirements-celery.lock
RUN pip install --require-hashes -r ${DISRUPTIONS_PROJECT}/requirements-celery.lock

# The spark engine's dbt (dbt-spark, pyspark with Spark's jars, about 0.5 GB) and Java 17,
# only with --build-arg WITH_SPARK=true. A virtualenv of its own: Great Expectations
# misbehaves beside pyspark (requirements-spark.in).
ARG WITH_SPARK=false
ENV DISRUPTIONS_SPARK_DBT=/opt/disruptions-spark/bin/dbt
COPY --chown=airflow:0 requirements-spark.lock ${DISRUPTIONS_PROJECT}/requirements-spark.lock
USER root
RUN if [ "$WITH_SPARK" = "true" ]; then \
      apt-get update -qq && apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless \
      && rm -rf /var/lib/apt/lists/* \
      && python -m venv /opt/disruptions-spark \
      && /opt/disruptions-spark/bin/pip install --require-hashes -r ${DISRUPTIONS_PROJECT}/requirements-spark.lock \
      && chown -R airflow:0 /opt/disruptions-spark; \
    fi
USER airflow
COPY --chown=airflow:0 pyproject.toml README.md ${DISRUPTIONS_PROJECT}/
COPY --chown=airflow:0 disruptions ${DISRUPTIONS_PROJECT}/disruptions
COPY --chown=airflow:0 dags ${DISRUPTIONS_PROJECT}/dags
COPY --chown=airflow:0 dbt_project ${DISRUPTIONS_PROJECT}/dbt_project
COPY --chown=airflow:0 expectations ${DISRUPTIONS_PROJECT}/expectations
COPY --chown=airflow:0 seeds ${DISRUPTIONS_PROJECT}/seeds
COPY --chown=airflow:0 queries ${DISRUPTIONS_PROJECT}/queries
# Editable, so that the package finds dbt_project/, expectations/ and seeds/ beside it.
RUN pip install --no-deps -e ${DISRUPTIONS_PROJECT}

WORKDIR ${DISRUPTIONS_PROJECT}
