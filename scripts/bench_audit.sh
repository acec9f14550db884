#!/usr/bin/env bash
# Audit log figures (release build; prints them, asserts nothing about time):
# lines/s sustained locally through the outbox and the one writer, and
# `cspm audit verify` over 1,000,000 lines (in-process and through the binary).
#   scripts/bench_audit.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cspm-target}"
nice -n 10 cargo build --release -p backend --bin cspm
CSPM_BENCH_BIN="$CARGO_TARGET_DIR/release/cspm" nice -n 10 cargo bench -p backend --bench audit
