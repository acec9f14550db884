#!/usr/bin/env bash
# Benchmark of `cspm export` on the local store: seeds N demo findings (default
# 1,000,000) into a fresh SQLite store, then writes the whole set once per format
# (csv, jsonl, ocsf) under /usr/bin/time -v and prints, per format, findings/s,
# peak RSS and the file's size. The CSV is then read back with Python's own `csv`
# module: it must hold exactly N data rows with N distinct ids, each a finding id.
#   scripts/bench_export.sh [N]
# Uses the release `cspm` (builds it first if needed), or CSPM_BIN. With BENCH_SEED_CACHE=DIR the
# seeded store is kept in DIR/N and copied for later runs (seeding is not what is
# measured). Goals (issue "Findings out and in"): peak RSS <= 100 MB whatever N,
# CSV >= 100,000 findings/s.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cspm-target}"
n="${1:-1000000}"

if [ -n "${CSPM_BIN:-}" ]; then
  cspm="$CSPM_BIN" # e.g. a debug build, to try the script; figures are release's
else
  cargo build --release -p backend --bin cspm
  cspm="$CARGO_TARGET_DIR/release/cspm"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/cspm-bench-export.XXXXXX")
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

printf '%-6s %12s %10s %14s %10s %10s\n' format findings seconds findings/s "peak MB" "file MB"
for format in csv jsonl ocsf; do
  out="$work/export.$format"
  /usr/bin/time -v -o "$work/time-$format.txt" \
    "$cspm" export --format "$format" --data-dir "$work/data" --output "$out" >/dev/null 2>"$work/err-$format.txt"
  elapsed=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time-$format.txt")
  rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time-$format.txt")
  lines=$(wc -l <"$out")
  # JSON Lines and OCSF: one finding per line. CSV has a header row, and quoted
  # cells may hold newlines: its records are counted with a real CSV reader.
  count="$lines"
  if [ "$format" = csv ]; then
    count=$(python3 - "$out" <<'PY'
import csv, sys
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    rows = csv.reader(f)
    header = next(rows)
    assert header[0] == "id", header
    ids = [r[0] for r in rows]
assert len(ids) == len(set(ids)), "duplicate ids in the CSV"
assert all(len(i) == 22 or i.startswith("'-") for i in ids), "a cell that is not a finding id"
print(len(ids))
PY
)
  fi
  [ "$count" = "$n" ] || { echo "$format: $count findings exported, $n stored" >&2; cat "$work/err-$format.txt" >&2; exit 1; }
  python3 - "$format" "$count" "$elapsed" "$rss_kb" "$(stat -c %s "$out")" <<'PY'
import sys
fmt, count, elapsed, rss_kb, size = sys.argv[1:]
secs = sum(float(v) * 60 ** i for i, v in enumerate(reversed(elapsed.split(":"))))
print(f"{fmt:<6} {int(count):>12,} {secs:>10.1f} {int(count) / secs:>14,.0f} {int(rss_kb) / 1024:>10.1f} {int(size) / 1e6:>10.1f}")
PY
  rm -f "$out"
done
