#!/usr/bin/env bash
# Installs helm (used by deploy/kubernetes/verify.sh to lint and render the chart) when it is
# missing. Helm is not a Debian package here and release tarballs cannot be downloaded, so it is
# built from its Go module through the Go module proxy. Idempotent: exits at once when `helm` is
# on PATH.
set -euo pipefail

if command -v helm >/dev/null 2>&1; then exit 0; fi

# A version the Go module proxy serves; override with HELM_VERSION=v3.x.y.
version="${HELM_VERSION:-v3.22.0}"
dest="${HELM_BIN_DIR:-/usr/local/bin}"

if ! command -v go >/dev/null 2>&1; then
  echo "deps/helm: helm is missing and go is not installed to build it (helm.sh/helm/v3/cmd/helm@$version); install Go (helm v3.22 needs 1.26) or helm itself" >&2
  exit 1
fi
if [[ ! -w "$dest" ]] && ! { [[ ! -e "$dest" ]] && mkdir -p "$dest" 2>/dev/null; }; then
  echo "deps/helm: cannot write to $dest; run as root or set HELM_BIN_DIR to a writable directory on PATH" >&2
  exit 1
fi

# Serialise concurrent callers (parallel test files) so two builds never race on one binary.
exec 9>"${TMPDIR:-/tmp}/meshca-deps-helm.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi
if command -v helm >/dev/null 2>&1 || [[ -x "$dest/helm" ]]; then exit 0; fi

echo "deps/helm: building helm $version from the Go module proxy (a few minutes on 2 cores)" >&2
build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
# -mod=mod: resolve helm's own go.mod, not a workspace's. GOBIN: a private dir, then one move, so
# an interrupted build never leaves a half-written $dest/helm.
build_helm() {
  if ! GOFLAGS=-mod=mod GOBIN="$build" go install -trimpath -ldflags "$1" "helm.sh/helm/v3/cmd/helm@$version" >&2; then
    echo "deps/helm: 'go install helm.sh/helm/v3/cmd/helm@$version' failed (is the Go module proxy reachable? GOPROXY=$(go env GOPROXY))" >&2
    exit 1
  fi
}
build_helm "-w -s"
# Helm's release builds set these with -ldflags (its Makefile); a plain `go install` leaves helm
# saying "v3.22" and assuming Kubernetes v1.20.0 for `helm template` and the lint deprecation
# checks. The Kubernetes version is that of the client-go helm was built with, as in the Makefile;
# the second build only re-links.
client_go="$(go version -m "$build/helm" | awk '$1 == "dep" && $2 == "k8s.io/client-go" { print $3 }')"
if [[ "$client_go" =~ ^v0\.([0-9]+)\. ]]; then
  minor="${BASH_REMATCH[1]}"
  x="-X helm.sh/helm/v3/internal/version.version=$version"
  for pkg in pkg/chartutil pkg/lint/rules; do
    x+=" -X helm.sh/helm/v3/$pkg.k8sVersionMajor=1 -X helm.sh/helm/v3/$pkg.k8sVersionMinor=$minor"
  done
  build_helm "-w -s $x"
else
  echo "deps/helm: could not read helm's client-go version ('$client_go'); helm will assume Kubernetes v1.20.0 unless given --kube-version" >&2
fi
install -m 0755 "$build/helm" "$dest/helm"
if ! "$dest/helm" version --short >/dev/null 2>&1; then
  echo "deps/helm: $dest/helm was installed but does not run" >&2
  exit 1
fi
if ! command -v helm >/dev/null 2>&1; then
  echo "deps/helm: installed $dest/helm, but $dest is not on PATH" >&2
fi
