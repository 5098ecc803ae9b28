#!/usr/bin/env bash
# The bounded soak (loopback only): the whole application in one release process, and
# `wrk` sending a mix of signed-in pages, REST reads, identity creations and
# `/api/v1/authorize` decisions — a short reference run, then the soak. Writes the
# numbers into BENCHMARKS.md and exits non-zero when the soak fails (p99 above twice the
# reference run's, a failed request, a decision missing from the log, or memory that
# (heap) that keeps growing after the warm-up).
#
#   scripts/soak.sh                                   10 minutes on SQLite
#   STEWARD_SOAK_SECONDS=120 scripts/soak.sh          a shorter soak
#   STEWARD_SOAK_PG=1 scripts/soak.sh                 on PostgreSQL too
#   STEWARD_SOAK_WRITE=0 scripts/soak.sh              reads and decisions only
#
# Its databases (STEWARD_BENCH_IDENTITIES demo identities, default 100,000) are seeded on
# first use and kept; each soak adds its identity creations to them.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh

identities=${STEWARD_BENCH_IDENTITIES:-100000}
pg_admin=${STEWARD_BENCH_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/test}
pg_name="steward_bench_soak_${identities}"
pg_url="${pg_admin%/*}/${pg_name}"
# The server's own logs would compete with the load for the two cores.
export STEWARD_LOG=${STEWARD_LOG:-warn}

bench_need_wrk
cargo build --release -p steward-bench
mkdir -p target/bench
report=$(mktemp)
status=0

{
  echo "Measured $(date -u +%Y-%m-%d) on commit $(git rev-parse --short HEAD):"
  bench_machine
  echo "\`steward-bench --scenarios soak\`: the application served in one release process on loopback; \`wrk -t1 -c8\` cycles through blocks of twenty requests — twelve \`POST /api/v1/authorize\` decisions of 60 agents (one third denied), four REST reads (an identity, a page of the inventory, an identity's findings, the posture dashboard) and four signed-in pages (an identity, the inventory, the home page, grants) — with every twentieth request creating an identity through the API instead. First a reference run of ${STEWARD_SOAK_REFERENCE_SECONDS:-60} s, then the soak of ${STEWARD_SOAK_SECONDS:-600} s with the server's memory sampled every 5 s: anonymous resident memory (heap — what a leak grows) is judged; whole resident memory also counts the database pages SQLite maps, which grow with the file the soak writes to. Server and \`wrk\` share the machine's two cores."
  echo
} >"${report}"

echo "bench: soak on SQLite, ${identities} identities" >&2
./target/release/steward-bench --database-url "sqlite://target/bench/soak-${identities}.db" \
  --identities "${identities}" --label "SQLite" --scenarios soak >>"${report}" || status=$?
echo >>"${report}"

if [ "${STEWARD_SOAK_PG:-}" = "1" ]; then
  echo "bench: soak on PostgreSQL, ${identities} identities" >&2
  bench_pg_database "${pg_admin}" "${pg_name}"
  ./target/release/steward-bench --database-url "${pg_url}" \
    --identities "${identities}" --label "PostgreSQL" --scenarios soak >>"${report}" || status=$?
fi

bench_write_section soak "Soak" "Command: \`make soak\` (\`scripts/soak.sh\`; \`STEWARD_SOAK_SECONDS\`, \`STEWARD_SOAK_REFERENCE_SECONDS\`, \`STEWARD_SOAK_PG=1\`, \`STEWARD_SOAK_WRITE=0\`). Goals: anonymous resident memory flat after the warm-up (the highest sample of the last third at most 10 %, or 32 MiB, above the highest of the first third), p99 within 2× the short reference run's, no failed request, every answered decision logged." "${report}"
rm -f "${report}"
if [ "${status}" -ne 0 ]; then
  echo "bench: the soak FAILED (see BENCHMARKS.md)" >&2
  exit "${status}"
fi
echo "bench: the soak passed; wrote BENCHMARKS.md" >&2
