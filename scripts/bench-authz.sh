#!/usr/bin/env bash
# Measures runtime authorization with 10,000 agents loaded — in-process decisions, bare
# Cedar evaluation of the same requests, and `POST /api/v1/authorize` on loopback under
# `wrk` — on SQLite and PostgreSQL (unless STEWARD_BENCH_SKIP_PG=1), and writes the
# numbers into BENCHMARKS.md. Its databases (100,000 demo identities, about 15,000 of
# them agents) are seeded on first use and kept. Every timing is repeated in rounds
# (STEWARD_BENCH_AUTHZ_RUNS, default 3) and reported as the median round.
#
#   scripts/bench-authz.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh

identities=${STEWARD_BENCH_IDENTITIES:-100000}
pg_admin=${STEWARD_BENCH_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/test}
pg_name="steward_bench_authz_${identities}"
pg_url="${pg_admin%/*}/${pg_name}"
rounds=${STEWARD_BENCH_AUTHZ_RUNS:-3}

bench_need_wrk

cargo build --release -p steward-bench
mkdir -p target/bench
report=$(mktemp)

{
  echo "Measured $(date -u +%Y-%m-%d) on commit $(git rev-parse --short HEAD):"
  bench_machine
  echo "\`steward-bench --scenarios authz\`: 10,000 active agents of the demo register get a tool allowlist and session limits; each one's decision state (its limits, entitlements and delegations compiled into Cedar policies) is loaded, then 100,000 decisions are timed one by one through the service (cache lookup, change-feed check, Cedar) and the same requests evaluated by bare Cedar, ${rounds} rounds of each. Then \`POST /api/v1/authorize\` on loopback, 200 agents each with its own token and sessions, one third of the requests denied, under \`wrk -t1\` for 10 s per concurrency after a 2 s warm-up, in ${rounds} rounds (each round runs every concurrency once; each row is the round with the median p99, every round's p99 and rate beside it), with the decision log on (written in batches and counted after a flush). Server and \`wrk\` share the machine's two cores."
  echo
} >"${report}"

echo "bench: authorization on SQLite, ${identities} identities" >&2
./target/release/steward-bench --database-url "sqlite://target/bench/authz-${identities}.db" \
  --identities "${identities}" --runs "${rounds}" --label "SQLite" --scenarios authz >>"${report}"
echo >>"${report}"

if [ "${STEWARD_BENCH_SKIP_PG:-}" != "1" ]; then
  echo "bench: authorization on PostgreSQL, ${identities} identities" >&2
  bench_pg_database "${pg_admin}" "${pg_name}"
  ./target/release/steward-bench --database-url "${pg_url}" \
    --identities "${identities}" --runs "${rounds}" --label "PostgreSQL" --scenarios authz >>"${report}"
fi

bench_write_section authz "Runtime authorization" "Command: \`make bench-authz\` (\`scripts/bench-authz.sh\`). Goals: in-process evaluation p50 < 50 µs with 10,000 agents loaded; \`POST /api/v1/authorize\` p99 < 5 ms at ≥ 5,000 requests/s with logging on; the overhead of the endpoint over bare Cedar reported." "${report}"
rm -f "${report}"
echo "bench: wrote BENCHMARKS.md" >&2
