#!/usr/bin/env bash
# Remediation figures against the AWS emulator: plan time per finding and
# remediations/s through the worker, on N security groups opened to the world.
#   scripts/bench_remediation.sh [N]        (default 200, at most 1000)
# Starts moto (through scripts/with_moto.sh unless CSPM_TEST_AWS_ENDPOINT is set)
# and `cspm serve --remediation` (release build) on 127.0.0.1. Each group gets
# HTTPS from anywhere and SSH from 10.0.0.0/8 (both stay), then the corpus's real
# AuthorizeSecurityGroupIngress event (SSH from 0.0.0.0/0 and ::/0) is replayed
# into moto and posted to POST /events, which stores its finding. Then:
#   plan   GET /findings/{id}/remediation/plan for each finding, one at a time:
#          p50/p99/max (the read of the group in moto included)
#   apply  POST /findings/{id}/remediation for every finding, then the worker
#          (one apply at a time: read, guards, revoke, read back, resolve):
#          remediations/s from the first approval to the last verified record
# and checks every group afterwards (world SSH gone, the rest there).
# Bounded: N is capped and the apply phase gives up after APPLY_TIMEOUT seconds
# (default 600); the server and the emulator are stopped on the way out.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${CSPM_TEST_AWS_ENDPOINT:-}" ]; then
  exec scripts/with_moto.sh "$0" "$@"
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cspm-target}"
source scripts/tools.sh
N="${1:-200}"
[ "$N" -ge 1 ] && [ "$N" -le 1000 ] || { echo "N must be 1..1000" >&2; exit 1; }
APPLY_TIMEOUT="${APPLY_TIMEOUT:-600}"
# Symbols kept so a profile of the same binary can be read.
CARGO_PROFILE_RELEASE_STRIP=none cargo build --release -q -p backend --bin cspm
CSPM="$CARGO_TARGET_DIR/release/cspm"
work=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT

# The rate limit is the only guard this run must not meet: every group is in
# the emulator's one account.
cat >"$work/remediation.yaml" <<EOF
enabled: [ec2-revoke-world-ingress]
max_per_account_per_hour: 1000000
EOF
port=$(free_port)
"$CSPM" serve --addr "127.0.0.1:$port" --data-dir "$work/data" --dashboard-dir /nonexistent \
  --remediation "$work/remediation.yaml" \
  --aws-endpoint "$CSPM_TEST_AWS_ENDPOINT" --aws-region us-east-1 \
  >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done

"$CSPM_TEST_PYTHON" - "$N" "http://127.0.0.1:$port" "$CSPM_TEST_AWS_ENDPOINT" "$APPLY_TIMEOUT" <<'PY'
import copy, json, statistics, sys, time, urllib.request, uuid
import boto3

n, api, endpoint, timeout = int(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4])
RULE = "aws.ec2.security-group-open-to-world"
ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="testing", aws_secret_access_key="testing")

def http(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(api + path, data=data, method=method,
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.status, json.loads(r.read() or b"null")

def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]

# The real event, changed as the emulator tests change it: the emulator's
# account, port 55 -> 22, each group's id, and (a finding is per rule and
# event id) each event's own ids.
with open("../shared/corpus/cloudtrail/reflex__AuthorizeSecurityGroupIngress_open_world_eventbridge.json") as f:
    template = json.loads(f.read().replace("000000000000", "123456789012"))
for item in template["detail"]["requestParameters"]["ipPermissions"]["items"]:
    item["fromPort"] = item["toPort"] = 22

def tcp(port, cidr):
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": cidr}]}

t0 = time.perf_counter()
groups = []
for i in range(n):
    g = ec2.create_security_group(GroupName=f"bench-{i}-{time.time_ns()}", Description="bench")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=g, IpPermissions=[tcp(443, "0.0.0.0/0"), tcp(22, "10.0.0.0/8")])
    event = copy.deepcopy(template)
    event["detail"]["requestParameters"]["groupId"] = g
    event["id"], event["detail"]["eventID"] = str(uuid.uuid4()), str(uuid.uuid4())
    perms = [{"IpProtocol": it["ipProtocol"], "FromPort": 22, "ToPort": 22,
              "IpRanges": [{"CidrIp": r["cidrIp"]} for r in it.get("ipRanges", {}).get("items", [])],
              "Ipv6Ranges": [{"CidrIpv6": r["cidrIpv6"]} for r in it.get("ipv6Ranges", {}).get("items", [])]}
             for it in event["detail"]["requestParameters"]["ipPermissions"]["items"]]
    ec2.authorize_security_group_ingress(GroupId=g, IpPermissions=perms)
    status, _ = http("POST", "/events", event)
    assert status == 200, status
    groups.append(g)
print(f"setup: {n} groups opened and their events posted in {time.perf_counter() - t0:.1f}s")

ids, cursor = [], None
while True:
    q = f"/findings?generator={RULE}&limit=1000" + (f"&cursor={cursor}" if cursor else "")
    _, page = http("GET", q)
    ids += [f["id"] for f in page["items"]]
    cursor = page.get("next_cursor")
    if not cursor:
        break
assert len(ids) == n, f"{len(ids)} findings for {n} groups"

plan_ms = []
for fid in ids:
    t = time.perf_counter()
    _, plan = http("GET", f"/findings/{fid}/remediation/plan")
    plan_ms.append((time.perf_counter() - t) * 1000)
    assert plan["applicable"] and len(plan["calls"]) == 1, plan
    assert all(g["passed"] for g in plan["guards"]), plan["guards"]
print(f"plan: {n} findings, one at a time: p50 {pct(plan_ms, 50):.1f} ms, "
      f"p99 {pct(plan_ms, 99):.1f} ms, max {max(plan_ms):.1f} ms, "
      f"mean {statistics.mean(plan_ms):.1f} ms per finding")

t_start = time.perf_counter()
for fid in ids:
    status, _ = http("POST", f"/findings/{fid}/remediation", {})
    assert status == 202, status
posted = time.perf_counter() - t_start
deadline = t_start + timeout
done = {}
while time.perf_counter() < deadline:
    _, page = http("GET", "/remediations?limit=1000")
    final = [r for r in page["items"] if r["status"] in ("verified", "failed", "refused")]
    if len(final) >= n:
        done = {r["id"]: r for r in final}
        break
    time.sleep(0.1)
wall = time.perf_counter() - t_start
if not done:
    sys.exit(f"apply: not finished within {timeout:.0f}s ({len(final)} of {n} final)")
by_status = {}
for r in done.values():
    by_status[r["status"]] = by_status.get(r["status"], 0) + 1
assert by_status == {"verified": n}, by_status
# The worker's own span: first approval to the last record it finished.
from datetime import datetime
ts = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
span = max(ts(r["updated_at"]) for r in done.values()) - min(ts(r["requested_at"]) for r in done.values())
print(f"apply: {n} approvals posted in {posted:.1f}s; all {n} verified "
      f"{span:.1f}s after the first approval = {n / span:.1f} remediations/s "
      f"(polled wall time {wall:.1f}s)")

for g in groups:
    perms = ec2.describe_security_groups(GroupIds=[g])["SecurityGroups"][0]["IpPermissions"]
    world22 = [p for p in perms if p.get("FromPort") == 22 and
               (any(r["CidrIp"] == "0.0.0.0/0" for r in p.get("IpRanges", [])) or
                any(r["CidrIpv6"] == "::/0" for r in p.get("Ipv6Ranges", [])))]
    kept = {(p.get("FromPort"), r["CidrIp"]) for p in perms for r in p.get("IpRanges", [])}
    assert not world22 and kept == {(443, "0.0.0.0/0"), (22, "10.0.0.0/8")}, (g, perms)
print(f"check: every group kept HTTPS from anywhere and SSH from 10.0.0.0/8, world SSH gone")
PY
