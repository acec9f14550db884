#!/usr/bin/env bash
# Builds every Lambda listed in backend/lambdas.json (release, arm64) into
# dist/lambda-arm64/<binary>/bootstrap.zip with cargo-lambda (pinned, installed once
# in a cached venv) and prints each zip's size. Fails loudly on any error, including
# a listed binary without backend/src/bin/<binary>.rs and a zip over the 10 MB goal.
#   scripts/build_lambdas.sh          build
#   scripts/build_lambdas.sh --list   print the binaries it would build, one a line
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cspm-target}"

# The one list of Lambdas (Terraform deploys the same ones: scripts/check_terraform.py).
mapfile -t lambdas < <(python3 - <<'PY'
import json
seen = []
for key, spec in json.load(open("backend/lambdas.json", encoding="utf-8"))["lambdas"].items():
    binary = spec.get("binary", key)
    if binary not in seen:
        seen.append(binary)
print("\n".join(seen))
PY
)
if [ "${#lambdas[@]}" -eq 0 ] || [ -z "${lambdas[0]}" ]; then
  echo "backend/lambdas.json lists no Lambdas" >&2
  exit 1
fi
if [ "${1:-}" = "--list" ]; then
  printf '%s\n' "${lambdas[@]}"
  exit 0
fi
for l in "${lambdas[@]}"; do
  if [ ! -f "backend/src/bin/$l.rs" ]; then
    echo "backend/lambdas.json lists binary $l but backend/src/bin/$l.rs does not exist" >&2
    exit 1
  fi
done

bin=$(venv_tool cargo-lambda-1.9.2 cargo-lambda==1.9.2)
export PATH="$bin:$PATH"

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
