#!/usr/bin/env bash
# Runs every cargo-fuzz target — the import parsers and the authorize request — for a
# bounded time (FUZZ_SECONDS each,
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

# Seeds of authorize_request: request JSON, NUL, agent limits JSON, NUL, inventory
# lines (name, team, environment, ceiling, age, calls[, status[, kind]], tab-separated;
# line n is identity 00000000-0000-0000-0000-00000000000n). See its file header.
authorize_seeds() {
  local dir=$1 p1=00000000-0000-0000-0000-000000000001 p2=00000000-0000-0000-0000-000000000002
  local limits='{"tools":["github.create_pr","jira.search"],"environments":["prod"],"max_session_minutes":30,"max_calls":5,"max_delegation_depth":2}'
  local inventory='triage-bot\tPayments\tprod\tconfidential\t60\t2\nrunner\tPlatform\tprod\trestricted\t10\t1\tactive\tservice_account\nhelper\tPayments\tprod\tinternal\t0\t1\tactive\tagent\n'
  seed() { printf '%s\0%s\0%b' "$2" "$3" "$4" >"${dir}/$1"; }
  seed tool-call "{\"principal\":\"${p1}\",\"action\":\"call_tool\",\"resource\":{\"type\":\"Tool\",\"id\":\"github.create_pr\"},\"context\":{\"task\":\"triage\",\"environment\":\"prod\",\"data_sensitivity\":\"internal\",\"session_id\":\"s1\"}}" "${limits}" "${inventory}"
  seed delegated-call "{\"principal\":\"${p2}\",\"action\":\"call_tool\",\"resource\":{\"type\":\"Tool\",\"id\":\"jira.search\"},\"context\":{\"environment\":\"prod\",\"delegation_chain\":[\"${p1}\"]}}" "${limits}" "${inventory}"
  seed spawn "{\"principal\":\"${p1}\",\"action\":\"spawn_subagent\",\"resource\":{\"type\":\"Identity\",\"id\":\"00000000-0000-0000-0000-000000000003\"},\"context\":{\"environment\":\"prod\"}}" "${limits}" "${inventory}"
  seed acts-as "{\"principal\":\"${p1}\",\"action\":\"delegate\",\"resource\":{\"type\":\"Identity\",\"id\":\"${p2}\"},\"context\":{\"environment\":\"prod\",\"session_id\":\" s2 \"}}" '{"max_calls":1}' "${inventory}"
  seed above-ceiling "{\"principal\":\"${p1}\",\"action\":\"read_data\",\"resource\":{\"type\":\"Dataset\",\"id\":\"ledger\"},\"context\":{\"environment\":\"prod\",\"data_sensitivity\":\"restricted\"}}" "${limits}" "${inventory}"
  seed suspended-odd-team "{\"principal\":\"${p1}\",\"action\":\"call_tool\",\"resource\":{\"type\":\"Tool\",\"id\":\"jira.search\"},\"context\":{\"environment\":\"prod\",\"session_id\":\"s3\"}}" "${limits}" 'bot "x"\tPay"ments\\\\\x01\tprod\tpublic\t99999\t9\tsuspended\torchestrator\n'
}

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
    authorize_request) authorize_seeds "corpus/${target}" ;;
  esac
  RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none "${target}" "corpus/${target}" -- \
    -max_total_time="${seconds}" -rss_limit_mb=2048
done
echo "fuzz: no target found a crash" >&2
