"""The smaller children: ConfigMaps, Secret, ServiceAccounts, claim, Services, policies, budgets."""

from __future__ import annotations

from typing import Any

import pytest

from sora_operator.builders import (
    backup,
    configmap,
    networkpolicies,
    pdb,
    pvc,
    secret,
    serviceaccounts,
)
from sora_operator.builders import services as service_builders
from sora_operator.builders.desired import desired_state
from sora_operator.objects import ObjectRef, ref_of
from tests.unit.operator.factories import make_sora_deployment

SECRET_VALUES = {"ENCRYPTION_KEY": "k" * 43, "IP_SALT": "s" * 43, "ADMIN_TOKEN": "t" * 43}
S3 = {"type": "s3", "s3": {"bucket": "cat", "prefix": "c/", "region": "eu-west-1"}}


# -- ConfigMaps -----------------------------------------------------------------------


def test_file_server_config_points_local_storage_at_the_catalog_mount() -> None:
    data = configmap.file_server_configmap(make_sora_deployment("dev"))["data"]
    assert (data["STORAGE_BACKEND"], data["STORAGE_DIR"]) == ("local", "/var/lib/sora/catalog")


def test_file_server_config_carries_the_s3_settings() -> None:
    data = configmap.file_server_configmap(make_sora_deployment("dev", fileServer={"storage": S3}))[
        "data"
    ]
    assert (data["STORAGE_BACKEND"], data["S3_BUCKET"], data["S3_PREFIX"], data["AWS_REGION"]) == (
        "s3",
        "cat",
        "c/",
        "eu-west-1",
    )


def test_presigned_redirects_off_means_a_zero_threshold() -> None:
    data = configmap.file_server_configmap(make_sora_deployment("dev", fileServer={"storage": S3}))[
        "data"
    ]
    assert data["S3_REDIRECT_MIN_BYTES"] == "0"


def test_presigned_redirects_on_sets_the_threshold_in_bytes() -> None:
    spec = {"storage": S3, "presignedRedirects": {"enabled": True, "minSize": "1Mi"}}
    data = configmap.file_server_configmap(make_sora_deployment("dev", fileServer=spec))["data"]
    assert data["S3_REDIRECT_MIN_BYTES"] == str(1024**2)


def test_allowed_origins_are_comma_separated() -> None:
    spec = {"allowedOrigins": ["https://a.example", "https://b.example"]}
    data = configmap.feedback_api_configmap(make_sora_deployment("dev", fileServer=spec))["data"]
    assert data["ALLOWED_ORIGINS"] == "https://a.example,https://b.example"


def test_trusted_proxies_are_the_load_balancer_cidrs_when_given() -> None:
    data = configmap.feedback_api_configmap(
        make_sora_deployment("dev", ingress={"sourceCidrs": ["10.0.0.0/24"]})
    )
    assert data["data"]["TRUSTED_PROXIES"] == "10.0.0.0/24"


def test_services_run_in_production_mode_in_every_environment() -> None:
    assert (
        configmap.feedback_api_configmap(make_sora_deployment("dev"))["data"]["SORA_ENV"]
        == "production"
    )


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_every_service_and_the_backups_log_the_real_environment(environment: str) -> None:
    platform = make_sora_deployment(environment, backup={"enabled": True, "bucket": "b"})
    for built in (
        configmap.file_server_configmap(platform),
        configmap.feedback_api_configmap(platform),
    ):
        assert built["data"]["SORA_DEPLOYMENT_ENV"] == environment
    backup_env = {item["name"]: item["value"] for item in backup.environment(platform)}
    assert backup_env["SORA_DEPLOYMENT_ENV"] == environment


def test_feedback_config_holds_the_database_path_and_no_secret() -> None:
    data = configmap.feedback_api_configmap(make_sora_deployment("dev"))["data"]
    assert data["DATABASE_PATH"] == "/var/lib/sora/feedback.db"
    assert not {"ENCRYPTION_KEY", "IP_SALT", "ADMIN_TOKEN"} & set(data)


def test_feedback_config_points_at_the_file_server_whose_catalog_it_checks() -> None:
    platform = make_sora_deployment("dev")
    data = configmap.feedback_api_configmap(platform)["data"]
    assert (
        data["FILE_SERVER_URL"]
        == f"http://{platform.name}-file-server.{platform.namespace}.svc:3000"
    )


def test_checksum_changes_with_the_data() -> None:
    first = configmap.file_server_configmap(make_sora_deployment("dev"))
    second = configmap.file_server_configmap(
        make_sora_deployment("dev", fileServer={"cacheSize": "2Gi"})
    )
    assert configmap.checksum(first) != configmap.checksum(second)


def test_checksum_is_stable_for_equal_data() -> None:
    assert configmap.checksum(
        configmap.file_server_configmap(make_sora_deployment("dev"))
    ) == configmap.checksum(configmap.file_server_configmap(make_sora_deployment("dev")))


# -- Secret ---------------------------------------------------------------------------


def test_generated_secret_holds_exactly_the_values_passed_in() -> None:
    manifest = secret.generated_secret(make_sora_deployment("dev"), SECRET_VALUES)
    assert manifest["stringData"] == SECRET_VALUES


def test_generated_secret_refuses_missing_values() -> None:
    with pytest.raises(ValueError, match="IP_SALT"):
        secret.generated_secret(make_sora_deployment("dev"), {**SECRET_VALUES, "IP_SALT": ""})


def test_generated_secret_outlives_the_deployment_when_the_database_is_kept() -> None:
    manifest = secret.generated_secret(make_sora_deployment("dev"), SECRET_VALUES)
    assert "ownerReferences" not in manifest["metadata"]


def test_generated_secret_is_deleted_with_the_deployment_when_the_database_is() -> None:
    platform = make_sora_deployment("dev", feedbackApi={"database": {"retainOnDelete": False}})
    assert secret.generated_secret(platform, SECRET_VALUES)["metadata"]["ownerReferences"]


# -- ServiceAccounts ------------------------------------------------------------------


def test_file_server_account_carries_the_irsa_annotation() -> None:
    role = {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/files"}
    platform = make_sora_deployment("dev", fileServer={"serviceAccount": {"annotations": role}})
    account = serviceaccounts.file_server_service_account(platform)
    assert account["metadata"]["annotations"] == role


def test_feedback_api_account_does_not_share_the_file_servers_role() -> None:
    role = {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/files"}
    platform = make_sora_deployment("dev", fileServer={"serviceAccount": {"annotations": role}})
    account = serviceaccounts.feedback_api_service_account(platform)
    assert "annotations" not in account["metadata"]


def test_service_accounts_mount_no_token() -> None:
    account = serviceaccounts.feedback_api_service_account(make_sora_deployment("dev"))
    assert account["automountServiceAccountToken"] is False


# -- Database claim -------------------------------------------------------------------


def test_database_claim_has_no_owner_when_retained() -> None:
    assert "ownerReferences" not in pvc.database_claim(make_sora_deployment("dev"))["metadata"]


def test_database_claim_is_owned_when_not_retained() -> None:
    platform = make_sora_deployment("dev", feedbackApi={"database": {"retainOnDelete": False}})
    assert pvc.database_claim(platform)["metadata"]["ownerReferences"][0]["name"] == "shop"


def test_database_claim_is_a_single_node_volume_of_the_requested_size() -> None:
    platform = make_sora_deployment(
        "dev", feedbackApi={"database": {"size": "5Gi", "storageClassName": "gp3"}}
    )
    spec = pvc.database_claim(platform)["spec"]
    assert spec == {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "5Gi"}},
        "storageClassName": "gp3",
    }


def test_database_claim_leaves_the_class_to_the_cluster_default_when_unset() -> None:
    assert "storageClassName" not in pvc.database_claim(make_sora_deployment("dev"))["spec"]


# -- Services -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "port"),
    [
        (service_builders.file_server_service, 3000),
        (service_builders.feedback_api_service, 3001),
    ],
)
def test_services_expose_the_seeds_ports_by_name(build: Any, port: int) -> None:
    (service_port,) = build(make_sora_deployment("dev"))["spec"]["ports"]
    assert (service_port["port"], service_port["targetPort"]) == (port, "http")


def test_service_selects_only_its_components_pods() -> None:
    selector = service_builders.feedback_api_service(make_sora_deployment("dev"))["spec"][
        "selector"
    ]
    assert selector == {
        "app.kubernetes.io/name": "sora-feedback-api",
        "app.kubernetes.io/instance": "shop",
    }


# -- NetworkPolicies ------------------------------------------------------------------


def _rule(policy: dict[str, Any]) -> dict[str, Any]:
    (rule,) = policy["spec"]["ingress"]
    return dict(rule)


def test_policy_admits_only_the_service_port() -> None:
    rule = _rule(networkpolicies.feedback_api_policy(make_sora_deployment("dev")))
    assert rule["ports"] == [{"protocol": "TCP", "port": 3001}]


def test_without_ingress_only_the_platforms_own_pods_are_admitted() -> None:
    rule = _rule(
        networkpolicies.feedback_api_policy(make_sora_deployment("dev", ingress={"enabled": False}))
    )
    assert rule["from"] == [
        {
            "podSelector": {
                "matchLabels": {
                    "app.kubernetes.io/instance": "shop",
                    "app.kubernetes.io/part-of": "sora",
                }
            }
        }
    ]


def test_feedback_api_admits_no_other_namespace() -> None:
    rule = _rule(
        networkpolicies.feedback_api_policy(make_sora_deployment("dev", ingress={"enabled": False}))
    )
    assert not any("namespaceSelector" in peer for peer in rule["from"])


def test_load_balancer_cidrs_are_admitted_besides_own_pods() -> None:
    platform = make_sora_deployment("dev", ingress={"sourceCidrs": ["10.0.0.0/24", "10.0.1.0/24"]})
    peers = _rule(networkpolicies.file_server_policy(platform))["from"]
    assert peers[1:] == [{"ipBlock": {"cidr": "10.0.0.0/24"}}, {"ipBlock": {"cidr": "10.0.1.0/24"}}]


def test_ingress_without_known_cidrs_admits_any_source_on_the_port() -> None:
    rule = _rule(networkpolicies.file_server_policy(make_sora_deployment("dev")))
    assert "from" not in rule
    assert rule["ports"] == [{"protocol": "TCP", "port": 3000}]


def test_policies_restrict_ingress_only() -> None:
    policy = networkpolicies.file_server_policy(make_sora_deployment("dev"))
    assert policy["spec"]["policyTypes"] == ["Ingress"]


# -- PodDisruptionBudgets -------------------------------------------------------------


FIXED_REPLICAS = {"autoscaling": {"enabled": False}}


def test_several_file_servers_keep_at_least_one_during_disruptions() -> None:
    budget = pdb.file_server_budget(make_sora_deployment("prod", fileServer=FIXED_REPLICAS))
    assert budget is not None
    assert budget["spec"]["minAvailable"] == 1
    assert budget["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow"


def test_a_single_file_server_gets_no_budget_that_would_block_drains() -> None:
    assert pdb.file_server_budget(make_sora_deployment("dev", fileServer=FIXED_REPLICAS)) is None


def test_an_autoscaled_file_server_gets_a_budget() -> None:
    # Autoscaling is the default in every environment, as in the seed.
    assert pdb.file_server_budget(make_sora_deployment("dev"))


def test_several_admin_panels_keep_one_and_a_single_one_gets_no_budget() -> None:
    budget = pdb.admin_budget(make_sora_deployment("prod", admin={"enabled": True, "replicas": 2}))
    assert budget is not None
    assert budget["spec"]["minAvailable"] == 1
    assert budget["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] == "sora-admin"
    assert pdb.admin_budget(make_sora_deployment("prod", admin={"enabled": True})) is None
    assert (
        pdb.admin_budget(make_sora_deployment("prod", admin={"enabled": False, "replicas": 2}))
        is None
    )


# -- The whole desired state ----------------------------------------------------------


def test_desired_state_has_every_child_of_a_prod_platform() -> None:
    kinds = sorted(ref_of(m).kind for m in desired_state(make_sora_deployment("prod")).manifests)
    assert kinds == sorted(
        ["ServiceAccount"] * 2
        + ["ConfigMap"] * 2
        + ["PersistentVolumeClaim"]
        + ["Service"] * 2
        + ["Deployment"] * 2
        + ["NetworkPolicy"] * 2
        + ["PodDisruptionBudget", "Ingress", "HorizontalPodAutoscaler"]
    )


def test_turned_off_children_are_listed_as_absent() -> None:
    state = desired_state(
        make_sora_deployment("dev", ingress={"enabled": False}, fileServer=FIXED_REPLICAS)
    )
    assert set(state.absent) == {
        ObjectRef("Ingress", "sora-prod", "shop"),
        ObjectRef("PodDisruptionBudget", "sora-prod", "shop-file-server"),
        ObjectRef("PodDisruptionBudget", "sora-prod", "shop-admin"),
        ObjectRef("HorizontalPodAutoscaler", "sora-prod", "shop-file-server"),
        ObjectRef("PodDisruptionBudget", "sora-prod", "shop-feedback-api"),
        ObjectRef("HorizontalPodAutoscaler", "sora-prod", "shop-feedback-api"),
        ObjectRef("ServiceAccount", "sora-prod", "shop-backup"),
        ObjectRef("CronJob", "sora-prod", "shop-backup"),
        ObjectRef("ServiceMonitor", "sora-prod", "shop-file-server"),
        ObjectRef("ServiceMonitor", "sora-prod", "shop-feedback-api"),
        ObjectRef("ServiceMonitor", "sora-prod", "shop-admin"),
        ObjectRef("PrometheusRule", "sora-prod", "shop"),
        ObjectRef("ConfigMap", "sora-prod", "shop-dashboard"),
        ObjectRef("ServiceAccount", "sora-prod", "shop-admin"),
        ObjectRef("Service", "sora-prod", "shop-admin"),
        ObjectRef("Deployment", "sora-prod", "shop-admin"),
        ObjectRef("NetworkPolicy", "sora-prod", "shop-admin"),
    }


def test_the_claim_comes_before_the_pod_that_mounts_it() -> None:
    kinds = [ref_of(m).kind for m in desired_state(make_sora_deployment("dev")).manifests]
    assert kinds.index("PersistentVolumeClaim") < kinds.index("Deployment")


def test_every_child_lives_in_the_soradeployments_namespace() -> None:
    assert {ref_of(m).namespace for m in desired_state(make_sora_deployment("prod")).manifests} == {
        "sora-prod"
    }


def test_every_child_is_labelled_as_managed_by_the_operator() -> None:
    for manifest in desired_state(make_sora_deployment("prod")).manifests:
        assert manifest["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "sora-operator"
        assert manifest["metadata"]["labels"]["app.kubernetes.io/instance"] == "shop"
