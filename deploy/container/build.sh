#!/usr/bin/env bash
# Builds the meshca images with podman, from nothing but Debian's package mirror and this host:
#
#   localhost/meshca-base:bookworm   Debian 12 minbase, made once with mmdebstrap from the host's
#                                    configured apt mirror and `podman import`ed (cached: made
#                                    again only with --rebuild-base)
#   localhost/meshca-node:20-bookworm  the base plus this host's node (>= 20) at
#                                    /usr/local/bin/node: the local stand-in for
#                                    node:20-bookworm-slim (deploy/container/node.Containerfile)
#   localhost/meshca-redis:7         Debian's redis-server on the base (redis.Containerfile)
#   meshca:0.1.0                     `npm run build`, then the repository's Containerfile
#
#   deploy/container/build.sh [--rebuild-base] [--no-npm-build] [--no-redis]
#
# Environment: MESHCA_IMAGE (default meshca:<package.json version>), MESHCA_DEBIAN_MIRROR and
# MESHCA_DEBIAN_SECURITY_MIRROR (default: the host's apt sources for bookworm), NODE_BIN (default:
# the node on PATH). Needs root (rootful podman; mmdebstrap in root mode) or working rootless podman.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

rebuild_base=0
npm_build=1
redis=1
for arg in "$@"; do
  case "$arg" in
    --rebuild-base) rebuild_base=1 ;;
    --no-npm-build) npm_build=0 ;;
    --no-redis) redis=0 ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "build.sh: unknown argument $arg (see --help)" >&2
      exit 2
      ;;
  esac
done

SUITE=bookworm
BASE_IMAGE=localhost/meshca-base:$SUITE
NODE_IMAGE=localhost/meshca-node:20-$SUITE
REDIS_IMAGE=localhost/meshca-redis:7
version="$(node -p 'require("./package.json").version')"
IMAGE="${MESHCA_IMAGE:-meshca:$version}"

log() { echo "build.sh: $*" >&2; }
started=$SECONDS

bash scripts/deps/podman.sh
# shellcheck source=deploy/container/podman-env.sh
source deploy/container/podman-env.sh
if [[ -n "${CONTAINERS_CONF:-}" ]]; then log "podman settings for this host: CONTAINERS_CONF=$CONTAINERS_CONF"; fi

# One build at a time on this machine (a test and a person may both run this).
exec 8>"${TMPDIR:-/tmp}/meshca-container-build.lock"
if command -v flock >/dev/null 2>&1; then flock 8; fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# The first URI of the host's apt sources (deb822 *.sources or one-line *.list) that serves $1.
apt_uri() {
  local suite="$1" f
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -r "$f" ]] || continue
    awk -v s="$suite" '
      BEGIN { RS = ""; FS = "\n" }
      {
        types = ""; uris = ""; suites = ""
        for (i = 1; i <= NF; i++) {
          line = $i
          if (line ~ /^Types:/) { sub(/^Types:[ \t]*/, "", line); types = " " line " " }
          else if (line ~ /^URIs:/) { sub(/^URIs:[ \t]*/, "", line); uris = line }
          else if (line ~ /^Suites:/) { sub(/^Suites:[ \t]*/, "", line); suites = " " line " " }
        }
        if (index(types, " deb ") && index(suites, " " s " ")) { split(uris, u, /[ \t]+/); print u[1]; exit }
      }' "$f"
  done
  { cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true; } |
    awk -v s="$suite" '
      $1 == "deb" {
        i = 2
        if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
        if ($(i + 1) == s) { print $i; exit }
      }'
}

# --- localhost/meshca-base:bookworm -------------------------------------------------------------
if ((rebuild_base)) || ! podman image exists "$BASE_IMAGE"; then
  mirror="${MESHCA_DEBIAN_MIRROR:-$(apt_uri "$SUITE" | head -n1 || true)}"
  mirror="${mirror:-http://deb.debian.org/debian}"
  security="${MESHCA_DEBIAN_SECURITY_MIRROR:-$(apt_uri "$SUITE-security" | head -n1 || true)}"
  security="${security:-http://deb.debian.org/debian-security}"
  log "making $BASE_IMAGE with mmdebstrap (minbase, $SUITE) from $mirror and $security"
  t=$SECONDS
  # minbase: dpkg, apt, a shell and coreutils, libstdc++6 (node needs it); merged /usr done by the
  # hook rather than the usrmerge package (which drags in perl); no docs, man pages or locales.
  mmdebstrap --variant=minbase --format=tar \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --aptopt='Acquire::Languages "none"' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    "$SUITE" "$tmp/base.tar" \
    "deb $mirror $SUITE main" "deb $mirror $SUITE-updates main" "deb $security $SUITE-security main" \
    >"$tmp/mmdebstrap.log" 2>&1 || {
    tail -n 30 "$tmp/mmdebstrap.log" >&2
    log "mmdebstrap failed (is $mirror reachable?)"
    exit 1
  }
  podman import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/bash"]' \
    --message "mmdebstrap --variant=minbase $SUITE $mirror" \
    "$tmp/base.tar" "$BASE_IMAGE" >/dev/null
  rm -f "$tmp/base.tar"
  log "$BASE_IMAGE made in $((SECONDS - t)) s"
else
  log "$BASE_IMAGE is there (--rebuild-base makes it again)"
fi

# RUN steps need a container runtime. Where podman cannot start a container at all (the probe's
# error is printed), they run in a chroot instead (buildah's chroot isolation: no OCI runtime, no
# cgroups); BUILDAH_ISOLATION, when set, decides instead.
isolation=()
if [[ -z "${BUILDAH_ISOLATION:-}" ]] && ! probe="$(podman run --rm --network none "$BASE_IMAGE" true 2>&1)"; then
  log "podman cannot run a container here: $(tr '\n' ' ' <<<"$probe")"
  log "building with --isolation chroot; the images are complete, but running them needs a working podman"
  isolation=(--isolation chroot)
fi

# Builds image $1 from Containerfile $2 and context $3 (more podman build args after), then
# removes the image that tag named before if nothing else names it (no dangling images pile up).
build_image() {
  local tag="$1" file="$2" context="$3"
  shift 3
  local before after t=$SECONDS
  before="$(podman image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)"
  if ! podman build --quiet "${isolation[@]}" --tag "$tag" --file "$file" "$@" "$context" >"$tmp/build.log" 2>&1; then
    cat "$tmp/build.log" >&2
    log "podman build of $tag failed"
    exit 1
  fi
  after="$(podman image inspect --format '{{.Id}}' "$tag")"
  if [[ -n "$before" && "$before" != "$after" ]] && [[ -z "$(podman image inspect --format '{{join .RepoTags ","}}' "$before" 2>/dev/null)" ]]; then
    podman rmi "$before" >/dev/null 2>&1 || true
  fi
  log "$tag built in $((SECONDS - t)) s"
}

# --- localhost/meshca-node:20-bookworm ----------------------------------------------------------
node_bin="$(readlink -f "${NODE_BIN:-$(command -v node)}")"
node_version="$("$node_bin" --version)"
if [[ ! "$node_version" =~ ^v([0-9]+)\. ]] || ((BASH_REMATCH[1] < 20)); then
  log "$node_bin is $node_version; meshca needs node >= 20 (set NODE_BIN)"
  exit 1
fi
mkdir -p "$tmp/node"
ln "$node_bin" "$tmp/node/node" 2>/dev/null || cp "$node_bin" "$tmp/node/node"
build_image "$NODE_IMAGE" deploy/container/node.Containerfile "$tmp/node" \
  --build-arg "BASE=$BASE_IMAGE" --build-arg "NODE_VERSION=$node_version"

# --- localhost/meshca-redis:7 -------------------------------------------------------------------
if ((redis)); then
  build_image "$REDIS_IMAGE" deploy/container/redis.Containerfile deploy/container --build-arg "BASE=$BASE_IMAGE"
fi

# --- meshca:0.1.0 -------------------------------------------------------------------------------
if ((npm_build)); then
  t=$SECONDS
  npm run build --silent >"$tmp/npm-build.log" 2>&1 || {
    cat "$tmp/npm-build.log" >&2
    log "npm run build failed"
    exit 1
  }
  log "npm run build in $((SECONDS - t)) s"
fi
for app in global:meshca-global zone:meshca-zone dp-agent:meshca-dp ctl:meshctl; do
  if [[ ! -f "apps/${app%%:*}/dist/${app#*:}.mjs" ]]; then
    log "apps/${app%%:*}/dist/${app#*:}.mjs is missing: run npm run build"
    exit 1
  fi
done
revision="$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
if [[ "$revision" != unknown && -n "$(git status --porcelain --untracked-files=no 2>/dev/null | head -n1)" ]]; then
  revision="$revision-dirty"
fi
build_image "$IMAGE" Containerfile . \
  --build-arg "BASE=$NODE_IMAGE" \
  --build-arg "VERSION=$version" \
  --label "org.opencontainers.image.revision=$revision" \
  --label "org.opencontainers.image.created=$(date -u +%Y-%m-%dT%H:%M:%SZ)"

podman images --format '{{.Repository}}:{{.Tag}} {{.Size}}' |
  grep -E "^(localhost/)?(${IMAGE%%:*}:${IMAGE#*:}|meshca-base:$SUITE|meshca-node:20-$SUITE|meshca-redis:7) " |
  sed 's/^localhost\///; s/ / size /; s/^/build.sh: image /' >&2
log "done in $((SECONDS - started)) s"
