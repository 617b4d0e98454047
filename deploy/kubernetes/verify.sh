#!/usr/bin/env bash
# Checks the Helm chart in meshca/ with real tools, without a cluster:
#   1. helm lint --strict, with the default values (global + Redis) and with zone-only values;
#   2. helm template for global only, zone only, and both in one release;
#   3. kubernetes-validate --strict on every rendered manifest, against the Kubernetes schemas of
#      KUBE_VERSIONS (default 1.30.0, and 1.25.0, the chart's oldest kubeVersion): unknown fields,
#      wrong types and kinds or apiVersions the version does not know are all failures.
# Exits non-zero on any failure: at once for lint and template, after all the validations for
# those. Installs helm and kubernetes-validate when missing (scripts/deps/). The rendered
# manifests (global.yaml, zone.yaml, both.yaml) and validation logs go to $MESHCA_HELM_OUT when
# set; else to a temporary directory, removed when everything passed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
chart="$here/meshca"
kube_versions="${KUBE_VERSIONS:-1.30.0 1.25.0}"
namespace=meshca-system

bash "$root/scripts/deps/helm.sh"
bash "$root/scripts/deps/kubernetes-validate.sh"
# deps/helm.sh installs to /usr/local/bin, which some minimal PATHs lack.
export PATH="$PATH:/usr/local/bin"
kv="${KUBERNETES_VALIDATE_VENV:-$root/.venv/kubernetes-validate}/bin/kubernetes-validate"

if [[ -n "${MESHCA_HELM_OUT:-}" ]]; then
  out="$MESHCA_HELM_OUT"
  mkdir -p "$out"
else
  out="$(mktemp -d)"
  keep_out=0
  trap '[[ $keep_out -eq 1 ]] || rm -rf "$out"' EXIT
fi

step() { printf '\n== %s\n' "$*"; }

# Zone-only values for lint and template: those of the README's example, which need no cluster.
zone_only=(-f "$here/values-zone.yaml")
both=(--set zone.enabled=true --set zone.name=zone-1)

echo "helm $(helm version --short), kubernetes-validate $("$kv" --version), Kubernetes schemas: $kube_versions"

# The newest of KUBE_VERSIONS for helm's .Capabilities (helm's own default is its client-go's).
helm_kube="$(tr ' ' '\n' <<<"$kube_versions" | sort -V | tail -1)"
step "helm lint (default values: global + Redis)"
helm lint --strict --kube-version "$helm_kube" "$chart"
step "helm lint (zone only: values-zone.yaml)"
helm lint --strict --kube-version "$helm_kube" "$chart" "${zone_only[@]}"

step "helm template: global only, zone only, both"
helm template meshca "$chart" -n "$namespace" --kube-version "$helm_kube" >"$out/global.yaml"
helm template meshca "$chart" -n "$namespace" --kube-version "$helm_kube" "${zone_only[@]}" >"$out/zone.yaml"
helm template meshca "$chart" -n "$namespace" --kube-version "$helm_kube" "${both[@]}" >"$out/both.yaml"
wc -l "$out"/*.yaml

failed=0
for version in $kube_versions; do
  for manifest in global zone both; do
    step "kubernetes-validate --strict -k $version $manifest.yaml"
    log="$out/$manifest-$version.log"
    status=0
    "$kv" --strict -k "$version" "$out/$manifest.yaml" >"$log" 2>&1 || status=$?
    cat "$log"
    # kubernetes-validate exits 0 when it finds no schema for a kind (a typo in kind or
    # apiVersion): it only warns, so any WARN or ERROR line fails, as does validating nothing.
    if [[ $status -ne 0 ]] || grep -qE '^(WARN|ERROR)' "$log" || ! grep -q ' passed for resource ' "$log"; then
      echo "FAILED: $manifest.yaml against Kubernetes $version" >&2
      failed=1
    fi
  done
done

if [[ $failed -ne 0 ]]; then
  keep_out=1
  echo "verify: FAILED (rendered manifests and logs in $out)" >&2
  exit 1
fi
echo
echo "verify: OK: helm lint x2, helm template x3, kubernetes-validate --strict against $kube_versions"
