#!/usr/bin/env bash
# apt-get install of PACKAGES (no recommends), as root or through sudo, one apt-get at a time
# across parallel callers; the scripts here call it once their own check found something missing.
#   scripts/deps/apt-install.sh WHAT PACKAGE...     (WHAT names the caller in messages and the lock)
set -euo pipefail

what="$1"
shift
if ! command -v apt-get >/dev/null 2>&1; then
  echo "deps/$what: $* missing and there is no apt-get here; install them by hand" >&2
  exit 1
fi
sudo=()
if [[ "$(id -u)" != 0 ]]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "deps/$what: run as root to install what is missing (apt-get install -y $*)" >&2
    exit 1
  fi
  sudo=(sudo)
fi
exec 9>"${TMPDIR:-/tmp}/meshca-deps-apt.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >&2
"${sudo[@]}" apt-get install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends "$@" >&2
