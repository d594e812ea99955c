#!/usr/bin/env bash
# Runs a command in a private network namespace whose loopback device also owns the pod CIDR, so every pod IP
# kwok hands out (10.244.0.0/16 by default) is a local address: a real process (Patroni, PostgreSQL) can listen on
# a pod's IP, and the IPs stay valid for Endpoints (which refuse 127.0.0.0/8). Nothing outside the namespace
# changes; it goes away with its last process. Inside there is no route out: build first (build.sh), then enter.
# It is also a private mount namespace in which /etc/hosts is a private copy (the copy's file is unlinked once
# mounted, so it goes away with the namespace): there is no cluster DNS, and a test may write Service names into
# it (patroni-pods.ts `hostsFile`), which every process inside resolves, the host's /etc/hosts untouched.
#
#   netns.sh COMMAND [ARGS...]    e.g. netns.sh bash scripts/testenv/run-integration.sh
#   netns.sh --check              exit 0 when a namespace can be made here (needs root: CAP_SYS_ADMIN and
#                                 CAP_NET_ADMIN; PostgreSQL must then run as another user anyway), else 1 and why
#
# Env: TESTENV_POD_CIDR (default 10.244.0.0/16, kwok's --cidr in testenv.sh). Inside, TESTENV_NETNS=1 is set,
# and TESTENV_PRIVATE_HOSTS=1 when /etc/hosts is the private copy; called again inside, it just runs the command.
set -euo pipefail
CIDR=${TESTENV_POD_CIDR:-10.244.0.0/16}

if [ "${1:-}" = --check ]; then
  command -v unshare >/dev/null || { echo "netns: unshare (util-linux) is missing" >&2; exit 1; }
  command -v ip >/dev/null || { echo "netns: ip (iproute2) is missing" >&2; exit 1; }
  unshare --net --mount -- sh -c "ip link set lo up && ip addr add $CIDR dev lo" 2>/dev/null \
    || { echo "netns: cannot make a network namespace here (needs root: CAP_SYS_ADMIN, CAP_NET_ADMIN)" >&2; exit 1; }
  exit 0
fi
[ $# -gt 0 ] || { echo "usage: $0 COMMAND [ARGS...] | --check" >&2; exit 2; }
if [ "${TESTENV_NETNS:-}" = 1 ]; then exec "$@"; fi
export TESTENV_NETNS=1 TESTENV_POD_CIDR=$CIDR
# unshare --mount makes every mount private to the namespace (propagation private), so the bind mount stays inside.
# shellcheck disable=SC2016 # expanded by the inner shell
exec unshare --net --mount -- bash -c 'set -e; ip link set lo up; ip addr add "$0" dev lo
  hosts=$(mktemp "${TMPDIR:-/tmp}/netns-hosts.XXXXXX") && cp /etc/hosts "$hosts" && chmod 644 "$hosts" \
    && mount --bind "$hosts" /etc/hosts && export TESTENV_PRIVATE_HOSTS=1
  rm -f "$hosts"
  exec "$@"' "$CIDR" "$@"
