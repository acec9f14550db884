#!/usr/bin/env bash
# Runs a command with the AWS emulator (moto_server) on a free 127.0.0.1 port and
# stops the emulator afterwards, whatever happens:
#   scripts/with_moto.sh cargo test -p backend
# The command sees CSPM_TEST_AWS_ENDPOINT=http://127.0.0.1:PORT plus static test
# credentials (tests that talk to AWS read that variable) and CSPM_TEST_PYTHON, the
# venv's Python with moto and py-ocsf-models (tests that validate OCSF output).
set -euo pipefail
source "$(dirname "$0")/tools.sh"

MOTO_VERSION=5.2.5
# py-ocsf-models validates exported OCSF findings (scripts/check_ocsf.py); it shares
# the emulator's venv so one cached install serves every test.
OCSF_MODELS_VERSION=0.10.0
bin=$(venv_tool "moto-$MOTO_VERSION-ocsf-$OCSF_MODELS_VERSION" \
  "moto[server]==$MOTO_VERSION" "py-ocsf-models==$OCSF_MODELS_VERSION")
port=$(free_port)
# AWS managed policies (AdministratorAccess…) exist as in AWS: the remediation
# tests attach and detach them. Loaded per account on its first IAM call.
export MOTO_IAM_LOAD_MANAGED_POLICIES=true
# The AWS SDK's crates are built without optimisation in tests (Cargo.toml says
# why), and an unoptimised SDK call's future is large: reading a page of Security
# Hub findings overflows the 2 MiB a test thread gets by default. 8 MiB for every
# thread of the command and of the `cspm` processes tests start.
export RUST_MIN_STACK="${RUST_MIN_STACK:-8388608}"
log="${TMPDIR:-/tmp}/moto-$port.log"
# moto_server with DynamoDB's conditional writes made atomic (see the script).
"$bin/python" "$(dirname "$0")/moto_server.py" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
moto_pid=$!
# Sample the emulator's resident memory once a second into $log.rss ("HH:MM:SS MiB"),
# so a run that makes it grow can be matched with the requests in $log at that time.
(
  while kill -0 "$moto_pid" 2>/dev/null; do
    rss=$(awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$moto_pid/status" 2>/dev/null) || break
    echo "$(date +%H:%M:%S) $rss"
    sleep 1
  done
) >"$log.rss" 2>/dev/null &
sampler=$!
# On the way out: say how large the emulator grew (it keeps everything in memory),
# then stop it — and kill it if it does not stop within 5 s, so that a busy
# emulator can never hold the run open.
stop_moto() {
  local peak
  peak=$(awk '/VmHWM/ {print int($2 / 1024) " MiB"}' "/proc/$moto_pid/status" 2>/dev/null || true)
  if [ -n "$peak" ]; then
    # The second with the largest growth, to look up in the request log.
    jump=$(awk 'NR > 1 && $2 - prev > best {best = $2 - prev; at = $1} {prev = $2} END {if (best) print "+" best " MiB at " at}' "$log.rss" 2>/dev/null || true)
    echo "moto_server peak memory: $peak${jump:+ (largest growth $jump; samples in $log.rss)}" >&2
  fi
  kill "$sampler" 2>/dev/null || true
  kill "$moto_pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$moto_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$moto_pid" 2>/dev/null || true
  wait "$moto_pid" 2>/dev/null || true
}
trap stop_moto EXIT

for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$port/moto-api/" >/dev/null 2>&1; then break; fi
  kill -0 "$moto_pid" 2>/dev/null || { echo "moto_server died; log:" >&2; cat "$log" >&2; exit 1; }
  sleep 0.1
done
echo "moto_server $MOTO_VERSION on http://127.0.0.1:$port (log $log)" >&2

export CSPM_TEST_AWS_ENDPOINT="http://127.0.0.1:$port"
# The venv's Python, for tests that validate output with its packages (OCSF).
export CSPM_TEST_PYTHON="$bin/python"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
"$@"
