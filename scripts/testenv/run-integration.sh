#!/usr/bin/env bash
# Runs the integration tests (test/integration/**/*.test.ts) against a fresh control plane in a temporary
# TESTENV_DIR, which is always torn down afterwards. Exits with the test status.
# Binaries: $KUBEBUILDER_ASSETS when set, else built once and cached by build.sh (slow the first time).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"

if [ -z "${KUBEBUILDER_ASSETS:-}" ]; then
  echo "== testenv binaries (build.sh; the first build takes a while)" >&2
  KUBEBUILDER_ASSETS=$(bash "$HERE/build.sh" | tail -n 1)
  export KUBEBUILDER_ASSETS
fi

TESTENV_DIR=$(mktemp -d "${TMPDIR:-/tmp}/testenv.XXXXXX")
export TESTENV_DIR
trap 'bash "$HERE/testenv.sh" down || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "== control plane up ($TESTENV_DIR)" >&2
eval "$(bash "$HERE/testenv.sh" up)"

# Node 20's --test does not expand globs itself, so bash does (globstar: ** also matches no directory).
shopt -s globstar nullglob
files=(test/integration/**/*.test.ts)
if [ ${#files[@]} -eq 0 ]; then
  echo "== no integration tests; smoke check" >&2
  "$TESTENV_BIN/kubectl" get --raw /readyz
  echo
  exit 0
fi

echo "== integration tests (${#files[@]} files)" >&2
status=0
npx tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}" || status=$?
exit "$status"
