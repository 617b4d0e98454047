#!/usr/bin/env bash
# podman-compose (deploy/compose/verify.sh starts the compose stack with it) into
# .venv/podman-compose when missing; podman itself comes from scripts/deps/podman.sh.
#   .venv/podman-compose/bin/podman-compose -f deploy/compose/compose.yaml up -d
# 1.x: compose files with named volumes, depends_on and ${VAR:-default}; runs with podman 4.3.
exec bash "$(dirname "${BASH_SOURCE[0]}")/pip-tool.sh" podman-compose 'podman-compose>=1.2,<2' podman-compose --version
