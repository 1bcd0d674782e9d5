"""The README's two `helm install`s on kind, with the images built here, on real pods.

One platform per module (installing it takes a minute): the operator chart, then the
platform chart (dev, admin panel on). The tests run in file order against it: what the
pods are, `helm test`, the client journey, the pods' security, backups into moto in a
pod and a restore, continuous replication and a restore to a chosen moment,
disruptions (a pod deleted, a rolling upgrade, a node drained), and last
`helm uninstall`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from tests.e2e.kind.conftest import REPO_ROOT
from tests.support import kind_cluster
from tests.support.polling import wait_for
from tests.support.processes import program

# Real pods on two busy cores: loading the images into the node and the first pods'
# start can take minutes (the session's fixtures count against the first test).
pytestmark = pytest.mark.timeout(1800)
OPERATOR_CHART = REPO_ROOT / "charts" / "sora-operator"
PLATFORM_CHART = REPO_ROOT / "charts" / "sora"
OPERATOR_NAMESPACE = "sora-system"
NAMESPACE = "e2e-sora"
SORA = "sora"  # the release and the SoraDeployment
S3_SERVICE = "moto"
BUCKET = "sora-backups"
S3_URL = f"http://{S3_SERVICE}.{NAMESPACE}.svc:5000"


@dataclass(frozen=True)
class Platform:
    kubectl: Any
    helm: Any
    forward: Any
    images: dict[str, str]
    kubeconfig: Path

    def image_values(self, name: str) -> list[str]:
        repository, tag = self.images[name].rsplit(":", 1)
        return [
            "--set", f"image.repository={repository}",
            "--set", f"image.tag={tag}",
            "--set", "image.pullPolicy=Never",
        ]  # fmt: skip

    def kubectl_sora(self, *args: str) -> str:
        """The operators' kubectl plugin (the ``kubectl-sora`` console script) on the platform."""
        done = subprocess.run(
            [program("kubectl-sora"), "--kubeconfig", str(self.kubeconfig), "-n", NAMESPACE, *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def sora(self) -> dict[str, Any]:
        return dict(json.loads(self.kubectl("get", f"sora/{SORA}", "-n", NAMESPACE, "-o", "json")))

    def wait_ready(self, timeout: str = "300s") -> None:
        self.kubectl(
            "wait", f"sora/{SORA}", "-n", NAMESPACE, "--for=condition=Ready", f"--timeout={timeout}"
        )

    def pods(self, component: str) -> list[dict[str, Any]]:
        selector = f"app.kubernetes.io/instance={SORA},app.kubernetes.io/component={component}"
        listed = self.kubectl("get", "pods", "-n", NAMESPACE, "-l", selector, "-o", "json")
        return list(json.loads(listed)["items"])


def _s3_server(image: str) -> list[dict[str, Any]]:
    """moto's S3-API server in a pod, reached in the cluster as http://moto:5000."""
    labels = {"app": S3_SERVICE}
    return [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": S3_SERVICE, "namespace": NAMESPACE},
            "spec": {
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        # Service links would set MOTO_PORT=tcp://..., which moto reads
                        # as its port.
                        "enableServiceLinks": False,
                        "containers": [
                            {
                                "name": "moto",
                                "image": image,
                                "imagePullPolicy": "IfNotPresent",
                                "ports": [{"containerPort": 5000}],
                                "readinessProbe": {"tcpSocket": {"port": 5000}},
                                # Else moto takes "moto" in moto.<namespace>.svc for a
                                # virtual-hosted bucket name and answers NoSuchBucket.
                                "env": [
                                    {"name": "S3_IGNORE_SUBDOMAIN_BUCKETNAME", "value": "true"}
                                ],
                            }
                        ],
                    },
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": S3_SERVICE, "namespace": NAMESPACE},
            "spec": {"selector": labels, "ports": [{"port": 5000, "targetPort": 5000}]},
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "backup-credentials", "namespace": NAMESPACE},
            "stringData": {
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": "us-east-1",
            },
        },
    ]


@pytest.fixture(scope="module")
def platform(
    kubectl: Any,
    helm_kind: Any,
    forward: Any,
    sora_images: dict[str, str],
    sora_kind_cluster: Any,
) -> Iterator[Platform]:
    installed = Platform(
        kubectl, helm_kind, forward, sora_images, Path(sora_kind_cluster.kubeconfig_path)
    )
    kubectl("create", "namespace", NAMESPACE)
    kubectl("apply", "-f", "-", input=yaml.safe_dump_all(_s3_server(sora_images["sora/moto"])))
    try:
        helm_kind(
            "install", "sora-operator", str(OPERATOR_CHART),
            "--namespace", OPERATOR_NAMESPACE, "--create-namespace",
            *installed.image_values("sora/operator"),
            "--wait", "--timeout", "300s",
        )  # fmt: skip
        kubectl("rollout", "status", f"deployment/{S3_SERVICE}", "-n", NAMESPACE, "--timeout=180s")
        helm_kind(
            "install", SORA, str(PLATFORM_CHART), "--namespace", NAMESPACE,
            "--set", "environment=dev",
            *installed.image_values("sora/services"),
            "--set", "ingress.enabled=false",
            "--set", "admin.enabled=true",
            "--set", f"backup.bucket={BUCKET}",
            "--set", f"backup.endpoint={S3_URL}",
            "--set", "backup.region=us-east-1",
            "--set", "backup.credentials.secretName=backup-credentials",
        )  # fmt: skip
        installed.wait_ready()
        yield installed
    finally:
        # The platform goes first: the SoraDeployment's finalizer needs the operator.
        kubectl("delete", "sora", "--all", "-n", NAMESPACE, "--timeout=300s", check=False)
        kubectl("delete", "namespace", NAMESPACE, "--timeout=300s", check=False)
        helm_kind("uninstall", "sora-operator", "--namespace", OPERATOR_NAMESPACE, "--wait")
        kubectl("delete", "namespace", OPERATOR_NAMESPACE, "--wait=false", check=False)


def test_operator_pods_run_real_containers(platform: Platform) -> None:
    pods = json.loads(platform.kubectl("get", "pods", "-n", OPERATOR_NAMESPACE, "-o", "json"))
    operator_pods = [
        p for p in pods["items"] if "helm.sh/hook" not in p["metadata"].get("annotations", {})
    ]
    assert operator_pods
    for pod in operator_pods:
        assert pod["status"]["phase"] == "Running"
        for status in pod["status"]["containerStatuses"]:
            assert status["ready"]
            assert status["containerID"].startswith("containerd://")


def test_helm_test_of_both_charts_passes(platform: Platform) -> None:
    platform.helm("test", "sora-operator", "--namespace", OPERATOR_NAMESPACE, "--timeout", "180s")
    platform.helm("test", SORA, "--namespace", NAMESPACE, "--timeout", "180s")


def test_soradeployment_is_ready_and_every_service_answers(platform: Platform) -> None:
    conditions = {c["type"]: c["status"] for c in platform.sora()["status"]["conditions"]}
    assert conditions["Ready"] == "True"
    for service, port in (
        (f"{SORA}-file-server", 3000),
        (f"{SORA}-feedback-api", 3001),
        (f"{SORA}-admin", 3002),
    ):
        with platform.forward(f"service/{service}", port, NAMESPACE) as local:
            assert requests.get(f"http://127.0.0.1:{local}/health", timeout=10).status_code == 200


def test_a_client_journey_catalog_download_feedback_stats(platform: Platform) -> None:
    with (
        platform.forward(f"service/{SORA}-file-server", 3000, NAMESPACE) as files,
        platform.forward(f"service/{SORA}-feedback-api", 3001, NAMESPACE) as feedback,
    ):
        catalog = f"http://127.0.0.1:{files}"
        api = f"http://127.0.0.1:{feedback}"
        layouts = requests.get(f"{catalog}/api/layouts", timeout=10).json()["items"]
        target = layouts[0]["id"]
        download = requests.get(f"{catalog}/api/layouts/{target}/download", timeout=10)
        assert download.status_code == 200
        etag = download.headers["ETag"]
        assert etag.strip('"') == hashlib.sha256(download.content).hexdigest()
        again = requests.get(
            f"{catalog}/api/layouts/{target}/download", headers={"If-None-Match": etag}, timeout=10
        )
        assert again.status_code == 304
        part = requests.get(
            f"{catalog}/api/layouts/{target}/download", headers={"Range": "bytes=0-9"}, timeout=10
        )
        assert part.status_code == 206
        assert part.content == download.content[:10]

        before = requests.get(f"{api}/api/stats/layout/{target}", timeout=10).json()["count"]
        created = requests.post(
            f"{api}/api/feedback",
            json={"target_type": "layout", "target_id": target, "rating": 5},
            timeout=10,
        )
        assert created.status_code == 201
        after = requests.get(f"{api}/api/stats/layout/{target}", timeout=10).json()["count"]
        assert after == before + 1
        ranked = requests.get(f"{api}/api/recommendations", params={"kind": "layout"}, timeout=10)
        assert target in [item["target_id"] for item in ranked.json()["items"]]


@pytest.mark.parametrize("component", ["file-server", "feedback-api", "admin"])
def test_platform_pods_run_as_uid_10001_on_a_read_only_root(
    platform: Platform, component: str
) -> None:
    pod = platform.pods(component)[0]
    name = pod["metadata"]["name"]
    container = pod["spec"]["containers"][0]
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    exec_ = ("exec", "-n", NAMESPACE, name, "-c", container["name"], "--")
    assert platform.kubectl(*exec_, "id", "-u").strip() == "10001"
    status = platform.kubectl(*exec_, "grep", "NoNewPrivs", "/proc/self/status")
    assert status.split()[-1] == "1"
    refused = platform.kubectl(
        *exec_, "sh", "-c", "touch /opt/sora/written 2>&1; echo rc=$?", check=False
    )
    assert "Read-only file system" in refused
    assert "rc=1" in refused


def _s3_request(platform: Platform, method: str, path: str) -> str:
    """An unsigned request to moto from inside its own pod (moto does not check
    signatures): what the cluster's pods see, with no port-forward in between."""
    script = (
        "import sys, urllib.request; r = urllib.request.urlopen(urllib.request.Request("
        f"'http://127.0.0.1:5000{path}', method='{method}'), timeout=10); "
        "sys.stdout.write(r.read().decode())"
    )
    return str(
        platform.kubectl(
            "exec", "-n", NAMESPACE, f"deploy/{S3_SERVICE}", "--", "python3", "-c", script
        )
    )


Target = tuple[str, str]  # (target_type, target_id)


def _ratings(api: str, target: Target) -> dict[str, Any]:
    """A target's count and histogram (one client's newer rating replaces its older one,
    so these, not a growing count, show which ratings are stored)."""
    kind, name = target
    stats = requests.get(f"{api}/api/stats/{kind}/{name}", timeout=10).json()
    return {"count": stats["count"], "histogram": stats["histogram"]}


def _post_feedback(api: str, target: Target, rating: int) -> None:
    kind, name = target
    created = requests.post(
        f"{api}/api/feedback",
        json={"target_type": kind, "target_id": name, "rating": rating},
        timeout=10,
    )
    assert created.status_code == 201, created.text


def _catalog_loaded(api: str) -> bool:
    health = requests.get(f"{api}/health", timeout=10)
    return health.status_code == 200 and health.json().get("catalog") == "ok"


def _targets(platform: Platform) -> list[Target]:
    """Every catalogued target. One client (the port-forward) rates each at most once
    per test: a client's second rating of a target replaces its first."""
    with platform.forward(f"service/{SORA}-file-server", 3000, NAMESPACE) as files:
        base = f"http://127.0.0.1:{files}"
        return [
            (kind, str(item["id"]))
            for kind, listing in (("extension", "extensions"), ("layout", "layouts"))
            for item in requests.get(f"{base}/api/{listing}", timeout=10).json()["items"]
        ]


def _restore(platform: Platform, request_id: str, *values: str) -> dict[str, Any]:
    """Ask for a restore through ``helm upgrade`` (a new ``restore.requestId``) and wait for
    ``status.lastRestore`` of that request."""
    platform.helm(
        "upgrade", SORA, str(PLATFORM_CHART), "--namespace", NAMESPACE, "--reuse-values",
        "--set", f"restore.requestId={request_id}", *values,
    )  # fmt: skip

    def restored() -> dict[str, Any] | None:
        last = platform.sora()["status"].get("lastRestore") or {}
        return last if last.get("requestId") == request_id else None

    return dict(wait_for(restored, timeout=300, what=f"status.lastRestore for {request_id}"))


def test_a_backup_job_writes_to_s3_and_a_restore_brings_that_state_back(
    platform: Platform,
) -> None:
    target = _targets(platform)[1]
    _s3_request(platform, "PUT", f"/{BUCKET}")
    with platform.forward(f"service/{SORA}-feedback-api", 3001, NAMESPACE) as feedback:
        api = f"http://127.0.0.1:{feedback}"
        _post_feedback(api, target, 4)
        backed_up = _ratings(api, target)

    platform.kubectl(
        "create", "job", "--from", f"cronjob/{SORA}-backup", "backup-now", "-n", NAMESPACE
    )
    platform.kubectl(
        "wait", "job/backup-now", "-n", NAMESPACE, "--for=condition=Complete", "--timeout=300s"
    )
    assert "<Key>" in _s3_request(platform, "GET", f"/{BUCKET}?list-type=2")

    with platform.forward(f"service/{SORA}-feedback-api", 3001, NAMESPACE) as feedback:
        api = f"http://127.0.0.1:{feedback}"
        _post_feedback(api, target, 1)  # replaces the 4 written before the backup
        assert _ratings(api, target) != backed_up

    outcome = _restore(platform, "e2e-restore-1")
    assert outcome["result"] == "restored", outcome
    platform.wait_ready()
    platform.kubectl(
        "rollout", "status", f"deployment/{SORA}-feedback-api", "-n", NAMESPACE, "--timeout=180s"
    )
    with platform.forward(f"service/{SORA}-feedback-api", 3001, NAMESPACE) as feedback:
        assert _ratings(f"http://127.0.0.1:{feedback}", target) == backed_up


def _replica_txid(platform: Platform, above: int) -> int:
    """The replica's transaction id once status.replication shows it past ``above``
    (the operator reads the sidecar's figures at least every 30 s)."""

    def past() -> int | None:
        replication = platform.sora()["status"].get("replication") or {}
        txid = int(replication.get("replicaTxid") or 0)
        return txid if txid > above else None

    return int(wait_for(past, timeout=180, what=f"status.replication.replicaTxid above {above}"))


def test_continuous_replication_restores_the_state_of_a_chosen_moment(
    platform: Platform,
) -> None:
    # The Litestream sidecar replicates every commit to the bucket; a restore to a
    # moment between two ratings brings back the first and not the second.
    platform.helm(
        "upgrade", SORA, str(PLATFORM_CHART), "--namespace", NAMESPACE, "--reuse-values",
        "--set", "backup.continuous=true",
    )  # fmt: skip
    platform.kubectl(
        "rollout", "status", f"deployment/{SORA}-feedback-api", "-n", NAMESPACE, "--timeout=300s"
    )
    platform.wait_ready()
    (pod,) = platform.pods("feedback-api")
    # A native sidecar: an init container that keeps running beside the service.
    (sidecar,) = pod["spec"]["initContainers"]
    assert (sidecar["name"], sidecar["restartPolicy"]) == ("replicate", "Always")
    started = _replica_txid(platform, 0)

    target = _targets(platform)[1]
    with platform.forward(f"service/{SORA}-feedback-api", 3001, NAMESPACE) as feedback:
        api = f"http://127.0.0.1:{feedback}"
        _post_feedback(api, target, 5)
        chosen_state = _ratings(api, target)
        replicated = _replica_txid(platform, started)
        moment = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
        time.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()) + 1.5)
        _post_feedback(api, target, 2)
        assert _ratings(api, target) != chosen_state
        _replica_txid(platform, replicated)
    point = moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    # restore.from stays "latest": with toTime the restore is the replica's (a CEL rule).
    outcome = _restore(platform, "e2e-restore-to-time", "--set", f"restore.toTime={point}")
    assert outcome["result"] == "restored", outcome
    assert outcome["toTime"] == point, outcome
    assert outcome["message"].startswith(f"Restored the replica at {point} "), outcome
    platform.wait_ready()
    platform.kubectl(
        "rollout", "status", f"deployment/{SORA}-feedback-api", "-n", NAMESPACE, "--timeout=180s"
    )
    with platform.forward(f"service/{SORA}-feedback-api", 3001, NAMESPACE) as feedback:
        assert _ratings(f"http://127.0.0.1:{feedback}", target) == chosen_state
    # Replication carries on from the restored file.
    _replica_txid(platform, 0)


def test_kubectl_sora_shows_the_status_and_the_pods_real_logs(platform: Platform) -> None:
    status = platform.kubectl_sora("status", SORA)
    assert "Ready" in status, status
    assert "replication" in status, status
    logs = platform.kubectl_sora("logs", SORA, "--component", "feedback-api", "--tail", "50")
    records = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    assert records, logs
    assert {record["service"] for record in records} == {"sora-feedback-api"}
    # The Litestream sidecar's own output, from the same pod.
    sidecar = platform.kubectl_sora("logs", SORA, "--component", "replicate", "--tail", "50")
    assert sidecar.strip(), "the replicate container logged nothing"
    assert "sora-feedback-api" not in sidecar


def test_deleting_the_feedback_pod_loses_no_acknowledged_feedback(platform: Platform) -> None:
    rated = dict(zip(_targets(platform)[2:5], (2, 3, 5), strict=True))
    with platform.forward(f"service/{SORA}-feedback-api", 3001, NAMESPACE) as feedback:
        api = f"http://127.0.0.1:{feedback}"
        for target, rating in rated.items():
            _post_feedback(api, target, rating)
        acknowledged = {target: _ratings(api, target) for target in rated}
    for target, rating in rated.items():
        assert acknowledged[target]["histogram"][str(rating)] >= 1
    pod = platform.pods("feedback-api")[0]["metadata"]["name"]
    platform.kubectl("delete", "pod", pod, "-n", NAMESPACE, "--wait=true")
    platform.kubectl(
        "rollout", "status", f"deployment/{SORA}-feedback-api", "-n", NAMESPACE, "--timeout=180s"
    )
    platform.wait_ready()
    with platform.forward(f"service/{SORA}-feedback-api", 3001, NAMESPACE) as feedback:
        api = f"http://127.0.0.1:{feedback}"
        assert {target: _ratings(api, target) for target in rated} == acknowledged


POLLER = """
import os, time, urllib.request
ok = failed = 0
while not os.path.exists("/tmp/stop"):
    try:
        with urllib.request.urlopen("http://sora-file-server:3000/api/layouts", timeout=5) as r:
            ok += r.status == 200
    except Exception as error:
        failed += 1
        print("failed:", error, flush=True)
    time.sleep(0.05)
print(f"ok={ok} failed={failed}", flush=True)
"""


def _poller(image: str) -> dict[str, Any]:
    """A pod asking the file server's Service for the catalog until /tmp/stop exists."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "poller", "namespace": NAMESPACE},
        "spec": {
            "restartPolicy": "Never",
            "containers": [
                {
                    "name": "poller",
                    "image": image,
                    "imagePullPolicy": "Never",
                    "command": ["python3", "-c", POLLER],
                    "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                }
            ],
            "volumes": [{"name": "tmp", "emptyDir": {}}],
        },
    }


def test_helm_upgrade_rolls_the_file_server_with_no_failed_request(platform: Platform) -> None:
    image = platform.images["sora/services"]
    rolled_tag = f"{image.rsplit(':', 1)[1]}-rolled"
    # The same image under a new tag, made on the nodes themselves: a new tag rolls every pod.
    for node in kind_cluster.workers(kind_cluster.cluster_name()):
        subprocess.run(
            ["docker", "exec", node, "ctr", "-n", "k8s.io", "images", "tag", "--force",
             f"docker.io/{image}", f"docker.io/{image.rsplit(':', 1)[0]}:{rolled_tag}"],
            check=True, capture_output=True,
        )  # fmt: skip
    platform.kubectl("apply", "-f", "-", input=yaml.safe_dump(_poller(image)))
    platform.kubectl(
        "wait", "pod/poller", "-n", NAMESPACE, "--for=condition=Ready", "--timeout=120s"
    )
    platform.helm(
        "upgrade", SORA, str(PLATFORM_CHART), "--namespace", NAMESPACE, "--reuse-values",
        "--set", f"image.tag={rolled_tag}",
    )  # fmt: skip

    def rolled() -> bool:
        deployment = json.loads(
            platform.kubectl("get", f"deployment/{SORA}-file-server", "-n", NAMESPACE, "-o", "json")
        )
        spec_image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
        status = deployment["status"]
        return bool(
            spec_image.endswith(f":{rolled_tag}")
            and status.get("observedGeneration") == deployment["metadata"]["generation"]
            and status.get("updatedReplicas")
            == status.get("replicas")
            == status.get("readyReplicas")
        )

    wait_for(rolled, timeout=300, what="the file server rolled to the new tag")
    platform.kubectl(
        "rollout", "status", f"deployment/{SORA}-file-server", "-n", NAMESPACE, "--timeout=180s"
    )
    platform.kubectl("exec", "poller", "-n", NAMESPACE, "--", "touch", "/tmp/stop")
    platform.kubectl(
        "wait", "pod/poller", "-n", NAMESPACE, "--for=jsonpath={.status.phase}=Succeeded",
        "--timeout=60s",
    )  # fmt: skip
    log = platform.kubectl("logs", "poller", "-n", NAMESPACE)
    summary = log.strip().splitlines()[-1]
    assert summary.endswith("failed=0"), log
    assert int(summary.split()[0].removeprefix("ok=")) > 0
    platform.wait_ready()


LOAD = """
import os, threading, urllib.request
def hammer():
    while not os.path.exists("/tmp/stop"):
        try:
            urllib.request.urlopen("http://sora-file-server:3000/api/layouts", timeout=5).read()
        except Exception:
            pass
threads = [threading.Thread(target=hammer) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
"""


def _hpa_replicas(platform: Platform) -> int:
    hpa = json.loads(
        platform.kubectl("get", f"hpa/{SORA}-file-server", "-n", NAMESPACE, "-o", "json")
    )
    return int(hpa["status"].get("desiredReplicas", 0))


def test_load_on_the_file_server_scales_it_up_and_back_down(platform: Platform) -> None:
    platform.helm(
        "upgrade", SORA, str(PLATFORM_CHART), "--namespace", NAMESPACE, "--reuse-values",
        "--set", "fileServer.autoscaling.enabled=true",
        "--set", "fileServer.autoscaling.minReplicas=1",
        "--set", "fileServer.autoscaling.maxReplicas=3",
        "--set", "fileServer.autoscaling.metrics.cpuUtilization=30",
        "--set", "fileServer.autoscaling.behavior.scaleUp.stabilizationWindowSeconds=0",
        "--set", "fileServer.autoscaling.behavior.scaleDown.stabilizationWindowSeconds=5",
    )  # fmt: skip
    wait_for(
        lambda: platform.kubectl("get", "hpa", "-n", NAMESPACE, "-o", "name", check=False),
        timeout=120,
        what="the file server's HorizontalPodAutoscaler",
    )
    load = _poller(platform.images["sora/services"])
    load["metadata"]["name"] = "load"
    load["spec"]["containers"][0]["command"] = ["python3", "-c", LOAD]
    platform.kubectl("apply", "-f", "-", input=yaml.safe_dump(load))
    try:
        wait_for(
            lambda: _hpa_replicas(platform) > 1,
            timeout=420,
            what="metrics-server's CPU figures to move the HPA above one replica",
        )
    finally:
        platform.kubectl("exec", "load", "-n", NAMESPACE, "--", "touch", "/tmp/stop", check=False)
    wait_for(
        lambda: _hpa_replicas(platform) == 1,
        timeout=600,
        what="the HPA back at one replica once the load stopped",
    )
    platform.kubectl("delete", "pod", "load", "-n", NAMESPACE, "--wait=false")


def _node_of(pod: dict[str, Any]) -> str:
    return str(pod["spec"].get("nodeName", ""))


def _live_pods(platform: Platform, component: str) -> list[dict[str, Any]]:
    """The component's pods, without those already terminating."""
    return [p for p in platform.pods(component) if not p["metadata"].get("deletionTimestamp")]


def _running_on(platform: Platform, component: str, node: str) -> bool:
    pods = _live_pods(platform, component)
    return bool(pods) and all(
        _node_of(p) == node
        and any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"]["conditions"])
        for p in pods
    )


def _put_file_server_on(platform: Platform, node: str, other: str) -> None:
    """Move every file server pod onto ``node`` (``other`` cordoned meanwhile), so that
    draining ``node`` has a pod that can move as well as the one that cannot."""
    platform.kubectl("cordon", other)
    try:
        for pod in _live_pods(platform, "file-server"):
            # A pod the HPA is scaling away may be gone by the time it is deleted here.
            if _node_of(pod) != node:
                name = pod["metadata"]["name"]
                platform.kubectl("delete", "pod", name, "-n", NAMESPACE, "--ignore-not-found")
        wait_for(
            lambda: _running_on(platform, "file-server", node),
            timeout=180,
            what=f"the file server's pods Ready on {node}",
        )
    finally:
        platform.kubectl("uncordon", other)


def test_draining_a_node_moves_what_can_move_and_the_status_names_what_cannot(
    platform: Platform,
) -> None:
    # The feedback API's database volume (local-path) lives on one node: its pod cannot
    # leave that node. The file server keeps no state and moves.
    rated = dict(zip(_targets(platform)[5:7], (4, 1), strict=True))
    with platform.forward(f"service/{SORA}-feedback-api", 3001, NAMESPACE) as feedback:
        api = f"http://127.0.0.1:{feedback}"
        for target, rating in rated.items():
            _post_feedback(api, target, rating)
        acknowledged = {target: _ratings(api, target) for target in rated}
    drained = _node_of(platform.pods("feedback-api")[0])
    other = next(n for n in kind_cluster.workers(kind_cluster.cluster_name()) if n != drained)
    _put_file_server_on(platform, drained, other)

    platform.kubectl(
        "drain", drained, "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=300s"
    )
    try:
        wait_for(
            lambda: _running_on(platform, "file-server", other),
            timeout=300,
            what=f"the file server rescheduled onto {other} and Ready",
        )
        with platform.forward(f"service/{SORA}-file-server", 3000, NAMESPACE) as files:
            layouts = requests.get(f"http://127.0.0.1:{files}/api/layouts", timeout=10)
            assert layouts.status_code == 200
        cause = wait_for(
            lambda: (platform.sora()["status"].get("feedbackApi") or {}).get("notReady"),
            timeout=300,
            what="status.feedbackApi.notReady naming why the feedback API cannot move",
        )
        assert cause["reason"] == "Unschedulable", cause
        # The scheduler's words (Kubernetes 1.36) for a volume bound to another node.
        assert "didn't match PersistentVolume's node affinity" in cause["message"], cause
        ready = next(c for c in platform.sora()["status"]["conditions"] if c["type"] == "Ready")
        assert (ready["status"], ready["reason"]) == ("False", "Unschedulable"), ready
        assert "feedback API" in ready["message"], ready
        assert [_node_of(p) for p in platform.pods("feedback-api")] == [""]
    finally:
        platform.kubectl("uncordon", drained)
    platform.wait_ready()
    assert _node_of(platform.pods("feedback-api")[0]) == drained
    assert "notReady" not in platform.sora()["status"]["feedbackApi"]
    with platform.forward(f"service/{SORA}-feedback-api", 3001, NAMESPACE) as feedback:
        api = f"http://127.0.0.1:{feedback}"
        assert {target: _ratings(api, target) for target in rated} == acknowledged


PG_NAMESPACE = "e2e-sora-postgresql"
PG_RELEASE = "sora-pg"


def _postgres_server(image: str, password: str) -> list[dict[str, Any]]:
    """PostgreSQL in a pod (data in an emptyDir: this test's database lives as long as it),
    and the Secret with the feedback API's DATABASE_URL."""
    labels = {"app": "postgres"}
    url = f"postgresql://sora:{password}@postgres.{PG_NAMESPACE}.svc:5432/postgres"
    return [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "postgres", "namespace": PG_NAMESPACE},
            "spec": {
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "containers": [
                            {
                                "name": "postgres",
                                "image": image,
                                "imagePullPolicy": "IfNotPresent",
                                "env": [
                                    {"name": "POSTGRES_USER", "value": "sora"},
                                    {"name": "POSTGRES_PASSWORD", "value": password},
                                    {"name": "PGDATA", "value": "/var/lib/postgresql/data/db"},
                                ],
                                "ports": [{"containerPort": 5432}],
                                "readinessProbe": {"tcpSocket": {"port": 5432}},
                                "volumeMounts": [
                                    {"name": "data", "mountPath": "/var/lib/postgresql/data"}
                                ],
                            }
                        ],
                        "volumes": [{"name": "data", "emptyDir": {}}],
                    },
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "postgres", "namespace": PG_NAMESPACE},
            "spec": {"selector": labels, "ports": [{"port": 5432, "targetPort": 5432}]},
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "feedback-database", "namespace": PG_NAMESPACE},
            "stringData": {"url": url},
        },
    ]


def test_on_postgresql_two_feedback_api_replicas_serve_one_database(
    platform: Platform,
) -> None:
    # A second platform beside the first, its feedback API on PostgreSQL in the cluster:
    # no volume, several replicas, every pod reading what another one wrote.
    password = hashlib.sha256(PG_NAMESPACE.encode()).hexdigest()[:24]
    platform.kubectl("create", "namespace", PG_NAMESPACE)
    try:
        platform.kubectl(
            "apply", "-f", "-",
            input=yaml.safe_dump_all(_postgres_server(platform.images["sora/postgres"], password)),
        )  # fmt: skip
        platform.kubectl(
            "rollout", "status", "deployment/postgres", "-n", PG_NAMESPACE, "--timeout=180s"
        )
        platform.helm(
            "install", PG_RELEASE, str(PLATFORM_CHART), "--namespace", PG_NAMESPACE,
            "--set", "environment=dev",
            *platform.image_values("sora/services"),
            "--set", "ingress.enabled=false",
            "--set", "feedbackApi.replicas=2",
            "--set", "feedbackApi.database.engine=postgresql",
            "--set", "feedbackApi.database.urlSecretRef.name=feedback-database",
        )  # fmt: skip
        platform.kubectl(
            "wait", f"sora/{PG_RELEASE}", "-n", PG_NAMESPACE, "--for=condition=Ready",
            "--timeout=300s",
        )  # fmt: skip
        selector = f"app.kubernetes.io/instance={PG_RELEASE},app.kubernetes.io/component="
        pods = json.loads(
            platform.kubectl(
                "get", "pods", "-n", PG_NAMESPACE, "-l", f"{selector}feedback-api", "-o", "json"
            )
        )["items"]
        assert len(pods) == 2
        assert all(
            v.get("persistentVolumeClaim") is None for p in pods for v in p["spec"]["volumes"]
        )
        assert not json.loads(platform.kubectl("get", "pvc", "-n", PG_NAMESPACE, "-o", "json"))[
            "items"
        ]
        first, second = (p["metadata"]["name"] for p in pods)
        target = _targets(platform)[0]
        with platform.forward(f"pod/{first}", 3001, PG_NAMESPACE) as writer:
            # Ready counts pods, not routes: until the nodes' kube-proxy routes the file
            # server's Service, the API answers what its contract says, 503 "retry later".
            wait_for(
                lambda: _catalog_loaded(f"http://127.0.0.1:{writer}"),
                timeout=60,
                what="the feedback API's first catalog from its file server",
            )
            _post_feedback(f"http://127.0.0.1:{writer}", target, 5)
            written = _ratings(f"http://127.0.0.1:{writer}", target)
        assert written["count"] == 1
        with platform.forward(f"pod/{second}", 3001, PG_NAMESPACE) as reader:
            reader_api = f"http://127.0.0.1:{reader}"
            assert _ratings(reader_api, target) == written
            health = requests.get(f"{reader_api}/health", timeout=10)
            assert health.status_code == 200, health.text
    finally:
        with contextlib.suppress(AssertionError):  # nothing to uninstall if the install failed
            platform.helm("uninstall", PG_RELEASE, "--namespace", PG_NAMESPACE, "--wait")
        platform.kubectl("delete", "namespace", PG_NAMESPACE, "--timeout=300s", check=False)


def test_helm_uninstall_keeps_the_database_volume_and_its_secret(platform: Platform) -> None:
    platform.helm("uninstall", SORA, "--namespace", NAMESPACE, "--wait")

    def children_gone() -> bool:
        names = platform.kubectl("get", "deployments", "-n", NAMESPACE, "-o", "name")
        return bool(names.strip().splitlines() == [f"deployment.apps/{S3_SERVICE}"])

    wait_for(children_gone, timeout=180, what="the platform's Deployments to be collected")
    kept = json.loads(
        platform.kubectl(
            "get",
            f"pvc/{SORA}-feedback-db",
            f"secret/{SORA}-secrets",
            "-n",
            NAMESPACE,
            "-o",
            "json",
        )
    )
    assert len(kept["items"]) == 2
