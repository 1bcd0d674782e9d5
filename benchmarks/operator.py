"""The operator on the local control plane: time to Ready, converging 100, quiet steady state.

Starts its own control plane (etcd, kube-apiserver, controller manager,
scheduler and kwok nodes; tests/support/controlplane/) unless
``SORA_TEST_KUBECONFIG`` names a running one, then runs ``sora-operator`` as a
real process with exactly its RBAC, leader election on, and measures:

* apply -> Ready=True of one SoraDeployment;
* apply of 100 SoraDeployments (10 namespaces) -> all Ready;
* write requests during a steady-state window with the 100 in place, from the
  operator's own counters (children and status writes, Lease renewals) and from
  the resourceVersions of every SoraDeployment and child;
* the operator's resident memory with the 100;
* the scale curve: for 10, 100 and 300 SoraDeployments, each on a fresh
  control plane and a fresh operator, apply -> all Ready, the operator's
  resident memory, the reconciles run, the requests those reconciles sent
  (``sora_operator_api_requests_total``) and every client's requests to the API
  server meanwhile (``apiserver_request_total``, watches excluded).

    BENCH_OPERATOR_COUNT=100 BENCH_OPERATOR_WINDOW=120 BENCH_OPERATOR_RESYNC=30 \\
        BENCH_OPERATOR_CURVE=10,100,300 python -m benchmarks operator
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from prometheus_client.parser import text_string_to_metric_families

from sora_operator.diagnosis import EVENTS_READ
from sora_operator.kube import KubeClient
from sora_operator.objects import ObjectRef
from tests.integration.operator.cluster_setup import (
    install_crd,
    operator_environment,
    operator_kubeconfig,
)
from tests.integration.operator.support import (
    child_refs,
    is_ready,
    metrics_of,
    resource_versions,
    sora_deployment,
)
from tests.plugins.kube import KubeCluster
from tests.support import controlplane as cp
from tests.support.processes import Service, free_port, program, start_process
from tests.support.volumes import VolumeProvisioner

NAMESPACES = 10
PODS_PER_NODE = 100  # kwok nodes advertise 110 pods


@dataclass(frozen=True)
class Settings:
    count: int = int(os.environ.get("BENCH_OPERATOR_COUNT", "100"))
    window_seconds: float = float(os.environ.get("BENCH_OPERATOR_WINDOW", "120"))
    resync_seconds: float = float(os.environ.get("BENCH_OPERATOR_RESYNC", "30"))
    timeout_seconds: float = float(os.environ.get("BENCH_OPERATOR_TIMEOUT", "900"))
    curve: tuple[int, ...] = tuple(
        int(n) for n in os.environ.get("BENCH_OPERATOR_CURVE", "10,100,300").split(",") if n
    )
    #: One more point with the controller manager and scheduler at their upstream client
    #: limits (0: none), to show what those limits cost.
    upstream_limits_count: int = int(os.environ.get("BENCH_OPERATOR_UPSTREAM_LIMITS", "100"))


@contextmanager
def control_plane(work: Path, *, upstream_limits: bool = False) -> Iterator[KubeCluster]:
    existing = os.environ.get("SORA_TEST_KUBECONFIG")
    tools = cp.ensure_tools(cp.CONTROL_PLANE_TOOLS)
    if existing:
        yield KubeCluster(Path(existing), str(tools["kubectl"]), str(tools["helm"]), work)
        return
    plane = cp.ControlPlane(
        tools,
        cp.run_root() / f"bench-{os.getpid()}-{work.name}",
        nodes=3,
        log=lambda m: None,
        controller_client_limits=None if upstream_limits else cp.CONTROLLER_CLIENT_LIMITS,
    )
    plane.start()
    try:
        yield KubeCluster(plane.kubeconfig, str(tools["kubectl"]), str(tools["helm"]), work, plane)
    finally:
        plane.stop()


def ensure_nodes(cluster: KubeCluster, admin: KubeClient, pods: int) -> None:
    """Enough kwok nodes for ``pods`` pods (an existing cluster may have only two)."""
    nodes = len(cluster.get_json("nodes")["items"])
    for index in range(nodes, -(-pods // PODS_PER_NODE) + 1):
        cluster.apply(cp.kwok_node_manifest(f"bench-node-{index}"))


class NodeFlapError(RuntimeError):
    """A kwok node went NotReady: its pods stay NotReady for good, so timings mean nothing."""


def check_nodes(cluster: KubeCluster) -> None:
    for node in cluster.get_json("nodes")["items"]:
        ready = [c for c in node["status"].get("conditions", []) if c["type"] == "Ready"]
        if ready and ready[0]["status"] != "True":
            raise NodeFlapError(
                f"node {node['metadata']['name']} went NotReady: the machine is too loaded "
                "for kwok's node heartbeats (its pods never become Ready again); rerun when "
                "the machine is quieter, or with a smaller BENCH_OPERATOR_COUNT"
            )


def wait_all_ready(
    cluster: KubeCluster, admin: KubeClient, refs: list[ObjectRef], timeout: float
) -> float:
    started = time.monotonic()
    pending = set(refs)
    while pending:
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{len(pending)} SoraDeployments not Ready after {timeout:.0f} s")
        pending = {ref for ref in pending if not is_ready(admin.get(ref))}
        if pending:
            check_nodes(cluster)
            time.sleep(0.5)
    return time.monotonic() - started


def rss_megabytes(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_operator(kubeconfig: Path, work: Path, settings: Settings) -> Service:
    metrics_port, liveness_port = free_port(), free_port()
    env = operator_environment(
        kubeconfig,
        metrics_port,
        liveness_port,
        POD_NAME="bench-operator",
        SORA_OPERATOR_RESYNC_SECONDS=str(settings.resync_seconds),
        SORA_OPERATOR_LEASE_NAME="sora-operator-bench",
        LOG_LEVEL="WARNING",
    )
    return start_process(
        [program("sora-operator")], env, work / "operator.log", metrics_port, "/metrics", 60
    )


def measure_one(cluster: KubeCluster, admin: KubeClient, timeout: float) -> float:
    cluster.kubectl("create", "namespace", "bench-single")
    started = time.monotonic()
    cluster.apply(sora_deployment("single", "bench-single", {"environment": "dev"}))
    wait_all_ready(cluster, admin, [ObjectRef("SoraDeployment", "bench-single", "single")], timeout)
    return time.monotonic() - started


def measure_many(
    cluster: KubeCluster, admin: KubeClient, settings: Settings, count: int | None = None
) -> tuple[float, list[ObjectRef]]:
    namespaces = [f"bench-{index}" for index in range(NAMESPACES)]
    for namespace in namespaces:
        cluster.kubectl("create", "namespace", namespace)
    documents = [
        sora_deployment(f"sora-{index}", namespaces[index % NAMESPACES], {"environment": "dev"})
        for index in range(settings.count if count is None else count)
    ]
    refs = [
        ObjectRef("SoraDeployment", d["metadata"]["namespace"], d["metadata"]["name"])
        for d in documents
    ]
    started = time.monotonic()
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(documents), timeout=300)
    wait_all_ready(cluster, admin, refs, settings.timeout_seconds)
    return time.monotonic() - started, refs


@dataclass(frozen=True)
class SteadyState:
    seconds: float
    child_writes: float
    lease_writes: float
    reconciles: float
    changed_objects: int
    watched_objects: int


def measure_steady_state(
    admin: KubeClient, operator: Service, refs: list[ObjectRef], settings: Settings
) -> SteadyState:
    objects = [*refs, *(c for ref in refs for c in child_refs(ref.namespace, ref.name))]
    time.sleep(min(settings.resync_seconds, 30))  # let the last status writes settle
    metrics = metrics_of(operator)
    writes, leases = (
        metrics.total("sora_operator_api_writes_total"),
        metrics.total("sora_operator_lease_writes_total"),
    )
    reconciles = metrics.total("sora_operator_reconciles_total")
    before = resource_versions(admin, objects)
    started = time.monotonic()
    time.sleep(settings.window_seconds)
    after = resource_versions(admin, objects)
    return SteadyState(
        seconds=time.monotonic() - started,
        child_writes=metrics.total("sora_operator_api_writes_total") - writes,
        lease_writes=metrics.total("sora_operator_lease_writes_total") - leases,
        reconciles=metrics.total("sora_operator_reconciles_total") - reconciles,
        changed_objects=sum(1 for ref in objects if before[ref] != after[ref]),
        watched_objects=len(objects),
    )


def apiserver_requests(api: Any) -> float:
    """Requests the API server has answered so far, from every client; watches excluded."""
    response = api.call_api(
        "/metrics",
        "GET",
        auth_settings=["BearerToken"],
        _preload_content=False,
        _return_http_data_only=True,
    )
    return sum(
        sample.value
        for family in text_string_to_metric_families(response.data.decode())
        if family.name == "apiserver_request"
        for sample in family.samples
        if sample.name == "apiserver_request_total"
        and sample.labels.get("verb") not in ("WATCH", "CONNECT")
    )


def events_listed(api: Any, namespace: str, fields: str) -> tuple[int, int]:
    """How many Events one LIST of ``namespace`` returns with ``fields``, and its bytes."""
    query = [("fieldSelector", fields)] if fields else []
    response = api.call_api(
        f"/api/v1/namespaces/{namespace}/events",
        "GET",
        query_params=query,
        header_params={"Accept": "application/json"},
        auth_settings=["BearerToken"],
        _preload_content=False,
        _return_http_data_only=True,
    )
    data = response.data
    return len(json.loads(data).get("items", [])), len(data)


@dataclass(frozen=True)
class CurvePoint:
    count: int
    seconds: float
    rss_mib: float
    reconciles: float
    requests: dict[str, float]
    apiserver_requests: float
    #: One namespace's Events after convergence: (count, bytes) all, and as the reconcile
    #: lists them (diagnosis.EVENTS_READ).
    events_all: tuple[int, int] = (0, 0)
    events_read: tuple[int, int] = (0, 0)
    upstream_limits: bool = False

    @property
    def operator_requests(self) -> float:
        return sum(self.requests.values())


def measure_point(
    work: Path, settings: Settings, count: int, *, upstream_limits: bool = False
) -> CurvePoint:
    """``count`` SoraDeployments applied at once on a fresh control plane and operator."""
    name = f"curve-{count}{'-upstream' if upstream_limits else ''}"
    (work / name).mkdir()
    with control_plane(work / name, upstream_limits=upstream_limits) as cluster:
        admin = KubeClient(cluster.api_client(), field_manager="bench")
        raw = cluster.api_client()
        install_crd(cluster)
        ensure_nodes(cluster, admin, 2 * count)
        kubeconfig = operator_kubeconfig(cluster, work / f"{name}-kubeconfig")
        with VolumeProvisioner(cluster.api_client()):
            operator = start_operator(kubeconfig, work, settings)
            try:
                metrics = metrics_of(operator)
                verbs = ("GET", "LIST", "PATCH", "POST", "PUT", "DELETE")

                def requests_now() -> dict[str, float]:
                    return {
                        v: metrics.total("sora_operator_api_requests_total", verb=v) for v in verbs
                    }

                before = requests_now()
                reconciles = metrics.total("sora_operator_reconciles_total")
                server = apiserver_requests(raw)
                seconds, _ = measure_many(cluster, admin, settings, count)
                rss = rss_megabytes(operator.process.pid)
                after = requests_now()
                point = CurvePoint(
                    count=count,
                    seconds=seconds,
                    rss_mib=rss,
                    reconciles=metrics.total("sora_operator_reconciles_total") - reconciles,
                    requests={verb: after[verb] - before[verb] for verb in verbs},
                    apiserver_requests=apiserver_requests(raw) - server,
                    events_all=events_listed(raw, "bench-0", ""),
                    events_read=events_listed(raw, "bench-0", EVENTS_READ),
                    upstream_limits=upstream_limits,
                )
                print(f"operator curve: {point}", file=sys.stderr, flush=True)
            finally:
                operator.stop()
        cluster.close()
    return point


def _curve_report(points: list[CurvePoint]) -> str:
    rows = []
    for point in points:
        reconciles = point.reconciles or 1
        by_verb = ", ".join(
            f"{verb} {n / reconciles:.1f}" for verb, n in point.requests.items() if n
        )
        limits = " (controllers at upstream client limits)" if point.upstream_limits else ""
        rows.append(
            f"| {point.count}{limits} | {point.seconds:.1f} s "
            f"| {point.seconds / point.count:.2f} s "
            f"| {point.rss_mib:.0f} MiB | {point.reconciles / point.count:.1f} "
            f"| {point.operator_requests / reconciles:.1f} ({by_verb}) "
            f"| {point.operator_requests / point.count:.0f} "
            f"| {point.apiserver_requests / point.count:.0f} "
            f"| {point.events_all[0]:,} ({point.events_all[1] / 1024:,.0f} KiB) "
            f"| {point.events_read[0]:,} ({point.events_read[1] / 1024:,.0f} KiB) |"
        )
    return "\n".join(
        [
            "Scale curve (each count on a fresh control plane and operator; requests counted "
            "from apply until all Ready):",
            "",
            "| SoraDeployments | apply -> all Ready | per SoraDeployment | operator RSS "
            "| reconciles per SoraDeployment | operator requests per reconcile (by verb) "
            "| operator requests per SoraDeployment | API server requests per SoraDeployment, "
            "all clients | Events in one namespace | of which the reconcile lists |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
            *rows,
            "",
        ]
    )


def run() -> str:
    settings = Settings()
    work = Path(tempfile.mkdtemp(prefix="bench-operator-"))
    # SIGTERM unwinds like Ctrl-C, so the operator and the control plane are stopped.
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        return _run(settings, work)
    finally:
        signal.signal(signal.SIGTERM, previous)
        shutil.rmtree(work, ignore_errors=True)


def _run(settings: Settings, work: Path) -> str:
    points = [measure_point(work, settings, count) for count in settings.curve]
    if settings.upstream_limits_count:
        count = settings.upstream_limits_count
        points.append(measure_point(work, settings, count, upstream_limits=True))
    if settings.window_seconds <= 0:
        return "## Operator\n\n" + _curve_report(points)
    return _run_window(settings, work) + "\n" + _curve_report(points)


def _run_window(settings: Settings, work: Path) -> str:
    with control_plane(work) as cluster:
        admin = KubeClient(cluster.api_client(), field_manager="bench")
        install_crd(cluster)
        ensure_nodes(cluster, admin, 2 * (settings.count + 1))
        kubeconfig = operator_kubeconfig(cluster, work / "operator-kubeconfig")
        with VolumeProvisioner(cluster.api_client()):
            operator = start_operator(kubeconfig, work, settings)
            try:
                one = measure_one(cluster, admin, settings.timeout_seconds)
                many, refs = measure_many(cluster, admin, settings)
                rss = rss_megabytes(operator.process.pid)
                steady = measure_steady_state(admin, operator, refs, settings)
            finally:
                operator.stop()
        cluster.close()
    return _report(settings, one, many, rss, steady)


def _report(settings: Settings, one: float, many: float, rss: float, steady: SteadyState) -> str:
    per_minute = 60 / steady.seconds
    rows = [
        ("apply -> Ready=True, one dev SoraDeployment", f"{one:.1f} s"),
        (f"apply -> all Ready, {settings.count} SoraDeployments", f"{many:.1f} s"),
        (f"operator resident memory with {settings.count}", f"{rss:.0f} MiB"),
        ("steady-state window (the issue asks 5 min)", f"{steady.seconds:.0f} s"),
        ("reconciles in the window (resync timer)", f"{steady.reconciles:.0f}"),
        ("child and status writes in the window", f"{steady.child_writes:.0f}"),
        (
            f"objects whose resourceVersion changed (of {steady.watched_objects})",
            f"{steady.changed_objects}",
        ),
        (
            "Lease renewals (leader heartbeat)",
            f"{steady.lease_writes:.0f} ({steady.lease_writes * per_minute:.0f}/min)",
        ),
    ]
    table = "\n".join(f"| {measure} | {result} |" for measure, result in rows)
    quiet = steady.child_writes == 0 and steady.changed_objects == 0
    verdict = (
        "Steady state is quiet: reconciles only read, and the only writes are the "
        "leader's Lease renewals."
        if quiet
        else "Steady state is NOT quiet: see the writes above."
    )
    return f"""## Operator

`python -m benchmarks operator`: local control plane (etcd, kube-apiserver,
controller manager with a 15-minute node grace period, scheduler, kwok nodes);
`sora-operator` as a real process with exactly its RBAC,
leader election on, resync every {settings.resync_seconds:.0f} s;
{settings.count} dev SoraDeployments in {NAMESPACES} namespaces (two pods and
fourteen objects each); volumes bound by the test provisioner, pods simulated by kwok.

| Measure | Result |
| --- | --- |
{table}

{verdict}
"""
