#!/usr/bin/env bash
# What the DynamoDB write path costs the client, through the real binary against a
# fresh emulator table (started by this script), for one or several `cspm` builds:
#   scripts/bench_dynamo_write.sh [CSPM_BINARY...]   (default: a release build of this tree)
# For each binary, `cspm ingest --store dynamodb` of N ASFF findings (BENCH_N,
# default 2,000) into a new table, then the same file again (every finding
# unchanged), and prints for each run:
#   - DynamoDB requests per finding (counted in the emulator's request log, table
#     setup left out), with the count per operation;
#   - client CPU (user + system, /usr/bin/time) per finding, in µs;
# and, as the floor the store adds to, the same ingest into a fresh SQLite file
# (parsing, detection and pipeline work are the same in both).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${CSPM_TEST_AWS_ENDPOINT:-}" ]; then
  exec scripts/with_moto.sh "$0" "$@"
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cspm-target}"
N="${BENCH_N:-2000}"
bins=("$@")
if [ ${#bins[@]} -eq 0 ]; then
  cargo build --release -q -p backend --bin cspm
  bins=("$CARGO_TARGET_DIR/release/cspm")
fi
port="${CSPM_TEST_AWS_ENDPOINT##*:}"
moto_log="${TMPDIR:-/tmp}/moto-$port.log"
[ -f "$moto_log" ] || { echo "emulator log $moto_log not found" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# N real-shaped ASFF documents, taken out through the product's own archive.
gen="${bins[${#bins[@]}-1]}"
"$gen" demo --count "$N" --seed 11 --data-dir "$work/src" >/dev/null
"$gen" archive --older-than 0d --archive-dir "$work/src-archive" --data-dir "$work/src" >/dev/null 2>&1
python3 - "$work/src-archive" "$work/asff.jsonl" "$N" <<'PY'
import gzip, json, pathlib, sys
n = 0
with open(sys.argv[2], "w") as out:
    for part in sorted(pathlib.Path(sys.argv[1]).glob("findings/dt=*/*.jsonl.gz")):
        with gzip.open(part, "rt") as f:
            for line in f:
                out.write(json.dumps(json.loads(line)["raw"]) + "\n")
                n += 1
if n != int(sys.argv[3]):
    sys.exit(f"expected {sys.argv[3]} findings, archived {n}")
PY

# Data-plane DynamoDB calls logged since line $1 of the emulator log, by operation.
calls_since() {
  tail -n +"$(($1 + 1))" "$moto_log" | grep -o 'DynamoDB_20120810\.[A-Za-z]*' | sed 's/.*\.//' \
    | grep -vE '^(CreateTable|DescribeTable|UpdateTimeToLive|DescribeTimeToLive|ListTables)$' \
    | sort | uniq -c | awk '{printf "%s%s=%s", sep, $2, $1; sep=" "; total += $1} END {print "|" total+0}'
}
per() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.${3:-3}f}')" "$1" "$2" "${3:-3}"; }

# Runs `cspm ingest` with the given store options; prints "cpu_seconds|max_rss_kb".
timed_ingest() {
  local bin=$1; shift
  /usr/bin/time -f '%U %S %M' -o "$work/time" "$bin" ingest "$@" "$work/asff.jsonl" >"$work/out" 2>"$work/err" \
    || { cat "$work/err" >&2; exit 1; }
  awk '{printf "%.3f|%d\n", $1 + $2, $3}' "$work/time"
}

echo "findings per run: $N (emulator $CSPM_TEST_AWS_ENDPOINT)"
for bin in "${bins[@]}"; do
  echo "== $bin"
  IFS='|' read -r cpu rss <<<"$(timed_ingest "$bin" --data-dir "$work/sqlite-$RANDOM")"
  echo "  sqlite ingest:          cpu $(per "$cpu" "$N" 6 | awk '{print $1 * 1e6}') µs/finding, peak RSS $((rss / 1024)) MiB"
  table="bench-$RANDOM$RANDOM"
  dyn=(--store dynamodb --table "$table" --aws-endpoint "$CSPM_TEST_AWS_ENDPOINT" --aws-region us-east-1 --create-table)
  for run in "first insert" "re-ingest (unchanged)"; do
    before=$(wc -l <"$moto_log")
    t0=$(date +%s.%N)
    IFS='|' read -r cpu rss <<<"$(AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing timed_ingest "$bin" "${dyn[@]}")"
    wall=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$t0" "$(date +%s.%N)")
    IFS='|' read -r ops total <<<"$(calls_since "$before")"
    printf '  dynamodb %-22s cpu %s µs/finding, %s requests/finding (%s), %s s wall, peak RSS %s MiB\n' \
      "$run:" "$(per "$cpu" "$N" 6 | awk '{print $1 * 1e6}')" "$(per "$total" "$N")" "$ops" "$wall" "$((rss / 1024))"
  done
done
