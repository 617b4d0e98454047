#!/usr/bin/env bash
# Prometheus and promtool (Debian's `prometheus` package): test/e2e/metrics.test.ts checks every
# /metrics with `promtool check metrics`. Idempotent: exits 0 at once when promtool is there.
set -euo pipefail
if command -v promtool >/dev/null 2>&1; then exit 0; fi
bash "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" prometheus prometheus
command -v promtool >/dev/null 2>&1 || { echo "deps/prometheus: installed, but promtool is not on PATH" >&2; exit 1; }
