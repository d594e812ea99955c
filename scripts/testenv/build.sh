#!/usr/bin/env bash
# Builds the test control plane binaries (kube-apiserver, kubectl, etcd; for the full plane also
# kube-controller-manager, kube-scheduler and kwok with its stage files) from the Go module proxy into a cache
# directory outside the repo, once per version. Re-running with a warm cache is a no-op.
#
# Why a generated tools module: k8s.io/kubernetes requires its staging modules at v0.0.0 with local replaces, so
# `go install k8s.io/kubernetes/cmd/...@v` cannot work; a main module that replaces each staging module by its
# published v0.X.Y version can (k8s.io/kubernetes go.mod: "replace k8s.io/api => ./staging/src/k8s.io/api" and the like).
#
# Env: K8S_VERSION (default v1.34.4), ETCD_VERSION (default v3.6.16), KWOK_VERSION (default v0.8.0),
#      TESTENV_CACHE (default ~/.cache/postgres-operator-functions/testenv),
#      TESTENV_FULL=1 (also build the full plane: kube-controller-manager, kube-scheduler, kwok),
#      TESTENV_COMPONENTS (overrides the list; default "kube-apiserver kubectl", plus the three above when TESTENV_FULL=1).
# Prints the bin directory on the last line of stdout.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.34.4}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}
CACHE=${TESTENV_CACHE:-$HOME/.cache/postgres-operator-functions/testenv}
if [ "${TESTENV_FULL:-0}" = 1 ]; then
  COMPONENTS=${TESTENV_COMPONENTS:-kube-apiserver kubectl kube-controller-manager kube-scheduler kwok}
else
  COMPONENTS=${TESTENV_COMPONENTS:-kube-apiserver kubectl}
fi
BIN="$CACHE/$K8S_VERSION/bin"
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
export GOFLAGS=-mod=mod CGO_ENABLED=0

log() { echo "testenv-build: $*" >&2; }
mkdir -p "$BIN"
# One build at a time per cache (parallel test runs on a cold machine would otherwise build the same binaries twice).
exec 9>"$CACHE/.build.lock"
flock 9

# kwok comes from its own module (below); every other component is a k8s.io/kubernetes command.
missing=() want_kwok=0
for c in $COMPONENTS; do
  if [ "$c" = kwok ]; then want_kwok=1; continue; fi
  [ -x "$BIN/$c" ] || missing+=("$c")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ -x "$GO" ] || { log "Go is required to build ${missing[*]} (install Go >= 1.24)"; exit 1; }
  mod="$CACHE/$K8S_VERSION/k8s-tools"
  mkdir -p "$mod"
  minor=${K8S_VERSION#v1.}; staging_version="v0.$minor"
  if [ ! -f "$mod/go.sum" ]; then
    log "generating tools module for k8s.io/kubernetes $K8S_VERSION"
    kk_mod=$(cd "$mod" && "$GO" mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
    go_line=$(grep -m1 '^go ' "$kk_mod")
    godebug=$(grep '^godebug ' "$kk_mod" || true)
    {
      echo "module example.invalid/testenv-k8s-tools"
      echo
      echo "$go_line"
      [ -n "$godebug" ] && echo "$godebug"
      echo
      echo "require k8s.io/kubernetes $K8S_VERSION"
      echo
      echo "replace ("
      grep -E '^\s*k8s.io/[a-z0-9-]+ => ./staging/' "$kk_mod" | awk -v v="$staging_version" '{print "\t" $1 " => " $1 " " v}'
      echo ")"
    } > "$mod/go.mod"
    {
      echo "//go:build tools"
      echo "package tools"
      echo "import ("
      for c in kube-apiserver kube-controller-manager kube-scheduler kubectl; do echo "	_ \"k8s.io/kubernetes/cmd/$c\""; done
      echo ")"
    } > "$mod/tools.go"
    (cd "$mod" && "$GO" mod tidy) >&2
  fi
  minor_num=${minor%%.*}
  pkg=k8s.io/component-base/version
  ldflags="-s -w -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor_num -X $pkg.gitTreeState=clean"
  ldflags="$ldflags -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor_num"
  for c in "${missing[@]}"; do
    log "building $c $K8S_VERSION (first time only; several minutes on 2 cores)"
    start=$(date +%s)
    (cd "$mod" && "$GO" build -trimpath -ldflags "$ldflags" -o "$BIN/$c.tmp" "k8s.io/kubernetes/cmd/$c") >&2
    mv "$BIN/$c.tmp" "$BIN/$c"
    log "built $c in $(( $(date +%s) - start ))s"
  done
fi

if [ ! -x "$BIN/etcd" ]; then
  [ -x "$GO" ] || { log "Go is required to build etcd"; exit 1; }
  mod="$CACHE/etcd-$ETCD_VERSION/tools"
  mkdir -p "$mod"
  if [ ! -f "$mod/go.sum" ]; then
    printf 'module example.invalid/testenv-etcd-tools\n\ngo 1.24.0\n\nrequire go.etcd.io/etcd/server/v3 %s\n' "$ETCD_VERSION" > "$mod/go.mod"
    printf '//go:build tools\npackage tools\nimport _ "go.etcd.io/etcd/server/v3"\n' > "$mod/tools.go"
    (cd "$mod" && "$GO" mod tidy) >&2
  fi
  log "building etcd $ETCD_VERSION"
  start=$(date +%s)
  (cd "$mod" && "$GO" build -trimpath -ldflags "-s -w" -o "$BIN/etcd.tmp" go.etcd.io/etcd/server/v3) >&2
  mv "$BIN/etcd.tmp" "$BIN/etcd"
  log "built etcd in $(( $(date +%s) - start ))s"
fi
# kwok in its own module: it requires much newer k8s.io/* modules than the staging pins above (testenv.md §4).
# Since v0.8.0 kwok has no built-in stages, so the Stage files of its module (node: initialize + lease heartbeat;
# pod: ready/complete/delete; volume: PVC -> PV provisioning and binding) are copied next to the binary.
if [ $want_kwok = 1 ] && { [ ! -x "$BIN/kwok" ] || [ ! -f "$BIN/kwok-stages.yaml" ]; }; then
  [ -x "$GO" ] || { log "Go is required to build kwok (kwok $KWOK_VERSION needs Go >= 1.26)"; exit 1; }
  mod="$CACHE/kwok-$KWOK_VERSION/tools"
  mkdir -p "$mod"
  if [ ! -f "$mod/go.sum" ]; then
    printf 'module example.invalid/testenv-kwok-tools\n\ngo 1.26.0\n\nrequire sigs.k8s.io/kwok %s\n' "$KWOK_VERSION" > "$mod/go.mod"
    printf '//go:build tools\npackage tools\nimport _ "sigs.k8s.io/kwok/cmd/kwok"\n' > "$mod/tools.go"
    (cd "$mod" && "$GO" mod tidy) >&2
  fi
  if [ ! -x "$BIN/kwok" ]; then
    log "building kwok $KWOK_VERSION"
    start=$(date +%s)
    (cd "$mod" && "$GO" build -trimpath -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION" \
      -o "$BIN/kwok.tmp" sigs.k8s.io/kwok/cmd/kwok) >&2
    mv "$BIN/kwok.tmp" "$BIN/kwok"
    log "built kwok in $(( $(date +%s) - start ))s"
  fi
  src=$(cd "$mod" && "$GO" list -m -f '{{.Dir}}' sigs.k8s.io/kwok)/kustomize/stage
  for f in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease \
    pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete \
    volume/fast/pvc-provision volume/fast/pv-bind volume/fast/pvc-delete volume/fast/pv-delete; do
    [ -f "$src/$f.yaml" ] || { log "kwok $KWOK_VERSION has no stage $f.yaml"; exit 1; }
    echo "---"; cat "$src/$f.yaml"
  done > "$BIN/kwok-stages.yaml.tmp"
  mv "$BIN/kwok-stages.yaml.tmp" "$BIN/kwok-stages.yaml"
fi
echo "$BIN"
