#!/usr/bin/env bash
# Install routing-agent into ./.venv and run the main job offline: `routing-agent demo` (extra args pass through).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
exec routing-agent demo "$@"
