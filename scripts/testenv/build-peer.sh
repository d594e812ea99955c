#!/usr/bin/env bash
# Builds the reference peer, Zalando's postgres-operator (github.com/zalando/postgres-operator), from the Go module
# proxy into the cache directory beside the test control plane's binaries, once per version. Re-running with a warm
# cache is a no-op. The module also brings Zalando's whole repository at that tag (manifests/, docs/, e2e/, charts/)
# into the Go module cache: the differential and takeover tests read its shipped ConfigMap and example manifests.
#
# Why a throwaway module: `go install github.com/zalando/postgres-operator/cmd@v1.15.1` is refused (the module's
# go.mod has directives `go install` does not accept for a dependency); a main module that requires it can build
# its `cmd` package (the operator's main).
#
# Env: PEER_VERSION (default v1.15.1), TESTENV_CACHE (default ~/.cache/postgres-operator-functions/testenv).
# Prints two lines on stdout: the binary's path, then the directory of the module's sources (its manifests/ etc.).
# The binary runs out of cluster: `postgres-operator -outofcluster -kubeconfig FILE` with env CONFIG_MAP_NAME,
# WATCHED_NAMESPACE and OPERATOR_NAMESPACE (docs/developer.md of the module, "Running the operator locally").
set -euo pipefail

PEER_VERSION=${PEER_VERSION:-v1.15.1}
CACHE=${TESTENV_CACHE:-$HOME/.cache/postgres-operator-functions/testenv}
DIR="$CACHE/postgres-operator-$PEER_VERSION"
BIN="$DIR/bin/postgres-operator"
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
export GOFLAGS=-mod=mod CGO_ENABLED=0

log() { echo "peer-build: $*" >&2; }
[ -x "$GO" ] || { log "Go is required to build Zalando's postgres-operator $PEER_VERSION (install Go >= 1.25)"; exit 1; }
mod="$DIR/tools"
mkdir -p "$mod" "$DIR/bin"
# One build at a time per cache (parallel test runs on a cold machine would otherwise build the same binaries twice).
exec 9>"$CACHE/.build.lock"
flock 9
if [ ! -f "$mod/go.sum" ]; then
  go_line=$("$GO" mod download -json "github.com/zalando/postgres-operator@$PEER_VERSION" \
    | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p' | xargs grep -m1 '^go ')
  printf 'module example.invalid/peer-tools\n\n%s\n\nrequire github.com/zalando/postgres-operator %s\n' "$go_line" "$PEER_VERSION" \
    > "$mod/go.mod"
  printf '//go:build tools\npackage tools\nimport _ "github.com/zalando/postgres-operator/cmd"\n' > "$mod/tools.go"
  (cd "$mod" && "$GO" mod tidy) >&2
fi
if [ ! -x "$BIN" ]; then
  log "building Zalando's postgres-operator $PEER_VERSION (first time only; about 10 minutes on 2 cores)"
  start=$(date +%s)
  (cd "$mod" && "$GO" build -trimpath -ldflags "-s -w -X main.version=$PEER_VERSION" -o "$BIN.tmp" \
    github.com/zalando/postgres-operator/cmd) >&2
  mv "$BIN.tmp" "$BIN"
  log "built in $(( $(date +%s) - start ))s"
fi
echo "$BIN"
(cd "$mod" && "$GO" list -m -f '{{.Dir}}' github.com/zalando/postgres-operator)
