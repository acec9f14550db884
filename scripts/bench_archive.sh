#!/usr/bin/env bash
# Benchmark of the archiver on the local store: seeds N demo findings (default
# 1,000,000, spread over 120 days) into a fresh SQLite store, archives those not
# updated for OLDER_THAN (default 1d: ~99% of them, so the figure is for nearly the
# whole store, not the ~25% a 90-day retention would pick) to a local folder under
# /usr/bin/time -v, and prints findings/s, peak RSS and the compression ratio.
#   scripts/bench_archive.sh [N [OLDER_THAN]]
# Uses the release `cspm`; builds it first if needed. With BENCH_SEED_CACHE=DIR the
# seeded store is kept in DIR/N and copied for later runs (seeding 1,000,000 takes
# minutes and is not what is measured).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cspm-target}"
n="${1:-1000000}"
older_than="${2:-1d}"

cargo build --release -p backend --bin cspm
cspm="$CARGO_TARGET_DIR/release/cspm"

work=$(mktemp -d "${TMPDIR:-/tmp}/cspm-bench-archive.XXXXXX")
trap 'rm -rf "$work"' EXIT

seed_cache="${BENCH_SEED_CACHE:+$BENCH_SEED_CACHE/$n}"
if [ -n "$seed_cache" ] && [ -f "$seed_cache/cspm.db" ]; then
  echo "==> copying the seeded store of $n findings from $seed_cache" >&2
  mkdir -p "$work/data" && cp "$seed_cache"/cspm.db* "$work/data/"
else
  echo "==> seeding $n demo findings into $work/data" >&2
  "$cspm" demo --count "$n" --data-dir "$work/data" >&2
  if [ -n "$seed_cache" ]; then mkdir -p "$seed_cache" && cp "$work/data"/cspm.db* "$seed_cache/"; fi
fi

echo "==> archiving findings older than $older_than" >&2
/usr/bin/time -v -o "$work/time.txt" \
  "$cspm" archive --data-dir "$work/data" --older-than "$older_than" --archive-dir "$work/archive" | tee "$work/out.txt"

elapsed=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time.txt")
secs=$(python3 -c "import sys; p=[float(x) for x in sys.argv[1].split(':')]; print(sum(v*60**i for i,v in enumerate(reversed(p))))" "$elapsed")
rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
archived=$(sed -n 's/.* archived=\([0-9]*\) .*/\1/p' "$work/out.txt")
left=$("$cspm" archive ls --from "$work/archive" | awk 'NR > 1 {n += $4} END {print n + 0}')
[ "$left" = "$archived" ] || { echo "archive ls lists $left findings, the run reported $archived" >&2; exit 1; }
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
print(f"wall time         : {secs:.1f} s (whole `cspm archive` process: read, gzip, write, verify, delete)")
print(f"throughput        : {archived / secs:,.0f} findings/s")
print(f"peak RSS          : {rss_kb / 1024:.1f} MB")
print(f"archive size      : {gz / 1e6:.1f} MB gzip, {js / 1e6:.1f} MB JSON Lines -> ratio {js / gz:.1f}x")
PY
