#!/usr/bin/env bash
# Write-path figures through the real binary, for one or several `cspm` builds (to
# compare a change with its parent on the same machine, same data):
#   scripts/bench_pipeline.sh [CSPM_BINARY...]   (default: a release build of this tree)
# For each binary, prints findings/s of
#   1. `cspm demo --count N` (N = BENCH_DEMO_N, default 1,000,000),
#   2. `cspm ingest` of 200,000 ASFF findings as JSON Lines,
#   3. `POST /events` of 10,000 findings in one NDJSON body (binaries that have it),
# each on a fresh data dir. Runs are repeated BENCH_RUNS times (default 1), best kept.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cspm-target}"
source scripts/tools.sh
N="${BENCH_DEMO_N:-1000000}"
RUNS="${BENCH_RUNS:-1}"
bins=("$@")
if [ ${#bins[@]} -eq 0 ]; then
  cargo build --release -q -p backend --bin cspm
  bins=("$CARGO_TARGET_DIR/release/cspm")
fi
work=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill $server 2>/dev/null; rm -rf "$work"' EXIT
secs() { python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$1" "$2"; }

# 200,000 real-shaped ASFF documents, taken out through the product's own archive.
gen="${bins[${#bins[@]}-1]}"
"$gen" demo --count 200000 --seed 7 --data-dir "$work/src" >/dev/null
"$gen" archive --older-than 0d --archive-dir "$work/src-archive" --data-dir "$work/src" >/dev/null 2>&1
python3 - "$work/src-archive" "$work/asff.jsonl" <<'PY'
import gzip, json, pathlib, sys
with open(sys.argv[2], "w") as out:
    for part in sorted(pathlib.Path(sys.argv[1]).glob("findings/dt=*/*.jsonl.gz")):
        with gzip.open(part, "rt") as f:
            for line in f:
                out.write(json.dumps(json.loads(line)["raw"]) + "\n")
PY
# 10,000 findings are about 14 MB of ASFF: posted as NDJSON bodies under the
# 5 MiB request limit, one after another.
head -n 10000 "$work/asff.jsonl" > "$work/events.ndjson"
(cd "$work" && split -C 5000000 events.ndjson body.)

best() { sort -g | head -1; }
for bin in "${bins[@]}"; do
  demo=(); ingest=(); post=()
  for _ in $(seq 1 "$RUNS"); do
    rm -rf "$work/d"; t0=$(date +%s.%N)
    "$bin" demo --count "$N" --data-dir "$work/d" >/dev/null
    demo+=("$(secs "$t0" "$(date +%s.%N)")")
    rm -rf "$work/i"; t0=$(date +%s.%N)
    "$bin" ingest --data-dir "$work/i" "$work/asff.jsonl" >/dev/null
    ingest+=("$(secs "$t0" "$(date +%s.%N)")")
    rm -rf "$work/p"; port=$(free_port)
    "$bin" serve --addr "127.0.0.1:$port" --data-dir "$work/p" --no-archive --dashboard-dir /nonexistent >/dev/null 2>&1 &
    server=$!
    for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
    t0=$(date +%s.%N)
    code=200
    for body in "$work"/body.*; do
      c=$(curl -s -o "$work/answer.json" -w '%{http_code}' -H 'Content-Type: application/x-ndjson' \
        --data-binary @"$body" "http://127.0.0.1:$port/events")
      [ "$c" = 200 ] || code=$c
    done
    t1=$(date +%s.%N)
    kill $server; wait $server 2>/dev/null || true; server=""
    [ "$code" = 200 ] && post+=("$(secs "$t0" "$t1")")
  done
  d=$(printf '%s\n' "${demo[@]}" | best); i=$(printf '%s\n' "${ingest[@]}" | best)
  echo "== $bin"
  python3 -c "print(f'  demo {int($N):,}: {float($d):.1f} s = {int($N)/float($d):,.0f} findings/s')"
  python3 -c "print(f'  ingest 200,000 ASFF lines: {float($i):.1f} s = {200000/float($i):,.0f} findings/s')"
  if [ ${#post[@]} -gt 0 ]; then
    p=$(printf '%s\n' "${post[@]}" | best)
    python3 -c "print(f'  POST /events 10,000 findings (NDJSON bodies <= 5 MiB): {float($p)*1000:.0f} ms = {10000/float($p):,.0f} findings/s')"
  else
    echo "  POST /events: not available in this build"
  fi
done
