#!/usr/bin/env bash
# Builds the dashboard into frontend/dist/: index.html, config.json, and content-hashed
# JS glue, optimized wasm, boot script and CSS (so a CDN can cache them forever while
# index.html and config.json stay short-lived). Prints raw and gzip sizes.
#
# Tools are installed once under ~/.cache/cspm-tools, keyed by version:
#   wasm-bindgen-cli (must equal the wasm-bindgen crate pinned in frontend/Cargo.toml)
#   wasm-opt from the npm package binaryen (Debian's older wasm-opt breaks the output)
#
# DASHBOARD_API_BASE_URL (optional) goes into config.json; empty means same origin.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh

WASM_BINDGEN_VERSION=0.2.130
BINARYEN_VERSION=132.0.0
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cspm-target}"
target=wasm32-unknown-unknown
src=frontend
dist=frontend/dist

log() { printf '  %s\n' "$*" >&2; }

if ! rustup target list --installed | grep -qx "$target"; then
  log "adding Rust target $target"
  rustup target add "$target" >&2
fi

wb_dir="$CSPM_TOOLS/wasm-bindgen-cli-$WASM_BINDGEN_VERSION"
wasm_bindgen="$wb_dir/bin/wasm-bindgen"
if ! "$wasm_bindgen" --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION\$"; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (once, ~2 min)"
  # No registry ships this version prebuilt (npm, PyPI and Debian have none), so it
  # is compiled: only the `wasm-bindgen` binary, and without the default `rustls-tls`
  # feature, which only the test runner's downloads use (it would compile rustls and
  # ring). No --locked: the CLI's lockfile pins a crate version the registry index
  # lacks. A build tool needs no LTO or full optimisation: opt-level 1 without LTO
  # compiles faster, and its output does not depend on how it was compiled.
  CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
  CARGO_PROFILE_RELEASE_LTO=false \
  CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
  CARGO_PROFILE_RELEASE_DEBUG=false \
    cargo install wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION" --no-default-features \
      --bin wasm-bindgen --root "$wb_dir" --force >&2
fi

bn_dir="$CSPM_TOOLS/binaryen-$BINARYEN_VERSION"
wasm_opt="$bn_dir/node_modules/.bin/wasm-opt"
if ! "$wasm_opt" --version 2>/dev/null | grep -q "version ${BINARYEN_VERSION%%.*}"; then
  log "installing wasm-opt (npm binaryen@$BINARYEN_VERSION, once)"
  rm -rf "$bn_dir" && mkdir -p "$bn_dir"
  npm install --silent --no-audit --no-fund --prefix "$bn_dir" "binaryen@$BINARYEN_VERSION" >&2
fi

log "cargo build --release --target $target -p frontend"
# Size matters more than speed for code shipped to browsers; set here, not in the
# workspace profile, so backend release builds are unaffected.
CARGO_PROFILE_RELEASE_OPT_LEVEL=z \
CARGO_PROFILE_RELEASE_LTO=true \
CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
CARGO_PROFILE_RELEASE_STRIP=false \
  cargo build --release --target "$target" -p frontend
wasm_in="$CARGO_TARGET_DIR/$target/release/frontend.wasm"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$wasm_bindgen" --target web --no-typescript --out-dir "$work" --out-name frontend "$wasm_in"
"$wasm_opt" -Oz --strip-debug --strip-producers --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
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
python3 -c 'import json,sys; print(json.dumps({"api_base_url": sys.argv[1]}))' \
  "${DASHBOARD_API_BASE_URL:-}" > "$dist/config.json"

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
