#!/usr/bin/env bash
# Benchmark of the archiver on the local store: seeds N demo findings (default
# 1,000,000) into a fresh SQLite store, archives all of them to a local folder under
# /usr/bin/time -v, and prints findings/s, peak RSS and the compression ratio.
#   scripts/bench_archive.sh [N]
# Uses the release `cspm`; builds it first if needed.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cspm-target}"
n="${1:-1000000}"

cargo build --release -p backend --bin cspm
cspm="$CARGO_TARGET_DIR/release/cspm"

work=$(mktemp -d "${TMPDIR:-/tmp}/cspm-bench-archive.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "==> seeding $n demo findings into $work/data" >&2
"$cspm" demo --count "$n" --data-dir "$work/data" >&2

echo "==> archiving (retention 0 days: every finding is a candidate)" >&2
/usr/bin/time -v -o "$work/time.txt" \
  "$cspm" archive --data-dir "$work/data" --older-than 0d --archive-dir "$work/archive" | tee "$work/out.txt"

elapsed=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time.txt")
secs=$(python3 -c "import sys; p=[float(x) for x in sys.argv[1].split(':')]; print(sum(v*60**i for i,v in enumerate(reversed(p))))" "$elapsed")
rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
archived=$(sed -n 's/.*: \([0-9]*\) findings older than.*/\1/p' "$work/out.txt")
gz=$(du -sb "$work/archive/findings" | cut -f1)
json=$(python3 - "$work/archive/manifests" <<'PY'
import json, os, sys
d = sys.argv[1]
print(sum(p.get("uncompressed_bytes", 0) for f in os.listdir(d) for p in json.load(open(os.path.join(d, f)))["parts"]))
PY
)
python3 - "$n" "$archived" "$secs" "$rss_kb" "$gz" "$json" <<'PY'
import sys
n, archived, secs, rss_kb, gz, js = sys.argv[1:]
n, archived, secs, rss_kb, gz, js = int(n), int(archived), float(secs), int(rss_kb), int(gz), int(js)
print(f"findings archived : {archived:,} of {n:,}")
print(f"wall time         : {secs:.1f} s (whole `cspm archive` process)")
print(f"throughput        : {archived / secs:,.0f} findings/s")
print(f"peak RSS          : {rss_kb / 1024:.1f} MB")
print(f"archive size      : {gz / 1e6:.1f} MB gzip, {js / 1e6:.1f} MB JSON Lines -> ratio {js / gz:.1f}x")
PY
