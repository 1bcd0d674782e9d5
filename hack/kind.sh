#!/usr/bin/env bash
# The e2e tier's kind cluster by hand (one control plane + two workers, CNI, CoreDNS,
# default StorageClass, metrics-server), with every image built here or reused
# (tests/support/kind_cluster.py, kindnode.py, images.py). See docs/testing.md.
#
#   hack/kind.sh up            start the Docker engine if none answers, build or reuse the
#                              images, create the cluster (or reuse it), load the project's
#                              images; prints `export KUBECONFIG=...`
#   hack/kind.sh load          rebuild what changed (services, operator) and load it
#   hack/kind.sh images        only build or reuse the images; prints name -> ref
#   hack/kind.sh env           print the export line again
#   hack/kind.sh kubectl ARGS  the pinned kubectl, pointed at the cluster
#   hack/kind.sh down          delete the cluster; stop dockerd if `up` started it
#
# SORA_KIND_CLUSTER names the cluster (default sora-e2e); SORA_KIND_IMAGES=upstream uses
# kind's own node image and upstream images (machines that reach the public registries).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="$ROOT/.venv/bin/python"

case "${1:-}" in
  up | load | images) "$ROOT/hack/docker-engine.sh" start ;;
  env | kubectl | down) ;;
  -h | --help | help) sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac

if [[ ! -x "$PY" ]]; then
  make -C "$ROOT" --no-print-directory venv >&2
fi
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"

if [[ "$1" == down ]]; then
  if [[ "$("$ROOT/hack/docker-engine.sh" status)" != down ]]; then
    "$PY" -m tests.support.kind_cluster down
  fi
  exec "$ROOT/hack/docker-engine.sh" stop
fi
exec "$PY" -m tests.support.kind_cluster "$@"
