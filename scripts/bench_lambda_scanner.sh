#!/usr/bin/env bash
# What the `scanner` Lambda costs per Security Hub event, measured locally: one warm
# scanner process (the host release build of the code the arm64 zip holds, configured
# as Terraform configures it) on a local Runtime API stub, against DynamoDB and SSM in
# the emulator, handed RUNS EventBridge "Security Hub Findings - Imported" events of
# 100 ASFF findings each, in two variants:
#   re-delivered: the same 100 findings every time (the first event inserts them;
#                 each later one carries 5 with a newer UpdatedAt, the rest as stored);
#   new:          100 findings never seen before in every event (the insert-heavy case).
# Prints, per variant, init CPU/wall (process start → first poll) and per invocation
# the handler's CPU (user+system), wall time and peak RSS: min/median/p90/max/mean.
#   scripts/bench_lambda_scanner.sh [RUNS]      (default 20)
# BENCH_BIN_DIR=DIR uses DIR/scanner and DIR/cspm instead of building them.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cspm-target}"
RUNS="${1:-20}"
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || { echo "RUNS must be a positive number" >&2; exit 2; }
bin="${BENCH_BIN_DIR:-}"
if [ -z "$bin" ]; then
  cargo build --release -q -p backend --bin scanner --bin cspm
  bin="$CARGO_TARGET_DIR/release"
fi
# The memory Lambda gives the function (the runtime sees it in its environment).
memory=$(awk '/^module "scanner"/ {m = 1} m && $1 == "memory_size" {print $3; exit}' terraform/modules/compute/main.tf)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Real-shaped ASFF out of the product: demo findings, taken back out through the
# archive (as scripts/bench_pipeline.sh does), 100 per event.
"$bin/cspm" demo --count $((100 * (RUNS + 1))) --seed 7 --data-dir "$work/src" >/dev/null
"$bin/cspm" archive --older-than 0d --archive-dir "$work/archive" --data-dir "$work/src" >/dev/null 2>&1
python3 - "$work/archive" "$work" "$RUNS" <<'PY'
import datetime, gzip, json, pathlib, sys, uuid
archive, work, runs = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), int(sys.argv[3])
findings = []
for part in sorted(archive.glob("findings/dt=*/*.jsonl.gz")):
    with gzip.open(part, "rt") as f:
        findings += [json.loads(line)["raw"] for line in f]
if len(findings) < 100 * (runs + 1):
    sys.exit(f"the archive holds {len(findings)} findings, expected {100 * (runs + 1)}")

def event(batch):
    """An EventBridge event as Security Hub emits it (resources: the finding ids)."""
    return {
        "version": "0", "id": str(uuid.uuid4()),
        "detail-type": "Security Hub Findings - Imported", "source": "aws.securityhub",
        "account": batch[0]["AwsAccountId"],
        "time": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1", "resources": [f["Id"] for f in batch],
        "detail": {"findings": batch},
    }

def write(path, batch):
    path.parent.mkdir(exist_ok=True)
    text = json.dumps(event(batch))
    # EventBridge refuses events over 256 KB: a larger one would not be real.
    if len(text.encode()) > 256 * 1024:
        sys.exit(f"{path}: {len(text.encode())} bytes, over EventBridge's 256 KB")
    path.write_text(text)

batch = [dict(f) for f in findings[:100]]
for k in range(runs):
    if k > 0:  # five more findings re-evaluated by their provider (earlier ones stay)
        for i in range(5 * k, 5 * k + 5):
            f = batch[i % 100]
            t = datetime.datetime.fromisoformat(f["UpdatedAt"].replace("Z", "+00:00"))
            f["UpdatedAt"] = (t + datetime.timedelta(minutes=k)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    write(work / "redelivered" / f"{k:04}.json", batch)
    write(work / "new" / f"{k:04}.json", findings[100 * (k + 1):100 * (k + 2)])
size = (work / "new" / "0000.json").stat().st_size
print(f"events of 100 findings, about {size // 1024} KiB each (EventBridge limit 256 KB)")
PY

# The emulator holds the table (created as `cspm demo` creates it, with 10 findings)
# and the SSM parameters Terraform creates under the scanner's prefix
# (terraform/modules/alerting/ssm.tf), which it reads at cold start. The scanner
# sends no alerts itself (the table's stream and the fanout Lambda do), so nothing
# else is needed. `timeout` bounds the whole run; the stub bounds each step.
table="bench-scanner-$$"
# shellcheck disable=SC2016  # the inner shell expands them
timeout 1200 scripts/with_moto.sh bash -c '
  set -euo pipefail
  bin=$1 table=$2 memory=$3 work=$4 prefix=/cspm/bench/
  "$bin/cspm" demo --count 10 --store dynamodb --table "$table" --aws-endpoint "$CSPM_TEST_AWS_ENDPOINT" \
    --create-table --dynamo-concurrency 1 >/dev/null
  "$CSPM_TEST_PYTHON" - "$prefix" <<"PY"
import os, sys, boto3
ssm = boto3.client("ssm", endpoint_url=os.environ["CSPM_TEST_AWS_ENDPOINT"])
ssm.put_parameter(Name=sys.argv[1] + "slack_webhook_url", Type="SecureString", Value="unset")
ssm.put_parameter(Name=sys.argv[1] + "sync_state", Type="String", Value="{}")
PY
  # The environment terraform/modules/compute/main.tf gives the function (defaults;
  # no account override).
  export AWS_ENDPOINT_URL="$CSPM_TEST_AWS_ENDPOINT" CSPM_TABLE_NAME="$table" \
    CSPM_RETENTION_DAYS=90 CSPM_SSM_PREFIX="$prefix" CSPM_ACCOUNT_ID_OVERRIDE= RUST_LOG=info
  # moto copies the whole table (items and stream records) for every
  # TransactWriteItems, so inserts slow down as the table grows: 100 new findings
  # took 12 s into 400 items, 35 s into 600. DynamoDB does not, and the scanner does
  # the same work whatever else the table holds, so the new-findings variant gets
  # a fresh table before each event (outside every figure).
  cat >"$work/reset_table.sh" <<RESET
"$CSPM_TEST_PYTHON" -c "import boto3, os; boto3.client(\"dynamodb\", endpoint_url=os.environ[\"CSPM_TEST_AWS_ENDPOINT\"]).delete_table(TableName=\"$table\")"
"$bin/cspm" demo --count 10 --store dynamodb --table "$table" --aws-endpoint "$CSPM_TEST_AWS_ENDPOINT" --create-table --dynamo-concurrency 1 >/dev/null
RESET
  for variant in redelivered new; do
    echo "== $variant findings, memory_size $memory MB"
    between=()
    if [ "$variant" = new ]; then
      sh "$work/reset_table.sh"
      between=(--between "sh $work/reset_table.sh")
    fi
    python3 scripts/lambda_runtime_stub.py --warm --memory "$memory" "${between[@]}" \
      --json "$work/$variant.json" "$work/$variant"/*.json -- "$bin/scanner"
  done
' bench "$bin" "$table" "$memory" "$work"
