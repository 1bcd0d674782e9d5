"""The control plane's pinned versions, environment names and where it keeps things."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

KUBERNETES_VERSION = "v1.36.3"


ETCD_VERSION = "v3.6.16"


KWOK_VERSION = "v0.8.0"


HELM_VERSION = "v3.22.0"


KIND_VERSION = "v0.33.0"


# What the e2e tier's locally built kind node image needs besides the above.
COREDNS_VERSION = "v1.14.2"


CRI_TOOLS_VERSION = "v1.36.0"


METRICS_SERVER_VERSION = "v0.8.0"


LOCAL_PATH_PROVISIONER_VERSION = "v0.0.30"


#: What the control plane needs; ``kind`` is only built for the e2e tier.
CONTROL_PLANE_TOOLS: tuple[str, ...] = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kwok",
    "kubectl",
    "helm",
)


KWOK_STAGES_FILE = "kwok-stages.yaml"


BIN_DIR_ENV = "SORA_KUBE_BIN_DIR"


CACHE_DIR_ENV = "SORA_KUBE_CACHE_DIR"


KEEP_STATE_ENV = "SORA_KUBE_KEEP_STATE"


REPO_ROOT = Path(__file__).resolve().parents[3]


# Room for the operator benchmark's 300 SoraDeployments (two to four Services each):
# a /24 ran out of ClusterIPs at 127 ("failed to allocate a serviceIP: range is full").
SERVICE_CIDR = "10.0.0.0/16"


SERVICE_IP = "10.0.0.1"


SA_ISSUER = "https://kubernetes.default.svc.cluster.local"


KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node"


#: How long a node may go without a heartbeat before the node controller calls it
#: NotReady (kube-controller-manager's default is 50 s).
NODE_MONITOR_GRACE = "15m"

#: The client rate limits (requests/s, burst) of kube-controller-manager and kube-scheduler.
#: Their upstream defaults (20/30 and 50/100) throttle the controllers, not what is tested:
#: at 100 SoraDeployments applied at once they made apply -> all Ready 48 s instead of 26 s
#: (docs/benchmarks.md). Large clusters raise them as well. None: the upstream defaults.
CONTROLLER_CLIENT_LIMITS: tuple[int, int] | None = (300, 500)


CLUSTER_STATE_NAME = "cluster"  # hack/cluster.sh's state directory under run/


#: Written by `serve` once the volume provisioner runs: `up` returns only after it.
VOLUMES_READY_FILE = "volumes-ready"


Log = Callable[[str], None]


def stderr_log(message: str) -> None:
    print(f"[sora-kube] {message}", file=sys.stderr, flush=True)


class ControlPlaneError(RuntimeError):
    """Anything that keeps the control plane from being built or started."""


def cache_root() -> Path:
    explicit = os.environ.get(CACHE_DIR_ENV)
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "sora-kube"


def version_dir() -> Path:
    return cache_root() / KUBERNETES_VERSION


def run_root() -> Path:
    """Where running control planes keep their state (one directory each)."""
    return cache_root() / "run"
