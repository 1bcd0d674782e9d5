#!/usr/bin/env bash
# A Docker engine for the e2e tier (kind). Leaves an engine that already answers alone.
#
#   hack/docker-engine.sh start   make `docker info` answer: when no engine does, install
#                                 Debian's docker.io if dockerd is missing, and start dockerd
#                                 (idempotent; prints what it did on stderr)
#   hack/docker-engine.sh stop    stop the dockerd that `start` started (nothing else)
#   hack/docker-engine.sh status  "running (started here)", "running (not ours)" or "down"
#   hack/docker-engine.sh runc-wrapper   build hack/runc-capbnd and print its path
#
# Where the kernel's capability bounding set lacks capabilities that Docker grants
# privileged containers (kind's nodes), dockerd gets hack/runc-capbnd as its default
# runtime: it drops those capabilities from each container's OCI configuration before
# runc applies them (see hack/runc-capbnd/main.go). State lives in $SORA_DOCKER_STATE
# (default ~/.cache/sora-docker): daemon.json, dockerd.log, dockerd.pid (only when ours).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${SORA_DOCKER_STATE:-${XDG_CACHE_HOME:-$HOME/.cache}/sora-docker}"
PIDFILE="$STATE/dockerd.pid"
WRAPPER_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/sora-images/bin"

log() { echo "docker-engine: $*" >&2; }

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo -n "$@"; fi
}

engine_answers() {
  command -v docker >/dev/null 2>&1 && timeout 20 docker info --format '{{.ServerVersion}}' >/dev/null 2>&1
}

ours_running() {
  [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

# True when the bounding set lacks a capability the kernel knows (cap_last_cap).
bounding_set_is_partial() {
  local last mask full
  last=$(cat /proc/sys/kernel/cap_last_cap)
  mask=$((16#$(awk '/^CapBnd:/ {print $2}' /proc/self/status)))
  full=$(((1 << (last + 1)) - 1))
  ((mask != full))
}

# Builds the wrapper once per content of its source; prints the binary's path.
runc_wrapper() {
  local src="$ROOT/hack/runc-capbnd" hash binary
  hash=$(cat "$src/go.mod" "$src/main.go" | sha256sum | cut -c1-16)
  binary="$WRAPPER_CACHE/runc-capbnd-$hash"
  if [[ ! -x "$binary" ]]; then
    mkdir -p "$WRAPPER_CACHE"
    log "building hack/runc-capbnd ($(go version | awk '{print $3}'))"
    (cd "$src" && CGO_ENABLED=0 go build -trimpath -o "$binary.tmp" . && mv "$binary.tmp" "$binary")
  fi
  echo "$binary"
}

install_engine() {
  command -v dockerd >/dev/null 2>&1 && return 0
  command -v apt-get >/dev/null 2>&1 || { log "no dockerd and no apt-get: install a Docker engine"; exit 1; }
  log "installing Debian's docker.io"
  as_root apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q --no-install-recommends \
    docker.io containerd runc iptables >&2
}

start() {
  if engine_answers; then
    log "an engine already answers: $(docker info --format '{{.ServerVersion}} ({{.Driver}}, cgroup v{{.CgroupVersion}})')"
    return 0
  fi
  install_engine
  mkdir -p "$STATE"
  local config="$STATE/daemon.json"
  if bounding_set_is_partial; then
    local wrapper
    wrapper=$(runc_wrapper)
    log "capability bounding set is partial: runc-capbnd as the default runtime"
    printf '{"runtimes": {"runc-capbnd": {"path": "%s"}}, "default-runtime": "runc-capbnd"}\n' \
      "$wrapper" >"$config"
  else
    echo '{}' >"$config"
  fi
  log "starting dockerd (log: $STATE/dockerd.log)"
  # setsid: dockerd outlives this script and the shell that ran it. dockerd writes its
  # own pid file (setsid may fork, so $! is not dockerd's pid).
  as_root setsid dockerd --config-file "$config" --pidfile "$PIDFILE" \
    >"$STATE/dockerd.log" 2>&1 </dev/null &
  for _ in $(seq 1 120); do
    if engine_answers; then
      log "dockerd is up: $(docker info --format '{{.ServerVersion}} ({{.Driver}}, cgroup v{{.CgroupVersion}})')"
      return 0
    fi
    if ! kill -0 $! 2>/dev/null && ! ours_running; then
      rm -f "$PIDFILE"
      log "dockerd exited; last lines of its log:"
      tail -n 20 "$STATE/dockerd.log" >&2
      exit 1
    fi
    sleep 0.5
  done
  log "dockerd did not answer within 60 s (log: $STATE/dockerd.log)"
  exit 1
}

stop() {
  if ! ours_running; then
    rm -f "$PIDFILE"
    log "no dockerd started here is running; nothing to stop"
    return 0
  fi
  local pid
  pid=$(cat "$PIDFILE")
  log "stopping dockerd (pid $pid)"
  as_root kill -TERM "$pid"
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  rm -f "$PIDFILE"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status)
    if ours_running; then echo "running (started here)"
    elif engine_answers; then echo "running (not ours)"
    else echo "down"; fi ;;
  runc-wrapper) runc_wrapper ;;
  *) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
