#!/usr/bin/env bash
# Size of what a browser downloads, raw and gzip -9 (what a compressing proxy sends),
# into BENCHMARKS.md: the main bundle (WASM, JavaScript glue, the split loader, the
# stylesheet), each lazily loaded page group with the shared chunks it needs (from
# cargo-leptos's split manifest), and so what the first visit of each group's page
# downloads. Builds the release first (`make build`).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-lib.sh

make build >/dev/null
report=$(mktemp)
{
  echo "Measured $(date -u +%Y-%m-%d) on commit $(git rev-parse --short HEAD), $(bench_machine)"
  echo
  python3 - target/site/pkg <<'PY'
import functools, glob, gzip, json, os, sys

pkg = sys.argv[1]
# Cached: the chunks shared between groups are counted in each group and in the total.
@functools.cache
def size(name):
    data = open(os.path.join(pkg, name), "rb").read()
    return len(data), len(gzip.compress(data, 9))
kib = lambda n: f"{n / 1024:,.0f} KiB"

main = ["steward.wasm", "steward.js", "steward.css"] + sorted(
    os.path.basename(p) for p in glob.glob(os.path.join(pkg, "__wasm_split*.js")))
print("| main bundle (every page) | raw | gzip -9 |")
print("|---|---:|---:|")
main_gz = 0
for name in main:
    raw, gz = size(name)
    main_gz += gz
    print(f"| `{name}` | {kib(raw)} | {kib(gz)} |")
print(f"| **main bundle** | | **{kib(main_gz)}** |")
print()

manifests = glob.glob(os.path.join(pkg, "__wasm_split_manifest*.json"))
if not manifests:
    print("Not split: the main bundle holds every page.")
    sys.exit(0)
manifest = json.load(open(manifests[0]))
every = set()
print("| page group (its pages) | files | its code, gzip -9 | first visit of one of its pages, gzip -9 |")
print("|---|---:|---:|---:|")
pages = {
    "register_pages": "inventory, import, search",
    "identity_pages": "identity, identity form",
    "review_pages": "inbox, ownership, reviews, campaigns, campaign, evidence",
    "access_pages": "grants, grant, grant policies, agent policies, workload trust",
    "posture_pages": "posture, report, controls, audit",
}
for split, files in sorted(manifest.items()):
    group = split.rsplit("_", 1)[0]
    if group not in pages:
        sys.exit(f"bench-bundle: page group {group} is not described here (app/src/lib.rs has a new one)")
    gz = sum(size(f"{f}.wasm")[1] for f in files)
    every.update(files)
    print(f"| `{group}` ({pages[group]}) | {len(files)} | {kib(gz)} | {kib(main_gz + gz)} |")
all_gz = main_gz + sum(size(f"{f}.wasm")[1] for f in every)
print(f"| home and sign-in pages (in the main bundle) | 0 | — | {kib(main_gz)} |")
print()
print(f"Everything, every group loaded: {kib(all_gz)} gzip -9 in {len(main) + len(every)} files.")
PY
} >"${report}"
bench_write_section bundle "Browser bundle size" \
  "Command: \`make bench-bundle\` (\`scripts/bench-bundle.sh\`). \`make build\` splits the WASM (\`cargo leptos build --split\`): the home and sign-in pages are in the main bundle, the other pages in five lazily loaded groups, each fetched with the chunks it shares with other groups when one of its pages is first shown. Type-erased views (Leptos's \`erase_components\`, set for every build in \`.cargo/config.toml\`), opt-level z, LTO, wasm-opt from binaryen 132. Before the split (2026-12-06, commit 1064838) every page downloaded one bundle of 976 KiB gzip; before type erasure (2026-12-05) 1,481 KiB." \
  "${report}"
rm -f "${report}"
sed -n '/<!-- bundle:start -->/,/<!-- bundle:end -->/p' BENCHMARKS.md
