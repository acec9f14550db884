#!/usr/bin/env bash
# Builds cspm-monitor. Fails loudly on any step.
#   ./build.sh             dashboard dist/ + every Lambda zip (arm64) for Terraform
#   ./build.sh dashboard   only frontend/dist/
#   ./build.sh lambdas     only the Lambda zips (profile `release`: thin LTO, AWS adapters)
#   ./build.sh local       dashboard + the quick-start `cspm` ($CARGO_TARGET_DIR/local/cspm):
#                          profile `local` (release speed, no LTO) without the AWS adapters;
#                          it runs everything on the SQLite store. The dashboard is the
#                          stored build of these sources (frontend/prebuilt/, checked by
#                          CI against a build from source) or, when the sources differ
#                          from what it was built from, built from source beside `cspm`
#   ./build.sh local-full  dashboard + the release `cspm` with the AWS adapters
#                          ($CARGO_TARGET_DIR/release/cspm): `--store dynamodb`, `s3://`
#                          archives, sns/ses sinks, SSM secrets, remediation
#   ./build.sh serve [--addr HOST:PORT]
#                          `local`, then `cspm serve --demo` on http://127.0.0.1:8080
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cspm-target}"

# prefixed LABEL CMD... : runs CMD with every output line prefixed `[LABEL] `,
# keeping CMD's exit status.
prefixed() {
  local label="$1"; shift
  set -o pipefail
  "$@" 2>&1 | sed -u "s/^/[$label] /"
}

# together LABEL:CMD... : runs each command at the same time. On 2 cores each one
# fills the other's serial stretches (the wasm-bindgen-cli install, the dashboard's
# LTO, linking), so the time is about the longer one's. Every job runs to its end;
# the script fails, naming each job that failed, when any did.
together() {
  local -A label_of=()
  local job pid failed=()
  for job in "$@"; do
    # Word splitting of the command is wanted: callers pass simple commands.
    # shellcheck disable=SC2086
    prefixed "${job%%:*}" ${job#*:} &
    label_of[$!]="${job%%:*}"
  done
  while [ "${#label_of[@]}" -gt 0 ]; do
    local rc=0
    wait -n -p pid || rc=$?
    [ "$rc" -eq 0 ] || failed+=("${label_of[$pid]} (exit $rc)")
    unset "label_of[$pid]"
  done
  if [ "${#failed[@]}" -gt 0 ]; then
    echo "build failed: ${failed[*]} (its output is above, prefixed with its name)" >&2
    return 1
  fi
}

# The quick-start binary: no LTO (`[profile.local]`) and no AWS adapters, which
# are most of a cold build; the running server is the same code.
# When the dashboard is built from source, its bindings tool (tools/bindgen) is built
# in the same cargo run: it shares most of its crates with the backend (same profile,
# same features).
local_cspm="cargo build --profile local --no-default-features -p backend --bin cspm"

what="${1:-all}"
case "$what" in
  dashboard) scripts/build_dashboard.sh ;;
  lambdas) scripts/build_lambdas.sh ;;
  local)
    stored=0
    scripts/prebuilt_dashboard.sh use || stored=$?
    if [ "$stored" -eq 0 ]; then
      # shellcheck disable=SC2086 # a simple command, split on purpose
      prefixed cspm $local_cspm
    elif [ "$stored" -ne 1 ]; then
      exit "$stored"
    else
      together "dashboard:scripts/build_dashboard.sh wasm" \
        "cspm:$local_cspm -p cspm-bindgen --bin cspm-bindgen"
      CSPM_BINDGEN="$CARGO_TARGET_DIR/local/cspm-bindgen" DASHBOARD_WASM_OPT=-O1 \
        scripts/build_dashboard.sh package
    fi
    ;;
  local-full)
    together "dashboard:scripts/build_dashboard.sh" "cspm:cargo build --release -p backend --bin cspm"
    ;;
  serve)
    addr=127.0.0.1:8080
    if [ "${2:-}" = "--addr" ] && [ -n "${3:-}" ]; then
      addr="$3"
    elif [ $# -gt 1 ]; then
      echo "usage: $0 serve [--addr HOST:PORT]" >&2; exit 2
    fi
    "$0" local
    exec "$CARGO_TARGET_DIR/local/cspm" serve --demo --addr "$addr" --data-dir ./data --dashboard-dir frontend/dist
    ;;
  all)
    scripts/build_dashboard.sh
    scripts/build_lambdas.sh
    ;;
  *) echo "usage: $0 [all|dashboard|lambdas|local|local-full|serve [--addr HOST:PORT]]" >&2; exit 2 ;;
esac
