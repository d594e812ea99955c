#!/usr/bin/env bash
# The project's test command (`npm test`): lint and type check, unit tests, then integration tests on a real
# kube-apiserver + etcd (built once into a cache outside the repo, see scripts/testenv/build.sh).
set -euo pipefail
shopt -s globstar nullglob
cd "$(dirname "$0")/.."
echo "== lint and type check"
npx eslint .
npx prettier --check "**/*.{ts,js,mjs}"  # npm run format fixes it
npx tsc --noEmit -p .
echo "== unit tests"
# Node 20's --test does not expand globs itself: bash does.
npx tsx --test --test-reporter=spec test/unit/**/*.test.ts
echo "== bundles (the end-to-end tests run them; the build fails over the size budget)"
npx tsx scripts/build.ts
echo "== integration tests"
bash scripts/testenv/run-integration.sh
