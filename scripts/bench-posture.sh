#!/usr/bin/env bash
# Measures the findings engine and the dashboard on a large demo register (SQLite,
# and PostgreSQL unless STEWARD_BENCH_SKIP_PG=1) and writes the numbers into
# BENCHMARKS.md. Shares its databases with scripts/bench-inventory.sh (seeded on first
# use, kept afterwards).
#
#   scripts/bench-posture.sh            1,000,000 identities, 20 dashboard runs
#   STEWARD_BENCH_IDENTITIES=100000 STEWARD_BENCH_POSTURE_RUNS=1 scripts/bench-posture.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh

identities=${STEWARD_BENCH_IDENTITIES:-1000000}
runs=${STEWARD_BENCH_RUNS:-20}
repeats=${STEWARD_BENCH_POSTURE_RUNS:-3}
pg_admin=${STEWARD_BENCH_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/test}
pg_name="steward_bench_${identities}"
pg_url="${pg_admin%/*}/${pg_name}"

cargo build --release -p steward-bench
mkdir -p target/bench
report=$(mktemp)

{
  echo "Measured $(date -u +%Y-%m-%d) on commit $(git rev-parse --short HEAD):"
  bench_machine
  echo "\`steward-bench --scenarios posture\`: every finding and snapshot is deleted, then the register is evaluated twice (the first run writes every finding, the second finds nothing changed); then the dashboard (its data through the service layer and every chart drawn with plotters) one warm-up and ${runs} timed runs. All of it ${repeats} times per database; each row is the run with the median result (the dashboard's: its p50), every run's result beside it. Each repetition deletes and rewrites every finding again, so later runs read a file that has been through more of that."
  echo
} >"${report}"

echo "bench: posture on SQLite, ${identities} identities" >&2
bench_median_of "${repeats}" "${report}" ./target/release/steward-bench \
  --database-url "sqlite://target/bench/inventory-${identities}.db" \
  --identities "${identities}" --runs "${runs}" --label "SQLite" --scenarios posture
echo >>"${report}"

if [ "${STEWARD_BENCH_SKIP_PG:-}" != "1" ]; then
  echo "bench: posture on PostgreSQL, ${identities} identities" >&2
  bench_pg_database "${pg_admin}" "${pg_name}"
  bench_median_of "${repeats}" "${report}" ./target/release/steward-bench --database-url "${pg_url}" \
    --identities "${identities}" --runs "${runs}" --label "PostgreSQL" --scenarios posture
fi

bench_write_section posture "Findings evaluation and the posture dashboard" "Command: \`make bench-posture\` (\`scripts/bench-posture.sh\`). Goals: a full evaluation of 1M identities < 60 s on SQLite; the dashboard < 200 ms server time with 1M identities." "${report}"
rm -f "${report}"
echo "bench: wrote BENCHMARKS.md" >&2
