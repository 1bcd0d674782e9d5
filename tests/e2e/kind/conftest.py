"""kind cluster fixtures for the e2e tier: one cluster per session, shared by every test.

The Docker engine is started by hack/docker-engine.sh when none answers (and stopped at
the end when this session started it); the tests skip, with the reason printed, only
where no engine can run. Images are built or reused (tests/support/images.py,
kindnode.py: ``make test-e2e`` builds them before pytest so no build runs inside a
test's timeout); the cluster is created through pytest-kind and deleted at the end,
unless ``SORA_KIND_KEEP=1`` (or it existed before the session: ``hack/kind.sh up``).
"""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import controlplane as cp
from tests.support import images, kind_cluster

REPO_ROOT = Path(__file__).resolve().parents[3]
ENGINE = REPO_ROOT / "hack" / "docker-engine.sh"
KEEP_ENV = "SORA_KIND_KEEP"  # "1": leave the cluster running after the session


def _engine_status() -> str:
    return subprocess.run([ENGINE, "status"], capture_output=True, text=True, check=False).stdout


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[None]:
    before = _engine_status().strip()
    start = subprocess.run([ENGINE, "start"], capture_output=True, text=True, check=False)
    if start.returncode != 0:
        pytest.skip(f"e2e tier needs a Docker engine for kind: {start.stderr.strip()}")
    try:
        yield
    finally:
        if before == "down":  # started by this session: stop it again
            subprocess.run([ENGINE, "stop"], check=False)


@pytest.fixture(scope="session")
def kind_tools(docker_engine: None) -> cp.Toolset:
    """kind, kubectl and helm at the pinned versions (cache, else built with Go)."""
    return cp.ensure_tools(kind_cluster.KIND_TOOLS)


@pytest.fixture(scope="session")
def cluster_images(kind_tools: cp.Toolset) -> kind_cluster.ClusterImages:
    builder = images.Builder()
    built = kind_cluster.build_images(builder)
    print(f"\nimages: {builder.summary()}")
    return built


@pytest.fixture(scope="session")
def sora_kind_cluster(
    kind_tools: cp.Toolset, cluster_images: kind_cluster.ClusterImages
) -> Iterator[Any]:
    """The kind cluster (``pytest_kind.KindCluster``), deleted at the end of the session."""
    name = kind_cluster.cluster_name()
    cluster = kind_cluster.kind_cluster(name, kind_tools, cluster_images.node)
    existed = (
        name
        in subprocess.run(
            [str(kind_tools["kind"]), "get", "clusters"], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    kind_cluster.create(cluster, kind_tools)
    try:
        yield cluster
    finally:
        if not existed and os.environ.get(KEEP_ENV) != "1":
            cluster.delete()


@pytest.fixture(scope="session")
def sora_images(
    sora_kind_cluster: Any, cluster_images: kind_cluster.ClusterImages
) -> dict[str, str]:
    """The project's images (services, operator, moto, postgres), loaded: name -> ref."""
    kind_cluster.load(sora_kind_cluster, list(cluster_images.project.values()))
    return dict(cluster_images.project)


@pytest.fixture(scope="session")
def kubectl(sora_kind_cluster: Any) -> Any:
    """``kubectl(*args, input=None)``: the pinned kubectl against the cluster, stdout back."""

    def run(*args: str, input: str | None = None, check: bool = True) -> str:
        proc = subprocess.run(
            [str(sora_kind_cluster.kubectl_path), *args],
            env={**os.environ, "KUBECONFIG": str(sora_kind_cluster.kubeconfig_path)},
            input=input,
            capture_output=True,
            text=True,
            check=False,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed:\n{proc.stderr}")
        return proc.stdout

    return run


@pytest.fixture(scope="session")
def helm_kind(
    sora_kind_cluster: Any, kind_tools: cp.Toolset, tmp_path_factory: pytest.TempPathFactory
) -> Any:
    """``helm_kind(*args)``: the pinned helm against the kind cluster."""
    home = tmp_path_factory.mktemp("helm")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "KUBECONFIG": str(sora_kind_cluster.kubeconfig_path),
            "HELM_CACHE_HOME": str(home / "cache"),
            "HELM_CONFIG_HOME": str(home / "config"),
            "HELM_DATA_HOME": str(home / "data"),
        }
        proc = subprocess.run(
            [str(kind_tools["helm"]), *args], env=env, capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            raise AssertionError(f"helm {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc

    return run


_FORWARDING = re.compile(rb"Forwarding from 127\.0\.0\.1:(\d+) ")


def _forwarded_port(proc: subprocess.Popen[bytes], target: str, timeout: float = 60) -> int:
    """The local port kubectl chose (``:REMOTE``), from its "Forwarding from" line. Letting
    kubectl bind the port leaves no moment in which another process (the integration
    tier runs beside this one) could take a port picked in advance."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    seen = b""
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if selector.select(timeout=1):
                line = proc.stdout.readline()
                if not line:
                    break  # kubectl exited
                seen += line
                found = _FORWARDING.search(line)
                if found:
                    return int(found.group(1))
    error = proc.stderr.read() if proc.stderr is not None and proc.poll() is not None else b""
    raise AssertionError(f"port-forward {target}: no local port; said {seen!r} {error!r}")


@contextlib.contextmanager
def port_forward(cluster: Any, target: str, remote_port: int, namespace: str) -> Iterator[int]:
    """``kubectl port-forward`` to a local port kubectl picks, yielded once it forwards."""
    proc = subprocess.Popen(
        [
            str(cluster.kubectl_path),
            "port-forward",
            "-n",
            namespace,
            target,
            f":{remote_port}",
        ],
        env={**os.environ, "KUBECONFIG": str(cluster.kubeconfig_path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        port = _forwarded_port(proc, target)
        # kubectl prints a line per connection: keep its pipe from filling up and stalling it.
        threading.Thread(target=proc.stdout.read, daemon=True).start()  # type: ignore[union-attr]
        yield port
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def forward(sora_kind_cluster: Any) -> Any:
    """``with forward("service/x", port, namespace) as local_port: ...``."""

    def run(target: str, remote_port: int, namespace: str) -> Any:
        return port_forward(sora_kind_cluster, target, remote_port, namespace)

    return run
