"""The e2e tier's kind cluster: images built or reused, cluster created, images loaded.

Used by tests/e2e/kind/conftest.py (through pytest-kind's ``KindCluster``) and by
``hack/kind.sh``:

    up         build or reuse the images, create the cluster (or reuse it), load the
               project's images; prints ``export KUBECONFIG=...``
    down       delete the cluster
    load       build or reuse the project's images and load them into the cluster
    images     build or reuse every image, print name -> ref
    env        print the export line
    kubectl    the pinned kubectl against the cluster

``SORA_KIND_CLUSTER`` names the cluster (default ``sora-e2e``); ``SORA_KIND_IMAGES=upstream``
uses kind's own node image and upstream images (see kindnode.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.support import controlplane as cp
from tests.support import images, kindnode

CLUSTER_NAME_ENV = "SORA_KIND_CLUSTER"
DEFAULT_CLUSTER_NAME = "sora-e2e"
KIND_TOOLS = ("kind", "kubectl", "helm")


def cluster_name() -> str:
    return os.environ.get(CLUSTER_NAME_ENV, DEFAULT_CLUSTER_NAME)


def state_dir(name: str) -> Path:
    return images.cache_dir().parent / "sora-kind" / name


@dataclass(frozen=True)
class ClusterImages:
    node: str | None  # None: kind's own default node image
    project: Mapping[str, str]  # sora/services, sora/operator, sora/moto, sora/postgres -> ref


def build_images(builder: images.Builder) -> ClusterImages:
    upstream = kindnode.use_upstream_images()
    node = None if upstream else kindnode.node_image(builder)
    return ClusterImages(node=node, project=images.build_project_images(builder, upstream))


def kind_cluster(name: str, tools: cp.Toolset, node_image: str | None) -> Any:
    """pytest-kind's ``KindCluster`` for our cluster (not created yet)."""
    from pytest_kind import KindCluster

    directory = state_dir(name)
    directory.mkdir(parents=True, exist_ok=True)
    old_cwd = Path.cwd()
    os.chdir(directory)  # KindCluster makes a .pytest-kind/ in the working directory
    try:
        return KindCluster(
            name,
            kubeconfig=directory / "kubeconfig",
            image=node_image,
            kind_path=tools["kind"],
            kubectl_path=tools["kubectl"],
        )
    finally:
        os.chdir(old_cwd)


def create(cluster: Any, tools: cp.Toolset, log: images.Log = images._stderr_log) -> None:
    """Create (or reuse) the cluster; metrics-server; return once every node is Ready."""
    upstream = kindnode.use_upstream_images()
    started = time.monotonic()
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", prefix="kind-config-") as config:
        yaml.safe_dump(kindnode.cluster_config(upstream), config)
        config.flush()
        cluster.create(config_file=config.name)
    cluster.kubectl(
        "apply", "-f", "-", input=kindnode.metrics_server_yaml(tools["kubectl"], upstream)
    )
    cluster.kubectl("wait", "nodes", "--all", "--for=condition=Ready", "--timeout=300s")
    for deployment in ("kube-system/coredns", "kube-system/metrics-server"):
        namespace, name = deployment.split("/")
        cluster.kubectl(
            "rollout", "status", f"deployment/{name}", "-n", namespace, "--timeout=300s"
        )
    log(f"kind cluster {cluster.name} ready in {time.monotonic() - started:.0f} s")


def workers(name: str) -> list[str]:
    """The worker nodes' names, as kind gives them: ``<name>-worker``, ``<name>-worker2``..."""
    return [f"{name}-worker{index + 1 if index else ''}" for index in range(kindnode.WORKERS)]


def load(cluster: Any, refs: Sequence[str]) -> None:
    """Load the images the workers lack, in one ``kind load`` (one archive: shared layers
    are written once). Only workers run workloads: the control plane is tainted."""
    lacking = {
        node: [ref for ref in refs if ref.split("/")[-1] not in _node_images(node)]
        for node in workers(cluster.name)
    }
    missing = sorted({ref for refs_of_node in lacking.values() for ref in refs_of_node})
    if missing:
        nodes = ",".join(node for node, refs_of_node in lacking.items() if refs_of_node)
        subprocess.run(
            [
                *(str(cluster.kind_path), "load", "docker-image", "--name", cluster.name),
                *("--nodes", nodes, *missing),
            ],
            check=True,
        )


def _node_images(node: str) -> str:
    return subprocess.run(
        ["docker", "exec", node, "crictl", "images", "-o", "json"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout


def main(argv: Sequence[str]) -> int:
    if not argv or argv[0] not in {"up", "down", "load", "images", "env", "kubectl"}:
        print(__doc__, file=sys.stderr)
        return 2
    command, rest = argv[0], list(argv[1:])
    name = cluster_name()
    tools = cp.ensure_tools(KIND_TOOLS)
    kubeconfig = state_dir(name) / "kubeconfig"
    if command == "kubectl":
        env = {**os.environ, "KUBECONFIG": str(kubeconfig)}
        os.execve(str(tools["kubectl"]), [str(tools["kubectl"]), *rest], env)
    if command == "env":
        print(f"export KUBECONFIG={kubeconfig}")
        return 0
    if command == "down":
        kind_cluster(name, tools, None).delete()
        return 0
    builder = images.Builder()
    if command == "images":
        built = build_images(builder)
        for image_name, ref in {"kind-node": built.node or "(kind's own)", **built.project}.items():
            print(f"{image_name}\t{ref}")
        images._stderr_log(builder.summary())
        return 0
    built = build_images(builder)
    cluster = kind_cluster(name, tools, built.node)
    if command == "up":
        create(cluster, tools)
    load(cluster, list(built.project.values()))
    images._stderr_log(builder.summary())
    print(f"export KUBECONFIG={kubeconfig}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
