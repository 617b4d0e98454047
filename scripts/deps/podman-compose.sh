#!/usr/bin/env bash
# Installs podman-compose (deploy/compose/verify.sh starts the compose stack with it) into the
# project-local venv .venv/podman-compose when it is missing. podman itself comes from
# scripts/deps/podman.sh. Idempotent: exits at once when it is there.
#   .venv/podman-compose/bin/podman-compose -f deploy/compose/compose.yaml up -d
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${PODMAN_COMPOSE_VENV:-$root/.venv/podman-compose}"
bin="$venv/bin/podman-compose"
# 1.x: compose files with named volumes, depends_on and ${VAR:-default}; runs with podman 4.3.
requirement="podman-compose>=1.2,<2"

installed() {
  [[ -x "$bin" ]] && "$bin" --version >/dev/null 2>&1
}

if installed; then exit 0; fi

python="${PYTHON:-python3}"
if ! command -v "$python" >/dev/null 2>&1; then
  echo "deps/podman-compose: $python not found; install Python 3.9+ to run podman-compose" >&2
  exit 1
fi

# Serialise concurrent callers (parallel test files) so two pips never share one venv.
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi
if installed; then exit 0; fi

if [[ ! -x "$venv/bin/python" ]]; then
  if ! "$python" -m venv "$venv"; then
    echo "deps/podman-compose: '$python -m venv $venv' failed (Debian: apt-get install python3-venv)" >&2
    exit 1
  fi
fi
if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$requirement" >&2; then
  echo "deps/podman-compose: 'pip install $requirement' failed (is PyPI reachable?)" >&2
  exit 1
fi
if ! installed; then
  echo "deps/podman-compose: installed, but '$bin --version' does not run" >&2
  exit 1
fi
