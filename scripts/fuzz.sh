#!/usr/bin/env bash
# Runs every import parser's cargo-fuzz target for a bounded time (FUZZ_SECONDS each,
# default 30). Installs cargo-fuzz when missing. libFuzzer needs unstable compiler
# flags; on the stable toolchain they are allowed with RUSTC_BOOTSTRAP=1 (no sanitizer:
# the parsers are safe Rust, so a panic is what is looked for).
#
#   scripts/fuzz.sh                     all targets, 30 s each
#   FUZZ_SECONDS=300 scripts/fuzz.sh steward_csv
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
export PATH="$HOME/.cargo/bin:$PATH"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz (once)" >&2
  cargo install cargo-fuzz --locked
fi

seconds=${FUZZ_SECONDS:-30}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)
for target in "${targets[@]}"; do
  echo "fuzz: ${target} for ${seconds} s" >&2
  # Real files of the format as the starting corpus.
  mkdir -p "corpus/${target}"
  case "${target}" in
    aws_credential_report) cp ../server/tests/fixtures/imports/aws-credential-report.csv "corpus/${target}/" ;;
    k8s_serviceaccounts) cp ../server/tests/fixtures/imports/k8s-serviceaccounts.json "corpus/${target}/" ;;
    gcp_service_accounts) cp ../server/tests/fixtures/imports/gcp-service-accounts.json "corpus/${target}/" ;;
    gcp_keys) cp ../server/tests/fixtures/imports/gcp-key-file.json "corpus/${target}/" ;;
  esac
  RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none "${target}" "corpus/${target}" -- \
    -max_total_time="${seconds}" -rss_limit_mb=2048
done
echo "fuzz: no target found a crash" >&2
