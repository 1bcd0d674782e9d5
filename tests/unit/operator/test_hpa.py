"""The file server's autoscaling: the spec and its defaults, the HPA builder, the
PodDisruptionBudget, the replicas handover, and what the reconcile does with them."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from sora_operator.autoscaling import ScalingWindow
from sora_operator.builders import fileserver, hpa, pdb
from sora_operator.builders.desired import desired_state
from sora_operator.hpa_handover import HANDOVER_MANAGER, handover_manifest, needs_handover
from sora_operator.kube import FIELD_MANAGER
from sora_operator.objects import ObjectRef, ref_of
from sora_operator.reconcile import Reconciler
from sora_operator.schedules import Bounds
from sora_operator.spec import SpecError
from tests.unit.operator.conftest import FakeCluster
from tests.unit.operator.factories import IMAGE, body, crd_schema, make_sora_deployment

HPA = ObjectRef("HorizontalPodAutoscaler", "sora-prod", "shop-file-server")
DEPLOYMENT = ObjectRef("Deployment", "sora-prod", "shop-file-server")
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


def autoscaled(environment: str = "prod", **autoscaling: Any) -> Any:
    return make_sora_deployment(
        environment, fileServer={"autoscaling": {"enabled": True, **autoscaling}}
    )


def fixed(environment: str = "prod") -> Any:
    """A file server with autoscaling turned off (it is on by default)."""
    return make_sora_deployment(environment, fileServer={"autoscaling": {"enabled": False}})


def built(environment: str = "prod", bounds: Bounds | None = None, **autoscaling: Any) -> Any:
    platform = autoscaled(environment, **autoscaling)
    scaling = platform.file_server.autoscaling
    manifest = hpa.file_server_autoscaler(
        platform, bounds or Bounds(scaling.min_replicas, scaling.max_replicas)
    )
    assert manifest is not None
    return manifest


# -- The spec ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environment", "expected"), [("prod", (2, 10)), ("staging", (1, 3)), ("dev", (1, 3))]
)
def test_bounds_default_to_the_seeds_per_environment(
    environment: str, expected: tuple[int, int]
) -> None:
    scaling = autoscaled(environment).file_server.autoscaling
    assert (scaling.min_replicas, scaling.max_replicas) == expected


def test_one_bound_moves_the_others_default_out_of_its_way() -> None:
    only_max = autoscaled("prod", maxReplicas=1).file_server.autoscaling
    assert (only_max.min_replicas, only_max.max_replicas) == (1, 1)
    only_min = autoscaled("dev", minReplicas=5).file_server.autoscaling
    assert (only_min.min_replicas, only_min.max_replicas) == (5, 5)


def test_defaults_are_the_seeds_targets_and_cooldowns() -> None:
    scaling = autoscaled().file_server.autoscaling
    assert (scaling.cpu_utilization, scaling.memory_utilization) == (70, 80)
    assert not scaling.requests_per_second.enabled
    assert scaling.scale_up_stabilization_seconds == 300
    assert scaling.scale_down_stabilization_seconds == 300


@pytest.mark.parametrize(
    ("environment", "expected"), [("prod", (2, 10)), ("staging", (1, 3)), ("dev", (1, 3))]
)
def test_the_file_server_autoscales_without_any_values(
    environment: str, expected: tuple[int, int]
) -> None:
    scaling = make_sora_deployment(environment).file_server.autoscaling
    assert scaling.enabled
    assert (scaling.min_replicas, scaling.max_replicas) == expected
    assert (
        hpa.file_server_autoscaler(make_sora_deployment(environment), Bounds(*expected)) is not None
    )


def test_prod_shrinks_at_night_by_default_and_other_environments_do_not() -> None:
    assert make_sora_deployment("prod").file_server.autoscaling.windows == (
        ScalingWindow("night", "0 22 * * 1-5", 1, 5, "UTC"),
        ScalingWindow("day", "0 6 * * *", 2, 10, "UTC"),
    )
    assert make_sora_deployment("dev").file_server.autoscaling.windows == ()
    assert make_sora_deployment("staging").file_server.autoscaling.windows == ()


def test_an_empty_schedule_list_turns_the_prod_windows_off() -> None:
    assert autoscaled("prod", schedules=[]).file_server.autoscaling.windows == ()


def test_schedules_are_parsed_with_utc_as_the_default_time_zone() -> None:
    windows = autoscaled(
        schedules=[{"name": "n", "cron": "0 22 * * *", "minReplicas": 1, "maxReplicas": 5}]
    )
    assert windows.file_server.autoscaling.windows == (
        ScalingWindow("n", "0 22 * * *", 1, 5, "UTC"),
    )


@pytest.mark.parametrize(
    ("autoscaling", "message"),
    [
        ({"minReplicas": 5, "maxReplicas": 2}, "minReplicas (5) is more than maxReplicas (2)"),
        ({"maxReplicas": 0}, "maxReplicas must be at least 1"),
        (
            {
                "schedules": [
                    {"name": "x", "cron": "61 * * * *", "minReplicas": 1, "maxReplicas": 2}
                ]
            },
            "not a valid cron expression",
        ),
        (
            {
                "schedules": [
                    {
                        "name": "x",
                        "cron": "0 6 * * *",
                        "timeZone": "Mars/Olympus",
                        "minReplicas": 1,
                        "maxReplicas": 2,
                    }
                ]
            },
            "not a known time zone",
        ),
        (
            {"schedules": [{"name": "x", "cron": "0 6 * * *", "minReplicas": 3, "maxReplicas": 2}]},
            "schedules[x]: minReplicas (3) is more than maxReplicas (2)",
        ),
        ({"metrics": {"cpuUtilization": 0, "memoryUtilization": 0}}, "at least one metric"),
    ],
)
def test_impossible_autoscaling_is_a_spec_error(autoscaling: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecError, match=re.escape(message)):
        autoscaled(**autoscaling)


# -- The HPA -------------------------------------------------------------------------


def test_no_hpa_while_autoscaling_is_off() -> None:
    platform = fixed("prod")
    assert hpa.file_server_autoscaler(platform, Bounds(2, 10)) is None


def test_the_hpa_targets_the_file_server_deployment_with_the_seed_defaults() -> None:
    manifest = built()
    assert manifest["apiVersion"] == "autoscaling/v2"
    assert manifest["metadata"]["name"] == "shop-file-server"
    assert manifest["metadata"]["ownerReferences"][0]["kind"] == "SoraDeployment"
    spec = manifest["spec"]
    assert spec["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "shop-file-server",
    }
    assert (spec["minReplicas"], spec["maxReplicas"]) == (2, 10)
    assert spec["metrics"] == [
        {
            "type": "Resource",
            "resource": {
                "name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 70},
            },
        },
        {
            "type": "Resource",
            "resource": {
                "name": "memory",
                "target": {"type": "Utilization", "averageUtilization": 80},
            },
        },
    ]
    assert spec["behavior"] == {
        "scaleUp": {"stabilizationWindowSeconds": 300},
        "scaleDown": {"stabilizationWindowSeconds": 300},
    }


def test_the_bounds_come_from_the_window_in_force() -> None:
    spec = built(bounds=Bounds(1, 5))["spec"]
    assert (spec["minReplicas"], spec["maxReplicas"]) == (1, 5)


def test_requests_per_second_adds_a_pods_metric() -> None:
    metrics = built(
        metrics={"cpuUtilization": 0, "requestsPerSecond": {"enabled": True, "targetPerPod": "25"}}
    )["spec"]["metrics"]
    assert [m["type"] for m in metrics] == ["Resource", "Pods"]
    assert metrics[0]["resource"]["name"] == "memory"
    assert metrics[1]["pods"] == {
        "metric": {"name": "sora_http_requests_per_second"},
        "target": {"type": "AverageValue", "averageValue": "25"},
    }


def test_behavior_follows_the_spec() -> None:
    behavior = built(
        behavior={
            "scaleUp": {"stabilizationWindowSeconds": 0},
            "scaleDown": {"stabilizationWindowSeconds": 600},
        }
    )["spec"]["behavior"]
    assert behavior["scaleUp"]["stabilizationWindowSeconds"] == 0
    assert behavior["scaleDown"]["stabilizationWindowSeconds"] == 600


def test_the_deployment_sets_replicas_only_without_an_autoscaler() -> None:
    assert "replicas" not in fileserver.file_server_deployment(autoscaled(), "c")["spec"]
    assert fileserver.file_server_deployment(fixed("prod"), "c")["spec"]["replicas"] == 2


def test_desired_state_lists_the_hpa_or_its_absence() -> None:
    on = desired_state(autoscaled(), Bounds(1, 5))
    (manifest,) = [m for m in on.manifests if m["kind"] == "HorizontalPodAutoscaler"]
    assert manifest["spec"]["minReplicas"] == 1
    assert HPA not in on.absent
    off = desired_state(fixed("prod"))
    assert HPA in off.absent
    assert "HorizontalPodAutoscaler" not in {m["kind"] for m in off.manifests}


# -- Disruption budgets --------------------------------------------------------------


def test_an_autoscaled_file_server_budget_never_blocks_a_single_pod_drain() -> None:
    budget = pdb.file_server_budget(autoscaled("dev"))
    assert budget is not None
    assert budget["spec"]["maxUnavailable"] == 1
    assert "minAvailable" not in budget["spec"]
    assert budget["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow"


def test_fixed_replicas_keep_min_available_one() -> None:
    budget = pdb.file_server_budget(fixed("prod"))
    assert budget is not None
    assert budget["spec"] == {**budget["spec"], "minAvailable": 1}
    assert pdb.file_server_budget(fixed("dev")) is None


# -- Handing replicas over to the HPA ------------------------------------------------


def _live_deployment(manager: str = "sora-operator", operation: str = "Apply") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "shop-file-server",
            "namespace": "sora-prod",
            "managedFields": [
                {
                    "manager": manager,
                    "operation": operation,
                    "fieldsV1": {"f:spec": {"f:replicas": {}, "f:template": {}}},
                }
            ],
        },
        "spec": {"replicas": 4},
    }


def test_replicas_are_handed_over_when_the_operator_still_owns_them() -> None:
    desired = fileserver.file_server_deployment(autoscaled(), "c")
    assert needs_handover(desired, _live_deployment(), "sora-operator")
    assert not needs_handover(desired, _live_deployment("kube-controller-manager"), "sora-operator")
    assert not needs_handover(desired, _live_deployment(operation="Update"), "sora-operator")
    fixed_count = fileserver.file_server_deployment(fixed("prod"), "c")
    assert not needs_handover(fixed_count, _live_deployment(), "sora-operator")


def test_the_handover_applies_only_the_live_count() -> None:
    assert handover_manifest(_live_deployment()) == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "shop-file-server", "namespace": "sora-prod"},
        "spec": {"replicas": 4},
    }


# -- The reconcile ---------------------------------------------------------------------


def _reconciler(cluster: FakeCluster, now: str, handover: FakeCluster | None = None) -> Reconciler:
    values = {"ENCRYPTION_KEY": "e" * 43, "IP_SALT": "s" * 43, "ADMIN_TOKEN": "a" * 43}
    return Reconciler(
        cluster,
        IMAGE,
        clock=lambda: now,
        generate_secret_values=lambda: values,
        handover=handover,
    )


def _seed_body() -> dict[str, Any]:
    return body(
        {
            "environment": "prod",
            "fileServer": {"autoscaling": {"enabled": True, "schedules": SEED_SCHEDULES}},
        }
    )


def test_the_reconcile_applies_the_window_of_its_clock_and_reports_it() -> None:
    cluster = FakeCluster()
    night = _reconciler(cluster, "2026-01-15T23:00:00Z").reconcile(_seed_body())
    assert (
        cluster.objects[HPA]["spec"]["minReplicas"],
        cluster.objects[HPA]["spec"]["maxReplicas"],
    ) == (1, 5)
    assert night.status["autoscaling"] == {
        "activeWindow": "evening",
        "windowSince": "2026-01-15T22:00:00Z",
        "minReplicas": 1,
        "maxReplicas": 5,
    }
    morning_body = _seed_body()
    morning_body["status"] = night.status
    morning = _reconciler(cluster, "2026-01-16T06:00:30Z").reconcile(morning_body)
    assert cluster.objects[HPA]["spec"]["minReplicas"] == 2
    assert cluster.objects[HPA]["spec"]["maxReplicas"] == 10
    assert [c.ref for c in morning.changes] == [HPA]
    assert morning.status_patch["autoscaling"]["activeWindow"] == "morning"


def test_turning_autoscaling_off_deletes_the_hpa_and_clears_the_status() -> None:
    cluster = FakeCluster()
    first = _reconciler(cluster, "2026-01-15T12:00:00Z").reconcile(_seed_body())
    assert HPA in cluster.objects
    off = body(
        {"environment": "prod", "fileServer": {"autoscaling": {"enabled": False}}},
        status=first.status,
    )
    outcome = _reconciler(cluster, "2026-01-15T12:00:05Z").reconcile(off)
    assert HPA not in cluster.objects
    assert ("delete", HPA) in cluster.writes
    assert cluster.objects[DEPLOYMENT]["spec"]["replicas"] == 2
    assert outcome.status_patch["autoscaling"] is None


def test_the_reconcile_hands_replicas_over_before_dropping_them() -> None:
    cluster, handover = FakeCluster(), FakeCluster()
    fixed_body = body({"environment": "prod", "fileServer": {"autoscaling": {"enabled": False}}})
    _reconciler(cluster, "2026-01-15T12:00:00Z", handover).reconcile(fixed_body)
    live = cluster.objects[DEPLOYMENT]
    live["spec"]["replicas"] = 3
    live["metadata"]["managedFields"] = _live_deployment()["metadata"]["managedFields"]
    _reconciler(cluster, "2026-01-15T12:00:05Z", handover).reconcile(_seed_body())
    assert handover.writes == [("apply", DEPLOYMENT)]
    assert handover.objects[DEPLOYMENT]["spec"] == {"replicas": 3}
    assert "replicas" not in cluster.objects[DEPLOYMENT]["spec"]


def test_an_invalid_schedule_is_a_degraded_condition() -> None:
    spec = {
        "environment": "prod",
        "fileServer": {
            "autoscaling": {
                "enabled": True,
                "schedules": [
                    {"name": "x", "cron": "0 25 * * *", "minReplicas": 1, "maxReplicas": 2}
                ],
            }
        },
    }
    outcome = _reconciler(FakeCluster(), "2026-01-15T12:00:00Z").reconcile(body(spec))
    assert outcome.problems[0].reason == "InvalidSpec"
    assert "cron" in outcome.problems[0].message
    assert "autoscaling" not in outcome.status


# -- The CRD and the RBAC ------------------------------------------------------------


def _autoscaling_schema() -> dict[str, Any]:
    schema: dict[str, Any] = crd_schema()["properties"]["spec"]["properties"]["fileServer"][
        "properties"
    ]["autoscaling"]
    return schema


def test_the_crd_refuses_impossible_bounds_with_messages() -> None:
    rules = {
        rule["rule"]: rule["message"] for rule in _autoscaling_schema()["x-kubernetes-validations"]
    }
    assert any("minReplicas <= self.maxReplicas" in rule for rule in rules)
    assert any("maxReplicas >= 1" in rule for rule in rules)
    items = _autoscaling_schema()["properties"]["schedules"]["items"]
    assert any("cron.matches" in rule["rule"] for rule in items["x-kubernetes-validations"])
    assert _autoscaling_schema()["properties"]["schedules"]["x-kubernetes-list-map-keys"] == [
        "name"
    ]


def test_the_crd_cron_pattern_accepts_five_fields_only() -> None:
    (rule,) = [
        r["rule"]
        for r in _autoscaling_schema()["properties"]["schedules"]["items"][
            "x-kubernetes-validations"
        ]
        if "matches" in r["rule"]
    ]
    pattern = rule.split("matches('")[1].rsplit("')", 1)[0]
    for good in ("0 22 * * *", "*/15 6-18 * * 1-5", "0 6 * * MON-FRI", "@daily"):
        assert re.match(pattern, good), good
    for bad in ("every day at six", "0 22 * *", "0 22 * * * *", "", "0 22 * * * ; rm"):
        assert not re.match(pattern, bad), bad


def test_the_status_schema_keeps_the_active_window() -> None:
    status = crd_schema()["properties"]["status"]["properties"]["autoscaling"]["properties"]
    assert {"activeWindow", "windowSince", "minReplicas", "maxReplicas"} <= set(status)


def test_the_operator_may_manage_horizontal_pod_autoscalers() -> None:
    from tests.unit.operator.factories import REPO_ROOT

    documents = list(
        yaml.safe_load_all((REPO_ROOT / "operator/sora_operator/rbac.yaml").read_text())
    )
    rules = documents[0]["rules"]
    (rule,) = [r for r in rules if "horizontalpodautoscalers" in r["resources"]]
    assert rule["apiGroups"] == ["autoscaling"]
    assert {"get", "list", "watch", "create", "patch", "delete"} <= set(rule["verbs"])


def test_handover_uses_its_own_field_manager() -> None:
    assert len({HANDOVER_MANAGER, FIELD_MANAGER}) == 2  # two field managers, not one
    assert ref_of(handover_manifest(_live_deployment())) == DEPLOYMENT


def test_the_schedule_timer_runs_wherever_a_scaling_window_applies() -> None:
    from sora_operator.handlers import has_schedules

    windows = {"autoscaling": {"schedules": SEED_SCHEDULES}}
    # Written out, or implied by prod's defaults (night and day) with no values at all.
    assert has_schedules({"environment": "dev", "fileServer": windows})
    assert has_schedules({"environment": "prod"})
    # No window: dev's defaults have none; turned off; prod's windows removed.
    assert not has_schedules({"environment": "dev"})
    assert not has_schedules(
        {"environment": "prod", "fileServer": {"autoscaling": {"enabled": False}}}
    )
    assert not has_schedules(
        {"environment": "prod", "fileServer": {"autoscaling": {"schedules": []}}}
    )
    # The feedback API's own windows (PostgreSQL, autoscaled) count too.
    assert has_schedules(
        {
            "environment": "dev",
            "feedbackApi": {
                "database": {"engine": "postgresql"},
                "autoscaling": {"enabled": True, "schedules": SEED_SCHEDULES},
            },
        }
    )
    assert not has_schedules({})


def test_a_metric_target_the_api_server_rewrites_is_not_drift() -> None:
    from sora_operator.compare import differences

    desired = built(metrics={"requestsPerSecond": {"enabled": True, "targetPerPod": "0.5"}})
    live = yaml.safe_load(yaml.safe_dump(desired))
    live["spec"]["metrics"][2]["pods"]["target"]["averageValue"] = "500m"
    assert differences(desired, live) == []
