#!/usr/bin/env bash
# How long someone trying the product waits: clones a commit into a temp dir and runs
# the README's `./build.sh serve` there with an empty cargo target dir and an empty
# tool cache (crates already downloaded to ~/.cargo and npm's download cache stay:
# that is network, not build time), on a free port, and prints the time from the
# start to the first answer of GET /health. Then it stops the server and removes
# everything it made. Gives up after BENCH_TIMEOUT seconds (default 1800).
#   scripts/bench_first_run.sh [COMMIT]   (default HEAD; uncommitted changes are not measured)
# It builds cold for minutes on every core: run it under the shared cargo lock
# (`flock /work/cargo.lock scripts/bench_first_run.sh`) where others build too.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh

commit="$(git rev-parse --verify "${1:-HEAD}^{commit}")"
limit="${BENCH_TIMEOUT:-1800}"
work="$(mktemp -d)"
server=""

cleanup() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
    # build.sh runs in its own session: this ends it and the cargo or cspm under it.
    kill -TERM -- "-$server" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$server" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$server" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

git clone --quiet --no-checkout . "$work/repo"
git -C "$work/repo" -c advice.detachedHead=false checkout --quiet "$commit"
port="$(free_port)"
log="$work/build.log"
echo "commit ${commit:0:12}: ./build.sh serve --addr 127.0.0.1:$port, cold target dir and tool cache" >&2

start=$(date +%s.%N)
(
  cd "$work/repo"
  export CARGO_TARGET_DIR="$work/target" CSPM_TOOLS="$work/tools"
  exec setsid ./build.sh serve --addr "127.0.0.1:$port"
) >"$log" 2>&1 &
server=$!

elapsed() { awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.0f", e - s }'; }
while ! curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/health" 2>/dev/null; do
  if ! kill -0 "$server" 2>/dev/null; then
    echo "build.sh serve ended before /health answered; the last lines of its output:" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
  if [ "$(elapsed)" -ge "$limit" ]; then
    echo "no /health answer after ${limit}s; the last lines of the output:" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
  sleep 1
done
secs=$(elapsed)
# The dashboard is served too: index.html and every hashed file it names.
base="http://127.0.0.1:$port"
index="$(curl -fsS "$base/")"
files="$(grep -o '/[a-z]*-[0-9a-f]\{12\}\.\(js\|css\)' <<<"$index" | sort -u)"
[ -n "$files" ] || { echo "GET / did not answer the dashboard's index.html" >&2; exit 1; }
for f in $files; do curl -fsS -o /dev/null "$base$f" || { echo "GET $f failed" >&2; exit 1; }; done
wasm="$(curl -fsS "$base$(grep -m1 '^/boot-' <<<"$files")" | grep -o '/frontend-[0-9a-f]\{12\}\.wasm' | head -1)"
[ -n "$wasm" ] && curl -fsS -o /dev/null "$base$wasm" || { echo "the dashboard's wasm is not served" >&2; exit 1; }
echo "dashboard served: index.html, $(wc -w <<<"$files") hashed files and $wasm" >&2
tools="nothing installed"
[ -d "$work/tools" ] && tools="$(du -sh "$work/tools" | cut -f1)"
echo "target dir: $(du -sh "$work/target" | cut -f1), tool cache: $tools" >&2
printf 'first /health answer after %d s (%d min %02d s)\n' "$secs" $((secs / 60)) $((secs % 60))
