#!/usr/bin/env bash
# Chromium (Debian's package): the GUI's browser tests drive it with playwright-core, launched by its
# path (no browser download). Idempotent: exits 0 at once when it is there.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
bash "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" chromium chromium
command -v chromium >/dev/null 2>&1 || { echo "deps/chromium: installed, but chromium is not on PATH" >&2; exit 1; }
