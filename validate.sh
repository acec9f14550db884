#!/usr/bin/env bash
# Runs every check and test of cspm-monitor; exits non-zero on the first failure.
# This is the README's test command and what `.ci/run` calls.
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cspm-target}"

step() { printf '\n==> %s\n' "$*"; }

step "Rust: format, lints, shared-types on wasm32, unit + integration tests"
scripts/test_rust.sh

step "API description: schemathesis against cspm serve --demo (0 failures)"
scripts/test_api_schema.sh

step "Infrastructure: terraform fmt, checkov, consistency checks"
scripts/check_infra.sh

step "Dashboard: end-to-end in headless Chromium against cspm serve --demo"
scripts/test_e2e.sh
