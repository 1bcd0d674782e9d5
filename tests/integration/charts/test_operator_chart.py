"""The sora-operator chart renders the CRD, RBAC and Deployment the operator needs."""

from __future__ import annotations

import tarfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from sora_contract.monitoring import operator_alert_rules
from tests.integration.charts.support import (
    CHART_CRD_LABELS,
    CRD_PATH,
    OPERATOR_CHART,
    Helm,
    documents,
    normalized_rules,
    of_kind,
    one,
    rbac_documents,
)

CLUSTER_SCOPED = {"customresourcedefinitions", "namespaces"}


def render(helm: Helm, *args: str) -> list[dict[str, Any]]:
    return documents(helm.template(OPERATOR_CHART, *args, namespace="sora-system"))


def without_chart_metadata(crd: dict[str, Any]) -> dict[str, Any]:
    metadata = dict(crd["metadata"])
    labels = {k: v for k, v in metadata.get("labels", {}).items() if k not in CHART_CRD_LABELS}
    annotations = {
        k: v for k, v in metadata.get("annotations", {}).items() if k != "helm.sh/resource-policy"
    }
    metadata["labels"] = labels
    metadata.pop("annotations", None)
    if annotations:
        metadata["annotations"] = annotations
    return {**crd, "metadata": metadata}


def test_chart_installs_exactly_the_crd_from_crds_directory(helm: Helm) -> None:
    rendered = one(render(helm), "CustomResourceDefinition")
    assert without_chart_metadata(rendered) == yaml.safe_load(CRD_PATH.read_text())


def test_crd_is_kept_on_uninstall_by_default(helm: Helm) -> None:
    crd = one(render(helm), "CustomResourceDefinition")
    assert crd["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert crd["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"


def test_crd_can_be_left_out(helm: Helm) -> None:
    assert not of_kind(render(helm, "--set", "crds.create=false"), "CustomResourceDefinition")


def test_crd_keep_can_be_turned_off(helm: Helm) -> None:
    crd = one(render(helm, "--set", "crds.keep=false"), "CustomResourceDefinition")
    assert "helm.sh/resource-policy" not in crd["metadata"].get("annotations", {})


def test_packaged_chart_carries_the_crd_and_rbac_contents(helm: Helm, tmp_path: Path) -> None:
    """files/ holds symlinks into crds/, operator/ and services/; `helm package` stores contents."""
    helm.run("package", str(OPERATOR_CHART), "--destination", str(tmp_path))
    (archive,) = tmp_path.glob("sora-operator-*.tgz")
    with tarfile.open(archive) as tar:
        crd = tar.extractfile("sora-operator/files/sora.example.com_soradeployments.yaml")
        rbac = tar.extractfile("sora-operator/files/rbac.yaml")
        rules = tar.extractfile("sora-operator/files/operator-rules.yaml")
        assert crd is not None
        assert rbac is not None
        assert rules is not None
        assert crd.read().decode() == CRD_PATH.read_text()
        assert rbac.read().decode() == (OPERATOR_CHART / "files" / "rbac.yaml").read_text()
        assert (
            rules.read().decode() == (OPERATOR_CHART / "files" / "operator-rules.yaml").read_text()
        )


def test_cluster_role_rules_equal_the_operator_rbac_file(helm: Helm) -> None:
    docs = render(helm)
    expected = rbac_documents()
    cluster_role = one(docs, "ClusterRole")
    assert normalized_rules(cluster_role["rules"]) == normalized_rules(
        expected["ClusterRole"]["rules"]
    )
    leader_role = one(docs, "Role")
    assert leader_role["metadata"]["namespace"] == "sora-system"
    assert normalized_rules(leader_role["rules"]) == normalized_rules(expected["Role"]["rules"])


def test_bindings_grant_the_roles_to_the_operator_service_account(helm: Helm) -> None:
    docs = render(helm)
    account = one(docs, "ServiceAccount")["metadata"]["name"]
    deployment = one(docs, "Deployment")
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == account
    for binding in of_kind(docs, "ClusterRoleBinding") + of_kind(docs, "RoleBinding"):
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": account, "namespace": "sora-system"}
        ]


def test_watched_namespaces_get_roles_with_the_same_rules_in_total(helm: Helm) -> None:
    docs = render(helm, "--set", "watchNamespaces={team-a,team-b}")
    expected = normalized_rules(rbac_documents()["ClusterRole"]["rules"])
    cluster_rules = one(docs, "ClusterRole")["rules"]
    assert {r for rule in cluster_rules for r in rule["resources"]} <= CLUSTER_SCOPED
    roles = {
        doc["metadata"]["namespace"]: doc
        for doc in of_kind(docs, "Role")
        if not doc["metadata"]["name"].endswith("-leader-election")
    }
    assert set(roles) == {"team-a", "team-b"}
    for role in roles.values():
        assert not {r for rule in role["rules"] for r in rule["resources"]} & CLUSTER_SCOPED
        assert normalized_rules(cluster_rules + role["rules"]) == expected
    bindings = {d["metadata"]["namespace"] for d in of_kind(docs, "RoleBinding")}
    assert bindings == {"team-a", "team-b", "sora-system"}
    args = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--namespace=team-a" in args
    assert "--namespace=team-b" in args


def test_rbac_can_be_left_out(helm: Helm) -> None:
    docs = render(helm, "--set", "rbac.create=false")
    assert not [d for d in docs if d["apiVersion"].startswith("rbac.authorization.k8s.io")]


def test_deployment_runs_replicas_with_leader_election_and_rolling_update(helm: Helm) -> None:
    deployment = one(render(helm), "Deployment")
    spec = deployment["spec"]
    assert spec["replicas"] == 2
    assert spec["strategy"]["type"] == "RollingUpdate"
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    container = spec["template"]["spec"]["containers"][0]
    assert "--no-leader-election" not in container["args"]
    env = {e["name"]: e for e in container["env"]}
    assert env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert env["POD_NAMESPACE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"


def test_without_leader_election_one_replica_is_recreated(helm: Helm) -> None:
    deployment = one(
        render(helm, "--set", "leaderElection.enabled=false", "--set", "replicaCount=1"),
        "Deployment",
    )
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    assert "--no-leader-election" in deployment["spec"]["template"]["spec"]["containers"][0]["args"]


def test_several_replicas_without_leader_election_are_refused(helm: Helm) -> None:
    result = helm.run(
        "template", "x", str(OPERATOR_CHART), "--set", "leaderElection.enabled=false", check=False
    )
    assert result.returncode != 0
    assert "replicaCount > 1 needs leaderElection.enabled" in result.stderr


def test_probes_use_the_operator_liveness_endpoint(helm: Helm) -> None:
    container = one(render(helm), "Deployment")["spec"]["template"]["spec"]["containers"][0]
    assert "--liveness=http://0.0.0.0:8080/healthz" in container["args"]
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "healthz"}
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"healthz": 8080, "http-metrics": 9090}


def test_container_is_hardened(helm: Helm) -> None:
    pod = one(render(helm), "Deployment")["spec"]["template"]["spec"]
    context = pod["containers"][0]["securityContext"]
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["containers"][0]["resources"]["requests"]


def test_image_overrides_and_pull_secrets(helm: Helm) -> None:
    digest = "sha256:" + "ab" * 32
    pod = one(
        render(
            helm,
            "--set",
            "image.registry=registry.example.com",
            "--set",
            f"image.digest={digest}",
            "--set",
            "imagePullSecrets={regcred}",
        ),
        "Deployment",
    )["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] == f"registry.example.com/sora/operator@{digest}"
    assert pod["imagePullSecrets"] == [{"name": "regcred"}]
    tagged = one(render(helm, "--set", "image.tag=1.2.3"), "Deployment")
    assert tagged["spec"]["template"]["spec"]["containers"][0]["image"] == "sora/operator:1.2.3"


def test_metrics_service_and_optional_service_monitor(helm: Helm) -> None:
    docs = render(helm)
    service = one(docs, "Service")
    assert service["spec"]["ports"][0]["targetPort"] == "http-metrics"
    assert not of_kind(docs, "ServiceMonitor")
    monitor = one(render(helm, "--set", "metrics.serviceMonitor.enabled=true"), "ServiceMonitor")
    assert monitor["spec"]["selector"]["matchLabels"] == service["spec"]["selector"]
    assert monitor["spec"]["endpoints"][0]["port"] == "http-metrics"


def test_optional_prometheus_rule_holds_the_operator_rules_for_its_namespace(
    helm: Helm,
) -> None:
    assert not of_kind(render(helm), "PrometheusRule")
    rule = one(
        render(
            helm,
            "--set",
            "metrics.prometheusRule.enabled=true",
            "--set",
            "metrics.prometheusRule.labels.release=prom",
        ),
        "PrometheusRule",
    )
    assert rule["metadata"]["labels"]["release"] == "prom"
    assert rule["spec"] == operator_alert_rules(rule["metadata"]["namespace"])


def test_helm_test_pod_checks_the_metrics_endpoint_outside_the_service_selector(
    helm: Helm,
) -> None:
    docs = render(helm)
    pod = one(docs, "Pod")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    script = pod["spec"]["containers"][0]["command"][-1]
    assert "sora-operator-metrics.sora-system.svc:9090/metrics" in script
    selector = one(docs, "Service")["spec"]["selector"]
    labels = pod["metadata"]["labels"]
    assert not all(labels.get(key) == value for key, value in selector.items())


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("replicaCount=two", "at '/replicaCount': got string, want integer"),
        ("crds.creat=true", "additional properties 'creat' not allowed"),
        ("image.pullPolicy=Sometimes", "value must be one of 'Always', 'IfNotPresent', 'Never'"),
        ("logging.format=xml", "at '/logging/format'"),
        ("watchNamespaces={Bad_Name}", "at '/watchNamespaces/0'"),
    ],
)
def test_wrong_value_fails_with_a_schema_message(helm: Helm, setting: str, message: str) -> None:
    result = helm.run("template", "x", str(OPERATOR_CHART), "--set", setting, check=False)
    assert result.returncode != 0
    assert "values don't meet the specifications of the schema" in result.stderr
    assert message in result.stderr


def test_network_policy_admits_only_metrics_and_liveness(helm: Helm) -> None:
    policy = one(render(helm), "NetworkPolicy", "sora-sora-operator")
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    ports = [rule["ports"][0]["port"] for rule in policy["spec"]["ingress"]]
    assert ports == ["http-metrics", "healthz"]
    restricted = one(
        render(helm, "--set", "networkPolicy.metricsFrom[0].namespaceSelector.matchLabels.x=y"),
        "NetworkPolicy",
        "sora-sora-operator",
    )
    peers = restricted["spec"]["ingress"][0]["from"]
    test_pod = one(render(helm), "Pod")["metadata"]["labels"]
    assert any(
        peer.get("podSelector", {}).get("matchLabels", {}).items() <= test_pod.items()
        for peer in peers
        if "podSelector" in peer
    ), "the helm test pod must still reach the metrics port"


def test_operator_pod_gets_no_service_link_variables(helm: Helm) -> None:
    """The metrics Service sora-operator-metrics would otherwise inject
    SORA_OPERATOR_METRICS_PORT=tcp://<ip>:9090, which the operator reads as its own
    metrics port setting and refuses (the operator pod crash-looped on kind)."""
    deployment = one(render(helm), "Deployment")
    assert deployment["spec"]["template"]["spec"]["enableServiceLinks"] is False
