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

# --no-install-recommends keeps out what a desktop podman would pull in (e.g. dbus-user-session);
# what rootful podman needs here is listed explicitly.
bash "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" podman \
  podman buildah mmdebstrap crun runc netavark aardvark-dns iptables catatonit \
  slirp4netns passt fuse-overlayfs uidmap ca-certificates

if ! have_all; then
  echo "deps/podman: installed, but podman, buildah, mmdebstrap or runc is still missing from PATH" >&2
  exit 1
fi
