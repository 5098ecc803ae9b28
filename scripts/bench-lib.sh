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
