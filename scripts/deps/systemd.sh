#!/usr/bin/env bash
# Installs systemd's tools (systemd-analyze) when they are missing; deploy/systemd/verify.sh needs them.
# Idempotent: exits 0 at once when systemd-analyze is there. Debian/Ubuntu (apt-get), as root or with sudo.
set -euo pipefail

if command -v systemd-analyze >/dev/null 2>&1; then
  exit 0
fi

# Only the package: systemd is not started (no init system change inside a container or CI).
bash "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" systemd systemd

if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "deps/systemd: systemd installed but systemd-analyze is still missing" >&2
  exit 1
fi
