#!/usr/bin/env bash
# Builds cspm-monitor. Fails loudly on any step.
#   ./build.sh            dashboard dist/ + every Lambda zip (arm64) for Terraform
#   ./build.sh dashboard  only frontend/dist/
#   ./build.sh lambdas    only the Lambda zips
#   ./build.sh local      dashboard + the release `cspm` binary
#   ./build.sh serve      `local`, then start `cspm serve --demo` on http://127.0.0.1:8080
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cspm-target}"

what="${1:-all}"
case "$what" in
  dashboard) scripts/build_dashboard.sh ;;
  lambdas) scripts/build_lambdas.sh ;;
  local)
    scripts/build_dashboard.sh
    cargo build --release -p backend --bin cspm
    ;;
  serve)
    "$0" local
    exec "$CARGO_TARGET_DIR/release/cspm" serve --demo --addr 127.0.0.1:8080 --data-dir ./data --dashboard-dir frontend/dist
    ;;
  all)
    scripts/build_dashboard.sh
    scripts/build_lambdas.sh
    ;;
  *) echo "usage: $0 [all|dashboard|lambdas|local|serve]" >&2; exit 2 ;;
esac
