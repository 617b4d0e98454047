#!/usr/bin/env bash
# Installs moto (server mode) into the project-local venv .venv/moto when it is missing.
# Idempotent and quiet: exits at once when moto_server is already there and importable.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${MOTO_VENV:-$root/.venv/moto}"
server="$venv/bin/moto_server"

if [[ -x "$server" ]] && "$venv/bin/python" -c 'import moto.acmpca, flask' >/dev/null 2>&1; then
  exit 0
fi

python="${PYTHON:-python3}"
if ! command -v "$python" >/dev/null 2>&1; then
  echo "ensure-moto: $python not found; install Python 3.9+ to run the ACM PCA contract tests against moto" >&2
  exit 1
fi

# Serialise concurrent callers (parallel test files) so two pips never share one venv.
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi
if [[ -x "$server" ]] && "$venv/bin/python" -c 'import moto.acmpca, flask' >/dev/null 2>&1; then
  exit 0
fi

if [[ ! -x "$venv/bin/python" ]]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "moto[server]>=5,<6" >&2
if [[ ! -x "$server" ]]; then
  echo "ensure-moto: moto installed but $server is missing" >&2
  exit 1
fi
