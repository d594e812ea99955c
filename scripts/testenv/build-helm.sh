#!/usr/bin/env bash
# Builds Helm (helm.sh/helm/v3) from the Go module proxy into the cache directory beside the test control plane's
# binaries, once per version. Re-running with a warm cache is a no-op. The packages test renders the chart in
# charts/postgres-operator-functions with `helm template` and applies the output to a real API server.
#
# Env: HELM_VERSION (default v3.22.0), TESTENV_CACHE (default ~/.cache/postgres-operator-functions/testenv).
# Prints the helm binary's path on the last line of stdout.
set -euo pipefail

HELM_VERSION=${HELM_VERSION:-v3.22.0}
CACHE=${TESTENV_CACHE:-$HOME/.cache/postgres-operator-functions/testenv}
BIN_DIR="$CACHE/helm-$HELM_VERSION/bin"
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}

log() { echo "helm-build: $*" >&2; }
# One build at a time per cache (parallel test runs on a cold machine would otherwise build the same binaries twice).
mkdir -p "$CACHE"
exec 9>"$CACHE/.build.lock"
flock 9
if [ ! -x "$BIN_DIR/helm" ]; then
  [ -x "$GO" ] || { log "Go is required to build helm $HELM_VERSION (install Go >= 1.26)"; exit 1; }
  mkdir -p "$BIN_DIR"
  log "building helm $HELM_VERSION (first time only; a few minutes on 2 cores)"
  start=$(date +%s)
  # Helm's go.mod has no replace directives, so `go install module@version` builds it as released. As Helm's
  # Makefile does, the version string is set, and the Kubernetes version `helm template` assumes without a cluster
  # is the one of the client-go it is built with (else it says v1.20 and a chart's kubeVersion check fails).
  gomod=$("$GO" mod download -json "helm.sh/helm/v3@$HELM_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  minor=$(sed -n 's/^[[:space:]]*k8s.io\/client-go v0\.\([0-9]*\)\..*/\1/p' "$gomod" | head -1)
  [ -n "$minor" ] || { log "cannot find the client-go version in $gomod"; exit 1; }
  flags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
    flags="$flags -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$minor"
  done
  tmp=$(mktemp -d "$BIN_DIR/build.XXXXXX")
  CGO_ENABLED=0 GOBIN="$tmp" "$GO" install -trimpath -ldflags "$flags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
  mv "$tmp/helm" "$BIN_DIR/helm"
  rmdir "$tmp"
  log "built helm in $(( $(date +%s) - start ))s"
fi
echo "$BIN_DIR/helm"
