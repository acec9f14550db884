#!/usr/bin/env bash
# Builds the dashboard into frontend/dist/: index.html, config.json, and content-hashed
# JS glue, optimized wasm, boot script and CSS (so a CDN can cache them forever while
# index.html and config.json stay short-lived). Prints raw and gzip sizes.
#   scripts/build_dashboard.sh           both steps below
#   scripts/build_dashboard.sh wasm      compile the dashboard to wasm32 only
#   scripts/build_dashboard.sh package   bindings, wasm-opt and dist/ from that wasm
# (`./build.sh local` runs `wasm` beside the backend build, which also builds the
# bindings tool, then `package`.)
#
# The bindings step is `cspm-bindgen` (tools/bindgen: wasm-bindgen's own generator
# library at the version pinned in frontend/Cargo.toml, with the CLI's settings),
# built here with `cargo build --profile local` unless CSPM_BINDGEN names a built one.
# wasm-opt comes from the npm package binaryen (Debian's older wasm-opt breaks the
# output), installed once under ~/.cache/cspm-tools keyed by version.
#
# DASHBOARD_API_BASE_URL (optional) goes into config.json; empty means same origin.
# DASHBOARD_WASM_OPT (optional, default -Oz) is wasm-opt's level: -Oz is the smallest
# raw wasm; -O1 takes 8 s instead of 36 s, its wasm is 11 % larger raw and 10 %
# smaller gzipped (measured on this dashboard), so the local quick start uses it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh

BINARYEN_VERSION=132.0.0
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cspm-target}"
target=wasm32-unknown-unknown
src=frontend
dist=frontend/dist
step="${1:-all}"
case "$step" in all|wasm|package) ;; *) echo "usage: $0 [wasm|package]" >&2; exit 2 ;; esac
wasm_in="$CARGO_TARGET_DIR/$target/release/frontend.wasm"

log() { printf '  %s\n' "$*" >&2; }

# Installs wasm-opt once (quick: a download), in the `wasm` step so that it overlaps
# the compile.
bn_dir="$CSPM_TOOLS/binaryen-$BINARYEN_VERSION"
wasm_opt="$bn_dir/node_modules/.bin/wasm-opt"
install_wasm_opt() {
  if ! "$wasm_opt" --version 2>/dev/null | grep -q "version ${BINARYEN_VERSION%%.*}"; then
    log "installing wasm-opt (npm binaryen@$BINARYEN_VERSION, once)"
    rm -rf "$bn_dir" && mkdir -p "$bn_dir"
    npm install --silent --no-audit --no-fund --prefix "$bn_dir" "binaryen@$BINARYEN_VERSION" >&2
  fi
}

if [ "$step" != package ]; then
  if ! rustup target list --installed | grep -qx "$target"; then
    log "adding Rust target $target"
    rustup target add "$target" >&2
  fi
  install_wasm_opt
  log "cargo build --release --target $target -p frontend"
  # Size matters more than speed for code shipped to browsers; set here, not in the
  # workspace profile, so backend release builds are unaffected.
  # Crates' paths in the cargo home end up in panic messages: written as /cargo, no
  # home path is shipped (the bytes still depend on the home's path: README).
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="--remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo" \
  CARGO_PROFILE_RELEASE_OPT_LEVEL=z \
  CARGO_PROFILE_RELEASE_LTO=true \
  CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
  CARGO_PROFILE_RELEASE_STRIP=false \
    cargo build --release --target "$target" -p frontend
  [ "$step" = wasm ] && exit 0
fi
[ -f "$wasm_in" ] || { echo "$wasm_in is missing: run $0 wasm first" >&2; exit 1; }

bindgen="${CSPM_BINDGEN:-}"
if [ -z "$bindgen" ]; then
  log "cargo build --profile local -p cspm-bindgen"
  cargo build --profile local -p cspm-bindgen
  bindgen="$CARGO_TARGET_DIR/local/cspm-bindgen"
fi

install_wasm_opt

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$bindgen" "$wasm_in" "$work" frontend
"$wasm_opt" "${DASHBOARD_WASM_OPT:--Oz}" --strip-debug --strip-producers --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue \
  "$work/frontend_bg.wasm" -o "$work/frontend_opt.wasm"

hash_of() { sha256sum "$1" | cut -c1-12; }
wasm_name="frontend-$(hash_of "$work/frontend_opt.wasm").wasm"
js_name="frontend-$(hash_of "$work/frontend.js").js"
css_name="style-$(hash_of "$src/style.css").css"

rm -rf "$dist" && mkdir -p "$dist"
cp "$work/frontend_opt.wasm" "$dist/$wasm_name"
cp "$work/frontend.js" "$dist/$js_name"
cp "$src/style.css" "$dist/$css_name"
sed -e "s|/frontend.js|/$js_name|g" -e "s|/frontend_bg.wasm|/$wasm_name|g" "$src/boot.js" > "$work/boot.js"
boot_name="boot-$(hash_of "$work/boot.js").js"
cp "$work/boot.js" "$dist/$boot_name"
sed -e "s|/style.css|/$css_name|g" -e "s|/frontend.js|/$js_name|g" \
    -e "s|/frontend_bg.wasm|/$wasm_name|g" -e "s|/boot.js|/$boot_name|g" \
    "$src/index.html" > "$dist/index.html"
for f in "$js_name" "$wasm_name" "$css_name" "$boot_name"; do
  grep -q "/$f" "$dist/index.html" || [ "$f" = "$wasm_name" ] || { echo "index.html does not reference $f" >&2; exit 1; }
done
grep -q "/$wasm_name" "$dist/$boot_name" || { echo "boot script does not reference $wasm_name" >&2; exit 1; }
dashboard_config "$dist/config.json"

size() { wc -c < "$1" | tr -d ' '; }
gz() { gzip -9 -c "$1" | wc -c | tr -d ' '; }
printf '\nDashboard built in %s\n' "$dist"
printf '  %-32s %10s %10s\n' file raw gzip
total_raw=0; total_gz=0
for f in "$wasm_name" "$js_name" "$boot_name" "$css_name" index.html config.json; do
  r=$(size "$dist/$f"); g=$(gz "$dist/$f")
  printf '  %-32s %10s %10s\n' "$f" "$r" "$g"
  total_raw=$((total_raw + r)); total_gz=$((total_gz + g))
done
printf '  %-32s %10s %10s\n' total "$total_raw" "$total_gz"
wasm_js_gz=$(( $(gz "$dist/$wasm_name") + $(gz "$dist/$js_name") ))
printf '  wasm+JS gzip: %s KB (goal <= 400 KB)\n' "$(( (wasm_js_gz + 512) / 1024 ))"
