"""The control plane itself: etcd, kube-apiserver, kube-controller-manager,
kube-scheduler and kwok on free loopback ports, started, waited for and stopped."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.support.controlplane.build import Toolset
from tests.support.controlplane.config import (
    CONTROLLER_CLIENT_LIMITS,
    KEEP_STATE_ENV,
    KWOK_NODE_ANNOTATION,
    NODE_MONITOR_GRACE,
    SA_ISSUER,
    SERVICE_CIDR,
    ControlPlaneError,
    Log,
    stderr_log,
)
from tests.support.controlplane.credentials import (
    generate_pki,
    render_kubeconfig,
    render_token_file,
    write_private,
)
from tests.support.controlplane.processes import (
    child_setup,
    cleanup_stale_runs,
    cleanup_state_dir,
    owner_alive,
    write_pid_record,
)


def kwok_node_manifest(name: str) -> dict[str, Any]:
    """A Node that kwok manages (``kwok.x-k8s.io/node: fake``); untainted, so any pod fits."""
    resources = {"cpu": "32", "memory": "256Gi", "pods": "110", "ephemeral-storage": "1Ti"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {"node.alpha.kubernetes.io/ttl": "0", KWOK_NODE_ANNOTATION: "fake"},
            "labels": {
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/role": "agent",
                "node-role.kubernetes.io/agent": "",
                "type": "kwok",
            },
        },
        "spec": {},
        "status": {"allocatable": resources, "capacity": resources},
    }


def free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


class _PortClashError(ControlPlaneError):
    pass


@dataclass
class _Child:
    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path


class ControlPlane:
    """etcd + kube-apiserver + kube-controller-manager + kube-scheduler + kwok on loopback."""

    COMPONENT_ORDER = (
        "etcd",
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "kwok",
    )

    def __init__(
        self,
        tools: Toolset,
        state_dir: Path,
        *,
        nodes: int = 2,
        log: Log = stderr_log,
        keep_state: bool | None = None,
        controller_client_limits: tuple[int, int] | None = CONTROLLER_CLIENT_LIMITS,
    ) -> None:
        self.tools = tools
        self.controller_client_limits = controller_client_limits
        self.state_dir = state_dir
        self.nodes = nodes
        self.log = log
        self.keep_state = (
            keep_state if keep_state is not None else os.environ.get(KEEP_STATE_ENV) == "1"
        )
        self.children: list[_Child] = []
        self.server = ""
        self.token = ""
        self.start_seconds = 0.0
        self._ssl: ssl.SSLContext | None = None

    @property
    def kubeconfig(self) -> Path:
        return self.state_dir / "kubeconfig"

    @property
    def pki(self) -> Path:
        return self.state_dir / "pki"

    # -- lifecycle ---------------------------------------------------------------------

    def start(self, timeout: float = 180.0) -> None:
        started = time.monotonic()
        cleanup_stale_runs(self.log)
        if self.state_dir.exists():
            if owner_alive(self.state_dir):
                raise ControlPlaneError(f"{self.state_dir} belongs to a running control plane")
            cleanup_state_dir(self.state_dir)
        for attempt in range(3):
            try:
                self._start_once(timeout)
                break
            except _PortClashError as exc:
                self.log(f"port clash ({exc}); retrying with new ports")
                self.stop()
                if attempt == 2:
                    raise
            except BaseException:
                self.stop()
                raise
        self.start_seconds = time.monotonic() - started
        (self.state_dir / "ready").write_text(f"{self.start_seconds:.1f}\n")
        self.log(f"control plane ready in {self.start_seconds:.1f} s at {self.server}")

    def _start_once(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        state = self.state_dir
        for sub in ("pids", "logs", "etcd", "certs"):
            (state / sub).mkdir(parents=True, exist_ok=True)
        write_pid_record(state / "owner.pid", os.getpid())
        generate_pki(self.pki)
        self.token = secrets.token_hex(24)
        users = [(self.token, "admin", ["system:masters"])]
        write_private(state / "tokens.csv", render_token_file(users).encode())
        etcd_port, peer_port, api_port, kcm_port, sched_port = free_ports(5)
        self.server = f"https://127.0.0.1:{api_port}"
        ca_pem = (self.pki / "ca.crt").read_bytes()
        kubeconfig = render_kubeconfig(self.server, ca_pem, self.token)
        write_private(self.kubeconfig, yaml.safe_dump(kubeconfig, sort_keys=False).encode())
        self._ssl = ssl.create_default_context(cafile=str(self.pki / "ca.crt"))

        etcd_url = f"http://127.0.0.1:{etcd_port}"
        peer_url = f"http://127.0.0.1:{peer_port}"
        self._spawn(
            "etcd",
            [
                f"--name={'sora-kube'}",
                f"--data-dir={state / 'etcd'}",
                f"--listen-client-urls={etcd_url}",
                f"--advertise-client-urls={etcd_url}",
                f"--listen-peer-urls={peer_url}",
                f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=sora-kube={peer_url}",
                "--unsafe-no-fsync=true",
                "--log-level=warn",
            ],
        )
        self._wait("etcd", lambda: self._http_ok(f"{etcd_url}/health"), deadline)

        pki = self.pki
        self._spawn(
            "kube-apiserver",
            [
                f"--etcd-servers={etcd_url}",
                "--bind-address=127.0.0.1",
                f"--secure-port={api_port}",
                "--advertise-address=127.0.0.1",
                "--endpoint-reconciler-type=none",
                f"--cert-dir={state / 'certs' / 'apiserver'}",
                f"--tls-cert-file={pki / 'apiserver.crt'}",
                f"--tls-private-key-file={pki / 'apiserver.key'}",
                f"--client-ca-file={pki / 'ca.crt'}",
                f"--token-auth-file={state / 'tokens.csv'}",
                "--authorization-mode=RBAC,Node",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                f"--service-account-issuer={SA_ISSUER}",
                f"--service-account-key-file={pki / 'sa.pub'}",
                f"--service-account-signing-key-file={pki / 'sa.key'}",
                "--allow-privileged=true",
                "--profiling=false",
                "--v=1",
            ],
        )
        self._wait("kube-apiserver /readyz", lambda: self._api_ok("/readyz"), deadline)

        kc = str(self.kubeconfig)
        self._spawn(
            "kube-controller-manager",
            [
                f"--kubeconfig={kc}",
                f"--authentication-kubeconfig={kc}",
                f"--authorization-kubeconfig={kc}",
                "--bind-address=127.0.0.1",
                f"--secure-port={kcm_port}",
                f"--cert-dir={state / 'certs' / 'kcm'}",
                "--leader-elect=false",
                "--controllers=*",
                f"--service-account-private-key-file={pki / 'sa.key'}",
                f"--root-ca-file={pki / 'ca.crt'}",
                f"--cluster-signing-cert-file={pki / 'ca.crt'}",
                f"--cluster-signing-key-file={pki / 'ca.key'}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                # kwok renews its simulated nodes' Leases late on a busy 2-core machine;
                # with the default 50 s grace the node controller would mark the nodes
                # NotReady, and their pods with them, for reasons no test is about.
                f"--node-monitor-grace-period={NODE_MONITOR_GRACE}",
                *self._client_limit_flags(),
                "--profiling=false",
                "--v=1",
            ],
        )
        self._spawn(
            "kube-scheduler",
            [
                f"--kubeconfig={kc}",
                f"--authentication-kubeconfig={kc}",
                f"--authorization-kubeconfig={kc}",
                "--bind-address=127.0.0.1",
                f"--secure-port={sched_port}",
                f"--cert-dir={state / 'certs' / 'scheduler'}",
                *self._client_limit_flags(),
                "--leader-elect=false",
                "--profiling=false",
                "--v=1",
            ],
        )
        if self.tools.kwok_stages is None:
            raise ControlPlaneError("kwok's stage configuration was not found")
        self._spawn(
            "kwok",
            [
                f"--kubeconfig={kc}",
                f"--config={self.tools.kwok_stages}",
                "--manage-all-nodes=false",
                f"--manage-nodes-with-annotation-selector={KWOK_NODE_ANNOTATION}=fake",
                "--cidr=10.244.0.1/16",
                "--node-ip=127.0.0.1",
                "--v=INFO",
            ],
        )
        for index in range(self.nodes):
            self.create_node(f"kwok-node-{index}")
        self._wait(
            "kube-controller-manager /healthz",
            lambda: self._http_ok(f"https://127.0.0.1:{kcm_port}/healthz", insecure=True),
            deadline,
        )
        self._wait(
            "kube-scheduler /healthz",
            lambda: self._http_ok(f"https://127.0.0.1:{sched_port}/healthz", insecure=True),
            deadline,
        )
        self._wait("the nodes to be Ready (kwok)", self._nodes_ready, deadline)
        self._wait(
            "the default ServiceAccount (controller manager)",
            lambda: self._api_ok("/api/v1/namespaces/default/serviceaccounts/default"),
            deadline,
        )

    #: stop order: the clients first, then the API server, then its storage
    STOP_PHASES = (
        ("kwok", "kube-scheduler", "kube-controller-manager"),
        ("kube-apiserver",),
        ("etcd",),
    )

    def stop(self) -> None:
        """SIGTERM each phase, wait up to 10 s, SIGKILL what is left; remove the state."""
        for phase in self.STOP_PHASES:
            children = [c for c in self.children if c.name in phase]
            for child in children:
                if child.proc.poll() is None:
                    with contextlib.suppress(ProcessLookupError):
                        child.proc.terminate()
            deadline = time.monotonic() + 10
            for child in children:
                try:
                    child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.proc.kill()
                    child.proc.wait()
        self.children.clear()
        if self.keep_state:
            self.log(f"kept the control plane state in {self.state_dir}")
            (self.state_dir / "owner.pid").unlink(missing_ok=True)
        else:
            cleanup_state_dir(self.state_dir)

    def __enter__(self) -> ControlPlane:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- children ----------------------------------------------------------------------

    def _client_limit_flags(self) -> list[str]:
        if self.controller_client_limits is None:
            return []
        qps, burst = self.controller_client_limits
        return [f"--kube-api-qps={qps}", f"--kube-api-burst={burst}"]

    def _spawn(self, name: str, args: Sequence[str]) -> None:
        log_path = self.state_dir / "logs" / f"{name}.log"
        with log_path.open("ab") as log_file:
            proc = subprocess.Popen(
                [str(self.tools[name]), *args],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                cwd=self.state_dir,
                preexec_fn=child_setup(os.getpid()),  # noqa: PLW1509
                process_group=0,  # a terminal's Ctrl-C goes to us; we stop them in order
            )
        self.children.append(_Child(name, proc, log_path))
        write_pid_record(self.state_dir / "pids" / f"{name}.pid", proc.pid)

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.state_dir / "logs" / f"{name}.log"
        try:
            return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def dead_children(self) -> list[str]:
        return [c.name for c in self.children if c.proc.poll() is not None]

    def _check_children(self) -> None:
        for child in self.children:
            code = child.proc.poll()
            if code is None:
                continue
            tail = self.log_tail(child.name)
            if "address already in use" in tail:
                raise _PortClashError(f"{child.name}: address already in use")
            raise ControlPlaneError(f"{child.name} exited with {code}; its log ends:\n{tail}")

    def _wait(self, what: str, check: Callable[[], bool], deadline: float) -> None:
        while True:
            self._check_children()
            if check():
                return
            if time.monotonic() > deadline:
                logs = "\n".join(
                    f"--- {c.name}\n{self.log_tail(c.name, 15)}" for c in self.children
                )
                raise ControlPlaneError(f"timed out waiting for {what}\n{logs}")
            time.sleep(0.2)

    # -- HTTP --------------------------------------------------------------------------

    def _http_ok(self, url: str, *, insecure: bool = False) -> bool:
        context = None
        if url.startswith("https:"):
            context = ssl._create_unverified_context() if insecure else self._ssl
        try:
            with urllib.request.urlopen(url, timeout=2, context=context) as response:
                return bool(response.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def api(
        self, method: str, path: str, body: Any | None = None, timeout: float = 5
    ) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.server + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout, context=self._ssl) as resp:
                raw = resp.read()
                status = int(resp.status)
        except urllib.error.HTTPError as err:
            raw = err.read()
            status = err.code
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode(errors="replace")

    def _api_ok(self, path: str) -> bool:
        try:
            return self.api("GET", path)[0] == 200
        except OSError:
            return False

    def create_node(self, name: str) -> None:
        """Register a Node that kwok simulates."""
        status, body = self.api("POST", "/api/v1/nodes", kwok_node_manifest(name))
        if status not in (201, 409):
            raise ControlPlaneError(f"creating node {name}: HTTP {status}: {body}")

    def _nodes_ready(self) -> bool:
        try:
            status, body = self.api("GET", "/api/v1/nodes")
        except OSError:
            return False
        if status != 200:
            return False
        ready = [
            item
            for item in body.get("items", [])
            if any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in item.get("status", {}).get("conditions", [])
            )
        ]
        return len(ready) >= self.nodes
