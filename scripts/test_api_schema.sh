#!/usr/bin/env bash
# Checks that the API description matches the server: schemathesis (PyPI, pinned,
# installed once in its own cached venv) reads the served /openapi.json of a
# `cspm serve --demo` on a free 127.0.0.1 port, with an admin API token, and sends
# generated requests to every operation with every check (`--checks all`): status
# codes, content types, headers and bodies must be the documented ones, invalid
# input must be refused, valid input accepted, and no answer may be a 500.
# State-changing routes (PATCH /findings/{id}, POST /events) are exercised too:
# the data dir is a throwaway temp dir. The server is stopped whatever happens.
#   scripts/test_api_schema.sh            # builds cspm first
#   CSPM_BIN=/path/to/cspm scripts/test_api_schema.sh   # that binary, no build
# SCHEMA_MAX_EXAMPLES (default 30) bounds the generated cases per operation and
# phase; SCHEMA_SEED fixes the random seed (default: a new one each run, printed).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cspm-target}"

SCHEMATHESIS_VERSION=4.32.5
st_bin=$(venv_tool "schemathesis-$SCHEMATHESIS_VERSION" "schemathesis==$SCHEMATHESIS_VERSION")

if [ -z "${CSPM_BIN:-}" ]; then
  # Same packages and targets as scripts/test_rust.sh and test_e2e.sh, so the
  # already-built binary is reused, not rebuilt with another feature set.
  cargo build -p backend -p shared-types --tests
fi
cspm="${CSPM_BIN:-$CARGO_TARGET_DIR/debug/cspm}"

work="$(mktemp -d)"
port="$(free_port)"
log="$work/server.log"
# A fresh random admin token: with a token set, every route but /health and the
# sign-in routes needs it, which is what the document describes.
token="schema-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
CSPM_API_TOKEN="$token" "$cspm" serve --demo --addr "127.0.0.1:$port" --data-dir "$work/data" \
  >"$log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$server" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

for _ in $(seq 1 150); do
  curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { echo "cspm serve exited:" >&2; cat "$log" >&2; exit 1; }
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/health" >/dev/null || { echo "cspm serve did not answer /health:" >&2; cat "$log" >&2; exit 1; }

seed="${SCHEMA_SEED:-$RANDOM$RANDOM}"
echo "schemathesis $SCHEMATHESIS_VERSION against http://127.0.0.1:$port/openapi.json (seed $seed)"
start=$(date +%s)
status=0
config="$PWD/scripts/schemathesis.toml"
# One worker: with two, hypothesis' lambda descriptions call ast.parse from two
# threads at once, which CPython 3.11 can fail with "SystemError: AST constructor
# recursion depth mismatch" (a runtime error of the tool, not of the server; seen
# once in CI on 2026-12-02).
# Run from the temp dir: whatever schemathesis keeps on disk goes away with it.
(cd "$work" && "$st_bin/schemathesis" --config-file "$config" run "http://127.0.0.1:$port/openapi.json" \
  --checks all \
  -H "Authorization: Bearer $token" \
  --max-examples "${SCHEMA_MAX_EXAMPLES:-30}" \
  --seed "$seed" \
  --workers 1 \
  --request-timeout 30 \
  --no-color \
  --generation-database none) \
  || status=$?
echo "schemathesis finished in $(( $(date +%s) - start ))s (exit $status)"
if [ "$status" != 0 ]; then
  echo "--- server log (last 50 lines) ---" >&2
  tail -n 50 "$log" >&2
fi
exit "$status"
