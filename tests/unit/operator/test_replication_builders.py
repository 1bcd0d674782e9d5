"""spec.backup.continuous, spec.restore.toTime, the Litestream sidecar and status.replication."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from sora_contract import layout
from sora_operator.backups.restore import (
    RestoreFacts,
    finish_restore,
    restore_result,
    restore_step,
)
from sora_operator.builders.configmap import feedback_api_configmap
from sora_operator.builders.feedback import feedback_api_deployment
from sora_operator.builders.networkpolicies import feedback_api_policy
from sora_operator.builders.restore import restore_job
from sora_operator.replication import Reading, observe_replication, replication_status
from sora_operator.spec import Restore, SpecError
from tests.unit.operator.factories import make_sora_deployment, pod_spec

BUCKET = {"bucket": "shop-backups"}
NOW = datetime(2026, 11, 28, 9, 0, 30, tzinfo=UTC)


def _sidecar(deployment: dict[str, Any]) -> dict[str, Any] | None:
    sidecars = pod_spec(deployment).get("initContainers") or []
    return sidecars[0] if sidecars else None


def test_prod_with_backups_replicates_continuously_by_default() -> None:
    assert make_sora_deployment("prod", backup=BUCKET).backup.continuous
    assert not make_sora_deployment("staging", backup=BUCKET).backup.continuous
    assert not make_sora_deployment("prod").backup.continuous
    assert not make_sora_deployment("prod", backup={**BUCKET, "enabled": False}).backup.continuous
    assert make_sora_deployment("dev", backup={**BUCKET, "continuous": True}).backup.continuous


def test_the_replica_has_its_own_prefix() -> None:
    assert make_sora_deployment("prod", backup=BUCKET).backup.replica_prefix == "replica/prod/"
    with pytest.raises(SpecError, match=r"overlaps backup\.prefix"):
        make_sora_deployment("prod", backup={**BUCKET, "replicaPrefix": "database/prod/wal/"})


def test_a_restore_to_a_moment_reads_the_prefix_the_sidecar_writes() -> None:
    # Found on real pods: the restore Job looked under sora-backup's default prefix.
    platform = make_sora_deployment("dev", backup={**BUCKET, "continuous": True})
    sidecar = _sidecar(feedback_api_deployment(platform, "c"))
    assert sidecar is not None
    job = restore_job(platform, Restore("r1", "latest", "2026-11-28T09:00:00Z"))
    (container,) = job["spec"]["template"]["spec"]["containers"]
    restore_env = {item["name"]: item["value"] for item in container["env"]}
    sidecar_env = {item["name"]: item["value"] for item in sidecar["env"]}
    assert restore_env["BACKUP_REPLICA_PREFIX"] == sidecar_env["BACKUP_REPLICA_PREFIX"]
    assert restore_env["BACKUP_REPLICA_PREFIX"] == "replica/dev/"


def test_continuous_replication_needs_a_bucket() -> None:
    with pytest.raises(SpecError, match=r"backup\.continuous requires backup\.bucket"):
        make_sora_deployment("dev", backup={"continuous": True})


def test_the_sidecar_runs_sora_backup_replicate_on_the_database_volume() -> None:
    deployment = feedback_api_deployment(make_sora_deployment("prod", backup=BUCKET), "c")
    sidecar = _sidecar(deployment)
    assert sidecar is not None
    assert sidecar["command"] == ["sora-backup", "replicate"]
    assert sidecar["restartPolicy"] == "Always"  # a native sidecar: up before, down after
    env = {item["name"]: item["value"] for item in sidecar["env"]}
    assert env["BACKUP_REPLICA_PREFIX"] == "replica/prod/"
    assert env["BACKUP_BUCKET"] == "shop-backups"
    assert env["DATABASE_PATH"] == layout.DATABASE_PATH
    assert "BACKUP_RESULT_FILE" not in env
    assert {"name": "database", "mountPath": layout.DATA_DIR} in sidecar["volumeMounts"]
    assert sidecar["ports"][0]["containerPort"] == layout.REPLICATION_METRICS_PORT
    assert sidecar["securityContext"]["readOnlyRootFilesystem"]


def test_with_the_sidecar_the_pod_runs_as_the_backups_account() -> None:
    replicated = pod_spec(feedback_api_deployment(make_sora_deployment("prod", backup=BUCKET), "c"))
    plain = pod_spec(feedback_api_deployment(make_sora_deployment("staging", backup=BUCKET), "c"))
    assert replicated["serviceAccountName"] == "shop-backup"
    assert plain["serviceAccountName"] == "shop-feedback-api"
    assert "initContainers" not in plain


def test_beside_litestream_the_feedback_api_leaves_wal_checkpoints_to_it() -> None:
    replicated = feedback_api_configmap(make_sora_deployment("prod", backup=BUCKET))["data"]
    plain = feedback_api_configmap(make_sora_deployment("staging", backup=BUCKET))["data"]
    assert replicated["SQLITE_WAL_AUTOCHECKPOINT"] == "0"
    assert "SQLITE_WAL_AUTOCHECKPOINT" not in plain


def test_a_restore_to_a_time_comes_from_the_replica() -> None:
    parsed = make_sora_deployment(
        "prod", backup=BUCKET, restore={"requestId": "r1", "toTime": "2026-11-28T18:15:00+09:00"}
    )
    assert parsed.restore == Restore("r1", "replica", "2026-11-28T09:15:00Z")
    assert parsed.restore is not None
    job = restore_job(parsed, parsed.restore)
    command = job["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command == [
        "sora-backup",
        "restore",
        "--from",
        "replica",
        "--to-time",
        "2026-11-28T09:15:00Z",
    ]


@pytest.mark.parametrize(
    ("restore", "message"),
    [
        ({"requestId": "r", "toTime": "2026-11-28T09:15:00"}, "needs an offset"),
        ({"requestId": "r", "toTime": "noon"}, "not an RFC 3339 time"),
        ({"requestId": "r", "toTime": "2026-11-28T09:15:00Z", "from": "k.db.gz"}, "leave out"),
    ],
)
def test_a_restore_time_that_cannot_be_used_is_refused(
    restore: dict[str, str], message: str
) -> None:
    with pytest.raises(SpecError, match=message):
        make_sora_deployment("prod", backup=BUCKET, restore=restore)


def _pod(phase: str = "Running", ip: str | None = "10.0.0.7") -> dict[str, Any]:
    return {
        "metadata": {
            "name": "shop-feedback-api-1",
            "labels": {"app.kubernetes.io/component": "feedback-api"},
        },
        "status": {"phase": phase, **({"podIP": ip} if ip else {})},
    }


def test_the_sidecar_of_the_running_pod_is_read() -> None:
    asked: list[str] = []

    def scrape(url: str) -> str:
        asked.append(url)
        return (
            "sora_replication_lag_seconds 0.4\n"
            "sora_replication_last_probe_timestamp_seconds 1.8e9\n"
        )

    reading = observe_replication([_pod("Pending", None), _pod()], scrape)
    assert asked == ["http://10.0.0.7:9092/metrics"]
    assert reading == Reading(
        "shop-feedback-api-1", {"lag_seconds": 0.4, "last_probe_timestamp_seconds": 1.8e9}
    )


def test_an_unreachable_sidecar_is_a_reading_with_its_reason() -> None:
    def scrape(url: str) -> str:
        raise OSError("connection refused")

    assert (
        "sidecar not reachable: connection refused" in observe_replication([_pod()], scrape).error
    )
    assert observe_replication([], scrape).error == "no running feedback API pod"


def test_the_lag_in_the_status_grows_with_the_age_of_the_measurement() -> None:
    probed = datetime(2026, 11, 28, 9, 0, 27, tzinfo=UTC).timestamp()
    reading = Reading(
        "p", {"lag_seconds": 0.5, "last_probe_timestamp_seconds": probed, "replica_txid": 42}
    )
    status = replication_status(reading, None, NOW)
    assert status["lagSeconds"] == 3.5
    assert (status["measuredAt"], status["replicaTxid"], status["message"]) == (
        "2026-11-28T09:00:27Z",
        42,
        "",
    )


def test_without_a_new_measurement_the_last_one_keeps_ageing() -> None:
    previous = {"measuredAt": "2026-11-28T08:58:30Z", "measuredLagSeconds": 1.0, "replicaTxid": 7}
    status = replication_status(Reading("p", {}, "sidecar not reachable: timeout"), previous, NOW)
    assert status["lagSeconds"] == 121.0
    assert status["message"] == "sidecar not reachable: timeout"
    assert "lagSeconds" not in replication_status(Reading(None, {}, "no pod"), None, NOW)


def test_a_restore_to_a_time_carries_the_time_through_its_phases_into_last_restore() -> None:
    parsed = make_sora_deployment(
        "prod", backup=BUCKET, restore={"requestId": "r1", "toTime": "2026-11-28T09:15:00Z"}
    )
    started = restore_step(parsed, {}, RestoreFacts(), "2026-11-28T10:00:00Z")
    assert started.start_job == Restore("r1", "replica", "2026-11-28T09:15:00Z")
    assert started.progress is not None
    assert started.progress["message"] == "Restoring from replica to 2026-11-28T09:15:00Z"
    _, last = finish_restore(
        {**started.progress, "phase": "ScalingUp", "result": "restored"},
        True,
        "2026-11-28T10:01:00Z",
    )
    assert last is not None
    assert (last["from"], last["toTime"]) == ("replica", "2026-11-28T09:15:00Z")


def test_a_restored_moment_is_named_as_it_was_asked() -> None:
    outcome = {"from": "replica", "to_time": "2026-11-28T09:15:00+00:00", "rows": 3}
    pod = {
        "status": {
            "containerStatuses": [
                {"name": "restore", "state": {"terminated": {"message": json.dumps(outcome)}}}
            ]
        }
    }
    facts = restore_result("success", {}, [pod], "2026-11-28T09:15:00Z")
    assert facts["message"] == "Restored the replica at 2026-11-28T09:15:00Z (3 rows)"
    newest = restore_result("success", {}, [pod])
    assert newest["message"] == "Restored the replica at 2026-11-28T09:15:00+00:00 (3 rows)"


def test_the_operator_may_read_the_sidecars_port_and_nothing_else_opens() -> None:

    replicated = feedback_api_policy(make_sora_deployment("prod", backup=BUCKET))["spec"]["ingress"]
    plain = feedback_api_policy(make_sora_deployment("staging", backup=BUCKET))["spec"]["ingress"]
    assert len(plain) == 1
    (extra,) = [rule for rule in replicated if rule not in plain]
    assert extra["ports"] == [{"protocol": "TCP", "port": layout.REPLICATION_METRICS_PORT}]
    assert extra["from"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == (
        "operator"
    )


def test_an_existing_secret_is_the_platform_secret_and_excludes_secret_name() -> None:
    parsed = make_sora_deployment("prod", feedbackApi={"existingSecret": "sora-keys"})
    assert (parsed.feedback_api.secret_name, parsed.feedback_api.secret_is_external) == (
        "sora-keys",
        True,
    )
    assert not make_sora_deployment("prod").feedback_api.secret_is_external
    with pytest.raises(SpecError, match="name one of them"):
        make_sora_deployment("prod", feedbackApi={"existingSecret": "a", "secretName": "b"})
