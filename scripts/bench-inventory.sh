#!/usr/bin/env bash
# Measures the inventory (list, search, sort, facets, identity page) on a large demo
# register on SQLite and PostgreSQL, through the service layer and then as pages over
# HTTP on loopback (with wrk) with the server's memory, and writes the numbers into
# BENCHMARKS.md.
#
#   scripts/bench-inventory.sh            1,000,000 identities, 20 runs per scenario
#   STEWARD_BENCH_IDENTITIES=100000 STEWARD_BENCH_RUNS=10 scripts/bench-inventory.sh
#
# The databases are kept (target/bench/…, and a PostgreSQL database per size) so a
# second run measures again without seeding again. Set STEWARD_BENCH_SKIP_PG=1 to
# measure SQLite only.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh

identities=${STEWARD_BENCH_IDENTITIES:-1000000}
runs=${STEWARD_BENCH_RUNS:-20}
pg_admin=${STEWARD_BENCH_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/test}
pg_name="steward_bench_${identities}"
pg_url="${pg_admin%/*}/${pg_name}"
# The server's request log would compete with the measured pages for the two cores.
export STEWARD_LOG=${STEWARD_LOG:-warn}

bench_need_wrk
cargo build --release -p steward-bench
mkdir -p target/bench
report=$(mktemp)

{
  echo "Measured $(date -u +%Y-%m-%d) on commit $(git rev-parse --short HEAD):"
  bench_machine
  echo "First server time through the service layer (no HTTP), one warm-up run then ${runs} timed runs; then the pages over HTTP (below each table); identities seeded by \`steward demo\` (seed 42) with credentials, entitlements and delegations in proportion."
  echo
} >"${report}"

echo "bench: SQLite, ${identities} identities" >&2
./target/release/steward-bench --database-url "sqlite://target/bench/inventory-${identities}.db" \
  --identities "${identities}" --runs "${runs}" --label "SQLite" >>"${report}"
echo >>"${report}"

if [ "${STEWARD_BENCH_SKIP_PG:-}" != "1" ]; then
  echo "bench: PostgreSQL, ${identities} identities" >&2
  bench_pg_database "${pg_admin}" "${pg_name}"
  ./target/release/steward-bench --database-url "${pg_url}" \
    --identities "${identities}" --runs "${runs}" --label "PostgreSQL" >>"${report}"
fi

bench_write_section inventory "Inventory on a large register" "Command: \`make bench-inventory\` (\`scripts/bench-inventory.sh\`). Goals: any single filter + sort page < 50 ms p95, facet counts < 200 ms, identity page < 50 ms (p95 in the service layer, p99 over HTTP); over HTTP every page < 50 ms p99, and the counts the browser asks for after a common search's page < 200 ms p99." "${report}"
rm -f "${report}"
echo "bench: wrote BENCHMARKS.md" >&2
