#!/usr/bin/env bash
# Runs the integration tests (test/integration/**/*.test.ts, or the files given as arguments) against a fresh
# control plane in a temporary TESTENV_DIR, which is always torn down afterwards. Exits with the test status.
#
# Two phases: files that need the full plane (kube-controller-manager, kube-scheduler, kwok, fake Nodes) say so
# with a line `// testenv: full` in their first 20 lines; they run in a second phase on a fresh full plane
# (`testenv.sh up --full`), every other file runs first on the apiserver-only plane, which starts in seconds.
# TESTENV_FULL=0 skips the second phase: those files then run in the first one and skip themselves.
# Files with `// testenv: none` need no control plane (e.g. real Patroni clusters with their own etcd): they run
# in the background, alongside the first phase, and their report is printed after it.
# The second phase runs inside a private network namespace (netns.sh) when one can be made here (root), so pod IPs
# are local addresses and tests can run real Patroni processes at them (scripts/testenv/patroni-pods.ts);
# TESTENV_NETNS=0 turns that off. (Internally, TESTENV_PHASE=full runs only the second phase, on the given files.)
# Binaries: $KUBEBUILDER_ASSETS when set, else built once and cached by build.sh (slow the first time).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"

# Node 20's --test does not expand globs itself, so bash does (globstar: ** also matches no directory).
shopt -s globstar nullglob
if [ $# -gt 0 ]; then files=("$@"); else files=(test/integration/**/*.test.ts); fi
basic=() full=() standalone=()
if [ "${TESTENV_PHASE:-}" = full ]; then
  full=("${files[@]}")
else
  for f in "${files[@]}"; do
    marker=$(head -n 20 "$f" | sed -n 's|^// testenv: \([a-z]*\).*|\1|p' | head -n 1)
    if [ "$marker" = full ] && [ "${TESTENV_FULL:-}" != 0 ]; then full+=("$f")
    elif [ "$marker" = none ]; then standalone+=("$f")
    else basic+=("$f"); fi
  done
fi

if [ -z "${KUBEBUILDER_ASSETS:-}" ]; then
  echo "== testenv binaries (build.sh; the first build takes a while)" >&2
  KUBEBUILDER_ASSETS=$(TESTENV_FULL=$([ ${#full[@]} -gt 0 ] && echo 1 || echo 0) bash "$HERE/build.sh" | tail -n 1)
  export KUBEBUILDER_ASSETS
fi

# The reference peer (Zalando's operator, for the differential and takeover tests): built here, before any phase,
# because the full phase runs in a network namespace without a route out (TESTENV_PHASE=full, inside it, never
# builds). A no-op when cached; needs Go the first time, as build.sh does.
if [ "${TESTENV_PHASE:-}" != full ] && [ ${#files[@]} -gt 0 ] && grep -qs 'scripts/testenv/peer' "${files[@]}"; then
  echo "== reference peer (build-peer.sh; the first build takes a few minutes)" >&2
  bash "$HERE/build-peer.sh" >/dev/null
fi

TESTENV_DIR=
standalone_pid=
trap '[ -z "$standalone_pid" ] || kill -TERM -- "-$standalone_pid" 2>/dev/null || true
  [ -z "$TESTENV_DIR" ] || bash "$HERE/testenv.sh" down || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# run_phase NAME UP_FLAGS FILES...: a fresh plane, the files, the plane down. Returns the test status.
run_phase() {
  local name=$1 flags=$2; shift 2
  TESTENV_DIR=$(mktemp -d "${TMPDIR:-/tmp}/testenv.XXXXXX")
  export TESTENV_DIR
  echo "== control plane up: $name ($TESTENV_DIR)" >&2
  local exports status=0
  # shellcheck disable=SC2086 # flags is empty or one word
  exports=$(bash "$HERE/testenv.sh" up $flags) || { bash "$HERE/testenv.sh" down || true; TESTENV_DIR=; return 1; }
  eval "$exports"
  if [ $# -eq 0 ]; then
    echo "== no integration tests; smoke check" >&2
    "$TESTENV_BIN/kubectl" get --raw /readyz || status=$?
    echo
  else
    echo "== integration tests on the $name plane (${#} files)" >&2
    npx tsx --test --test-concurrency=1 --test-reporter=spec "$@" || status=$?
  fi
  bash "$HERE/testenv.sh" down || true
  TESTENV_DIR=
  return $status
}

status=0
if [ "${TESTENV_PHASE:-}" = full ]; then
  run_phase full --full "${full[@]}" || status=$?
  exit "$status"
fi
if [ ${#standalone[@]} -gt 0 ]; then
  standalone_log=$(mktemp "${TMPDIR:-/tmp}/standalone-tests.XXXXXX")
  echo "== ${#standalone[@]} files without a control plane, in the background (report after the first phase)" >&2
  # In its own session, so an interrupted run can stop the whole group (the test files clean up on SIGTERM).
  setsid npx tsx --test --test-concurrency=1 --test-reporter=spec "${standalone[@]}" >"$standalone_log" 2>&1 &
  standalone_pid=$!
fi
if [ ${#basic[@]} -gt 0 ] || { [ ${#full[@]} -eq 0 ] && [ ${#standalone[@]} -eq 0 ]; }; then
  run_phase apiserver-only "" "${basic[@]}" || status=$?
fi
if [ -n "$standalone_pid" ]; then
  standalone_status=0
  wait "$standalone_pid" || standalone_status=$?
  standalone_pid=
  echo "== tests without a control plane (${#standalone[@]} files)" >&2
  cat "$standalone_log"
  rm -f "$standalone_log"
  [ $standalone_status = 0 ] || status=$standalone_status
fi
if [ ${#full[@]} -gt 0 ]; then
  if [ "${TESTENV_NETNS:-}" != 0 ] && bash "$HERE/netns.sh" --check 2>/dev/null; then
    echo "== full plane in a network namespace (pod IPs are local addresses)" >&2
    TESTENV_PHASE=full bash "$HERE/netns.sh" bash "$HERE/run-integration.sh" "${full[@]}" || status=$?
  else
    run_phase full --full "${full[@]}" || status=$?
  fi
fi
exit "$status"
