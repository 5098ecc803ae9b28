#!/usr/bin/env bash
# The browser suite's PostgreSQL server (end2end/tests/postgres.spec.ts): a fresh
# database `steward_e2e` on the server of STEWARD_TEST_PG_URL (dropped and made again
# at every start, so a run killed half-way leaves at most this one behind), demo data,
# then `steward serve` on it. Playwright runs it from end2end/ as one of its web servers.
set -euo pipefail
: "${STEWARD_TEST_PG_URL:?STEWARD_TEST_PG_URL names the PostgreSQL server for the smoke run}"
admin_url=${STEWARD_TEST_PG_URL}
# The same server, another database: replace the path of the URL (keep any query).
base=${admin_url%%\?*}
query=${admin_url#"$base"}
name=steward_e2e
psql "${admin_url}" -q -v ON_ERROR_STOP=1 \
  -c "DROP DATABASE IF EXISTS ${name} WITH (FORCE)" -c "CREATE DATABASE ${name}" >/dev/null
DATABASE_URL="${base%/*}/${name}${query}" exec ../target/release/steward serve
