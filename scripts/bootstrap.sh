#!/usr/bin/env bash
# Sourced by demo.sh and test.sh: make ./.venv with routing-agent installed (extras in $RA_EXTRAS).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
py=${PYTHON:-python3}
if ! "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
  echo "routing-agent needs Python >= 3.11 (found: $("$py" --version 2>&1)). Set PYTHON=/path/to/python3.11." >&2
  exit 1
fi
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else "$@"; fi; }
if [ ! -x .venv/bin/python ]; then
  if ! "$py" -m venv .venv 2>/dev/null; then
    # Debian splits venv/ensurepip into python3-venv.
    rm -rf .venv
    ver=$("$py" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
    as_root apt-get update -qq
    as_root apt-get install -y -qq "python${ver}-venv" >/dev/null 2>&1 || as_root apt-get install -y -qq python3-venv >/dev/null
    "$py" -m venv .venv
  fi
fi
stamp=.venv/.routing-agent-installed
want="${RA_EXTRAS:-}|$(cat pyproject.toml | cksum)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
  if [ -n "${RA_EXTRAS:-}" ]; then
    .venv/bin/python -m pip install -q -e ".[${RA_EXTRAS}]"
  else
    .venv/bin/python -m pip install -q -e .
  fi
  echo "$want" > "$stamp"
fi
export PATH="$root/.venv/bin:$PATH"
