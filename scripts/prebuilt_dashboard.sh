#!/usr/bin/env bash
# The dashboard as built from this commit's sources, kept in frontend/prebuilt/ so the
# local quick start (`./build.sh serve`) need not compile it: on a fresh 2-core machine
# the wasm build and its bindings tool were about 300 of the first run's 850 CPU
# seconds. frontend/prebuilt/INPUTS holds the fingerprint of what it was built from
# (scripts/dashboard_inputs.py); a stored build whose fingerprint differs is never used.
#   scripts/prebuilt_dashboard.sh use     frontend/dist/ from the stored build when it
#                                         matches the sources (exit 0), else exit 1
#                                         saying why (the caller builds from source);
#                                         exit 2 when the sources cannot be fingerprinted.
#                                         DASHBOARD_API_BASE_URL, when set, goes into its
#                                         config.json as scripts/build_dashboard.sh does
#   scripts/prebuilt_dashboard.sh save    build from source (scripts/build_dashboard.sh,
#                                         deployed settings) and store it: run it and
#                                         commit frontend/prebuilt/ after changing the
#                                         dashboard, shared-types or their crates
#   scripts/prebuilt_dashboard.sh check   build from source as `save` does, into
#                                         frontend/dist/: it must equal the stored build
#                                         byte for byte, and the stored fingerprint the
#                                         sources' (CI, in scripts/test_e2e.sh). The bytes depend on
#                                         the Rust toolchain: after a toolchain update,
#                                         save again.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh

stored=frontend/prebuilt
dist=frontend/dist
inputs="$(python3 scripts/dashboard_inputs.py)" || {
  echo "cannot fingerprint the dashboard's sources (scripts/dashboard_inputs.py, above)" >&2
  exit 2
}

# The first line of INPUTS is the fingerprint; the second says what built it.
stored_inputs() { head -n 1 "$stored/INPUTS" 2>/dev/null || true; }
toolchain() { rustc --version | cut -d' ' -f1-2; }
# The deployed settings (no API base URL, wasm-opt -Oz), whatever the environment
# says: what is stored, and what the check rebuilds.
build_deployed() { DASHBOARD_API_BASE_URL='' DASHBOARD_WASM_OPT='' scripts/build_dashboard.sh; }

case "${1:-}" in
  use)
    if [ "$(stored_inputs)" != "$inputs" ]; then
      echo "the stored dashboard ($stored) was built from other sources: building it from source" >&2
      exit 1
    fi
    rm -rf "$dist" && mkdir -p "$dist"
    find "$stored" -maxdepth 1 -type f ! -name INPUTS -exec cp {} "$dist/" \;
    if [ -n "${DASHBOARD_API_BASE_URL:-}" ]; then
      dashboard_config "$dist/config.json"
    fi
    echo "dashboard: the stored build of these sources ($stored, $(sed -n 2p "$stored/INPUTS"))" >&2
    ;;
  save)
    build_deployed
    rm -rf "$stored" && mkdir -p "$stored"
    cp "$dist"/* "$stored/"
    {
      echo "$inputs"
      echo "built by scripts/prebuilt_dashboard.sh save with $(toolchain), wasm-opt -Oz"
    } > "$stored/INPUTS"
    echo "stored in $stored: commit it" >&2
    ;;
  check)
    if [ "$(stored_inputs)" != "$inputs" ]; then
      echo "$stored was built from other sources than these: run scripts/prebuilt_dashboard.sh save and commit $stored" >&2
      exit 1
    fi
    build_deployed
    if ! diff -r --exclude=INPUTS -q "$stored" "$dist" >&2; then
      echo "$stored differs from the dashboard built from these sources (above; stored: $(sed -n 2p "$stored/INPUTS"); this build: $(toolchain)): run scripts/prebuilt_dashboard.sh save and commit $stored" >&2
      exit 1
    fi
    echo "the stored dashboard equals the build from source, byte for byte ($(ls "$stored" | wc -l) files)" >&2
    ;;
  *) echo "usage: $0 use|save|check" >&2; exit 2 ;;
esac
