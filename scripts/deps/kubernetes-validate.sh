#!/usr/bin/env bash
# Installs kubernetes-validate (deploy/kubernetes/verify.sh checks every manifest the Helm chart
# renders against the Kubernetes OpenAPI schemas it ships) into the project-local venv
# .venv/kubernetes-validate when it is missing. Idempotent: exits at once when it is there.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${KUBERNETES_VALIDATE_VENV:-$root/.venv/kubernetes-validate}"
bin="$venv/bin/kubernetes-validate"
# 1.x: the schemas it bundles go up to the Kubernetes version of its own minor (1.37 ships 1.37).
requirement="kubernetes-validate>=1.30,<2"

installed() {
  [[ -x "$bin" ]] && "$bin" --version >/dev/null 2>&1
}

if installed; then exit 0; fi

python="${PYTHON:-python3}"
if ! command -v "$python" >/dev/null 2>&1; then
  echo "deps/kubernetes-validate: $python not found; install Python 3.9+ to validate the Helm chart's manifests" >&2
  exit 1
fi

# Serialise concurrent callers (parallel test files) so two pips never share one venv.
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi
if installed; then exit 0; fi

if [[ ! -x "$venv/bin/python" ]]; then
  if ! "$python" -m venv "$venv"; then
    echo "deps/kubernetes-validate: '$python -m venv $venv' failed (Debian: apt-get install python3-venv)" >&2
    exit 1
  fi
fi
if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$requirement" >&2; then
  echo "deps/kubernetes-validate: 'pip install $requirement' failed (is PyPI reachable?)" >&2
  exit 1
fi
if ! installed; then
  echo "deps/kubernetes-validate: installed, but '$bin --version' does not run" >&2
  exit 1
fi
