#!/usr/bin/env bash
# Installs moto (server mode, for the ACM PCA contract tests) into the project-local venv .venv/moto
# (or $MOTO_VENV) when it is missing. Idempotent and quiet: exits at once when it is there.
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
PIP_TOOL_VENV="${MOTO_VENV:-}" exec bash "$here/deps/pip-tool.sh" moto 'moto[server]>=5,<6' python -c 'import moto.acmpca, flask'
