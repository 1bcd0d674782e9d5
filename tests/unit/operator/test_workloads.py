"""The file server and feedback API Deployments: shape, wiring and rollout behaviour."""

from __future__ import annotations

from typing import Any

import pytest

from sora_contract import layout
from sora_operator.builders.feedback import feedback_api_deployment
from sora_operator.builders.fileserver import file_server_deployment
from sora_operator.builders.pods import CONFIG_CHECKSUM_ANNOTATION, LOG_RETENTION_ANNOTATION
from tests.unit.operator.factories import container, env_value, make_sora_deployment, pod_spec


def _mounts(deployment: dict[str, Any]) -> dict[str, str]:
    return {m["mountPath"]: m["name"] for m in container(deployment)["volumeMounts"]}


def _volumes(deployment: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in pod_spec(deployment)["volumes"]}


def test_file_server_runs_the_file_server_on_port_3000() -> None:
    deployment = file_server_deployment(make_sora_deployment("dev"), "abc")
    assert container(deployment)["command"] == ["sora-file-server"]
    assert container(deployment)["ports"][0]["containerPort"] == 3000
    assert env_value(deployment, "PORT") == "3000"


def test_file_server_replicas_follow_the_spec_without_autoscaling() -> None:
    platform = make_sora_deployment("prod", fileServer={"autoscaling": {"enabled": False}})
    assert file_server_deployment(platform, "abc")["spec"]["replicas"] == 2


def test_file_server_leaves_replicas_to_the_autoscaler_by_default() -> None:
    assert "replicas" not in file_server_deployment(make_sora_deployment("prod"), "abc")["spec"]


def test_file_server_rolls_out_without_dropping_below_the_desired_count() -> None:
    strategy = file_server_deployment(make_sora_deployment("prod"), "abc")["spec"]["strategy"]
    assert strategy == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
    }


def test_file_server_reads_ip_salt_from_the_secret() -> None:
    deployment = file_server_deployment(make_sora_deployment("dev"), "abc")
    assert env_value(deployment, "IP_SALT") == {
        "secretKeyRef": {"name": "shop-secrets", "key": "IP_SALT"}
    }


def test_file_server_takes_its_settings_from_its_configmap() -> None:
    deployment = file_server_deployment(make_sora_deployment("dev"), "abc")
    assert container(deployment)["envFrom"] == [{"configMapRef": {"name": "shop-file-server"}}]


def test_pod_template_carries_the_config_checksum_so_changes_roll_out() -> None:
    template = file_server_deployment(make_sora_deployment("dev"), "c0ffee")["spec"]["template"]
    assert template["metadata"]["annotations"][CONFIG_CHECKSUM_ANNOTATION] == "c0ffee"


def test_pod_template_publishes_the_log_retention_for_the_log_shipper() -> None:
    template = feedback_api_deployment(make_sora_deployment("prod"), "abc")["spec"]["template"]
    assert template["metadata"]["annotations"][LOG_RETENTION_ANNOTATION] == "30"


def test_sample_catalog_is_written_by_an_init_container_into_an_emptydir() -> None:
    deployment = file_server_deployment(make_sora_deployment("dev"), "abc")
    (init,) = pod_spec(deployment)["initContainers"]
    assert init["command"][-1] == layout.CATALOG_DIR
    assert "emptyDir" in _volumes(deployment)["catalog"]


def test_catalog_claim_is_mounted_read_only_without_an_init_container() -> None:
    platform = make_sora_deployment(
        "dev", fileServer={"storage": {"local": {"claimName": "catalog"}}}
    )
    deployment = file_server_deployment(platform, "abc")
    assert "initContainers" not in pod_spec(deployment)
    assert _volumes(deployment)["catalog"]["persistentVolumeClaim"] == {
        "claimName": "catalog",
        "readOnly": True,
    }


def test_s3_storage_mounts_no_catalog_volume() -> None:
    platform = make_sora_deployment(
        "dev", fileServer={"storage": {"type": "s3", "s3": {"bucket": "cat"}}}
    )
    assert "catalog" not in _volumes(file_server_deployment(platform, "abc"))


def test_cache_emptydir_is_a_quarter_larger_than_the_cache() -> None:
    platform = make_sora_deployment("dev", fileServer={"cacheSize": "1Gi"})
    cache = _volumes(file_server_deployment(platform, "abc"))["cache"]
    assert cache["emptyDir"]["sizeLimit"] == "1280Mi"


def test_file_server_spreads_over_zones_and_nodes_without_blocking_scheduling() -> None:
    spread = pod_spec(file_server_deployment(make_sora_deployment("prod"), "abc"))[
        "topologySpreadConstraints"
    ]
    assert [c["topologyKey"] for c in spread] == [
        "topology.kubernetes.io/zone",
        "kubernetes.io/hostname",
    ]
    assert {c["whenUnsatisfiable"] for c in spread} == {"ScheduleAnyway"}


def test_feedback_api_recreates_its_single_pod_instead_of_rolling() -> None:
    deployment = feedback_api_deployment(make_sora_deployment("prod"), "abc")
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    assert deployment["spec"]["replicas"] == 1


def test_feedback_api_can_be_stopped_with_zero_replicas() -> None:
    platform = make_sora_deployment("dev", feedbackApi={"replicas": 0})
    assert feedback_api_deployment(platform, "abc")["spec"]["replicas"] == 0


def test_feedback_api_mounts_its_claim_at_the_database_directory() -> None:
    deployment = feedback_api_deployment(make_sora_deployment("dev"), "abc")
    assert _mounts(deployment)[layout.DATA_DIR] == "database"
    assert _volumes(deployment)["database"]["persistentVolumeClaim"] == {
        "claimName": "shop-feedback-db"
    }


def test_feedback_api_database_path_is_inside_the_mounted_volume() -> None:
    assert layout.DATABASE_PATH.startswith(layout.DATA_DIR + "/")


@pytest.mark.parametrize("key", ["ENCRYPTION_KEY", "IP_SALT", "ADMIN_TOKEN"])
def test_feedback_api_reads_each_secret_key_from_the_secret(key: str) -> None:
    deployment = feedback_api_deployment(make_sora_deployment("dev"), "abc")
    assert env_value(deployment, key) == {"secretKeyRef": {"name": "shop-secrets", "key": key}}


def test_feedback_api_runs_on_port_3001() -> None:
    deployment = feedback_api_deployment(make_sora_deployment("dev"), "abc")
    assert container(deployment)["ports"][0]["containerPort"] == 3001
    assert env_value(deployment, "PORT") == "3001"


def test_image_pull_secrets_reach_the_pods() -> None:
    platform = make_sora_deployment("dev", image={"pullSecrets": ["registry"]})
    assert pod_spec(feedback_api_deployment(platform, "abc"))["imagePullSecrets"] == [
        {"name": "registry"}
    ]


def test_selector_uses_only_name_and_instance_labels() -> None:
    selector = file_server_deployment(make_sora_deployment("dev"), "abc")["spec"]["selector"][
        "matchLabels"
    ]
    assert selector == {
        "app.kubernetes.io/name": "sora-file-server",
        "app.kubernetes.io/instance": "shop",
    }


def test_every_child_is_owned_by_its_soradeployment() -> None:
    (owner,) = file_server_deployment(make_sora_deployment("dev"), "abc")["metadata"][
        "ownerReferences"
    ]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("SoraDeployment", "shop", True)
