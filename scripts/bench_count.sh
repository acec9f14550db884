#!/usr/bin/env bash
# View-count figures at 1M findings: what `GET /findings`' total adds to a list
# request, per typical view, and how close the estimates come.
#   scripts/bench_count.sh [N]      (default 1,000,000)
# Keep the generated store between runs with COUNT_BENCH_DIR=/some/dir.
# Prints one line per view: count p50/p99, list p99, list+count p99 and the
# difference, the count given, whether exact, and the true count(*).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cspm-target}"
COUNT_BENCH_N="${1:-1000000}" cargo bench -q -p backend --bench count
