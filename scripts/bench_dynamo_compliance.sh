#!/usr/bin/env bash
# What a compliance report and a grouping by generator or resource cost on DynamoDB, through
# the real binary against a fresh emulator table (started by this script):
#   scripts/bench_dynamo_compliance.sh [CSPM_BINARY]   (default: a debug build of this tree)
# `cspm serve --store dynamodb --demo` loads N demo findings (BENCH_N, default
# 5,000), then prints the median and worst time over HTTP of `GET /compliance`
# (20 calls), `GET /compliance/aws-fsbp` (10) and `GET /findings/groups?by=generator`
# and `by=resource` (20, whole store and `status=NEW`, and the whole store's first
# 100 resources) from the counters kept on
# write (resources: the walk down ResourceRankIndex); then, with the summary items'
# `k`, `g` and `x` removed (a table from before they were kept), the same from a read
# of every finding (compliance) or of the newest 10,000 (grouping), 2 calls each, and
# whether the answers are the same both ways: the compliance ones byte for byte, the
# generator groupings' counts, order and labels (a group beyond the newest 1,000
# findings has no `updated_at` from the counters), the resource groupings' counts as
# severity counts as a set and `other` (of several resources with equal severity
# counts at the cut the walk lists the index's first, the read the smallest keys).
# BENCH_GROUPS_ONLY=1 skips the compliance reports; BENCH_CALLS sets the timed calls
# (default 20).
# The emulator's times are not DynamoDB's: its index queries take tenths of a
# second on such a table.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${CSPM_TEST_AWS_ENDPOINT:-}" ]; then
  exec scripts/with_moto.sh "$0" "$@"
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cspm-target}"
N="${BENCH_N:-5000}"
bin="${1:-}"
if [ -z "$bin" ]; then
  cargo build -q -p backend --bin cspm
  bin="$CARGO_TARGET_DIR/debug/cspm"
fi
table="bench$RANDOM"
addr=127.0.0.1:8099
work=$(mktemp -d)
"$bin" serve --store dynamodb --table "$table" --aws-endpoint "$CSPM_TEST_AWS_ENDPOINT" \
  --aws-region us-east-1 --create-table --demo --demo-count "$N" --no-archive \
  --addr "$addr" >"$work/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; cp "$work/serve.log" /tmp/bench-serve.log 2>/dev/null; rm -rf "$work"' EXIT
loaded=0
for _ in $(seq 1 600); do
  loaded=$(curl -s "http://$addr/findings?limit=1" |
    python3 -c 'import json,sys; print(json.load(sys.stdin).get("total", 0))' 2>/dev/null || echo 0)
  [ "$loaded" -ge "$N" ] && break
  sleep 1
done
echo "$loaded demo findings in table $table"

time_it() { # path calls
  python3 - "http://$addr$1" "$2" <<'PY'
import sys, time, urllib.request
url, n = sys.argv[1], int(sys.argv[2])
ms = []
for _ in range(n):
    t = time.perf_counter()
    body = urllib.request.urlopen(url).read()
    ms.append((time.perf_counter() - t) * 1000)
ms.sort()
print(f"  {url}: {n} calls, median {ms[len(ms) // 2]:.1f} ms, worst {ms[-1]:.1f} ms, {len(body)} bytes")
PY
}
calls="${BENCH_CALLS:-20}"
reports="compliance compliance/aws-fsbp compliance/cis-1.4"
[ -n "${BENCH_GROUPS_ONLY:-}" ] && reports=""
groupings=("findings/groups?by=generator&limit=1000" "findings/groups?by=generator&status=NEW&limit=1000"
  "findings/groups?by=resource&limit=1000" "findings/groups?by=resource&status=NEW&limit=1000")
save() { # prefix
  for p in $reports; do
    curl -s "http://$addr/$p" >"$work/$1-${p//\//_}.json"
  done
  for i in "${!groupings[@]}"; do
    curl -s "http://$addr/${groupings[$i]}" | python3 -c '
import json, sys
a = json.load(sys.stdin)
print("exact", a["exact"], "other", a["other"], "findings", sum(g["total"] for g in a["groups"]) + a["other"])
lines = []
for g in a["groups"]:
    key = "" if a["by"] == "resource" else g["key"] + " " + g["label"]
    statuses = [] if a["by"] == "resource" else [sorted(g["by_status"].items())]
    lines.append(" ".join(map(str, [key, g["total"], sorted(g["by_severity"].items())] + statuses)))
# Which of several resources with equal severity counts fill the last places
# differs (index order against key order), and with them their statuses: compare
# the severity counts of the groups listed as a set (the tests check the rest).
if a["by"] == "resource":
    lines.sort()
print("\n".join(lines))
' >"$work/$1-groups$i.txt"
  done
}

echo "from the results kept on write:"
if [ -z "${BENCH_GROUPS_ONLY:-}" ]; then
  time_it /compliance "$calls"
  time_it /compliance/aws-fsbp "$(( (calls + 1) / 2 ))"
fi
for g in "${groupings[@]}"; do time_it "/$g" "$calls"; done
time_it "/findings/groups?by=resource&limit=100" "$calls"
save kept
"$CSPM_TEST_PYTHON" - "$CSPM_TEST_AWS_ENDPOINT" "$table" <<'PY'
import sys, boto3
db = boto3.client("dynamodb", endpoint_url=sys.argv[1], region_name="us-east-1")
for shard in range(16):
    db.update_item(TableName=sys.argv[2], Key={"id": {"S": f"#counts#{shard:02d}"}},
                   UpdateExpression="REMOVE k, g, x")
PY
echo "from a read of the findings (k, g and x removed):"
if [ -z "${BENCH_GROUPS_ONLY:-}" ]; then
  time_it /compliance 2
  time_it /compliance/aws-fsbp 2
fi
for g in "${groupings[@]}"; do time_it "/$g" 2; done
save full
differ=0
for p in ${reports//\//_} groups0 groups1 groups2 groups3; do
  ext=json; [[ $p == groups* ]] && ext=txt
  if cmp -s "$work/kept-$p.$ext" "$work/full-$p.$ext"; then
    echo "  $p: the same bytes both ways"
  elif [[ $p == groups* ]] && head -1 "$work/full-$p.$ext" | grep -q "exact False"; then
    echo "  $p: differs; the read of the newest findings was not exact: $(head -1 "$work/full-$p.$ext"), the counters: $(head -1 "$work/kept-$p.$ext")"
  else
    echo "  $p: DIFFERENT"
    differ=1
    diff "$work/kept-$p.$ext" "$work/full-$p.$ext" | grep -E "^[<>]" | sort -k2 | head -8 || true
  fi
done
exit "$differ"
