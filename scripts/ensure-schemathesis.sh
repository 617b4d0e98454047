#!/usr/bin/env bash
# Installs schemathesis (the API fuzzer of test/e2e/schemathesis.test.ts) into the project-local venv
# .venv/schemathesis (or $SCHEMATHESIS_VENV) when it is missing. Idempotent and quiet.
# The CLI flags test/e2e/schemathesis.test.ts uses are those of 4.x.
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
PIP_TOOL_VENV="${SCHEMATHESIS_VENV:-}" exec bash "$here/deps/pip-tool.sh" schemathesis 'schemathesis>=4.32,<5' \
  python -c 'import schemathesis, sys; sys.exit(0 if schemathesis.__version__.split(".")[0] == "4" else 1)'
