#!/usr/bin/env bash
# Installs what the test suite needs when it is missing: redis-server (Debian package), moto and
# schemathesis (PyPI, project venvs .venv/moto and .venv/schemathesis), and the packaging tools below.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "redis-server is missing: install it (sudo apt-get install redis-server) and run the tests again" >&2
    exit 1
  fi
  echo "installing redis-server (Debian package)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq redis-server >/dev/null
fi
if [ -f scripts/ensure-moto.sh ]; then bash scripts/ensure-moto.sh; fi
bash scripts/ensure-schemathesis.sh
# The packaging checks (test/deploy): helm (built from Go modules), kubernetes-validate, systemd-analyze,
# podman with podman-compose. Each script returns at once when its tool is there.
for dep in helm kubernetes-validate systemd podman podman-compose haproxy prometheus chromium; do bash "scripts/deps/$dep.sh"; done
