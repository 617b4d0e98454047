#!/usr/bin/env bash
# Installs a PyPI tool into the project-local venv .venv/NAME when CHECK fails; the other scripts
# here and scripts/ensure-*.sh call it. Idempotent and quiet: exits at once when CHECK passes.
#   scripts/deps/pip-tool.sh NAME REQUIREMENT CHECK...
#   e.g. scripts/deps/pip-tool.sh podman-compose 'podman-compose>=1.2,<2' podman-compose --version
# CHECK's command is the venv's own (.venv/NAME/bin/CMD). PYTHON picks the interpreter (default python3).
set -euo pipefail

name="$1" requirement="$2"
shift 2
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# PIP_TOOL_VENV: another place for the venv (the ensure-* scripts pass their MOTO_VENV, SCHEMATHESIS_VENV).
venv="${PIP_TOOL_VENV:-}"
venv="${venv:-$root/.venv/$name}"

installed() {
  [[ -x "$venv/bin/$1" ]] && "$venv/bin/$1" "${@:2}" >/dev/null 2>&1
}
if installed "$@"; then exit 0; fi

python="${PYTHON:-python3}"
if ! command -v "$python" >/dev/null 2>&1; then
  echo "deps/$name: $python not found; install Python 3.9+ (it installs $requirement)" >&2
  exit 1
fi

# Serialise concurrent callers (parallel test files) so two pips never share one venv.
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi
if installed "$@"; then exit 0; fi

if [[ ! -x "$venv/bin/python" ]] && ! "$python" -m venv "$venv"; then
  echo "deps/$name: '$python -m venv $venv' failed (Debian: apt-get install python3-venv)" >&2
  exit 1
fi
if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$requirement" >&2; then
  echo "deps/$name: 'pip install $requirement' failed (is PyPI reachable?)" >&2
  exit 1
fi
if ! installed "$@"; then
  echo "deps/$name: installed, but '$*' does not run" >&2
  exit 1
fi
