#!/usr/bin/env bash
# Installs what deploy/container/build.sh and deploy/compose/verify.sh need to build and run the
# meshca images when it is missing: podman (runs and builds them), buildah, mmdebstrap (makes the
# local Debian base image, since no container registry is reachable here) and the small tools
# podman needs to run rootful containers on a host without systemd (crun, and runc for hosts
# whose cgroups crun refuses; netavark for the compose network and aardvark-dns for the service
# names on it; iptables for its rules; slirp4netns/passt, fuse-overlayfs and uidmap for rootless
# use). Debian/Ubuntu (apt-get), as root or with sudo.
# Idempotent: exits 0 at once when podman, buildah and mmdebstrap (and runc, where cgroups are
# hybrid) are all on PATH.
set -euo pipefail

# cgroup v1 with controllers on the cgroup2 hierarchy ("hybrid"): crun refuses to start containers
# there, runc does not (deploy/container/podman-env.sh then selects it).
hybrid_cgroups() {
  [[ -n "$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null)" ]]
}
have_all() {
  command -v podman >/dev/null 2>&1 && command -v buildah >/dev/null 2>&1 && command -v mmdebstrap >/dev/null 2>&1 &&
    { ! hybrid_cgroups || command -v runc >/dev/null 2>&1; }
}
if have_all; then exit 0; fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "deps/podman: podman, buildah or mmdebstrap is missing and there is no apt-get here; install them by hand" >&2
  exit 1
fi

sudo=()
if [[ "$(id -u)" != 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "deps/podman: podman, buildah or mmdebstrap is missing; run as root (apt-get install -y podman buildah mmdebstrap)" >&2
    exit 1
  fi
fi

# Serialise concurrent callers (parallel test files): one apt-get at a time.
exec 9>"${TMPDIR:-/tmp}/meshca-deps-podman.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi
if have_all; then exit 0; fi

export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >&2
# --no-install-recommends keeps out what a desktop podman would pull in (e.g. dbus-user-session);
# what rootful podman needs here is listed explicitly.
"${sudo[@]}" apt-get install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends \
  podman buildah mmdebstrap crun runc netavark aardvark-dns iptables catatonit \
  slirp4netns passt fuse-overlayfs uidmap ca-certificates >&2

if ! have_all; then
  echo "deps/podman: installed, but podman, buildah, mmdebstrap or runc is still missing from PATH" >&2
  exit 1
fi
