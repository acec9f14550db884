#!/usr/bin/env bash
# Rust checks and tests: no import circles, format, lints, shared-types on wasm32,
# then every unit and integration test with the AWS emulator running
# (scripts/with_moto.sh).
#
# Backend and frontend are checked in separate cargo invocations on purpose: one
# `--workspace` run would unify features across the native backend and the WASM
# dashboard and rebuild every dependency with a third feature set.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cspm-target}"

# No module of the backend library imports one that imports it back (and the
# checker itself still finds the circles it should).
python3 scripts/check_module_cycles.py
python3 -m unittest scripts/test_check_module_cycles.py
# The fingerprint that lets the quick start serve the stored dashboard build.
python3 -m unittest scripts/test_dashboard_inputs.py
# Every AWS SDK crate in the lock file is built without optimisation in tests
# (Cargo.toml says why): a new one without its line would cost cold CI minutes.
sdk_crates=$(sed -n 's/^name = "\(aws-sdk-[a-z0-9]*\)"$/\1/p' Cargo.lock | sort -u)
unoptimised=$(sed -n 's/^\[profile\.dev\.package\.\(aws-sdk-[a-z0-9]*\)\]$/\1/p' Cargo.toml | sort -u)
missing=$(comm -23 <(echo "$sdk_crates") <(echo "$unoptimised"))
[ -z "$missing" ] || { echo "Cargo.toml: add [profile.dev.package.<name>] opt-level = 0 for: $missing" >&2; exit 1; }
cargo fmt --all -- --check
cargo clippy -p backend -p shared-types --all-targets -- -D warnings
# The quick-start build (`./build.sh local`) leaves the AWS adapters out (feature
# `aws`): keep that build compiling and lint-clean too.
cargo clippy -p backend --no-default-features --all-targets -- -D warnings
# The dashboard and its bindings tool (tools/bindgen), both native here.
cargo clippy -p frontend -p cspm-bindgen --all-targets -- -D warnings
rustup target list --installed | grep -q wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
cargo build -p shared-types --target wasm32-unknown-unknown
scripts/with_moto.sh cargo test -p backend -p shared-types --no-fail-fast
cargo test -p frontend
