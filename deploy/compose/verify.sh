#!/usr/bin/env bash
# Builds the images (deploy/container/build.sh), starts deploy/compose/compose.yaml with
# podman-compose under a project name of its own and free host ports, waits until
# `meshctl get zones` shows zone-1 and zone-2 Online (run in the global container, then once more
# from the host through the published API port), prints that table, and removes the stack's
# containers, network and volumes, also when something failed.
#
#   deploy/compose/verify.sh [--no-build]
#
# Exit 0: both zones Online within MESHCA_VERIFY_TIMEOUT seconds (default 90) of `up`.
# Any other failure prints the services' logs and exits non-zero. MESHCA_VERIFY_PROJECT names the
# compose project (default meshca-verify-<pid>); MESHCA_VERIFY_ZONES lists the zones to wait for
# (default "zone-1 zone-2").
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

build=1
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    *)
      echo "verify.sh: unknown argument $arg (usage: verify.sh [--no-build])" >&2
      exit 2
      ;;
  esac
done

timeout="${MESHCA_VERIFY_TIMEOUT:-90}"
project="${MESHCA_VERIFY_PROJECT:-meshca-verify-$$}"
compose_file="$root/deploy/compose/compose.yaml"
# The zones that must be Online (compose.yaml runs zone-1 and zone-2).
read -r -a zones <<<"${MESHCA_VERIFY_ZONES:-zone-1 zone-2}"
log() { echo "verify.sh: $*" >&2; }
started=$SECONDS

if ((build)); then
  bash deploy/container/build.sh
else
  bash scripts/deps/podman.sh
fi
bash scripts/deps/podman-compose.sh
# shellcheck source=deploy/container/podman-env.sh
source deploy/container/podman-env.sh
# Every podman call is bounded: a wedged podman (a lock, conmon) must fail the check, not hang it.
compose=(timeout 180 "$root/.venv/podman-compose/bin/podman-compose" -p "$project" -f "$compose_file")

# Free host ports for everything the stack publishes (a person's own stack, or anything else on
# 5681/5682/5685/5692, is left alone).
read -r api_port sync_port zone1_port zone2_port < <(
  node -e '
    const net = require("node:net");
    const one = () => new Promise((ok) => { const s = net.createServer().listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => ok(p)); }); });
    (async () => { const ports = new Set(); while (ports.size < 4) ports.add(await one()); console.log([...ports].join(" ")); })();'
)
export MESHCA_PUBLISH_ADDRESS=127.0.0.1
export MESHCA_GLOBAL_API_PORT=$api_port MESHCA_GLOBAL_SYNC_PORT=$sync_port
export MESHCA_ZONE_1_API_PORT=$zone1_port MESHCA_ZONE_2_API_PORT=$zone2_port

tmp="$(mktemp -d)"
containers() { podman ps -a --filter "label=io.podman.compose.project=$project" --format '{{.Names}}' 2>/dev/null || true; }

ok=0
cleanup() {
  local rc=$?
  set +e
  if ((!ok)); then
    log "FAILED (exit $rc); the services' logs:"
    local c
    for c in $(containers); do
      echo "----- $c: $(podman inspect --format '{{.State.Status}} (exit {{.State.ExitCode}})' "$c" 2>/dev/null)" >&2
      timeout 20 podman logs --tail 40 "$c" 2>&1 | cut -c1-400 >&2
    done
  fi
  log "removing the stack ($project: containers, pod, network, volumes)"
  "${compose[@]}" down -v -t 5 >"$tmp/down.log" 2>&1
  # What `down` left (it stops at the first error): by the labels podman-compose sets.
  local left=()
  mapfile -t left < <(containers)
  if ((${#left[@]})); then podman rm -f -t 0 "${left[@]}" >/dev/null 2>&1; fi
  mapfile -t left < <(podman volume ls -q --filter "label=io.podman.compose.project=$project" 2>/dev/null)
  if ((${#left[@]})); then podman volume rm -f "${left[@]}" >/dev/null 2>&1; fi
  # podman-compose 1.x puts the containers in a pod, pod_<project>.
  podman pod rm -f "pod_$project" >/dev/null 2>&1
  podman network rm -f "${project}_default" >/dev/null 2>&1
  if [[ -n "$(containers)" ]] || [[ -n "$(podman volume ls -q --filter "label=io.podman.compose.project=$project" 2>/dev/null)" ]] ||
    podman network exists "${project}_default" 2>/dev/null || podman pod exists "pod_$project" 2>/dev/null; then
    log "could not remove everything of $project:"
    cat "$tmp/down.log" >&2
    rc=1
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "starting $project (global API on 127.0.0.1:$api_port, zone-1 on :$zone1_port, zone-2 on :$zone2_port)"
up_at=$SECONDS
if ! "${compose[@]}" up -d >"$tmp/up.log" 2>&1; then
  # podman 4.3 at times refuses to start a container whose dependency it is still creating
  # ("generating dependency graph ... not found in input list"); a second `up` starts what is left.
  cat "$tmp/up.log" >&2
  log "podman-compose up failed once; trying again"
  if ! "${compose[@]}" up -d >"$tmp/up.log" 2>&1; then
    cat "$tmp/up.log" >&2
    log "podman-compose up failed"
    exit 1
  fi
fi
log "podman-compose up -d returned in $((SECONDS - up_at)) s"

global="$(podman ps -a --filter "label=io.podman.compose.project=$project" --filter label=com.docker.compose.service=global --format '{{.Names}}')"
if [[ -z "$global" ]]; then
  log "no global container in $project"
  exit 1
fi

# Every zone Online in the table meshctl prints (NAME STATUS ...).
all_online() {
  local zone
  for zone in "${zones[@]}"; do
    awk -v z="$zone" '$1 == z && $2 == "Online" { found = 1 } END { exit !found }' <<<"$1" || return 1
  done
}

table=''
while :; do
  if table="$(timeout 20 podman exec "$global" meshctl get zones 2>&1)" && all_online "$table"; then break; fi
  if ((SECONDS - up_at >= timeout)); then
    log "zones not Online ${timeout} s after up; last meshctl get zones:"
    echo "$table" >&2
    exit 1
  fi
  sleep 1
done
online_after=$((SECONDS - up_at))
log "${zones[*]} Online ${online_after} s after up; meshctl get zones (in $global):"
echo "$table"

# The same from the host, through the published port, with the admin token and API CA copied out
# of global's data dir.
timeout 30 podman cp "$global:/var/lib/meshca/admin-token" "$tmp/admin-token"
timeout 30 podman cp "$global:/var/lib/meshca/api-ca.pem" "$tmp/api-ca.pem"
if ! host_table="$(node apps/ctl/bin/meshctl.mjs --address "https://127.0.0.1:$api_port" --token-file "$tmp/admin-token" \
  --ca-cert-file "$tmp/api-ca.pem" get zones 2>&1)" || ! all_online "$host_table"; then
  log "meshctl on the host against https://127.0.0.1:$api_port failed:"
  echo "$host_table" >&2
  exit 1
fi
log "meshctl get zones from the host (https://127.0.0.1:$api_port):"
echo "$host_table"

# Global keeps its state in Redis, not in memory.
keys="$(timeout 20 podman exec "$(podman ps --filter "label=io.podman.compose.project=$project" --filter label=com.docker.compose.service=redis --format '{{.Names}}')" redis-cli dbsize)"
if [[ ! "$keys" =~ ^[1-9][0-9]*$ ]]; then
  log "Redis holds no keys ($keys): global is not using it"
  exit 1
fi
log "Redis holds $keys keys"

ok=1
log "OK: ${zones[*]} Online ${online_after} s after up, $((SECONDS - started)) s in all (before teardown)"
