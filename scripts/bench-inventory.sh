#!/usr/bin/env bash
# Measures the inventory (list, search, sort, facets, identity page) on a large demo
# register on SQLite and PostgreSQL, and writes the numbers into BENCHMARKS.md.
#
#   scripts/bench-inventory.sh            1,000,000 identities, 20 runs per scenario
#   STEWARD_BENCH_IDENTITIES=100000 STEWARD_BENCH_RUNS=10 scripts/bench-inventory.sh
#
# The databases are kept (target/bench/…, and a PostgreSQL database per size) so a
# second run measures again without seeding again. Set STEWARD_BENCH_SKIP_PG=1 to
# measure SQLite only.
set -euo pipefail
cd "$(dirname "$0")/.."

identities=${STEWARD_BENCH_IDENTITIES:-1000000}
runs=${STEWARD_BENCH_RUNS:-20}
pg_admin=${STEWARD_BENCH_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/test}
pg_name="steward_bench_${identities}"
pg_url="${pg_admin%/*}/${pg_name}"

cargo build --release -p steward-server --bin steward --no-default-features
mkdir -p target/bench
report=$(mktemp)

{
  echo "Measured $(date -u +%Y-%m-%d) on commit $(git rev-parse --short HEAD):"
  echo "$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs)), $(free -g | awk '/Mem:/ {print $2}') GiB RAM, $(rustc --version)."
  echo "Server time through the service layer (no HTTP), one warm-up run then ${runs} timed runs; identities seeded by \`steward demo\` (seed 42) with credentials, entitlements and delegations in proportion."
  echo
} >"${report}"

echo "bench: SQLite, ${identities} identities" >&2
./target/release/steward bench --database-url "sqlite://target/bench/inventory-${identities}.db" \
  --identities "${identities}" --runs "${runs}" --label "SQLite" >>"${report}"
echo >>"${report}"

if [ "${STEWARD_BENCH_SKIP_PG:-}" != "1" ]; then
  echo "bench: PostgreSQL, ${identities} identities" >&2
  psql "${pg_admin}" -qtc "SELECT 1 FROM pg_database WHERE datname = '${pg_name}'" | grep -q 1 \
    || psql "${pg_admin}" -qc "CREATE DATABASE ${pg_name}"
  ./target/release/steward bench --database-url "${pg_url}" \
    --identities "${identities}" --runs "${runs}" --label "PostgreSQL" >>"${report}"
fi

# Replace the inventory section of BENCHMARKS.md (between its markers), keep the rest.
[ -f BENCHMARKS.md ] || printf '# Benchmarks\n\nNumbers produced by the commands named in each section; rerun them to check.\n' >BENCHMARKS.md
python3 - "${report}" <<'PY'
import re, sys
report = open(sys.argv[1]).read()
section = ("<!-- inventory:start -->\n## Inventory on a large register\n\n"
           "Command: `make bench-inventory` (`scripts/bench-inventory.sh`). Goals: any single filter + sort page "
           "< 50 ms p95, facet counts < 200 ms, identity page < 50 ms.\n\n" + report + "<!-- inventory:end -->")
text = open("BENCHMARKS.md").read()
if "<!-- inventory:start -->" in text:
    text = re.sub(r"<!-- inventory:start -->.*?<!-- inventory:end -->", lambda _: section, text, flags=re.S)
else:
    text = text.rstrip() + "\n\n" + section + "\n"
open("BENCHMARKS.md", "w").write(text)
PY
rm -f "${report}"
echo "bench: wrote BENCHMARKS.md" >&2
