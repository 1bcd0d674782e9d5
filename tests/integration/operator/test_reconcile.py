"""The operator as a real process on the real control plane: create, converge, repair, delete."""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest

from sora_operator.kube import KubeClient
from sora_operator.objects import ObjectRef
from tests.integration.operator.conftest import StartOperator
from tests.integration.operator.support import (
    EXAMPLES,
    StatusChanges,
    child_refs,
    condition,
    example,
    metrics_of,
    sora_deployment,
    wait_ready,
)
from tests.plugins.kube import KubeCluster
from tests.support.polling import wait_for

NAME = "shop"


def _deployment(admin: KubeClient, namespace: str, component: str) -> dict[str, Any]:
    found = admin.get(ObjectRef("Deployment", namespace, f"{NAME}-{component}"))
    assert found is not None
    return found


def _create(kube_cluster: KubeCluster, namespace: str, **spec: Any) -> None:
    kube_cluster.apply(sora_deployment(NAME, namespace, {"environment": "dev", **spec}))


def _ready(
    kube_cluster: KubeCluster,
    admin: KubeClient,
    start_operator: StartOperator,
    namespace: str,
    **spec: Any,
) -> dict[str, Any]:
    """An operator for ``namespace`` and a SoraDeployment there, waited for until Ready."""
    start_operator(namespace)
    _create(kube_cluster, namespace, **spec)
    return wait_ready(admin, namespace, NAME)


def test_applying_a_soradeployment_creates_every_child(
    kube_cluster: KubeCluster, admin: KubeClient, start_operator: StartOperator, kube_namespace: str
) -> None:
    start_operator(kube_namespace)
    _create(kube_cluster, kube_namespace)
    refs = child_refs(kube_namespace, NAME)
    missing = wait_for(
        lambda: not [ref for ref in refs if admin.get(ref) is None] or None,
        60,
        "every child to exist",
    )
    assert missing


def test_children_carry_the_spec_and_an_owner_reference(
    kube_cluster: KubeCluster, admin: KubeClient, start_operator: StartOperator, kube_namespace: str
) -> None:
    _ready(kube_cluster, admin, start_operator, kube_namespace, image={"tag": "9.9.9"})
    file_server = _deployment(admin, kube_namespace, "file-server")
    container = file_server["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "sora/services:9.9.9"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert file_server["metadata"]["ownerReferences"][0]["name"] == NAME


def test_the_generated_secret_holds_strong_random_values(
    kube_cluster: KubeCluster, admin: KubeClient, start_operator: StartOperator, kube_namespace: str
) -> None:
    start_operator(kube_namespace)
    _create(kube_cluster, kube_namespace)
    secret = wait_for(
        lambda: admin.get(ObjectRef("Secret", kube_namespace, f"{NAME}-secrets")), 60, "the Secret"
    )
    values = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert set(values) == {"ENCRYPTION_KEY", "IP_SALT", "ADMIN_TOKEN"}
    assert all(len(value) >= 32 for value in values.values())
    assert len(set(values.values())) == 3


def test_deployments_become_available_and_ready_turns_true(
    kube_cluster: KubeCluster, admin: KubeClient, start_operator: StartOperator, kube_namespace: str
) -> None:
    body = _ready(kube_cluster, admin, start_operator, kube_namespace)
    assert body["status"]["fileServer"]["ready"] == "1/1"
    assert body["status"]["feedbackApi"]["readyReplicas"] == 1
    assert body["status"]["observedGeneration"] == body["metadata"]["generation"]
    assert condition(body, "Degraded")["status"] == "False"


def _generations_and_versions(
    admin: KubeClient, namespace: str, *, with_status: bool = True
) -> dict[ObjectRef, Any]:
    """What only the operator's writes change: a Deployment's generation (its status
    belongs to the Deployment controller and moves whenever kwok's pods or nodes do) and
    every other child's resourceVersion; with_status adds the SoraDeployment's."""
    refs = child_refs(namespace, NAME)
    if with_status:
        refs.append(ObjectRef("SoraDeployment", namespace, NAME))

    def mark(ref: ObjectRef) -> Any:
        found = admin.get(ref)
        if found is None:
            return None
        key = "generation" if ref.kind == "Deployment" else "resourceVersion"
        return found["metadata"][key]

    return {ref: mark(ref) for ref in refs}


def test_a_converged_platform_gets_no_writes_over_several_resyncs(
    kube_cluster: KubeCluster, admin: KubeClient, start_operator: StartOperator, kube_namespace: str
) -> None:
    operator = start_operator(kube_namespace)
    _create(kube_cluster, kube_namespace)
    wait_ready(admin, kube_namespace, NAME)
    metrics = metrics_of(operator)
    wait_for(
        lambda: metrics.total("sora_operator_reconciles_total", trigger="resync"), 20, "a resync"
    )
    before = _generations_and_versions(admin, kube_namespace)
    writes = metrics.total("sora_operator_api_writes_total")
    status_writes = metrics.total("sora_operator_api_writes_total", kind="SoraDeployment")
    resyncs = metrics.total("sora_operator_reconciles_total", trigger="resync")
    with StatusChanges(kube_cluster.api_client(), kube_namespace, NAME) as status_changes:
        wait_for(
            lambda: (
                metrics.total("sora_operator_reconciles_total", trigger="resync") >= resyncs + 2
            ),
            30,
            "two more resyncs",
        )
    new_status_writes = metrics.total("sora_operator_api_writes_total", kind="SoraDeployment")
    new_child_writes = metrics.total("sora_operator_api_writes_total") - new_status_writes
    assert new_child_writes == writes - status_writes
    # Status writes only when kwok's pods or nodes really changed the observed state.
    assert new_status_writes - status_writes <= status_changes.count
    assert _generations_and_versions(admin, kube_namespace, with_status=False) == {
        ref: mark for ref, mark in before.items() if ref.kind != "SoraDeployment"
    }


def test_a_deleted_child_comes_back(
    kube_cluster: KubeCluster, admin: KubeClient, start_operator: StartOperator, kube_namespace: str
) -> None:
    _ready(kube_cluster, admin, start_operator, kube_namespace)
    service = ObjectRef("Service", kube_namespace, f"{NAME}-feedback-api")
    old_uid = admin.get(service)["metadata"]["uid"]  # type: ignore[index]
    kube_cluster.kubectl("delete", "service", service.name, "-n", kube_namespace)
    wait_for(
        lambda: (found := admin.get(service)) and found["metadata"]["uid"] != old_uid,
        20,
        "the deleted Service to be recreated",
    )


def test_an_edited_child_is_put_back(
    kube_cluster: KubeCluster, admin: KubeClient, start_operator: StartOperator, kube_namespace: str
) -> None:
    _ready(kube_cluster, admin, start_operator, kube_namespace)
    kube_cluster.kubectl(
        "scale", "deployment", f"{NAME}-file-server", "--replicas=4", "-n", kube_namespace
    )
    wait_for(
        lambda: _deployment(admin, kube_namespace, "file-server")["spec"]["replicas"] == 1,
        20,
        "replicas to be put back to 1",
    )


def test_an_edited_configmap_value_is_put_back(
    kube_cluster: KubeCluster, admin: KubeClient, start_operator: StartOperator, kube_namespace: str
) -> None:
    _ready(kube_cluster, admin, start_operator, kube_namespace)
    ref = ObjectRef("ConfigMap", kube_namespace, f"{NAME}-feedback-api")
    kube_cluster.kubectl(
        "patch",
        "configmap",
        ref.name,
        "-n",
        kube_namespace,
        "--type=merge",
        "-p",
        '{"data": {"DATABASE_PATH": "/tmp/elsewhere.db"}}',
    )
    wait_for(
        lambda: admin.get(ref)["data"]["DATABASE_PATH"] == "/var/lib/sora/feedback.db",  # type: ignore[index]
        20,
        "DATABASE_PATH to be put back",
    )


def test_a_spec_change_rolls_out_the_new_configuration(
    kube_cluster: KubeCluster, admin: KubeClient, start_operator: StartOperator, kube_namespace: str
) -> None:
    _ready(kube_cluster, admin, start_operator, kube_namespace)
    before = _deployment(admin, kube_namespace, "file-server")
    _create(kube_cluster, kube_namespace, fileServer={"cacheSize": "2Gi", "replicas": 2})

    def rolled_out() -> bool:
        after = _deployment(admin, kube_namespace, "file-server")
        annotations = after["spec"]["template"]["metadata"]["annotations"]
        return bool(
            after["spec"]["replicas"] == 2
            and annotations != before["spec"]["template"]["metadata"]["annotations"]
        )

    wait_for(rolled_out, 30, "the file server to get the new replicas and config checksum")
    body = wait_ready(admin, kube_namespace, NAME)
    assert body["status"]["fileServer"]["ready"] == "2/2"
    config = admin.get(ObjectRef("ConfigMap", kube_namespace, f"{NAME}-file-server"))
    assert config is not None
    assert config["data"]["CACHE_MAX_BYTES"] == str(2 * 1024**3)


def test_a_spec_change_leaves_the_other_component_untouched(
    kube_cluster: KubeCluster, admin: KubeClient, start_operator: StartOperator, kube_namespace: str
) -> None:
    _ready(kube_cluster, admin, start_operator, kube_namespace)
    feedback_version = _deployment(admin, kube_namespace, "feedback-api")["metadata"]["generation"]
    _create(kube_cluster, kube_namespace, fileServer={"cacheSize": "2Gi"})
    wait_for(
        lambda: _deployment(admin, kube_namespace, "file-server")["metadata"]["generation"] > 1,
        30,
        "the file server to roll",
    )
    assert (
        _deployment(admin, kube_namespace, "feedback-api")["metadata"]["generation"]
        == feedback_version
    )


def test_deletion_cascades_and_keeps_the_database_volume(
    kube_cluster: KubeCluster, admin: KubeClient, start_operator: StartOperator, kube_namespace: str
) -> None:
    _ready(kube_cluster, admin, start_operator, kube_namespace)
    kube_cluster.kubectl("delete", "sora", NAME, "-n", kube_namespace, "--wait=true")
    deployment = ObjectRef("Deployment", kube_namespace, f"{NAME}-file-server")
    wait_for(lambda: admin.get(deployment) is None, 30, "the Deployment to be garbage-collected")
    assert admin.get(ObjectRef("PersistentVolumeClaim", kube_namespace, f"{NAME}-feedback-db"))
    assert admin.get(ObjectRef("Secret", kube_namespace, f"{NAME}-secrets"))


def test_deletion_removes_the_database_volume_when_not_retained(
    kube_cluster: KubeCluster, admin: KubeClient, start_operator: StartOperator, kube_namespace: str
) -> None:
    _ready(
        kube_cluster,
        admin,
        start_operator,
        kube_namespace,
        feedbackApi={"database": {"retainOnDelete": False}},
    )
    kube_cluster.kubectl("delete", "sora", NAME, "-n", kube_namespace, "--wait=true")
    claim = ObjectRef("PersistentVolumeClaim", kube_namespace, f"{NAME}-feedback-db")
    wait_for(
        lambda: (found := admin.get(claim)) is None or found["metadata"].get("deletionTimestamp"),
        30,
        "the database claim to be deleted",
    )


def test_a_recreated_soradeployment_adopts_the_kept_volume_and_secret(
    kube_cluster: KubeCluster, admin: KubeClient, start_operator: StartOperator, kube_namespace: str
) -> None:
    _ready(kube_cluster, admin, start_operator, kube_namespace)
    secret = ObjectRef("Secret", kube_namespace, f"{NAME}-secrets")
    key_before = admin.get(secret)["data"]["ENCRYPTION_KEY"]  # type: ignore[index]
    kube_cluster.kubectl("delete", "sora", NAME, "-n", kube_namespace, "--wait=true")
    wait_for(
        lambda: admin.get(ObjectRef("Deployment", kube_namespace, f"{NAME}-file-server")) is None,
        30,
        "the old children to go",
    )
    _create(kube_cluster, kube_namespace)
    wait_ready(admin, kube_namespace, NAME)
    assert admin.get(secret)["data"]["ENCRYPTION_KEY"] == key_before  # type: ignore[index]


def test_an_existing_secret_is_never_changed(
    kube_cluster: KubeCluster, admin: KubeClient, start_operator: StartOperator, kube_namespace: str
) -> None:
    kube_cluster.kubectl(
        "create",
        "secret",
        "generic",
        "mine",
        "-n",
        kube_namespace,
        "--from-literal=ENCRYPTION_KEY=my-own-encryption-key-123",
        "--from-literal=IP_SALT=my-own-ip-salt-456789",
        "--from-literal=ADMIN_TOKEN=my-own-admin-token-789",
    )
    secret = ObjectRef("Secret", kube_namespace, "mine")
    before = admin.get(secret)
    assert before is not None
    _ready(kube_cluster, admin, start_operator, kube_namespace, feedbackApi={"secretName": "mine"})
    after = admin.get(secret)
    assert after is not None
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert after["data"] == before["data"]


def test_a_secret_lacking_a_key_degrades_with_a_message_and_is_not_touched(
    kube_cluster: KubeCluster, admin: KubeClient, start_operator: StartOperator, kube_namespace: str
) -> None:
    kube_cluster.kubectl(
        "create",
        "secret",
        "generic",
        "partial",
        "-n",
        kube_namespace,
        "--from-literal=ENCRYPTION_KEY=my-own-encryption-key-123",
    )
    start_operator(kube_namespace)
    _create(kube_cluster, kube_namespace, feedbackApi={"secretName": "partial"})
    ref = ObjectRef("SoraDeployment", kube_namespace, NAME)
    degraded = wait_for(
        lambda: (c := condition(admin.get(ref), "Degraded")).get("status") == "True" and c,
        30,
        "Degraded to turn True",
    )
    assert degraded["reason"] == "SecretIncomplete"
    assert "IP_SALT" in degraded["message"]
    assert set(admin.get(ObjectRef("Secret", kube_namespace, "partial"))["data"]) == {  # type: ignore[index]
        "ENCRYPTION_KEY"
    }


def test_a_name_taken_by_a_foreign_object_degrades_without_taking_it_over(
    kube_cluster: KubeCluster, admin: KubeClient, start_operator: StartOperator, kube_namespace: str
) -> None:
    kube_cluster.kubectl(
        "create", "configmap", f"{NAME}-file-server", "-n", kube_namespace, "--from-literal=a=b"
    )
    start_operator(kube_namespace)
    _create(kube_cluster, kube_namespace)
    ref = ObjectRef("SoraDeployment", kube_namespace, NAME)
    degraded = wait_for(
        lambda: (c := condition(admin.get(ref), "Degraded")).get("status") == "True" and c,
        30,
        "Degraded to turn True",
    )
    assert degraded["reason"] == "NameTaken"
    foreign = admin.get(ObjectRef("ConfigMap", kube_namespace, f"{NAME}-file-server"))
    assert foreign is not None
    assert foreign["data"] == {"a": "b"}


def test_events_record_what_the_operator_created(
    kube_cluster: KubeCluster, admin: KubeClient, start_operator: StartOperator, kube_namespace: str
) -> None:
    _ready(kube_cluster, admin, start_operator, kube_namespace)

    def created_events() -> list[str]:
        events = kube_cluster.get_json(
            "events", "-n", kube_namespace, "--field-selector", f"involvedObject.name={NAME}"
        )["items"]
        return [e["message"] for e in events if e["reason"] == "Created"]

    messages = wait_for(created_events, 20, "Created events")
    assert any("Deployment shop-file-server" in message for message in messages)


def test_two_soradeployments_in_two_namespaces_do_not_interfere(
    kube_cluster: KubeCluster, admin: KubeClient, start_operator: StartOperator, kube_namespace: str
) -> None:
    other = f"{kube_namespace[:50]}-b"
    kube_cluster.kubectl("create", "namespace", other)
    try:
        start_operator(kube_namespace, other)
        kube_cluster.apply(sora_deployment(NAME, kube_namespace, {"environment": "dev"}))
        kube_cluster.apply(sora_deployment(NAME, other, {"environment": "prod"}))
        first, second = wait_ready(admin, kube_namespace, NAME), wait_ready(admin, other, NAME)
        assert (
            first["status"]["fileServer"]["ready"],
            second["status"]["fileServer"]["ready"],
        ) == (
            "1/1",
            "2/2",
        )
        untouched = _deployment(admin, kube_namespace, "file-server")["metadata"]["resourceVersion"]
        repaired = ObjectRef("Deployment", other, f"{NAME}-file-server")
        old_uid = _deployment(admin, other, "file-server")["metadata"]["uid"]
        kube_cluster.kubectl("delete", "deployment", repaired.name, "-n", other)
        wait_for(
            lambda: (found := admin.get(repaired)) and found["metadata"]["uid"] != old_uid,
            20,
            "the other namespace's Deployment to be recreated",
        )
        time.sleep(1)
        assert (
            _deployment(admin, kube_namespace, "file-server")["metadata"]["resourceVersion"]
            == untouched
        )
    finally:
        kube_cluster.kubectl("delete", "namespace", other, "--wait=false", check=False)


@pytest.mark.parametrize("name", ["dev-minimal.yaml", "prod-full.yaml"])
def test_a_documented_example_becomes_a_ready_platform(
    name: str,
    kube_cluster: KubeCluster,
    admin: KubeClient,
    start_operator: StartOperator,
    kube_namespace: str,
) -> None:
    start_operator(kube_namespace)
    kube_cluster.kubectl("apply", "-n", kube_namespace, "-f", str(EXAMPLES / name))
    document = example(name)
    body = wait_ready(admin, kube_namespace, document["metadata"]["name"])
    assert condition(body, "Degraded")["status"] == "False"
