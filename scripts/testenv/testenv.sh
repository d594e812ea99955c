#!/usr/bin/env bash
# A real, throwaway Kubernetes control plane on loopback for integration tests: etcd + kube-apiserver, and with
# --full (or TESTENV_FULL=1) also kube-controller-manager, kube-scheduler, kwok and a few fake Nodes, so
# StatefulSets get Pods that are scheduled and Running with pod IPs, and PVCs that are Bound.
#
#   testenv.sh up [--full]  start it (no-op when already up and healthy; --full adds the missing components to
#                           a running plane), print `export ...` lines
#   testenv.sh down         stop it and remove the state dir
#   testenv.sh env          print the `export ...` lines of a running plane (TESTENV_FULL=1 when full)
#   testenv.sh status       print "up" or "down" (exit 0 / 1)
#   testenv.sh restart-apiserver [SECONDS]
#                           kill kube-apiserver (SIGKILL, as a crash), wait SECONDS (default 0), start it again
#                           on the same port and wait until it is ready: a fault for the fault-schedule suite
#
# Env: TESTENV_DIR (state dir, default <repo>/.testenv/plane), KUBEBUILDER_ASSETS (dir with etcd, kube-apiserver,
#      kubectl, and for the full plane kube-controller-manager, kube-scheduler, kwok and kwok-stages.yaml;
#      default: built/cached by build.sh), TESTENV_TIMEOUT (seconds to wait for health, default 90),
#      TESTENV_FULL=1 (same as --full), TESTENV_NODES (fake Nodes of the full plane, default 3),
#      TESTENV_POD_CIDR (kwok's pod IP range, default 10.244.0.0/16).
# State dir layout: pki/ (CA, serving and admin certs, SA key pair), etcd/ (data), logs/<component>.log,
#      run/<component>.pid, run/order (start order, for reverse-order shutdown), ports, full (marker),
#      kubeconfig, env.
# Adding a component = a start_<name> function that calls `spawn <name> <binary> <args...>` and a wait on its
# health, called from cmd_up (or start_full) after the apiserver is ready.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DIR=${TESTENV_DIR:-$ROOT/.testenv/plane}
TIMEOUT=${TESTENV_TIMEOUT:-90}
FULL=${TESTENV_FULL:-0}
NODES=${TESTENV_NODES:-3}
POD_CIDR=${TESTENV_POD_CIDR:-10.244.0.0/16}
FULL_COMPONENTS="kube-controller-manager kube-scheduler kwok"

log() { echo "testenv: $*" >&2; }
now() { date +%s.%N; }

resolve_bin() {
  if [ -n "${KUBEBUILDER_ASSETS:-}" ]; then
    BIN=$KUBEBUILDER_ASSETS
  else
    BIN=$(TESTENV_FULL=$FULL bash "$HERE/build.sh" | tail -n 1)
  fi
  local b need="etcd kube-apiserver kubectl"
  [ "$FULL" = 1 ] && need="$need $FULL_COMPONENTS"
  for b in $need; do
    [ -x "$BIN/$b" ] || { log "missing $BIN/$b${KUBEBUILDER_ASSETS:+ (KUBEBUILDER_ASSETS)}"; exit 1; }
  done
  if [ "$FULL" = 1 ] && [ ! -f "$BIN/kwok-stages.yaml" ]; then log "missing $BIN/kwok-stages.yaml (made by build.sh)"; exit 1; fi
}

# Asks the OS for N distinct free loopback ports (all sockets are held open together so they differ).
free_ports() {
  node -e '
    const net = require("net"); const n = Number(process.argv[1]); const servers = [];
    const next = () => {
      if (servers.length === n) { console.log(servers.map((s) => s.address().port).join(" ")); servers.forEach((s) => s.close()); return; }
      const s = net.createServer(); servers.push(s); s.listen(0, "127.0.0.1", next);
    };
    next();' "$1"
}

make_pki() {
  local p=$DIR/pki
  mkdir -p "$p"
  (
    cd "$p"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt \
      -days 30 -subj "/CN=testenv-ca" 2>/dev/null
    # Serving cert: the in-cluster names and the first service IP too, so a later in-"cluster" client also verifies.
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout apiserver.key -out apiserver.csr \
      -subj "/CN=kube-apiserver" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\nextendedKeyUsage=serverAuth\n' > apiserver.ext
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 \
      -extfile apiserver.ext -out apiserver.crt 2>/dev/null
    # Admin client cert: O=system:masters bypasses RBAC (RBAC stays on for every other identity).
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout admin.key -out admin.csr \
      -subj "/O=system:masters/CN=testenv-admin" 2>/dev/null
    printf 'extendedKeyUsage=clientAuth\n' > admin.ext
    openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 \
      -extfile admin.ext -out admin.crt 2>/dev/null
    # ServiceAccount token signing key pair (RS256, the most widely understood JWT algorithm).
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sa.key 2>/dev/null
    openssl pkey -in sa.key -pubout -out sa.pub 2>/dev/null
  )
}

# spawn NAME BINARY ARGS...: starts BINARY in its own session (so `down` can signal the whole process group),
# logging to logs/NAME.log. The PID is written by the child itself after setsid, so it is the group leader's PID
# whether or not setsid had to fork.
spawn() {
  local name=$1; shift
  mkdir -p "$DIR/logs" "$DIR/run"
  rm -f "$DIR/run/$name.pid"
  setsid bash -c 'echo $$ > "$0"; exec "$@"' "$DIR/run/$name.pid" "$@" >"$DIR/logs/$name.log" 2>&1 </dev/null &
  echo "$name" >> "$DIR/run/order"
  local i
  for i in $(seq 50); do [ -s "$DIR/run/$name.pid" ] && return 0; sleep 0.1; done
  log "$name did not start"; return 1
}

# wait_for NAME CHECK...: polls CHECK every 0.2 s until it succeeds, the process dies, or TIMEOUT passes.
wait_for() {
  local name=$1; shift
  local deadline=$(( $(date +%s) + TIMEOUT ))
  until "$@" >/dev/null 2>&1; do
    if ! alive "$name"; then log "$name exited"; return 1; fi
    if [ "$(date +%s)" -ge "$deadline" ]; then log "$name not healthy after ${TIMEOUT}s"; return 1; fi
    sleep 0.2
  done
}

alive() { local pid; pid=$(cat "$DIR/run/$1.pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null; }

start_etcd() {
  spawn etcd "$BIN/etcd" --name=testenv --data-dir="$DIR/etcd" \
    --listen-client-urls="http://127.0.0.1:$ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster="testenv=http://127.0.0.1:$ETCD_PEER_PORT" --unsafe-no-fsync --log-level=warn
  wait_for etcd etcd_healthy
}
etcd_healthy() { curl -fsS "http://127.0.0.1:$ETCD_PORT/health" | grep -q '"health":"true"'; }

start_apiserver() {
  local p=$DIR/pki
  # --advertise-address/--endpoint-reconciler-type=none: hosts without a default route cannot derive an advertise
  # address, and apiservers refuse a loopback one with the lease reconciler (testenv.md §3).
  # --disable-admission-plugins=ServiceAccount: there is no controller-manager to create `default` ServiceAccounts.
  spawn kube-apiserver "$BIN/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$APISERVER_PORT" \
    --endpoint-reconciler-type=none \
    --cert-dir="$p" --tls-cert-file="$p/apiserver.crt" --tls-private-key-file="$p/apiserver.key" \
    --client-ca-file="$p/ca.crt" \
    --authorization-mode=Node,RBAC \
    --service-account-issuer="https://127.0.0.1:$APISERVER_PORT/" \
    --service-account-key-file="$p/sa.pub" --service-account-signing-key-file="$p/sa.key" \
    --service-cluster-ip-range=10.96.0.0/16 --allow-privileged=true \
    --disable-admission-plugins=ServiceAccount --kubelet-preferred-address-types=InternalIP
  wait_for kube-apiserver apiserver_ready
}
apiserver_ready() {
  local p=$DIR/pki
  [ "$(curl -fsS --cacert "$p/ca.crt" --cert "$p/admin.crt" --key "$p/admin.key" \
    "https://127.0.0.1:$APISERVER_PORT/readyz")" = ok ]
}

# The full plane's controllers and kwok use the admin kubeconfig (system:masters): a test cluster needs no
# per-component identities. Their serving ports are only probed for health (/healthz is always allowed).
start_controller_manager() {
  local p=$DIR/pki
  # --node-monitor-grace-period: generous, so a loaded CI box never marks kwok's nodes NotReady between two of
  # its lease renewals (testenv.md §3); tests that need a NotReady node patch it themselves.
  spawn kube-controller-manager "$BIN/kube-controller-manager" \
    --kubeconfig="$DIR/kubeconfig" --authentication-kubeconfig="$DIR/kubeconfig" \
    --authorization-kubeconfig="$DIR/kubeconfig" \
    --leader-elect=false --bind-address=127.0.0.1 --secure-port="$KCM_PORT" --cert-dir="$DIR/kcm-certs" \
    --service-account-private-key-file="$p/sa.key" --root-ca-file="$p/ca.crt" \
    --use-service-account-credentials=false --node-monitor-grace-period=2m
}
start_scheduler() {
  spawn kube-scheduler "$BIN/kube-scheduler" \
    --kubeconfig="$DIR/kubeconfig" --authentication-kubeconfig="$DIR/kubeconfig" \
    --authorization-kubeconfig="$DIR/kubeconfig" \
    --leader-elect=false --bind-address=127.0.0.1 --secure-port="$SCHED_PORT" --cert-dir="$DIR/scheduler-certs"
}
# kwok manages every Node (they are all fake) with the stages build.sh copied from its module: nodes become
# Ready and renew Leases; pods bound to a node become Running with an IP from POD_CIDR; pods being deleted go
# away; PVCs of StorageClass kwok-volume get a PV and are Bound (the volume stages are kwok's provisioner).
# kwok is also each Node's kubelet API (the Nodes' InternalIP 127.0.0.1 and --node-port, the port it serves, TLS
# with a certificate of its own): `pods/exec` reaches it through the API server and runs what a kwok `Exec` object
# (CRD installed first, kwok/exec-crd.yaml) maps the pod to, as a local command (scripts/testenv/major-upgrade.ts).
start_kwok() {
  local kc=("$BIN/kubectl" --kubeconfig "$DIR/kubeconfig")
  "${kc[@]}" apply -f "$HERE/kwok/exec-crd.yaml" >/dev/null || return 1
  "${kc[@]}" wait --for=condition=Established crd/execs.kwok.x-k8s.io --timeout="${TIMEOUT}s" >/dev/null || return 1
  spawn kwok "$BIN/kwok" --kubeconfig="$DIR/kubeconfig" --config="$BIN/kwok-stages.yaml" \
    --manage-all-nodes=true --node-lease-duration-seconds=40 --cidr="$POD_CIDR" --node-ip=127.0.0.1 \
    --server-address="127.0.0.1:$KWOK_PORT" --node-port="$KWOK_PORT" --enable-crds=Exec
}
kcm_healthy() { [ "$(curl -fsSk "https://127.0.0.1:$KCM_PORT/healthz")" = ok ]; }
scheduler_healthy() { [ "$(curl -fsSk "https://127.0.0.1:$SCHED_PORT/healthz")" = ok ]; }
kwok_healthy() { curl -fsS "http://127.0.0.1:$KWOK_PORT/healthz" >/dev/null; }

# The StorageClass kwok's volume stages serve (default class, so claims without a class use it too) and the
# fake Nodes testenv-node-0..N-1, one zone label each, then waits until kwok has made them Ready.
create_fixtures() {
  local i kc=("$BIN/kubectl" --kubeconfig "$DIR/kubeconfig")
  {
    cat <<EOF
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: kwok-volume
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: kwok.x-k8s.io/volume
reclaimPolicy: Delete
volumeBindingMode: Immediate
EOF
    for i in $(seq 0 $((NODES - 1))); do
      cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: testenv-node-$i
  annotations: {kwok.x-k8s.io/node: fake}
  labels: {kubernetes.io/hostname: testenv-node-$i, kubernetes.io/os: linux, type: kwok, topology.kubernetes.io/zone: zone-$i}
EOF
    done
  } | "${kc[@]}" apply -f - >/dev/null || return 1
  "${kc[@]}" wait --for=condition=Ready node --all --timeout="${TIMEOUT}s" >/dev/null
}

# Starts the full plane's components on a running apiserver (fresh or already up) and records the marker.
start_full() {
  read -r KCM_PORT SCHED_PORT KWOK_PORT < <(free_ports 3)
  printf 'KCM_PORT=%s\nSCHED_PORT=%s\nKWOK_PORT=%s\n' "$KCM_PORT" "$SCHED_PORT" "$KWOK_PORT" >> "$DIR/ports"
  start_controller_manager && start_scheduler && start_kwok || return 1
  wait_for kube-controller-manager kcm_healthy || return 1
  wait_for kube-scheduler scheduler_healthy || return 1
  wait_for kwok kwok_healthy || return 1
  create_fixtures || return 1
  touch "$DIR/full"
}

write_kubeconfig() {
  local p=$DIR/pki
  b64() { base64 -w0 < "$1"; }
  cat > "$DIR/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: testenv
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority-data: $(b64 "$p/ca.crt")
users:
- name: testenv-admin
  user:
    client-certificate-data: $(b64 "$p/admin.crt")
    client-key-data: $(b64 "$p/admin.key")
contexts:
- name: testenv
  context: {cluster: testenv, user: testenv-admin}
current-context: testenv
EOF
  chmod 600 "$DIR/kubeconfig"
}

write_env() {
  {
    printf 'export KUBECONFIG=%q\n' "$DIR/kubeconfig"
    printf 'export TESTENV_DIR=%q\n' "$DIR"
    printf 'export TESTENV_BIN=%q\n' "$BIN"
    printf 'export ETCD_ENDPOINT=%q\n' "http://127.0.0.1:$ETCD_PORT"
    if [ -f "$DIR/full" ]; then
      printf 'export TESTENV_FULL=1\n'
      printf 'export TESTENV_NODES=%q\n' "$NODES"
    else
      # A plane without the full components: tests must not inherit a TESTENV_FULL=1 from the caller.
      printf 'export TESTENV_FULL=0\n'
    fi
  } > "$DIR/env"
}

load_ports() { [ -f "$DIR/ports" ] && . "$DIR/ports"; }

# Refuses to delete a non-empty directory that this script did not create (guards against TESTENV_DIR=~ mistakes).
remove_dir() {
  if [ -n "$(ls -A "$DIR" 2>/dev/null)" ] && [ ! -f "$DIR/ports" ]; then
    log "$DIR is not empty and holds no testenv state; not removing it"; exit 1
  fi
  rm -rf "$DIR"
}

is_up() {
  [ -f "$DIR/env" ] && load_ports || return 1
  local name
  while read -r name; do alive "$name" || return 1; done < "$DIR/run/order"
  apiserver_ready >/dev/null 2>&1
}

# Stops every recorded component, newest first: SIGTERM to its process group, wait up to 10 s, then SIGKILL
# whatever is left -- by recorded PID/group only.
stop_all() {
  [ -f "$DIR/run/order" ] || return 0
  local name pid pids=()
  for name in $(tac "$DIR/run/order"); do
    pid=$(cat "$DIR/run/$name.pid" 2>/dev/null) || continue
    kill -0 "$pid" 2>/dev/null || continue
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    pids+=("$pid")
  done
  local i
  for i in $(seq 50); do
    local left=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && left=1; done
    [ $left = 0 ] && break
    sleep 0.2
  done
  for pid in "${pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      log "killing $pid (did not stop within 10s)"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  rm -f "$DIR/run/order"
}

fail_up() {
  local f
  for f in "$DIR"/logs/*.log; do
    [ -f "$f" ] || continue
    echo "----- tail of $f" >&2
    tail -n 40 "$f" >&2
  done
  stop_all
  log "up failed; logs kept in $DIR/logs"
  exit 1
}

cmd_up() {
  local t0; t0=$(now)
  if is_up; then
    if [ "$FULL" = 1 ] && [ ! -f "$DIR/full" ]; then
      resolve_bin
      log "adding $FULL_COMPONENTS to the running plane"
      start_full || fail_up
      write_env
    else
      log "already up ($DIR)"
    fi
    cat "$DIR/env"
    return 0
  fi
  if [ -d "$DIR" ]; then stop_all; remove_dir; fi
  resolve_bin
  mkdir -p "$DIR"
  read -r ETCD_PORT ETCD_PEER_PORT APISERVER_PORT < <(free_ports 3)
  printf 'ETCD_PORT=%s\nETCD_PEER_PORT=%s\nAPISERVER_PORT=%s\n' "$ETCD_PORT" "$ETCD_PEER_PORT" "$APISERVER_PORT" > "$DIR/ports"
  make_pki
  start_etcd || fail_up
  start_apiserver || fail_up
  write_kubeconfig
  if [ "$FULL" = 1 ]; then start_full || fail_up; fi
  write_env
  cat "$DIR/env"
  log "up in $(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')s ($DIR)"
}

cmd_down() {
  [ -d "$DIR" ] || { log "not up ($DIR)"; return 0; }
  stop_all
  remove_dir
  log "down"
}

cmd_env() {
  is_up || { log "not up ($DIR); run: $0 up"; exit 1; }
  cat "$DIR/env"
}

cmd_restart_apiserver() {
  is_up || { log "not up ($DIR)"; exit 1; }
  resolve_bin
  local pid; pid=$(cat "$DIR/run/kube-apiserver.pid")
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  sleep "${1:-0}"
  # spawn appends to run/order; keep one entry so stop_all stops it once, in its place
  sed -i '/^kube-apiserver$/d' "$DIR/run/order"
  start_apiserver
}

cmd_status() {
  if is_up; then echo up; else echo down; return 1; fi
}

cmd=${1:-}
[ $# -gt 0 ] && shift
if [ "$cmd" = restart-apiserver ]; then cmd_restart_apiserver "$@"; exit; fi
for arg in "$@"; do
  case "$arg" in
    --full) FULL=1 ;;
    *) echo "usage: $0 up [--full] | down | env | status | restart-apiserver [SECONDS]" >&2; exit 2 ;;
  esac
done
case "$cmd" in
  up) cmd_up ;;
  down) cmd_down ;;
  env) cmd_env ;;
  status) cmd_status ;;
  *) echo "usage: $0 up [--full] | down | env | status | restart-apiserver [SECONDS]" >&2; exit 2 ;;
esac
