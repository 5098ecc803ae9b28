# Shared by the benchmark scripts (sourced, not run).

# One line describing the machine and the toolchain.
bench_machine() {
  echo "$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs)), $(free -g | awk '/Mem:/ {print $2}') GiB RAM, $(rustc --version)."
}

# bench_write_section KEY TITLE INTRO REPORT_FILE: puts "## TITLE", INTRO and the
# report between <!-- KEY:start --> and <!-- KEY:end --> in BENCHMARKS.md, replacing
# that section if it is there and keeping everything else.
bench_write_section() {
  [ -f BENCHMARKS.md ] || printf '# Benchmarks\n\nNumbers produced by the commands named in each section; rerun them to check.\n' >BENCHMARKS.md
  python3 - "$1" "$2" "$3" "$4" <<'PY'
import re, sys
key, title, intro, report = sys.argv[1], sys.argv[2], sys.argv[3], open(sys.argv[4]).read()
section = f"<!-- {key}:start -->\n## {title}\n\n{intro}\n\n{report}<!-- {key}:end -->"
text = open("BENCHMARKS.md").read()
pattern = re.compile(rf"<!-- {re.escape(key)}:start -->.*?<!-- {re.escape(key)}:end -->", re.S)
if pattern.search(text):
    text = pattern.sub(lambda _: section, text)
else:
    text = text.rstrip() + "\n\n" + section + "\n"
open("BENCHMARKS.md", "w").write(text)
PY
}

# bench_need_wrk: installs wrk from Debian's packages when it is missing (as root), or
# stops with how to install it.
bench_need_wrk() {
  command -v wrk >/dev/null && return 0
  if [ "$(id -u)" = 0 ]; then
    echo "bench: installing wrk from Debian's packages" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y wrk >/dev/null \
      || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y wrk >/dev/null; }
  else
    echo "bench: wrk is missing; install it with 'sudo apt-get install wrk'" >&2
    exit 1
  fi
}

# bench_pg_database ADMIN_URL NAME: creates the PostgreSQL database NAME unless it exists.
bench_pg_database() {
  psql "$1" -qtc "SELECT 1 FROM pg_database WHERE datname = '$2'" | grep -q 1 \
    || psql "$1" -qc "CREATE DATABASE $2"
}

# bench_median_runs RUN_FILE...: prints the report of several runs of one `steward
# bench` command as one: every line of the first run, except that each row of a
# `| Scenario | result | goal | |` table becomes the row of the run whose result is
# the median (its mark and counts with it) plus a "runs" cell with every run's result.
bench_median_runs() {
  python3 - "$@" <<'PY'
import re, sys
runs = [open(path).read().splitlines() for path in sys.argv[1:]]
if len({len(lines) for lines in runs}) != 1:
    sys.exit("bench: the runs printed reports of different shapes; not combining them")
def number(row):
    # The result's number: the one after "p50" in a "p50 …, p95 …" cell, else the first.
    cell = row.split("|")[2]
    match = re.search(r"p50 ([\d,]+(\.\d+)?)", cell) or re.search(r"([\d,]+(\.\d+)?)", cell)
    if not match:
        sys.exit(f"bench: no number in the result of: {row}")
    return match.group(1)
def value(row):
    return float(number(row).replace(",", ""))
in_table = False
for lines in zip(*runs):
    first = lines[0]
    if first.startswith("| Scenario | result | goal |"):
        in_table = True
        print("| Scenario | result (median) | runs | goal | |")
    elif in_table and first.startswith("|---"):
        print("|---|---:|---:|---:|---|")
    elif in_table and first.startswith("| "):
        ordered = sorted(lines, key=value)
        median = ordered[len(ordered) // 2].split("|")
        cell = median[2]
        unit = "ms (p50)" if "p50" in cell else re.sub(r"[\d,.\s]+", " ", cell).strip()
        every = ", ".join(number(row) for row in lines)
        print("|".join(median[:3] + [f" {every} {unit} "] + median[3:]))
    else:
        in_table = False
        print(first)
PY
}

# bench_median_of RUNS REPORT COMMAND...: runs COMMAND (a `steward-bench`) RUNS times and
# appends the runs to REPORT as one report (bench_median_runs).
bench_median_of() {
  local runs=$1 report=$2 run files=()
  shift 2
  for run in $(seq 1 "${runs}"); do
    echo "bench: run ${run} of ${runs}" >&2
    files+=("$(mktemp)")
    "$@" >"${files[-1]}"
  done
  bench_median_runs "${files[@]}" >>"${report}"
  rm -f "${files[@]}"
}
