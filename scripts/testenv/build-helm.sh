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
if [ ! -x "$BIN_DIR/helm" ]; then
  [ -x "$GO" ] || { log "Go is required to build helm $HELM_VERSION (install Go >= 1.26)"; exit 1; }
  mkdir -p "$BIN_DIR"
  log "building helm $HELM_VERSION (first time only; a few minutes on 2 cores)"
  start=$(date +%s)
  # Helm's go.mod has no replace directives, so `go install module@version` builds it as released.
  # The version string is what `helm version` prints; the chart's kubeVersion checks read it too.
  tmp=$(mktemp -d "$BIN_DIR/build.XXXXXX")
  CGO_ENABLED=0 GOBIN="$tmp" "$GO" install -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
  mv "$tmp/helm" "$BIN_DIR/helm"
  rmdir "$tmp"
  log "built helm in $(( $(date +%s) - start ))s"
fi
echo "$BIN_DIR/helm"
