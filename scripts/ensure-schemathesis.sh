#!/usr/bin/env bash
# Installs schemathesis (the API fuzzer of test/e2e/schemathesis.test.ts) into the project-local venv
# .venv/schemathesis when it is missing. Idempotent and quiet: exits at once when it is already there.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${SCHEMATHESIS_VENV:-$root/.venv/schemathesis}"
bin="$venv/bin/schemathesis"
# The CLI flags test/e2e/schemathesis.test.ts uses are those of 4.x.
requirement="schemathesis>=4.32,<5"

installed() {
  [[ -x "$bin" ]] && "$venv/bin/python" -c 'import schemathesis, sys; sys.exit(0 if schemathesis.__version__.split(".")[0] == "4" else 1)' >/dev/null 2>&1
}

if installed; then exit 0; fi

python="${PYTHON:-python3}"
if ! command -v "$python" >/dev/null 2>&1; then
  echo "ensure-schemathesis: $python not found; install Python 3.9+ to run the API fuzzing test" >&2
  exit 1
fi

# Serialise concurrent callers (parallel test files) so two pips never share one venv.
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi
if installed; then exit 0; fi

if [[ ! -x "$venv/bin/python" ]]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$requirement" >&2
if ! installed; then
  echo "ensure-schemathesis: schemathesis installed but $bin does not run" >&2
  exit 1
fi
