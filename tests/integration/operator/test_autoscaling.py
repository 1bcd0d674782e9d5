"""Autoscaling on the real control plane, with the operator as a real process.

The operator's clock is moved with SORA_OPERATOR_CLOCK_OFFSET_SECONDS (a test hook,
clock.py) to put it in a chosen scaling window; restarting it with another offset
also shows that the window is derived from the clock, not remembered.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml

from sora_operator.hpa_handover import HANDOVER_MANAGER, owns_replicas
from sora_operator.kube import KubeClient
from sora_operator.objects import ObjectRef
from tests.integration.operator.conftest import OperatorAccess, StartOperator
from tests.integration.operator.support import sora_deployment
from tests.plugins.kube import KubeCluster
from tests.support.polling import wait_for

NAME = "scaled"
SEED_SCHEDULES = [
    {
        "name": "evening",
        "cron": "0 22 * * *",
        "timeZone": "UTC",
        "minReplicas": 1,
        "maxReplicas": 5,
    },
    {
        "name": "morning",
        "cron": "0 6 * * *",
        "timeZone": "UTC",
        "minReplicas": 2,
        "maxReplicas": 10,
    },
]


def _offset_to(hour: int) -> str:
    """Seconds to add to the real clock so that it reads ``hour``:00 UTC today."""
    now = datetime.now(UTC)
    return str(
        round((now.replace(hour=hour, minute=0, second=0, microsecond=0) - now).total_seconds())
    )


def _offset_to_wednesday(hour: int) -> str:
    """Seconds to add to the real clock so that it reads this week's Wednesday, ``hour``:00 UTC
    (the prod night window fires on weekdays only)."""
    now = datetime.now(UTC)
    wednesday = now + timedelta(days=2 - now.weekday())
    moment = wednesday.replace(hour=hour, minute=0, second=0, microsecond=0)
    return str(round((moment - now).total_seconds()))


def _apply(kube_cluster: KubeCluster, namespace: str, file_server: dict[str, Any]) -> None:
    kube_cluster.apply(
        sora_deployment(NAME, namespace, {"environment": "dev", "fileServer": file_server})
    )


def _apply_spec(kube_cluster: KubeCluster, namespace: str, spec: dict[str, Any]) -> None:
    kube_cluster.apply(sora_deployment(NAME, namespace, spec))


def _hpa(admin: KubeClient, namespace: str) -> dict[str, Any] | None:
    return admin.get(ObjectRef("HorizontalPodAutoscaler", namespace, f"{NAME}-file-server"))


def _deployment(admin: KubeClient, namespace: str) -> dict[str, Any] | None:
    return admin.get(ObjectRef("Deployment", namespace, f"{NAME}-file-server"))


def _bounds(admin: KubeClient, namespace: str, expected: tuple[int, int]) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        found = _hpa(admin, namespace)
        spec = (found or {}).get("spec") or {}
        return found if (spec.get("minReplicas"), spec.get("maxReplicas")) == expected else None

    return wait_for(check, 60, f"the HPA to scale between {expected}")


def _status(admin: KubeClient, namespace: str) -> dict[str, Any]:
    body = admin.get(ObjectRef("SoraDeployment", namespace, NAME)) or {}
    return dict((body.get("status") or {}).get("autoscaling") or {})


def _operator_owns_replicas(deployment: dict[str, Any]) -> bool:
    return any(
        entry.get("manager") == "sora-operator"
        and "f:replicas" in ((entry.get("fieldsV1") or {}).get("f:spec") or {})
        for entry in deployment["metadata"].get("managedFields") or []
    )


@pytest.mark.parametrize("environment", ["dev", "staging"])
def test_a_platform_without_autoscaling_values_autoscales_one_to_three(
    kube_cluster: KubeCluster,
    admin: KubeClient,
    start_operator: StartOperator,
    kube_namespace: str,
    environment: str,
) -> None:
    start_operator(kube_namespace)
    _apply_spec(kube_cluster, kube_namespace, {"environment": environment})
    hpa = _bounds(admin, kube_namespace, (1, 3))
    assert hpa["spec"]["scaleTargetRef"]["name"] == f"{NAME}-file-server"
    status = wait_for(lambda: _status(admin, kube_namespace), 30, "status.autoscaling")
    assert status == {"activeWindow": "", "minReplicas": 1, "maxReplicas": 3}


def test_prod_without_autoscaling_values_runs_the_seeds_day_and_night_windows(
    kube_cluster: KubeCluster, admin: KubeClient, start_operator: StartOperator, kube_namespace: str
) -> None:
    night = start_operator(
        kube_namespace, SORA_OPERATOR_CLOCK_OFFSET_SECONDS=_offset_to_wednesday(23)
    )
    _apply_spec(kube_cluster, kube_namespace, {"environment": "prod"})
    _bounds(admin, kube_namespace, (1, 5))
    status = wait_for(
        lambda: (s := _status(admin, kube_namespace)).get("activeWindow") == "night" and s,
        30,
        "the night window",
    )
    assert status["windowSince"].endswith("T22:00:00Z")
    night.stop()

    start_operator(kube_namespace, SORA_OPERATOR_CLOCK_OFFSET_SECONDS=_offset_to_wednesday(12))
    _bounds(admin, kube_namespace, (2, 10))
    status = wait_for(
        lambda: (s := _status(admin, kube_namespace)).get("activeWindow") == "day" and s,
        30,
        "the day window",
    )
    assert status["windowSince"].endswith("T06:00:00Z")


def test_a_new_autoscaled_deployment_starts_at_the_hpa_floor(
    kube_cluster: KubeCluster, admin: KubeClient, start_operator: StartOperator, kube_namespace: str
) -> None:
    """Created without ``replicas`` the API would start 1 pod, and Ready would count 1/1 of
    prod's 2 until the HPA caught up: the handover manager applies the floor at creation."""
    start_operator(kube_namespace, SORA_OPERATOR_CLOCK_OFFSET_SECONDS=_offset_to_wednesday(12))
    _apply_spec(kube_cluster, kube_namespace, {"environment": "prod"})
    deployment = wait_for(lambda: _deployment(admin, kube_namespace), 30, "the Deployment")
    handed = wait_for(
        lambda: owns_replicas(_deployment(admin, kube_namespace) or deployment, HANDOVER_MANAGER),
        30,
        "the handover manager to own replicas",
    )
    assert handed
    assert (_deployment(admin, kube_namespace) or {})["spec"]["replicas"] == 2
    assert not _operator_owns_replicas(_deployment(admin, kube_namespace) or {})


def test_the_hpa_is_accepted_with_the_expected_metrics_and_behavior(
    kube_cluster: KubeCluster, admin: KubeClient, start_operator: StartOperator, kube_namespace: str
) -> None:
    start_operator(kube_namespace)
    _apply(
        kube_cluster,
        kube_namespace,
        {
            "autoscaling": {
                "enabled": True,
                "minReplicas": 2,
                "maxReplicas": 6,
                "metrics": {"requestsPerSecond": {"enabled": True, "targetPerPod": 25}},
                "behavior": {"scaleUp": {"stabilizationWindowSeconds": 60}},
            }
        },
    )
    hpa = _bounds(admin, kube_namespace, (2, 6))
    spec = hpa["spec"]
    assert spec["scaleTargetRef"]["name"] == f"{NAME}-file-server"
    assert [
        (m["type"], (m.get("resource") or m.get("pods") or {}).get("target"))
        for m in spec["metrics"]
    ] == [
        ("Resource", {"type": "Utilization", "averageUtilization": 70}),
        ("Resource", {"type": "Utilization", "averageUtilization": 80}),
        ("Pods", {"type": "AverageValue", "averageValue": "25"}),
    ]
    assert spec["metrics"][2]["pods"]["metric"]["name"] == "sora_http_requests_per_second"
    assert spec["behavior"]["scaleUp"]["stabilizationWindowSeconds"] == 60
    assert spec["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300
    assert hpa["metadata"]["ownerReferences"][0]["name"] == NAME
    deployment = wait_for(lambda: _deployment(admin, kube_namespace), 30, "the Deployment")
    assert not _operator_owns_replicas(deployment)
    budget = admin.get(ObjectRef("PodDisruptionBudget", kube_namespace, f"{NAME}-file-server"))
    assert budget is not None
    assert budget["spec"]["maxUnavailable"] == 1
    status = wait_for(lambda: _status(admin, kube_namespace), 30, "status.autoscaling")
    assert status == {"activeWindow": "", "minReplicas": 2, "maxReplicas": 6}
    time.sleep(12)  # two resyncs and a schedule check: a converged HPA is never rewritten
    again = _hpa(admin, kube_namespace)
    assert again is not None
    assert _applied_at(hpa)
    assert _applied_at(again) == _applied_at(hpa)


def _applied_at(found: dict[str, Any]) -> list[str]:
    """When the operator last applied the object (HPAs have no metadata.generation)."""
    return [
        entry["time"]
        for entry in found["metadata"]["managedFields"]
        if entry["manager"] == "sora-operator" and entry["operation"] == "Apply"
    ]


def test_the_window_in_force_follows_the_clock_across_restarts(
    kube_cluster: KubeCluster, admin: KubeClient, start_operator: StartOperator, kube_namespace: str
) -> None:
    def window_events() -> list[str]:
        events = kube_cluster.get_json(
            "events", "-n", kube_namespace, "--field-selector", f"involvedObject.name={NAME}"
        )["items"]
        return [e["message"] for e in events if e["reason"] == "ScalingWindowChanged"]

    evening = start_operator(kube_namespace, SORA_OPERATOR_CLOCK_OFFSET_SECONDS=_offset_to(23))
    _apply(
        kube_cluster,
        kube_namespace,
        {"autoscaling": {"enabled": True, "schedules": SEED_SCHEDULES}},
    )
    _bounds(admin, kube_namespace, (1, 5))
    wait_for(lambda: _status(admin, kube_namespace).get("activeWindow") == "evening", 30, "evening")
    try:
        assert wait_for(window_events, 20, "the evening Event") == [
            "Scaling window evening is active: 1 to 5 file server replicas"
        ]
    except AssertionError:
        print(evening.logs()[-6000:])
        raise
    evening.stop()

    start_operator(kube_namespace, SORA_OPERATOR_CLOCK_OFFSET_SECONDS=_offset_to(7))
    _bounds(admin, kube_namespace, (2, 10))

    def morning_status() -> dict[str, Any] | None:
        status = _status(admin, kube_namespace)
        return status if status.get("activeWindow") == "morning" else None

    status = wait_for(morning_status, 30, "the morning window in the status")
    assert (status["minReplicas"], status["maxReplicas"]) == (2, 10)

    def two_window_events() -> list[str] | None:
        events = window_events()
        return events if len(events) >= 2 else None

    messages = wait_for(two_window_events, 20, "two Events")
    assert "Scaling window morning is active: 2 to 10 file server replicas" in messages


def test_a_running_operator_moves_to_the_next_window_on_its_own(
    kube_cluster: KubeCluster, admin: KubeClient, start_operator: StartOperator, kube_namespace: str
) -> None:
    """Windows that alternate every minute: the operator switches without any spec change."""
    start_operator(kube_namespace)
    schedules = [
        {"name": "even", "cron": "0-58/2 * * * *", "minReplicas": 1, "maxReplicas": 2},
        {"name": "odd", "cron": "1-59/2 * * * *", "minReplicas": 1, "maxReplicas": 3},
    ]
    _apply(kube_cluster, kube_namespace, {"autoscaling": {"enabled": True, "schedules": schedules}})
    first = wait_for(lambda: _status(admin, kube_namespace).get("activeWindow"), 30, "a window")
    other = "odd" if first == "even" else "even"
    wait_for(
        lambda: _status(admin, kube_namespace).get("activeWindow") == other, 90, f"window {other}"
    )
    _bounds(admin, kube_namespace, (1, 3 if other == "odd" else 2))


def test_turning_autoscaling_on_keeps_the_count_and_off_restores_replicas(
    kube_cluster: KubeCluster, admin: KubeClient, start_operator: StartOperator, kube_namespace: str
) -> None:
    start_operator(kube_namespace)
    _apply(kube_cluster, kube_namespace, {"replicas": 3, "autoscaling": {"enabled": False}})
    wait_for(
        lambda: (_deployment(admin, kube_namespace) or {}).get("spec", {}).get("replicas") == 3,
        60,
        "3 replicas",
    )

    _apply(kube_cluster, kube_namespace, {"replicas": 3, "autoscaling": {"enabled": True}})
    _bounds(admin, kube_namespace, (1, 3))

    def let_go() -> dict[str, Any] | None:
        found = _deployment(admin, kube_namespace)
        return found if found and not _operator_owns_replicas(found) else None

    deployment = wait_for(
        let_go,
        30,
        "the operator to let go of replicas",
    )
    assert deployment["spec"]["replicas"] == 3, "handing replicas to the HPA reset the count"

    _apply(kube_cluster, kube_namespace, {"replicas": 2, "autoscaling": {"enabled": False}})
    wait_for(lambda: _hpa(admin, kube_namespace) is None, 30, "the HPA to be deleted")
    deployment = wait_for(
        lambda: (d := _deployment(admin, kube_namespace)) and d["spec"]["replicas"] == 2 and d,
        30,
        "replicas to be restored to 2",
    )
    assert _operator_owns_replicas(deployment)
    wait_for(lambda: not _status(admin, kube_namespace), 30, "status.autoscaling to go")


# -- The CRD's refusals --------------------------------------------------------------


@pytest.fixture
def namespace(operator_access: OperatorAccess, kube_namespace: str) -> str:
    return kube_namespace


def _refusal(kube_cluster: KubeCluster, namespace: str, spec: dict[str, Any]) -> str:
    manifest = yaml.safe_dump(sora_deployment("bad", namespace, {"environment": "prod", **spec}))
    result = kube_cluster.kubectl(
        "apply", "--dry-run=server", "-f", "-", input=manifest, check=False
    )
    assert result.returncode != 0, f"accepted: {spec}"
    return result.stderr


def _autoscaling(**fields: Any) -> dict[str, Any]:
    return {"fileServer": {"autoscaling": {"enabled": True, **fields}}}


def _schedule(**fields: Any) -> dict[str, Any]:
    return _autoscaling(
        schedules=[
            {"name": "night", "cron": "0 22 * * *", "minReplicas": 1, "maxReplicas": 5, **fields}
        ]
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            _autoscaling(minReplicas=5, maxReplicas=2),
            "fileServer.autoscaling.minReplicas cannot be more than "
            "fileServer.autoscaling.maxReplicas",
        ),
        (
            _autoscaling(maxReplicas=0),
            "maxReplicas must be at least 1: an autoscaler never scales to 0",
        ),
        (_autoscaling(minReplicas=0), "fileServer.autoscaling.minReplicas must be at least 1"),
        (_schedule(cron="every night at ten"), "must be a cron expression of five fields"),
        (_schedule(cron="0 22 * *"), "must be a cron expression of five fields"),
        (
            _schedule(minReplicas=6),
            "schedules[].minReplicas cannot be more than schedules[].maxReplicas",
        ),
        (_schedule(maxReplicas=0, minReplicas=0), "schedules[].maxReplicas must be at least 1"),
        ({"feedbackApi": {"replicas": 2}}, "SQLite has a single writer"),
        ({"feedbackApi": {"autoscaling": {"enabled": True}}}, "feedbackApi cannot autoscale"),
    ],
)
def test_the_crd_refuses_impossible_scaling_with_a_readable_message(
    kube_cluster: KubeCluster, namespace: str, spec: dict[str, Any], message: str
) -> None:
    assert message in " ".join(_refusal(kube_cluster, namespace, spec).split())


def test_the_crd_refuses_two_windows_with_one_name(
    kube_cluster: KubeCluster, namespace: str
) -> None:
    window = {"name": "night", "cron": "0 22 * * *", "minReplicas": 1, "maxReplicas": 5}
    error = _refusal(kube_cluster, namespace, _autoscaling(schedules=[window, window]))
    assert "Duplicate value" in error


def test_the_crd_accepts_the_seed_autoscaling(kube_cluster: KubeCluster, namespace: str) -> None:
    spec = {
        "environment": "prod",
        **_autoscaling(
            minReplicas=2,
            maxReplicas=10,
            metrics={
                "cpuUtilization": 70,
                "memoryUtilization": 80,
                "requestsPerSecond": {"enabled": False},
            },
            behavior={
                "scaleUp": {"stabilizationWindowSeconds": 300},
                "scaleDown": {"stabilizationWindowSeconds": 300},
            },
            schedules=SEED_SCHEDULES,
        ),
    }
    manifest = yaml.safe_dump(sora_deployment("seed", namespace, spec))
    kube_cluster.kubectl("apply", "--dry-run=server", "-f", "-", input=manifest)
