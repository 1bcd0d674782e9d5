"""pytest plugin: a real Kubernetes control plane for the tests that ask for one.

Fixtures:

* ``kube_cluster`` (session): starts etcd, kube-apiserver, kube-controller-manager,
  kube-scheduler and kwok on loopback (see ``tests/support/controlplane/``) the first
  time a test requests it, and stops them at the end of the session. It yields a
  :class:`KubeCluster` with ``kubeconfig``, ``kubectl(*args)``, ``helm(*args)`` and
  ``api_client()``.
* ``kube_namespace`` (function): a fresh namespace per test, deleted afterwards.

``SORA_TEST_KUBECONFIG=/path/to/kubeconfig`` points the suite at an existing cluster
instead (nothing is started or stopped then; kubectl/helm come from the cache, else
from PATH).

Missing binaries are built once, before the first test runs (so the build does not
count against a test's timeout), and only when a selected test needs the cluster.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import controlplane as cp

EXISTING_KUBECONFIG_ENV = "SORA_TEST_KUBECONFIG"
KUBE_FIXTURES = frozenset({"kube_cluster", "kube_namespace"})

_tools_key = pytest.StashKey[cp.Toolset]()
_tools_error_key = pytest.StashKey[str]()
_summary_key = pytest.StashKey[list[str]]()


class CommandError(subprocess.CalledProcessError):
    """A failed kubectl/helm call; its message carries the command's stderr."""

    def __str__(self) -> str:
        return f"{super().__str__()}\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}"


@dataclass
class KubeCluster:
    kubeconfig: Path
    kubectl_bin: str
    helm_bin: str
    helm_home: Path
    control_plane: cp.ControlPlane | None = None
    _clients: list[Any] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "KUBECONFIG": str(self.kubeconfig),
            "HELM_CACHE_HOME": str(self.helm_home / "cache"),
            "HELM_CONFIG_HOME": str(self.helm_home / "config"),
            "HELM_DATA_HOME": str(self.helm_home / "data"),
        }

    def _run(
        self,
        binary: str,
        args: tuple[str, ...],
        *,
        check: bool,
        input: str | None,
        timeout: float,
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [binary, *args],
            env=self.env,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and proc.returncode != 0:
            raise CommandError(proc.returncode, proc.args, proc.stdout, proc.stderr)
        return proc

    def kubectl(
        self, *args: str, check: bool = True, input: str | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Run the pinned kubectl against this cluster (raises CommandError on failure)."""
        return self._run(self.kubectl_bin, args, check=check, input=input, timeout=timeout)

    def helm(
        self, *args: str, check: bool = True, input: str | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        """Run the pinned helm against this cluster (isolated HELM_*_HOME)."""
        return self._run(self.helm_bin, args, check=check, input=input, timeout=timeout)

    def apply(self, manifest: str | dict[str, Any] | list[dict[str, Any]], *args: str) -> str:
        """``kubectl apply -f -`` for YAML text, one object or a list of objects."""
        if not isinstance(manifest, str):
            docs = manifest if isinstance(manifest, list) else [manifest]
            manifest = yaml.safe_dump_all(docs)
        return self.kubectl("apply", "-f", "-", *args, input=manifest).stdout

    def wait_established(self, *crds: str, timeout: float = 60) -> None:
        """Until every named CRD is Established. Not ``kubectl wait``: when it first reads
        a CRD whose status the API server has not filled in yet, it fails at once
        (".status.conditions accessor error: <nil>") instead of waiting."""
        from tests.support.polling import wait_for

        query = '{.status.conditions[?(@.type=="Established")].status}'

        def established(crd: str) -> bool:
            got = self.kubectl("get", f"crd/{crd}", "-o", f"jsonpath={query}", check=False)
            return got.stdout.strip() == "True"

        for crd in crds:
            wait_for(partial(established, crd), timeout=timeout, what=f"CRD {crd} Established")

    def get_json(self, *args: str) -> Any:
        import json

        return json.loads(self.kubectl("get", *args, "-o", "json").stdout)

    def api_client(self) -> Any:
        """A new ``kubernetes.client.ApiClient`` for this cluster (closed at session end)."""
        from kubernetes import config

        client = config.new_client_from_config(config_file=str(self.kubeconfig))
        self._clients.append(client)
        return client

    def close(self) -> None:
        for client in self._clients:
            client.close()
        self._clients.clear()


def _needs_cluster(items: list[pytest.Item]) -> bool:
    return any(KUBE_FIXTURES & set(getattr(item, "fixturenames", ())) for item in items)


def _report(config: pytest.Config, line: str, *, live: bool = True) -> None:
    """Remember a line for the terminal summary; print it now too (not mid-progress-line)."""
    config.stash.setdefault(_summary_key, []).append(line)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if live and reporter is not None:
        reporter.write_line(f"[sora-kube] {line}")


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Build missing binaries before the first test (outside any per-test timeout)."""
    config = session.config
    if config.option.collectonly or os.environ.get(EXISTING_KUBECONFIG_ENV):
        return
    if not _needs_cluster(session.items):
        return
    _found, missing = cp.find_tools(cp.CONTROL_PLANE_TOOLS)
    if missing:
        _report(config, f"control-plane binaries missing: {', '.join(missing)}; building")
    try:
        tools = cp.ensure_tools(cp.CONTROL_PLANE_TOOLS, log=lambda m: _report(config, m.strip()))
    except cp.ControlPlaneError as exc:
        config.stash[_tools_error_key] = str(exc)
        _report(config, f"could not obtain the control-plane binaries: {exc}")
        return
    config.stash[_tools_key] = tools
    if tools.built:
        _report(config, f"first build: {tools.describe()}")
    else:
        where = sorted({str(path.parent) for path in tools.paths.values()})
        _report(config, f"using the binaries in {', '.join(where)} (no build)", live=False)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    lines = config.stash.get(_summary_key, [])
    timing = [
        line
        for line in lines
        if line.startswith(("first build", "warm start", "using", "could not"))
    ]
    if timing:
        terminalreporter.section("kubernetes control plane")
        for line in timing:
            terminalreporter.write_line(line)


def _which(tool: str) -> str | None:
    found, _missing = cp.find_tools([tool])
    if tool in found:
        return str(found[tool])
    return shutil.which(tool)


@pytest.fixture(scope="session")
def kube_cluster(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KubeCluster]:
    config = request.config
    helm_home = tmp_path_factory.mktemp("helm-home")
    existing = os.environ.get(EXISTING_KUBECONFIG_ENV)
    if existing:
        kubectl, helm = _which("kubectl"), _which("helm")
        if not kubectl or not helm:
            pytest.fail(
                f"{EXISTING_KUBECONFIG_ENV} is set but kubectl/helm were found neither in the "
                "sora-kube cache nor on PATH (`hack/cluster.sh build` builds them)"
            )
        _report(
            config,
            f"using the existing cluster from {EXISTING_KUBECONFIG_ENV}={existing}",
            live=False,
        )
        cluster = KubeCluster(Path(existing), kubectl, helm, helm_home)
        yield cluster
        cluster.close()
        return

    error = config.stash.get(_tools_error_key, None)
    if error:
        pytest.fail(f"control-plane binaries unavailable: {error}", pytrace=False)
    tools = config.stash.get(_tools_key, None) or cp.ensure_tools(cp.CONTROL_PLANE_TOOLS)
    state_dir = cp.run_root() / f"pytest-{os.getpid()}"
    plane = cp.ControlPlane(tools, state_dir, log=lambda m: None)
    try:
        plane.start()
    except cp.ControlPlaneError as exc:
        pytest.fail(f"the control plane did not start: {exc}", pytrace=False)
    _report(config, f"warm start: control plane ready in {plane.start_seconds:.1f} s", live=False)
    cluster = KubeCluster(
        plane.kubeconfig, str(tools["kubectl"]), str(tools["helm"]), helm_home, plane
    )
    try:
        yield cluster
    finally:
        cluster.close()
        plane.stop()


def _namespace_name(test_name: str) -> str:
    base = re.sub(r"[^a-z0-9-]+", "-", test_name.lower()).strip("-")[:40].strip("-")
    return f"t-{base or 'test'}-{secrets.token_hex(3)}"


@pytest.fixture
def kube_namespace(kube_cluster: KubeCluster, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace (its ``default`` ServiceAccount exists); deleted after the test."""
    name = _namespace_name(request.node.name)
    kube_cluster.kubectl("create", "namespace", name)
    deadline = time.monotonic() + 60
    while kube_cluster.kubectl(
        "get", "serviceaccount", "default", "-n", name, check=False
    ).returncode:
        if time.monotonic() > deadline:
            pytest.fail(f"namespace {name}: the default ServiceAccount never appeared")
        time.sleep(0.2)
    try:
        yield name
    finally:
        kube_cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)
