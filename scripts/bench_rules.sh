#!/usr/bin/env bash
# Rule-evaluation throughput and streaming memory, printed as figures:
#  1. `cargo bench --bench rules`: the whole built-in pack on every real CloudTrail
#     record of ../shared/corpus (events/s on one core);
#  2. peak memory (/usr/bin/time -v) of `cspm ingest` streaming a generated
#     CloudTrail log file (`{"Records":[...]}`, .json.gz, SIZE_MB uncompressed).
# Usage: scripts/bench_rules.sh [SIZE_MB]   (default 120)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cspm-target-detect}"
size_mb="${1:-120}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "== rule evaluation throughput (cargo bench -p backend --bench rules)"
# The bench build also builds the cspm binary (bench profile = release settings).
cargo bench -p backend --bench rules -- --noplot 2>&1 | grep -E "events/s|thrpt|time:" || true
cspm="$CARGO_TARGET_DIR/release/cspm"
[ -x "$cspm" ] || { echo "no release cspm at $cspm" >&2; exit 1; }

echo "== generating a ${size_mb} MB CloudTrail log file (.json.gz)"
python3 - "$work/log.json.gz" "$size_mb" <<'PY'
import gzip, json, sys, uuid, glob, os
out, size_mb = sys.argv[1], int(sys.argv[2])
corpus = os.path.join("..", "shared", "corpus")
records = []
for f in sorted(glob.glob(os.path.join(corpus, "cloudtrail", "*.json"))):
    d = json.load(open(f))
    records.append(d.get("detail", d))
target = size_mb * 1024 * 1024
written, n = 0, 0
with gzip.open(out, "wt") as z:
    z.write('{"Records":[')
    while written < target:
        r = dict(records[n % len(records)])
        r["eventID"] = str(uuid.UUID(int=n))  # distinct findings, deterministic
        text = json.dumps(r)
        z.write(("," if n else "") + text)
        written += len(text) + 1
        n += 1
    z.write("]}")
print(f"{n} records, {written / 1048576:.0f} MB uncompressed, {os.path.getsize(out) / 1048576:.1f} MB gzip")
PY

echo "== cspm ingest (streaming) under /usr/bin/time -v"
/usr/bin/time -v "$cspm" ingest --data-dir "$work/data" "$work/log.json.gz" 2>"$work/time.txt" | head -3
grep -E "Maximum resident set size|Elapsed \(wall clock\)" "$work/time.txt"
