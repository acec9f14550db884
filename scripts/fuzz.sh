#!/usr/bin/env bash
# Runs every coverage-guided fuzz target in fuzz/ for SECONDS_PER_TARGET (default
# 60) and prints, per target, executions, coverage and crashes.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]
#   FUZZ_TARGETS="policy query" scripts/fuzz.sh 60    # only these targets
#   FUZZ_NO_BUILD=1 scripts/fuzz.sh 300    # run the binaries already built
#
# FUZZ_NO_BUILD exists because `cargo fuzz run` rebuilds whenever a backend
# file's mtime changed (a checkout is enough), and the ASan build takes ~50 min
# on two cores: long runs should not depend on nobody touching the tree.
#
# Needs the nightly toolchain (`cargo +nightly`); installs cargo-fuzz (pinned)
# under ~/.cache once. Each target's corpus is seeded from ../shared/corpus,
# copied at run time into a temporary folder (nothing is added to the
# repository). Inputs that crash are kept under $FUZZ_ARTIFACTS (default
# ~/.cache/cspm-fuzz-artifacts/TARGET/); turn each into a regression test with the
# minimized input under backend/tests/fuzz-regressions/TARGET/.
# Exits 1 when any target crashed, timed out or ran out of memory.
set -euo pipefail

SECONDS_PER_TARGET="${1:-60}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CORPUS="${CSPM_CORPUS:-$ROOT/../shared/corpus}"
CARGO_FUZZ_VERSION=0.13.2
TOOLS="$HOME/.cache/cspm-tools/cargo-fuzz-$CARGO_FUZZ_VERSION"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cspm-fuzz-target}"
ARTIFACTS="${FUZZ_ARTIFACTS:-$HOME/.cache/cspm-fuzz-artifacts}"
TARGETS=(normalizer normalizer_structured ocsf cloudtrail_reader rules_load rule_eval policy query sinks_yaml config_yaml oidc_token)
if [ -n "${FUZZ_TARGETS:-}" ]; then
  read -r -a TARGETS <<<"$FUZZ_TARGETS"
fi

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz.sh: the nightly toolchain is missing; the stable property tests (cargo test --test it props::) cover the same entry points" >&2
  exit 2
fi
if [ ! -x "$TOOLS/bin/cargo-fuzz" ]; then
  cargo install --locked --root "$TOOLS" cargo-fuzz --version "=$CARGO_FUZZ_VERSION" >&2
fi
export PATH="$TOOLS/bin:$PATH"

# The fuzz crate has its own lockfile: start it from the workspace's, so the
# targets build the dependency versions the tests ran with.
[ -f "$ROOT/fuzz/Cargo.lock" ] || cp "$ROOT/Cargo.lock" "$ROOT/fuzz/Cargo.lock"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# seed TARGET FOLDER... : copies the corpus folders' files into the target's corpus.
seed() {
  local target="$1"; shift
  mkdir -p "$WORK/$target"
  for folder in "$@"; do
    [ -d "$CORPUS/$folder" ] || continue
    find "$CORPUS/$folder" -type f \( -name '*.json' -o -name '*.jsonl' -o -name '*.gz' \) \
      -exec cp -t "$WORK/$target/" {} +
  done
}
seed normalizer asff asff-envelope cloudtrail cloudtrail-records alarm guardduty
seed cloudtrail_reader cloudtrail cloudtrail-records
seed rule_eval cloudtrail cloudtrail-records rule-case
seed policy iam-policy
seed rules_load
cp "$ROOT"/backend/rules/*.yaml "$WORK/rules_load/"
seed sinks_yaml
# The README's sinks example (its only YAML block that starts with `sinks:`).
awk '/^```yaml/{f=1;next} /^```/{f=0} f' "$ROOT/README.md" | awk '/^sinks:/{p=1} p' > "$WORK/sinks_yaml/readme.yaml"
seed normalizer_structured asff asff-envelope alarm guardduty
# The published OCSF samples live in the repository (backend/tests/data/ocsf).
seed ocsf asff-envelope
find "$ROOT/backend/tests/data/ocsf" -type f \( -name '*.json' -o -name '*.jsonl' \) -exec cp -t "$WORK/ocsf/" {} +
find "$ROOT/backend/tests/data/ocsf" -type f -name '*.json' -exec cp -t "$WORK/normalizer_structured/" {} +
# Whole CloudTrail log files are large; the structured mutator edits single events.
seed_some() { find "$CORPUS/$2" -type f -name '*.json' 2>/dev/null | head -n "$3" | xargs -r cp -t "$WORK/$1/"; }
seed_some normalizer_structured cloudtrail 40
seed config_yaml
cp "$ROOT/backend/rules/detection-settings.yaml" "$WORK/config_yaml/"
# The README's remediation example (the YAML block that starts with `enabled:`).
awk '/^```yaml/{f=1;next} /^```/{f=0} f' "$ROOT/README.md" | awk '/^enabled:/{p=1} p&&/^$/{exit} p' > "$WORK/config_yaml/remediation.yaml"
awk '/^```yaml/{f=1;next} /^```/{f=0} f' "$ROOT/docs/detections.md" | awk '/^suppressions:/{p=1} p' > "$WORK/config_yaml/suppressions.yaml"
# oidc_token: the first byte picks the mode (see the target).
seed oidc_token
printf '\x00%s' 'eyJhbGciOiJFUzI1NiIsImtpZCI6ImsifQ.eyJzdWIiOiJ1In0.c2ln' > "$WORK/oidc_token/bearer"
printf '\x01%s' '{"iss":"https://issuer.example","sub":"u","aud":"dashboard","token_use":"id","exp":4102444800,"nonce":"nonce","cognito:groups":["admin"]}' > "$WORK/oidc_token/claims"
printf '\x02%s' '{"alg":"ES256","kid":"k","typ":"at+jwt"}' > "$WORK/oidc_token/header"
printf '\x03%s' '{"keys":[{"kty":"EC","crv":"P-256","kid":"k","x":"AA","y":"AA"},{"kty":"RSA","n":"AQAB","e":"AQAB"}]}' > "$WORK/oidc_token/jwks"
printf '\x04%s\n%s' 'cspm_session=abc_DEF-1; other=x' '/findings?severity=HIGH' > "$WORK/oidc_token/session"
seed query
printf '%s' 'severity=HIGH,CRITICAL&status=NEW&q=s3&limit=50' > "$WORK/query/filters"
printf '%s' 'since=2024-01-01T00:00:00Z&until=2024-02-01T00:00:00Z&account=123456789012' > "$WORK/query/times"

cd "$ROOT/fuzz"
BIN="$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release"
if [ -z "${FUZZ_NO_BUILD:-}" ]; then
  cargo +nightly fuzz build -O --debug-assertions >&2
fi

failed=0
printf '%-18s %12s %10s %8s %s\n' target executions coverage features result
for t in "${TARGETS[@]}"; do
  mkdir -p "$ARTIFACTS/$t"
  log="$WORK/$t.log"
  set +e
  # cargo-fuzz sets this too: SQLite's amalgamation defines a few globals twice,
  # which ASan's one-definition-rule check reports before any input runs.
  ASAN_OPTIONS="${ASAN_OPTIONS:-detect_odr_violation=0}" "$BIN/$t" "$WORK/$t" \
    -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -timeout=10 \
    -max_len=1048576 -artifact_prefix="$ARTIFACTS/$t/" -print_final_stats=1 >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || true)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || true)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || true)
  if [ "$rc" -eq 0 ]; then
    result="ok (0 crashes)"
  else
    failed=1
    kind=$(grep -oE 'ERROR: libFuzzer: [a-z-]+|panicked at [^ ]*' "$log" | head -1 || true)
    result="FAILED: ${kind:-exit $rc}; input in $ARTIFACTS/$t/ (log $log kept below)"
    tail -40 "$log" >&2
  fi
  printf '%-18s %12s %10s %8s %s\n' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$result"
done
exit "$failed"
