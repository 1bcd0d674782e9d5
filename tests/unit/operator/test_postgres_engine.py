"""spec.feedbackApi.database.engine postgresql: what the operator builds and refuses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from sora_operator.backups.health import BY_DATABASE_REASON, backup_condition
from sora_operator.builders import configmap, feedback, hpa, pdb
from sora_operator.builders.desired import desired_state
from sora_operator.objects import ObjectRef, ref_of
from sora_operator.schedules import Bounds
from sora_operator.spec import SpecError, engine_change_refusal
from tests.unit.operator.factories import make_sora_deployment

URL_SECRET = {"name": "shop-database", "key": "url"}
POSTGRESQL = {"engine": "postgresql", "urlSecretRef": URL_SECRET}
BACKUP = {"bucket": "sora-backups"}


def on_postgresql(environment: str = "prod", **feedback_api: Any) -> Any:
    return make_sora_deployment(
        environment, feedbackApi={"database": POSTGRESQL, **feedback_api}, backup=BACKUP
    )


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = deployment["spec"]["template"]["spec"]["containers"][0]
    return container


def test_the_feedback_api_reads_its_database_url_from_the_named_secret() -> None:
    deployment = feedback.feedback_api_deployment(on_postgresql(), "checksum")
    env = {item["name"]: item for item in _container(deployment)["env"]}
    assert env["DATABASE_URL"]["valueFrom"] == {"secretKeyRef": URL_SECRET}
    assert "DATABASE_PATH" not in configmap.feedback_api_configmap(on_postgresql())["data"]


def test_on_postgresql_there_is_no_volume_and_pods_roll_and_spread() -> None:
    deployment = feedback.feedback_api_deployment(on_postgresql(), "checksum")
    pod = deployment["spec"]["template"]["spec"]
    assert [volume["name"] for volume in pod["volumes"]] == ["tmp"]
    assert deployment["spec"]["strategy"]["rollingUpdate"] == {"maxUnavailable": 0, "maxSurge": 1}
    assert {c["topologyKey"] for c in pod["topologySpreadConstraints"]} == {
        "topology.kubernetes.io/zone",
        "kubernetes.io/hostname",
    }


def test_prod_on_postgresql_runs_two_replicas_by_default_with_a_budget() -> None:
    platform = on_postgresql()
    assert feedback.feedback_api_deployment(platform, "c")["spec"]["replicas"] == 2
    budget = pdb.feedback_api_budget(platform)
    assert budget is not None
    assert budget["spec"]["minAvailable"] == 1


def test_the_feedback_api_autoscales_like_the_file_server_on_postgresql() -> None:
    platform = on_postgresql(autoscaling={"enabled": True})
    scaling = platform.feedback_api.autoscaling
    assert (scaling.min_replicas, scaling.max_replicas) == (2, 10)
    assert "replicas" not in feedback.feedback_api_deployment(platform, "c")["spec"]
    scaler = hpa.feedback_api_autoscaler(platform, Bounds(2, 10))
    file_server = hpa.file_server_autoscaler(
        make_sora_deployment("prod", fileServer={"autoscaling": {"enabled": True}}), Bounds(2, 10)
    )
    assert scaler is not None
    assert file_server is not None
    assert scaler["spec"]["scaleTargetRef"]["name"] == "shop-feedback-api"
    assert scaler["spec"]["behavior"] == file_server["spec"]["behavior"]
    assert scaler["spec"]["metrics"] == file_server["spec"]["metrics"]
    assert pdb.feedback_api_budget(platform)["spec"] == {  # type: ignore[index]
        "maxUnavailable": 1,
        "selector": {"matchLabels": {"app.kubernetes.io/name": "sora-feedback-api",
                                     "app.kubernetes.io/instance": "shop"}},
        "unhealthyPodEvictionPolicy": "AlwaysAllow",
    }  # fmt: skip


def test_no_claim_is_applied_and_the_sqlite_backup_cronjob_goes() -> None:
    state = desired_state(on_postgresql())
    kinds = [ref_of(manifest).kind for manifest in state.manifests]
    assert "PersistentVolumeClaim" not in kinds
    assert ObjectRef("CronJob", "sora-prod", "shop-backup") in state.absent
    # the volume of a platform that moved is neither applied nor deleted: the way back
    assert not [ref for ref in state.absent if ref.kind == "PersistentVolumeClaim"]


def test_backups_are_reported_as_the_databases() -> None:
    condition = backup_condition(on_postgresql(), None, None, datetime.now(UTC))
    assert condition is not None
    assert (condition["status"], condition["reason"]) == ("True", BY_DATABASE_REASON)


def test_postgresql_without_a_url_secret_is_refused_by_name() -> None:
    with pytest.raises(SpecError, match=r"database\.urlSecretRef\.name"):
        make_sora_deployment("prod", feedbackApi={"database": {"engine": "postgresql"}})


def test_several_replicas_on_sqlite_are_still_refused() -> None:
    with pytest.raises(SpecError, match="SQLite has a single writer"):
        make_sora_deployment("prod", feedbackApi={"replicas": 3})
    with pytest.raises(SpecError, match="SQLite has a single writer"):
        make_sora_deployment("prod", feedbackApi={"autoscaling": {"enabled": True}})


def test_a_restore_request_on_postgresql_is_refused() -> None:
    with pytest.raises(SpecError, match="point-in-time recovery"):
        make_sora_deployment(
            "prod",
            feedbackApi={"database": POSTGRESQL},
            backup=BACKUP,
            restore={"requestId": "r1"},
        )


def test_continuous_replication_is_off_on_postgresql_and_refused_when_asked_for() -> None:
    # prod with a bucket replicates continuously on SQLite; on PostgreSQL there is no file
    deployment = on_postgresql("prod")
    assert not deployment.backup.continuous
    pod = feedback.feedback_api_deployment(deployment, "checksum")["spec"]["template"]["spec"]
    assert "initContainers" not in pod
    assert "SQLITE_WAL_AUTOCHECKPOINT" not in configmap.feedback_api_configmap(deployment)["data"]
    with pytest.raises(SpecError, match="on PostgreSQL there is no SQLite file"):
        make_sora_deployment(
            "prod",
            feedbackApi={"database": POSTGRESQL},
            backup={**BACKUP, "continuous": True},
        )


def test_a_point_in_time_restore_on_postgresql_is_refused() -> None:
    with pytest.raises(SpecError, match="point-in-time recovery"):
        make_sora_deployment(
            "prod",
            feedbackApi={"database": POSTGRESQL},
            backup=BACKUP,
            restore={"requestId": "r1", "toTime": "2026-11-28T09:00:00Z"},
        )


def test_an_existing_secret_and_a_database_url_secret_coexist() -> None:
    deployment = on_postgresql("prod", existingSecret="shop-keys")
    assert deployment.feedback_api.secret_name == "shop-keys"
    assert deployment.feedback_api.secret_is_external
    url = deployment.feedback_api.database.url_secret
    assert url is not None
    assert url.name == URL_SECRET["name"]


def test_a_change_of_engine_is_refused_until_the_data_is_said_to_be_copied() -> None:
    refusal = engine_change_refusal(on_postgresql(), "sqlite")
    assert refusal is not None
    assert "copy-to-postgres" in refusal
    assert "dataCopied: true" in refusal
    copied = make_sora_deployment(
        "prod", feedbackApi={"database": {**POSTGRESQL, "dataCopied": True}}, backup=BACKUP
    )
    assert engine_change_refusal(copied, "sqlite") is None
    assert engine_change_refusal(on_postgresql(), "postgresql") is None
    assert engine_change_refusal(on_postgresql(), None) is None  # a new platform
