#!/usr/bin/env bash
# Foundation benchmark: SQLite ingest rate and API latency with N findings.
#   scripts/bench_api.sh [N]        (default 1,000,000)
# Prints: findings/s for `cspm demo` (generate + newer-wins upsert) and for
# `cspm ingest` of ASFF JSON Lines (read + parse + normalize + upsert), then wrk
# latency percentiles for GET /findings?severity=CRITICAL&limit=50 and GET /summary.
# Load goes to 127.0.0.1 only and stops by itself (fixed duration).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cspm-target}"
source scripts/tools.sh
N="${1:-1000000}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release -q -p backend --bin cspm
CSPM="$CARGO_TARGET_DIR/release/cspm"
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT

echo "== ingest: cspm demo --count $N"
t0=$(date +%s.%N)
"$CSPM" demo --count "$N" --data-dir "$work/data" >/dev/null
t1=$(date +%s.%N)
python3 -c "n=$N; s=$t1-$t0; print(f'demo ingest: {n} findings in {s:.1f}s = {n/s:,.0f} findings/s')"

M=$(( N < 200000 ? N : 200000 ))
echo "== ingest: cspm ingest of $M ASFF findings as JSON Lines (parse + normalize + store)"
"$CSPM" demo --count "$M" --seed 7 --data-dir "$work/src" >/dev/null
# The raw ASFF documents, taken out through the product's own archive (the store
# keeps them compressed): every finding's `raw`, one per line.
"$CSPM" archive --older-than 0d --archive-dir "$work/src-archive" --data-dir "$work/src" >/dev/null 2>&1
python3 - "$work/src-archive" "$work/findings.jsonl" <<'PY'
import gzip, json, pathlib, sys
with open(sys.argv[2], "w") as out:
    for part in sorted(pathlib.Path(sys.argv[1]).glob("findings/dt=*/*.jsonl.gz")):
        with gzip.open(part, "rt") as f:
            for line in f:
                out.write(json.dumps(json.loads(line)["raw"]) + "\n")
PY
[ "$(wc -l < "$work/findings.jsonl")" = "$M" ] || { echo "expected $M documents" >&2; exit 1; }
t0=$(date +%s.%N)
"$CSPM" ingest --data-dir "$work/ingest" "$work/findings.jsonl" | head -1
t1=$(date +%s.%N)
python3 -c "n=$M; s=$t1-$t0; print(f'file ingest: {n} findings in {s:.1f}s = {n/s:,.0f} findings/s')"

port=$(free_port)
"$CSPM" serve --addr "127.0.0.1:$port" --data-dir "$work/data" --dashboard-dir /nonexistent >/dev/null 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
for path in "/findings?severity=CRITICAL&limit=50" "/summary" "/findings?status=NEW&region=eu-west-1&limit=50" "/findings?severity=HIGH,CRITICAL&limit=50" "/findings?q=imdsv2&limit=50"; do
  echo "== wrk -t2 -c8 -d10s http://127.0.0.1:$port$path"
  wrk -t2 -c8 -d10s --latency "http://127.0.0.1:$port$path" | grep -E '^\s+(50|90|99)%|Requests/sec|Non-2xx'
done
