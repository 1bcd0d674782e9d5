#!/usr/bin/env bash
# A real Kubernetes control plane on loopback, no Docker: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler and kwok (simulated nodes) — the same one the
# integration tests use (tests/support/controlplane/), with the same volume provisioner
# (tests/support/volumes.py: claims bind). See docs/testing.md.
#
#   hack/cluster.sh up            start it (idempotent); prints `export KUBECONFIG=...`
#   hack/cluster.sh env           print the export line again
#   hack/cluster.sh status        up/down
#   hack/cluster.sh kubectl ARGS  the pinned kubectl, pointed at it
#   hack/cluster.sh helm ARGS     the pinned helm, pointed at it
#   hack/cluster.sh down          stop everything `up` started and remove its data
#   hack/cluster.sh build         only obtain/build the pinned binaries
#
# Typical use:  eval "$(hack/cluster.sh up)" && kubectl get nodes
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="$ROOT/.venv/bin/python"

usage() {
  sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

case "${1:-}" in
  up | env | status | down | build | tools | kubectl | helm) ;;
  -h | --help | help) usage; exit 0 ;;
  *) usage >&2; exit 2 ;;
esac

# A fresh clone has no .venv yet: install the pinned environment (quietly, to stderr).
if [[ ! -x "$PY" ]]; then
  make -C "$ROOT" --no-print-directory venv >&2
fi

# Keep the caller's working directory (kubectl -f ./file.yaml); import from the repo.
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
exec "$PY" -m tests.support.controlplane "$@"
