"""A real Kubernetes control plane for the tests, run as plain processes (no Docker).

What it does:

* obtains, for the pinned versions below, ``etcd``, ``kube-apiserver``,
  ``kube-controller-manager``, ``kube-scheduler``, ``kwok``, ``kubectl`` and ``helm``:
  first from ``$SORA_KUBE_BIN_DIR`` (any of them found there wins), then from the cache
  ``~/.cache/sora-kube/<kubernetes version>/bin`` (``$SORA_KUBE_CACHE_DIR`` moves the
  cache), else builds the missing ones from the Go module proxy with the machine's Go;
* starts etcd, the API server (TLS, RBAC+Node authorization, a token-file admin in
  ``system:masters``, a ServiceAccount signing key), the controller manager, the
  scheduler and kwok (simulated nodes) on free loopback ports, writes a kubeconfig
  and waits until the cluster is ready (``/readyz``, the nodes ``Ready``, the
  ``default`` ServiceAccount created by the controller manager);
* stops them again and removes the data. Every child gets ``PR_SET_PDEATHSIG``
  (SIGKILL) so it dies with its parent; a crashed run leaves pid files that the next
  start uses to clean up.

Building Kubernetes: ``k8s.io/kubernetes`` requires its staging modules at ``v0.0.0``
and replaces them with local paths, so ``go install ...@version`` refuses it. A
throwaway "builder" module requires it and replaces every staging module with the
published ``v0.X.Y`` (the replace list is generated from upstream's ``go.mod``). etcd's
server module gets the same treatment; kwok, helm and kind go through the same path.

``up`` also runs, beside the control plane, the volume provisioner the integration
tests use (tests/support/volumes.py), so claims bind on it as they do in the tests.

Command line (what ``hack/cluster.sh`` calls)::

    python -m tests.support.controlplane build|up|env|status|down|tools
    python -m tests.support.controlplane kubectl ARGS...
    python -m tests.support.controlplane helm ARGS...

The package, by job: ``config`` (pinned versions, environment names, locations),
``build`` (obtaining and building the binaries), ``credentials`` (certificates,
token file, kubeconfig), ``processes`` (children bound to our lifetime),
``plane`` (``ControlPlane``) and ``cli`` (the command line). What the tests use
is imported here: ``from tests.support import controlplane as cp``.
"""

from tests.support.controlplane.build import (
    GO_BUILDS,
    TOOL_BUILDS,
    GoBuild,
    GoMod,
    Replace,
    Toolset,
    aligned_staging_requires,
    builder_replaces,
    download_module,
    ensure_tools,
    find_go,
    find_kwok_stages,
    find_tools,
    go_binary_name,
    go_env,
    helm_version_ldflags,
    kube_version_ldflags,
    parse_go_mod,
    render_builder_go_mod,
    resolve_kustomize_stages,
    staging_version,
)
from tests.support.controlplane.config import (
    BIN_DIR_ENV,
    CACHE_DIR_ENV,
    CONTROL_PLANE_TOOLS,
    CONTROLLER_CLIENT_LIMITS,
    COREDNS_VERSION,
    CRI_TOOLS_VERSION,
    ETCD_VERSION,
    HELM_VERSION,
    KEEP_STATE_ENV,
    KIND_VERSION,
    KUBERNETES_VERSION,
    KWOK_NODE_ANNOTATION,
    KWOK_VERSION,
    LOCAL_PATH_PROVISIONER_VERSION,
    METRICS_SERVER_VERSION,
    REPO_ROOT,
    ControlPlaneError,
    Log,
    cache_root,
    run_root,
    version_dir,
)
from tests.support.controlplane.credentials import render_kubeconfig, render_token_file
from tests.support.controlplane.plane import ControlPlane, free_ports, kwok_node_manifest
from tests.support.controlplane.processes import proc_start_time, proc_state

__all__ = [
    "BIN_DIR_ENV",
    "CACHE_DIR_ENV",
    "CONTROLLER_CLIENT_LIMITS",
    "CONTROL_PLANE_TOOLS",
    "COREDNS_VERSION",
    "CRI_TOOLS_VERSION",
    "ETCD_VERSION",
    "GO_BUILDS",
    "HELM_VERSION",
    "KEEP_STATE_ENV",
    "KIND_VERSION",
    "KUBERNETES_VERSION",
    "KWOK_NODE_ANNOTATION",
    "KWOK_VERSION",
    "LOCAL_PATH_PROVISIONER_VERSION",
    "METRICS_SERVER_VERSION",
    "REPO_ROOT",
    "TOOL_BUILDS",
    "ControlPlane",
    "ControlPlaneError",
    "GoBuild",
    "GoMod",
    "Log",
    "Replace",
    "Toolset",
    "aligned_staging_requires",
    "builder_replaces",
    "cache_root",
    "download_module",
    "ensure_tools",
    "find_go",
    "find_kwok_stages",
    "find_tools",
    "free_ports",
    "go_binary_name",
    "go_env",
    "helm_version_ldflags",
    "kube_version_ldflags",
    "kwok_node_manifest",
    "parse_go_mod",
    "proc_start_time",
    "proc_state",
    "render_builder_go_mod",
    "render_kubeconfig",
    "render_token_file",
    "resolve_kustomize_stages",
    "run_root",
    "staging_version",
    "version_dir",
]
