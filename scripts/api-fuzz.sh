#!/usr/bin/env bash
# Hostile input for the REST API: schemathesis (PyPI) generates requests from
# /api/v1/openapi.json — schema examples, boundary values and random data, valid and
# invalid — and sends them with an admin token holding every scope to a release server
# on a fresh SQLite database with demo data (loopback only). It fails on any 5xx and on
# any error that is not problem+json (scripts/schemathesis_hooks.py).
#
#   scripts/api-fuzz.sh                 60 s budget
#   API_FUZZ_SECONDS=600 scripts/api-fuzz.sh
#
# schemathesis is installed once into target/tools/schemathesis (a virtualenv); later
# runs reuse it. Needs the release binary (`make build`).
set -euo pipefail
cd "$(dirname "$0")/.."

version=4.32.5
venv=target/tools/schemathesis
if ! "${venv}/bin/st" --version 2>/dev/null | grep -q "${version}"; then
  echo "api-fuzz: installing schemathesis ${version} (once)" >&2
  python3 -m venv "${venv}"
  "${venv}/bin/pip" install --quiet "schemathesis==${version}"
fi

binary=target/release/steward
[ -x "${binary}" ] || { echo "api-fuzz: no ${binary}; run make build first" >&2; exit 1; }

port=${API_FUZZ_PORT:-3187}
base="http://127.0.0.1:${port}"
work=target/api-fuzz
rm -rf "${work}" && mkdir -p "${work}"
password="api fuzz demo password"
STEWARD_ADDR="127.0.0.1:${port}" DATABASE_URL="sqlite://${work}/steward.db" \
  STEWARD_SITE_ROOT=target/site STEWARD_DEMO_IF_EMPTY=200 STEWARD_DEMO_PASSWORD="${password}" \
  STEWARD_SIGNING_KEY_DIR="${work}/keys" STEWARD_LOG=error STEWARD_SECOND_FACTOR_ROLES=none \
  "${binary}" serve > "${work}/server.log" 2>&1 &
server=$!
trap 'kill ${server} 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  curl -fsS "${base}/readyz" >/dev/null 2>&1 && break
  sleep 0.5
done

# An admin token with every scope, made the way a person makes one (signing in with the
# password alone: this server asks no second factor, which the API does not concern).
cookies="${work}/cookies"
curl -fsS -c "${cookies}" -o /dev/null -H "Origin: ${base}" \
  --data-urlencode "email=admin@steward.local" --data-urlencode "password=${password}" \
  --data-urlencode "next=/" "${base}/auth/login"
token=$(curl -fsS -b "${cookies}" -H "Origin: ${base}" -H "Content-Type: application/json" \
  -d '{"name":"api-fuzz","expires_in_days":1,"scopes":["inventory:read","audit:read","tokens:write","inventory:write","people:write","posture:write","campaigns:write","reviews:write","grants:write","grants:admin","authz:decide"]}' \
  "${base}/api/v1/tokens" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

seconds=${API_FUZZ_SECONDS:-60}
fuzz() {
  SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH=scripts "${venv}/bin/st" run \
    "${base}/api/v1/openapi.json" \
    --header "Authorization: Bearer ${token}" \
    --checks not_a_server_error,errors_are_problem_json \
    --workers 2 \
    --seed 2026 \
    --report junit --report-dir "${work}/report" \
    "$@"
}
# Revoking the run's own token or deactivating its own person would lock the run out
# (and every later request would only be a 401): those two run last, on their own.
lockout='^/api/v1/(tokens/\{id\}|people/\{id\}/deactivate)$'
echo "api-fuzz: schemathesis against ${base}/api/v1/openapi.json for ${seconds} s" >&2
fuzz --exclude-path-regex "${lockout}" --max-time "${seconds}"
echo "api-fuzz: the operations that end the run's own access" >&2
fuzz --include-path-regex "${lockout}" --max-time 20
