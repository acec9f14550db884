#!/usr/bin/env bash
# Shared helpers for the scripts: cached, idempotent tool installs under ~/.cache.
# Source it; it defines functions only.

CSPM_TOOLS="${CSPM_TOOLS:-$HOME/.cache/cspm-tools}"

# venv_tool NAME PIP_SPEC... : creates (once) a venv at $CSPM_TOOLS/NAME with the
# pinned packages and prints its bin directory. The venv name must carry the version
# so a version bump installs afresh.
venv_tool() {
  local name="$1"; shift
  local dir="$CSPM_TOOLS/$name"
  if [ ! -f "$dir/.installed" ]; then
    rm -rf "$dir"
    python3 -m venv "$dir" >&2
    "$dir/bin/pip" install --quiet --disable-pip-version-check "$@" >&2
    touch "$dir/.installed"
  fi
  echo "$dir/bin"
}

# dashboard_config FILE : writes the dashboard's config.json to FILE, with
# DASHBOARD_API_BASE_URL as its API base URL (empty: the page's own origin).
dashboard_config() {
  python3 -c 'import json,sys; print(json.dumps({"api_base_url": sys.argv[1]}))' \
    "${DASHBOARD_API_BASE_URL:-}" > "$1"
}

# free_port : prints a free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
