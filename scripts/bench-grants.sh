#!/usr/bin/env bash
# Measures just-in-time grants — a burst of grants expiring at the same moment, and
# grant requests through the API on loopback — on SQLite and PostgreSQL (unless
# STEWARD_BENCH_SKIP_PG=1), and writes the numbers into BENCHMARKS.md. It uses the
# inventory benchmark's registers (1,000,000 demo identities by default; seeded on first
# use and kept): one grant for each of the first 100,000 identities.
#
#   scripts/bench-grants.sh
#   STEWARD_BENCH_IDENTITIES=20000 STEWARD_BENCH_GRANT_RUNS=1 scripts/bench-grants.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh

identities=${STEWARD_BENCH_IDENTITIES:-1000000}
runs=${STEWARD_BENCH_GRANT_RUNS:-3}
pg_admin=${STEWARD_BENCH_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/test}
pg_name="steward_bench_${identities}"
pg_url="${pg_admin%/*}/${pg_name}"

cargo build --release -p steward-bench
mkdir -p target/bench
report=$(mktemp)

{
  echo "Measured $(date -u +%Y-%m-%d) on commit $(git rev-parse --short HEAD):"
  bench_machine
  echo "\`steward-bench --scenarios grants\`, ${runs} runs per database, each row from the run with the median result (every run's result beside it): one active grant for each of the first 100,000 of the register's ${identities} identities (by id) written with the same expiry, then one run of the expiry worker (batches of 5,000, each with its audit events in one transaction); then grant requests through \`POST /api/v1/grants\` on loopback from 32 concurrent clients under an automatically approving policy (each request authenticated with an API token, checked, written and audited)."
  echo
} >"${report}"

echo "bench: grants on SQLite, ${identities} identities" >&2
bench_median_of "${runs}" "${report}" ./target/release/steward-bench \
  --database-url "sqlite://target/bench/inventory-${identities}.db" \
  --identities "${identities}" --label "SQLite" --scenarios grants
echo >>"${report}"

if [ "${STEWARD_BENCH_SKIP_PG:-}" != "1" ]; then
  bench_pg_database "${pg_admin}" "${pg_name}"
  echo "bench: grants on PostgreSQL, ${identities} identities" >&2
  bench_median_of "${runs}" "${report}" ./target/release/steward-bench --database-url "${pg_url}" \
    --identities "${identities}" --label "PostgreSQL" --scenarios grants
fi

bench_write_section grants "Just-in-time grants" "Command: \`make bench-grants\` (\`scripts/bench-grants.sh\`). Goals: a burst of 100,000 grants expiring at the same moment processed in < 10 s on PostgreSQL; grant requests through the API ≥ 1,000/s." "${report}"
rm -f "${report}"
echo "bench: wrote BENCHMARKS.md" >&2
