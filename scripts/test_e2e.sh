#!/usr/bin/env bash
# End-to-end test of the dashboard in real headless Chromium against `cspm serve --demo`.
# Installs what it needs once (Debian chromium, npm playwright-core from e2e/package-lock.json),
# builds the dashboard and `cspm`, starts the server on a free port with a temp data dir,
# runs e2e/dashboard.test.mjs, stops the server, then runs the live journey
# (e2e/live.test.mjs, which starts and restarts its own server), the sign-in
# journey (e2e/signin.test.mjs, with its own server and a local OpenID provider from
# PyPI oidc-provider-mock) and the remediation journey (e2e/remediation.test.mjs,
# with its own `cspm serve --remediation` acting on the AWS emulator that
# scripts/with_moto.sh starts and stops), and prints where the screenshots are.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cspm-target}"

if [ ! -x /usr/bin/chromium ]; then
  echo "installing Debian chromium (once)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  apt-get install -y -q chromium chromium-driver >&2
fi

# node_modules is keyed by the lockfile's hash so a dependency bump reinstalls.
lock_hash="$(sha256sum e2e/package-lock.json | cut -c1-12)"
if [ ! -f "e2e/node_modules/.installed-$lock_hash" ]; then
  (cd e2e && npm ci --silent --no-audit --no-fund)
  touch "e2e/node_modules/.installed-$lock_hash"
fi

if [ "${E2E_SKIP_BUILD:-0}" != 1 ]; then
  # Builds the dashboard from source into frontend/dist/: the quick start serves
  # frontend/prebuilt/ instead of building, and it must be exactly this build.
  scripts/prebuilt_dashboard.sh check
  # Same packages and targets as scripts/test_rust.sh, so the feature set (dev-deps
  # included) matches and the already-built binary is reused, not rebuilt.
  cargo build -p backend -p shared-types --tests
fi
cspm="$CARGO_TARGET_DIR/debug/cspm"
[ -f frontend/dist/index.html ] || { echo "frontend/dist is missing: run ./build.sh dashboard" >&2; exit 1; }

data_dir="$(mktemp -d)"
port="$(free_port)"
log="$data_dir/server.log"
shots="$PWD/e2e/screenshots/$(date -u +%Y%m%dT%H%M%SZ)"
"$cspm" serve --demo --addr "127.0.0.1:$port" --data-dir "$data_dir/data" --dashboard-dir frontend/dist >"$log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$data_dir"
}
trap cleanup EXIT

for _ in $(seq 1 150); do
  curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { echo "cspm serve exited:" >&2; cat "$log" >&2; exit 1; }
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/health" >/dev/null || { echo "cspm serve did not answer /health:" >&2; cat "$log" >&2; exit 1; }

echo "dashboard e2e against http://127.0.0.1:$port (screenshots: $shots)"
status=0
BASE_URL="http://127.0.0.1:$port" SERVER_PID="$server" SCREENSHOT_DIR="$shots" \
  node e2e/dashboard.test.mjs || status=$?
if [ "$status" != 0 ]; then
  echo "--- server log ---" >&2
  tail -n 50 "$log" >&2
fi

# The live journey owns its server (it restarts it), so it runs on its own.
echo "live dashboard e2e (screenshots: $shots)"
CSPM_BIN="$cspm" DASHBOARD_DIR="$PWD/frontend/dist" CORPUS_DIR="$(cd .. && pwd)/shared/corpus" \
  SCREENSHOT_DIR="$shots" node e2e/live.test.mjs || status=$?
# Sign-in through a local OpenID provider; the journey starts it and its server.
# 0.3.4: 0.4.x needs a newer Python than Debian 12's 3.11.
OIDC_MOCK_VERSION=0.3.4
oidc_bin=$(venv_tool "oidc-provider-mock-$OIDC_MOCK_VERSION" "oidc-provider-mock==$OIDC_MOCK_VERSION")
echo "sign-in dashboard e2e (screenshots: $shots)"
CSPM_BIN="$cspm" DASHBOARD_DIR="$PWD/frontend/dist" OIDC_MOCK="$oidc_bin/oidc-provider-mock" \
  SCREENSHOT_DIR="$shots" node e2e/signin.test.mjs || status=$?
# Applying a remediation from the dashboard: the journey's server acts on
# moto_server, which with_moto.sh starts on a free port (CSPM_TEST_AWS_ENDPOINT)
# and stops afterwards.
echo "remediation dashboard e2e (screenshots: $shots)"
scripts/with_moto.sh env CSPM_BIN="$cspm" DASHBOARD_DIR="$PWD/frontend/dist" \
  CORPUS_DIR="$(cd .. && pwd)/shared/corpus" SCREENSHOT_DIR="$shots" \
  node e2e/remediation.test.mjs || status=$?
echo "Screenshots saved in: $shots"
exit "$status"
