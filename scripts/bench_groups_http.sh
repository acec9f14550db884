#!/usr/bin/env bash
# Grouping figures through the real server at N findings (default 1,000,000):
#   scripts/bench_groups_http.sh [CSPM_BINARY [N]]   (default: a release build of this tree)
# Loads `cspm demo --count N` into a fresh data dir (timed), starts `cspm serve` on
# it, times the first grouping by resource (it folds the resource counters of all
# N findings, resource_counts.rs), then prints p50/p99 of 50 calls of
# `GET /findings/groups` per grouping and view, with `exact` and the group count.
# Keep the generated store between runs with GROUPS_HTTP_DIR=/some/dir.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cspm-target}"
source scripts/tools.sh
CSPM="${1:-}"
N="${2:-1000000}"
if [ -z "$CSPM" ]; then
  cargo build --release -q -p backend --bin cspm
  CSPM="$CARGO_TARGET_DIR/release/cspm"
fi
work="${GROUPS_HTTP_DIR:-$(mktemp -d)}"
server=""
trap '[ -n "$server" ] && kill $server 2>/dev/null; [ -z "${GROUPS_HTTP_DIR:-}" ] && rm -rf "$work"' EXIT
if [ ! -f "$work/data/cspm.db" ]; then
  t0=$(date +%s.%N)
  "$CSPM" demo --count "$N" --data-dir "$work/data" >/dev/null
  t1=$(date +%s.%N)
  python3 -c "n=$N; s=$t1-$t0; print(f'demo: {n} findings in {s:.1f}s = {n/s:,.0f} findings/s')"
fi
port=$(free_port)
"$CSPM" serve --addr "127.0.0.1:$port" --data-dir "$work/data" --dashboard-dir /nonexistent >/dev/null 2>&1 &
server=$!
for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
python3 - "$port" <<'PY'
import http.client, json, sys, time
port = int(sys.argv[1])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
def get(path):
    t = time.perf_counter()
    conn.request("GET", path)
    r = conn.getresponse()
    body = r.read()
    ms = (time.perf_counter() - t) * 1000
    if r.status != 200:
        sys.exit(f"{path}: HTTP {r.status} {body[:200]!r}")
    return ms, json.loads(body)
ms, first = get("/findings/groups?by=resource&limit=100")
print(f"first grouping by resource (folds what is pending): {ms:,.0f} ms, exact={first['exact']}")
views = [
    "by=resource",
    "by=resource&severity=CRITICAL,HIGH",
    "by=resource&status=NEW&account=111122223333",
    "by=resource&region=us-east-1",
    "by=resource&severity=HIGH",
    "by=resource&severity=MEDIUM",
    "by=resource&severity=LOW",
    "by=resource&severity=INFORMATIONAL",
    "by=resource&severity=LOW&region=us-east-1",
    "by=resource&severity=MEDIUM,LOW&status=NEW",
    "by=resource&severity=MEDIUM,LOW",
    "by=resource&severity=HIGH,LOW,INFORMATIONAL",
    "by=resource&severity=CRITICAL,LOW",
    "by=generator",
    "by=account",
    "by=resource&q=bucket",
]
for v in views:
    times, out = [], None
    for _ in range(50):
        ms, out = get(f"/findings/groups?{v}&limit=100")
        times.append(ms)
    times.sort()
    # Nearest-rank percentiles: of 50 calls, p99 is the slowest.
    rank = lambda p: times[max(0, -(-p * len(times) // 100) - 1)]
    p50, p99 = rank(50), rank(99)
    print(f"{v:45s} p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  exact={out['exact']}  groups={len(out['groups'])}  other={out['other']}")
PY
