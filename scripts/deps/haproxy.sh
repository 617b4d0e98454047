#!/usr/bin/env bash
# HAProxy (Debian's package): test/e2e/global-ha.test.ts puts it in front of two global replicas as
# the plain TCP load balancer the README describes. Idempotent: exits 0 at once when it is there.
set -euo pipefail
if command -v haproxy >/dev/null 2>&1; then exit 0; fi
bash "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" haproxy haproxy
command -v haproxy >/dev/null 2>&1 || { echo "deps/haproxy: installed, but haproxy is not on PATH" >&2; exit 1; }
