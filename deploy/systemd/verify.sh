#!/usr/bin/env bash
# Checks the systemd units in this directory:
#   systemd-analyze verify                  must print nothing and exit 0 for every unit (an unknown key,
#                                           a bad value, a missing dependency or binary all count)
#   systemd-analyze security --offline=yes  the exposure score of every unit (reported, never fatal)
#
# How: systemd-analyze verify checks that the ExecStart= binary exists and is executable, and the units
# name /opt/meshca/bin/... which is not installed here. So the units are checked inside a throw-away
# root (--root=): the unit files go to <root>/etc/systemd/system, the host's own units (the targets
# named in After=/Wants=/WantedBy=) to <root>/usr/lib/systemd/system, and a stand-in executable to
# each ExecStart= path. Template units are checked as an instance (meshca-zone@east.service) that
# systemd itself instantiates from the template file, exactly as `systemctl start` would.
#
# Usage: deploy/systemd/verify.sh [DIR]   (DIR: where the *.service files are, default: beside this script)
# Exit 0: every unit verified clean.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$script_dir/../.." && pwd)"
here="$(cd "${1:-$script_dir}" && pwd)"

bash "$repo/scripts/deps/systemd.sh"

systemd-analyze --version | head -n 1

tmp="$(mktemp -d "${TMPDIR:-/tmp}/meshca-systemd-verify.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
root="$tmp/root"
units="$root/etc/systemd/system"
mkdir -p "$units" "$root/usr/lib/systemd/system"

host_units=""
for dir in /usr/lib/systemd/system /lib/systemd/system; do
  if [[ -d "$dir" ]]; then
    host_units="$dir"
    break
  fi
done
if [[ -z "$host_units" ]]; then
  echo "verify: no /usr/lib/systemd/system on this host (the targets the units name live there)" >&2
  exit 1
fi
cp -a "$host_units/." "$root/usr/lib/systemd/system/"

# The name to check each unit file under: templates as an instance.
instance_name() {
  local file="$1"
  case "$file" in
    meshca-zone@.service) echo "meshca-zone@east.service" ;;
    meshca-dp@.service) echo "meshca-dp@web-1.service" ;;
    *@.service) echo "${file%@.service}@example.service" ;;
    *) echo "$file" ;;
  esac
}

names=()
shopt -s nullglob
for path in "$here"/*.service; do
  file="$(basename "$path")"
  cp "$path" "$units/$file"
  names+=("$(instance_name "$file")")
  # A stand-in for every ExecStart*= binary (the first word, after any of the prefixes - @ : + !).
  while IFS= read -r bin; do
    [[ "$bin" == /* ]] || continue
    mkdir -p "$root$(dirname "$bin")"
    printf '#!/bin/sh\n# stand-in for %s (deploy/systemd/verify.sh)\nexit 0\n' "$bin" >"$root$bin"
    chmod 755 "$root$bin"
  done < <(sed -nE 's/^Exec(Start|StartPre|StartPost|Reload|Stop|StopPost)=[-@:+!]*([^[:space:]\\]+).*/\2/p' "$path")
done
if [[ ${#names[@]} -eq 0 ]]; then
  echo "verify: no *.service files in $here" >&2
  exit 1
fi

failed=0
for name in "${names[@]}"; do
  status=0
  out="$(systemd-analyze verify --root="$root" "$name" 2>&1)" || status=$?
  # Name the files as they are in the repository, not in the throw-away root.
  out="${out//$units\//${here#"$repo"/}/}"
  if [[ $status -ne 0 || -n "$out" ]]; then
    echo "verify $name: FAILED (exit $status)"
    printf '%s\n' "$out" | sed 's/^/  /'
    failed=1
  else
    echo "verify $name: ok"
  fi
done

for name in "${names[@]}"; do
  status=0
  out="$(systemd-analyze security --offline=yes --root="$root" --no-pager "$name" 2>&1)" || status=$?
  score="$(printf '%s\n' "$out" | sed -nE 's/.*Overall exposure level for [^:]+: ([0-9.]+ [A-Z]+).*/\1/p')"
  if [[ -z "$score" ]]; then
    echo "security $name: no exposure score (exit $status)"
    printf '%s\n' "$out" | tail -n 5 | sed 's/^/  /'
    continue
  fi
  echo "security $name: exposure $score"
  # What is not covered, one line each ("✗ Setting  what it allows  weight").
  printf '%s\n' "$out" | grep '✗' | sed -E 's/[[:space:]]+$//; s/ {2,}/  /g; s/^/  /' || true
done

if [[ $failed -ne 0 ]]; then
  echo "verify: systemd-analyze verify reported problems" >&2
  exit 1
fi
echo "verify: all ${#names[@]} units verified"
