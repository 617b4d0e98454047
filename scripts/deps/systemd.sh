#!/usr/bin/env bash
# Installs systemd's tools (systemd-analyze) when they are missing; deploy/systemd/verify.sh needs them.
# Idempotent: exits 0 at once when systemd-analyze is there. Debian/Ubuntu (apt-get), as root or with sudo.
set -euo pipefail

if command -v systemd-analyze >/dev/null 2>&1; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "deps/systemd: systemd-analyze is missing and there is no apt-get here; install systemd (the package that ships systemd-analyze) by hand" >&2
  exit 1
fi

sudo=()
if [[ "$(id -u)" != 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "deps/systemd: systemd-analyze is missing; run as root (apt-get install -y systemd)" >&2
    exit 1
  fi
fi

# Serialise concurrent callers (parallel test files): one apt-get at a time.
exec 9>/tmp/meshca-deps-systemd.lock
if command -v flock >/dev/null 2>&1; then flock 9; fi
if command -v systemd-analyze >/dev/null 2>&1; then
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >&2
# Only the package: systemd is not started (no init system change inside a container or CI).
"${sudo[@]}" apt-get install -y -qq --no-install-recommends systemd >&2

if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "deps/systemd: systemd installed but systemd-analyze is still missing" >&2
  exit 1
fi
