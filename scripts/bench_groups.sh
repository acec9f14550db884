#!/usr/bin/env bash
# Grouping figures at 1M findings: `GET /findings/groups`' store call per
# grouping and typical view (p50/p99 of 100 calls, limit 100).
#   scripts/bench_groups.sh [N]      (default 1,000,000)
# Keep the generated store between runs with GROUPS_BENCH_DIR=/some/dir.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cspm-target}"
GROUPS_BENCH_N="${1:-1000000}" cargo bench -q -p backend --bench groups
