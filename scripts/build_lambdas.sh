#!/usr/bin/env bash
# Builds every Lambda (release, arm64) into dist/lambda-arm64/<name>/bootstrap.zip
# with cargo-lambda (pinned, installed once in a cached venv) and prints each zip's
# size. Fails loudly on any error, including a zip over the 10 MB goal.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cspm-target}"

bin=$(venv_tool cargo-lambda-1.9.2 cargo-lambda==1.9.2)
export PATH="$bin:$PATH"

lambdas=(scanner api)
if [ -f backend/src/bin/archiver.rs ]; then lambdas+=(archiver); fi
args=()
for l in "${lambdas[@]}"; do args+=(--bin "$l"); done

out=dist/lambda-arm64
cargo lambda build --release --arm64 --output-format zip --lambda-dir "$out" -p backend "${args[@]}"

limit=$((10 * 1024 * 1024))
status=0
for l in "${lambdas[@]}"; do
  zip="$out/$l/bootstrap.zip"
  if [ ! -f "$zip" ]; then echo "MISSING: $zip" >&2; status=1; continue; fi
  size=$(stat -c %s "$zip")
  printf '%-10s %s  %d bytes (%.2f MB)\n' "$l" "$zip" "$size" "$(awk -v s="$size" 'BEGIN{print s/1048576}')"
  if [ "$size" -gt "$limit" ]; then echo "TOO BIG: $zip is over 10 MB" >&2; status=1; fi
done
exit $status
