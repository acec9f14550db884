#!/usr/bin/env bash
# Compliance figures through the real server at N findings (default 1,000,000):
#   scripts/bench_compliance_http.sh [CSPM_BINARY [N]]   (default: a lean `local` profile build of this tree, SQLite only)
# Loads `cspm demo --count N` into a fresh data dir (timed), starts `cspm serve` on
# it, times the first `GET /compliance` (it waits for the first fold of every
# finding's control results, compliance_fold.rs), then prints p50/p99 of 20 calls
# each of the overview, a standard's drill-down and pages of its most failing
# control's failing findings (first, middle and last page of 100, and a page of
# 1,000), and the time to read every page of that control at 1,000 a page.
# Keep the generated store between runs with COMPLIANCE_HTTP_DIR=/some/dir.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cspm-target}"
source scripts/tools.sh
CSPM="${1:-}"
N="${2:-1000000}"
if [ -z "$CSPM" ]; then
  cargo build --profile local --no-default-features -q -p backend --bin cspm
  CSPM="$CARGO_TARGET_DIR/local/cspm"
fi
work="${COMPLIANCE_HTTP_DIR:-$(mktemp -d)}"
server=""
trap '[ -n "$server" ] && kill $server 2>/dev/null; [ -z "${COMPLIANCE_HTTP_DIR:-}" ] && rm -rf "$work"' EXIT
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
import http.client, json, sys, time, urllib.parse
port = int(sys.argv[1])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
def get(path):
    t = time.perf_counter()
    conn.request("GET", path)
    r = conn.getresponse()
    body = r.read()
    ms = (time.perf_counter() - t) * 1000
    if r.status != 200:
        sys.exit(f"{path}: HTTP {r.status} {body[:200]!r}")
    return ms, json.loads(body)
def timed(label, path, calls=20):
    times = []
    for _ in range(calls):
        ms, out = get(path)
        times.append(ms)
    times.sort()
    # Nearest-rank percentiles: of 20 calls, p99 is the slowest.
    rank = lambda p: times[max(0, -(-p * len(times) // 100) - 1)]
    print(f"{label:58s} p50 {rank(50):8.1f} ms  p99 {rank(99):8.1f} ms")
    return out
ms, overview = get("/compliance")
print(f"first GET /compliance (waits for the first fold): {ms:,.0f} ms")
std = max(overview["standards"], key=lambda s: s["failed"])
slug = std["slug"]
timed("GET /compliance", "/compliance")
detail = timed(f"GET /compliance/{slug}", f"/compliance/{slug}")
control = max(detail["controls"], key=lambda c: c["failed"])
cid, failed = control["control_id"], control["failed"]
base = f"/compliance/{slug}/controls/{urllib.parse.quote(cid, safe='')}/failing"
print(f"control {cid}: {failed:,} failing findings")
# Every id, at 1,000 a page (timed), to pick the middle and last pages' `after`.
t, ids, after = time.perf_counter(), [], None
while True:
    _, page = get(base + "?limit=1000" + (f"&after={urllib.parse.quote(after)}" if after else ""))
    ids += [f["id"] for f in page["items"]]
    after = page.get("next_after")
    if not after:
        break
print(f"every page of {cid} at 1,000 a page: {len(ids):,} findings in {(time.perf_counter() - t) * 1000:,.0f} ms")
if len(ids) != failed:
    sys.exit(f"{len(ids)} listed, {failed} counted")
first = timed(f"{cid} first page of 100", base)
mid = ids[len(ids) // 2]
timed(f"{cid} a middle page of 100", base + f"?after={urllib.parse.quote(mid)}")
last = ids[max(0, len(ids) - 51)]
timed(f"{cid} the last page (50)", base + f"?after={urllib.parse.quote(last)}")
timed(f"{cid} a page of 1,000", base + "?limit=1000")
PY
