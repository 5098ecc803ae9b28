#!/usr/bin/env bash
# Size of what a browser downloads: the release WASM bundle, its JavaScript glue and the
# stylesheet, raw and gzip -9 (what a compressing proxy sends), into BENCHMARKS.md.
# Builds the release first (`make build`).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-lib.sh

make build >/dev/null
report=$(mktemp)
{
  echo "Measured $(date -u +%Y-%m-%d) on commit $(git rev-parse --short HEAD), $(bench_machine)"
  echo
  echo "| file | raw | gzip -9 |"
  echo "|---|---:|---:|"
  total=0
  for file in steward.wasm steward.js steward.css; do
    path="target/site/pkg/${file}"
    raw=$(stat -c %s "${path}")
    gz=$(gzip -9 -c "${path}" | wc -c)
    total=$((total + gz))
    printf '| `%s` | %s KiB | %s KiB |\n' "${file}" "$((raw / 1024))" "$((gz / 1024))"
  done
  printf '| **all** | | **%s KiB** |\n' "$((total / 1024))"
} >"${report}"
bench_write_section bundle "Browser bundle size" \
  "Command: \`make bench-bundle\` (\`scripts/bench-bundle.sh\`). One bundle hydrates every page: type-erased views (Leptos's \`erase_components\`, set for every build in \`.cargo/config.toml\`), opt-level z, LTO, wasm-opt from binaryen 132. Erasing the views took the bundle from 1,481 KiB gzip (2026-12-05, typed views) to under 1 MiB; it is not split per page." \
  "${report}"
rm -f "${report}"
cat BENCHMARKS.md | sed -n '/<!-- bundle:start -->/,/<!-- bundle:end -->/p'
