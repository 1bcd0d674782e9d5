#!/usr/bin/env bash
# Installs Debian's PostgreSQL server binaries (initdb, postgres, pgbench) once, for the
# tests and benchmarks that run a real PostgreSQL on loopback. Idempotent; prints the
# bin directory. Debian's package starts a cluster on install where it can: we only want
# the binaries, so a policy-rc.d keeps services from starting.
set -euo pipefail

find_bin() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

bin="$(find_bin)"
if [ -n "$bin" ] && [ -x "$bin/initdb" ]; then
    echo "$bin"
    exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
echo "postgres-tools: installing postgresql with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
created_policy=""
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod +x "$policy"
    created_policy=1
fi
$sudo apt-get install -y --no-install-recommends postgresql postgresql-contrib >&2 \
    || { $sudo apt-get update >&2 \
         && $sudo apt-get install -y --no-install-recommends postgresql postgresql-contrib >&2; }
if [ -n "$created_policy" ]; then
    $sudo rm -f "$policy"
fi
find_bin
