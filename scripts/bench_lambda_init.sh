#!/usr/bin/env bash
# Cold start of the `api` Lambda binary, measured locally: process start → first
# Runtime API poll (Lambda's "Init Duration") and → first answer (GET /health via an
# API Gateway v2 event, which reads the DynamoDB table in the emulator).
#   scripts/bench_lambda_init.sh [RUNS]      (default 20)
# The binary is the host (x86_64) release build of the same code the arm64 zip holds.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cspm-target}"
RUNS="${1:-20}"
cargo build --release -q -p backend --bin api --bin cspm
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The crate's recorded API Gateway v2 request, pointed at /health.
fixture=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/aws_lambda_events-*/src/fixtures/example-apigw-v2-request-iam.json | tail -1)
python3 - "$fixture" "$work/event.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
e.update(rawPath="/health", rawQueryString="", routeKey="GET /health", body=None, isBase64Encoded=False)
e["requestContext"]["http"].update(method="GET", path="/health")
e.pop("queryStringParameters", None)
json.dump(e, open(sys.argv[2], "w"))
PY
table="bench-$$"
scripts/with_moto.sh bash -c '
  set -euo pipefail
  "$0/release/cspm" demo --count 10 --store dynamodb --table "$1" --aws-endpoint "$CSPM_TEST_AWS_ENDPOINT" --create-table --dynamo-concurrency 1 >/dev/null
  AWS_ENDPOINT_URL="$CSPM_TEST_AWS_ENDPOINT" CSPM_TABLE_NAME="$1" \
    python3 scripts/lambda_runtime_stub.py "$2" "$3" -- "$0/release/api"
' "$CARGO_TARGET_DIR" "$table" "$RUNS" "$work/event.json"
