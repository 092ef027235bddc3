#!/bin/bash
# First start of the PostgreSQL container (docker-compose.celery.yml): the national
# warehouse's database and the pipeline's writer login, which is no superuser. CREATEROLE
# lets publication create the reader roles (docs/deployment.md).
set -euo pipefail
: "${DISRUPTIONS_PG_WRITER_PASSWORD:?set DISRUPTIONS_PG_WRITER_PASSWORD in .env}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  --set writer_password="$DISRUPTIONS_PG_WRITER_PASSWORD" <<'SQL'
CREATE ROLE disruptions_writer LOGIN CREATEROLE PASSWORD :'writer_password';
CREATE DATABASE disruptions OWNER disruptions_writer;
SQL
