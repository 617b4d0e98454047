#!/usr/bin/env bash
# Sourced by build.sh and deploy/compose/verify.sh (or `source deploy/container/podman-env.sh` in a
# shell before running podman by hand): points podman at a containers.conf that works on this host
# when podman's defaults cannot start a container here. It exports CONTAINERS_CONF only then, and
# never when the caller already set CONTAINERS_CONF.
#
# What it fixes (each seen on a Debian 12 VM without systemd, rootful podman 4.3.1):
#   - cgroup v1 with a cgroup2 hierarchy that has controllers ("hybrid"): crun, podman's default
#     runtime, refuses every container with "crun: cgroups in hybrid mode not supported, drop all
#     controllers from cgroupv2" (also with --cgroups=disabled). runc accepts it: runtime = "runc".
#   - a hard RLIMIT_NOFILE below 1048576 and no CAP_SYS_RESOURCE: podman asks for nofile=1048576
#     and the runtime fails with "crun: setrlimit `RLIMIT_NOFILE`: Operation not permitted" (runc:
#     "error setting rlimit type 7: operation not permitted"); `--ulimit host` does not help in
#     4.3. default_ulimits = the host's own hard limits.
#   - no systemd: cgroup_manager = "cgroupfs", events_logger = "file" (podman picks them itself,
#     set here so the file is complete).

meshca_podman_conf() {
  [[ -n "${CONTAINERS_CONF:-}" ]] && return 0
  local hybrid=0 runtime='' ulimits=() needed=0
  # (cgroupfs files report size 0: read them rather than test -s.)
  if [[ -n "$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null)" ]]; then hybrid=1; fi
  if ((hybrid)); then
    if command -v runc >/dev/null 2>&1; then
      runtime=runc
      needed=1
    else
      echo "podman-env: cgroups are in hybrid mode (crun cannot run containers) and runc is missing: bash scripts/deps/podman.sh" >&2
    fi
  fi
  # CAP_SYS_RESOURCE (bit 24) lets the runtime raise limits above the hard ones; without it podman's
  # defaults must fit under them.
  local caps
  caps=$(awk '/^CapEff:/ { print $2 }' /proc/self/status 2>/dev/null || echo 0)
  if (((16#${caps:-0} >> 24 & 1) == 0)); then
    local nofile nproc
    nofile=$(ulimit -Hn)
    nproc=$(ulimit -Hu)
    if [[ "$nofile" != unlimited && "$nofile" -lt 1048576 ]]; then
      ulimits+=("\"nofile=$nofile:$nofile\"")
      needed=1
    fi
    # podman's default nproc is 32768 (4.3): kept, unless the host's hard limit is lower.
    if [[ "$nproc" != unlimited && "$nproc" -lt 32768 ]]; then
      ulimits+=("\"nproc=$nproc:$nproc\"")
      needed=1
    else
      ulimits+=('"nproc=32768:32768"')
    fi
  fi
  # podman's own defaults work here.
  ((needed)) || return 0
  local dir
  dir="${TMPDIR:-/tmp}/meshca-podman-$(id -u)"
  mkdir -p "$dir"
  local conf="$dir/containers.conf"
  {
    echo "# Written by deploy/container/podman-env.sh for this host; see the comments there."
    echo "[containers]"
    if ((${#ulimits[@]})); then
      local IFS=,
      echo "default_ulimits = [${ulimits[*]}]"
    fi
    echo "[engine]"
    [[ -n "$runtime" ]] && echo "runtime = \"$runtime\""
    if [[ ! -d /run/systemd/system ]]; then
      echo 'cgroup_manager = "cgroupfs"'
      echo 'events_logger = "file"'
    fi
  } >"$conf.$$"
  mv -f "$conf.$$" "$conf"
  export CONTAINERS_CONF="$conf"
}

meshca_podman_conf
unset -f meshca_podman_conf

# Run as a script: print the setting, for `eval "$(bash deploy/container/podman-env.sh)"`.
if [[ "${BASH_SOURCE[0]}" == "$0" && -n "${CONTAINERS_CONF:-}" ]]; then
  printf 'export CONTAINERS_CONF=%q\n' "$CONTAINERS_CONF"
fi
