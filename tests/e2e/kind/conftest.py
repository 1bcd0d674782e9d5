"""kind cluster fixtures for the e2e tier (pytest-kind-ng, with our pinned kind/kubectl).

Everything here skips, with the reason in pytest's summary, when no Docker engine
answers ``docker info`` (a ``docker`` CLI alone is not enough).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import controlplane as cp

REPO_ROOT = Path(__file__).resolve().parents[3]
CLUSTER_NAME_ENV = "SORA_KIND_CLUSTER"  # default "sora-e2e"
NODE_IMAGE_ENV = "SORA_KIND_NODE_IMAGE"  # default: kind's own default for its version
KEEP_ENV = "SORA_KIND_KEEP"  # "1": leave the cluster running after the session
IMAGE_TAG = "e2e"
#: image name -> Dockerfile (built from the repo root, loaded into kind)
DOCKERFILES = {
    "sora/services": REPO_ROOT / "services" / "Dockerfile",
    "sora/operator": REPO_ROOT / "operator" / "Dockerfile",
}


def docker_engine_problem() -> str | None:
    """None when a Docker engine answers, else why not."""
    docker = shutil.which("docker")
    if docker is None:
        return "no `docker` CLI on PATH"
    try:
        proc = subprocess.run(
            [docker, "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "`docker info` did not answer within 30 s"
    if proc.returncode != 0 or not proc.stdout.strip():
        detail = (proc.stderr.strip().splitlines() or ["no server version"])[-1]
        return f"no Docker engine reachable (`docker info`: {detail})"
    return None


@pytest.fixture(scope="session")
def docker_engine() -> None:
    problem = docker_engine_problem()
    if problem:
        pytest.skip(f"e2e tier needs a Docker engine for kind: {problem}")


@pytest.fixture(scope="session")
def kind_tools(docker_engine: None) -> cp.Toolset:
    """kind, kubectl and helm at the pinned versions (cache, else built with Go)."""
    return cp.ensure_tools(["kind", "kubectl", "helm"])


@pytest.fixture(scope="session")
def sora_kind_cluster(
    kind_tools: cp.Toolset, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """A kind cluster (``pytest_kind.KindCluster``), deleted at the end of the session."""
    try:
        from pytest_kind import KindCluster
    except ImportError:
        pytest.fail(
            "a Docker engine is available but pytest-kind-ng is not installed "
            "(it belongs in the dev dependency group: pytest-kind-ng==26.7.0)",
            pytrace=False,
        )
    workdir = tmp_path_factory.mktemp("kind")
    with contextlib.chdir(workdir):  # KindCluster makes a .pytest-kind/ in the cwd
        cluster = KindCluster(
            os.environ.get(CLUSTER_NAME_ENV, "sora-e2e"),
            kubeconfig=workdir / "kubeconfig",
            image=os.environ.get(NODE_IMAGE_ENV) or None,
            kind_path=kind_tools["kind"],
            kubectl_path=kind_tools["kubectl"],
        )
    cluster.create()
    try:
        yield cluster
    finally:
        if os.environ.get(KEEP_ENV) != "1":
            cluster.delete()


@pytest.fixture(scope="session")
def sora_images(sora_kind_cluster: Any) -> dict[str, str]:
    """Build the project's images that exist yet and load them into kind: name -> ref."""
    images: dict[str, str] = {}
    for name, dockerfile in DOCKERFILES.items():
        if not dockerfile.is_file():
            continue
        ref = f"{name}:{IMAGE_TAG}"
        subprocess.run(
            ["docker", "build", "-f", str(dockerfile), "-t", ref, str(REPO_ROOT)], check=True
        )
        sora_kind_cluster.load_docker_image(ref)
        images[name] = ref
    return images


@pytest.fixture
def helm_kind(sora_kind_cluster: Any, kind_tools: cp.Toolset, tmp_path: Path) -> Any:
    """``helm_kind(*args)``: the pinned helm against the kind cluster."""

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "KUBECONFIG": str(sora_kind_cluster.kubeconfig_path),
            "HELM_CACHE_HOME": str(tmp_path / "helm-cache"),
            "HELM_CONFIG_HOME": str(tmp_path / "helm-config"),
            "HELM_DATA_HOME": str(tmp_path / "helm-data"),
        }
        return subprocess.run(
            [str(kind_tools["helm"]), *args], env=env, capture_output=True, text=True, check=True
        )

    return run
