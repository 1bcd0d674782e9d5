"""spec.monitoring: the ServiceMonitors, PrometheusRule and dashboard, and skipping them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sora_contract.monitoring import alert_rules
from sora_operator.builders import monitoring, networkpolicies, services
from sora_operator.builders.desired import desired_state
from sora_operator.monitoring import monitoring_events, monitoring_status
from sora_operator.objects import ObjectRef, ref_of
from sora_operator.reconcile import Reconciler
from sora_operator.spec import SoraDeployment, parse
from tests.unit.operator.conftest import FakeCluster
from tests.unit.operator.factories import IMAGE, body, make_sora_deployment

ALL_ON = {
    "serviceMonitors": {"enabled": True, "interval": "15s", "scrapeTimeout": "5s"},
    "prometheusRule": {"enabled": True},
    "dashboard": {"enabled": True, "folder": "Sora"},
    "labels": {"release": "kube-prometheus-stack"},
}
MONITORING_REFS = {
    ObjectRef("ServiceMonitor", "sora-prod", "shop-file-server"),
    ObjectRef("ServiceMonitor", "sora-prod", "shop-feedback-api"),
    ObjectRef("PrometheusRule", "sora-prod", "shop"),
}
DASHBOARD = ObjectRef("ConfigMap", "sora-prod", "shop-dashboard")


def test_everything_is_off_by_default() -> None:
    parsed = make_sora_deployment("prod")
    assert monitoring.service_monitors(parsed) == []
    assert monitoring.prometheus_rule(parsed) is None
    assert monitoring.dashboard_configmap(parsed) is None
    assert parsed.monitoring.scrape_interval == "30s"
    assert parsed.monitoring.scrape_namespace == "monitoring"


def test_a_service_monitor_selects_its_service_and_scrapes_metrics() -> None:
    parsed = make_sora_deployment("prod", monitoring=ALL_ON)
    monitors = {m["metadata"]["name"]: m for m in monitoring.service_monitors(parsed)}
    service = services.file_server_service(parsed)
    monitor = monitors["shop-file-server"]
    assert set(monitors) == {"shop-file-server", "shop-feedback-api"}
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["sora-prod"]}
    endpoint = monitor["spec"]["endpoints"][0]
    assert endpoint["port"] == service["spec"]["ports"][0]["name"]
    assert endpoint == {
        "port": "http",
        "path": "/metrics",
        "interval": "15s",
        "scrapeTimeout": "5s",
    }


def test_the_admin_panel_is_scraped_only_while_it_runs() -> None:
    def monitored(admin: dict[str, Any]) -> set[str]:
        parsed = make_sora_deployment("prod", monitoring=ALL_ON, admin=admin)
        return {m["metadata"]["name"] for m in monitoring.service_monitors(parsed)}

    assert "shop-admin" in monitored({"enabled": True})
    assert "shop-admin" not in monitored({"enabled": False})


def test_extra_labels_never_replace_the_operators_own() -> None:
    parsed = make_sora_deployment(
        "prod",
        monitoring={
            **ALL_ON,
            "labels": {"release": "prom", "app.kubernetes.io/managed-by": "someone"},
        },
    )
    labels = monitoring.service_monitors(parsed)[0]["metadata"]["labels"]
    assert labels["release"] == "prom"
    assert labels["app.kubernetes.io/managed-by"] == "sora-operator"


def test_the_rule_is_the_platform_rules_scoped_to_this_soradeployment() -> None:
    rule = monitoring.prometheus_rule(make_sora_deployment("prod", monitoring=ALL_ON))
    assert rule is not None
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["metadata"]["name"] == "shop"
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert rule["spec"] == alert_rules("sora-prod", "shop")


def test_the_dashboard_configmap_is_labelled_for_the_sidecar() -> None:
    configmap = monitoring.dashboard_configmap(make_sora_deployment("prod", monitoring=ALL_ON))
    assert configmap is not None
    assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert configmap["metadata"]["annotations"] == {"grafana_folder": "Sora"}
    (key, text), *rest = configmap["data"].items()
    model = json.loads(text)
    assert rest == []
    assert key == f"{model['uid']}.json"
    assert model["title"] == "Sora sora-prod/shop"
    namespace = next(v for v in model["templating"]["list"] if v["name"] == "namespace")
    assert namespace["current"]["value"] == ["sora-prod"]


def test_two_platforms_get_two_dashboards() -> None:
    """Grafana keys dashboards by uid: equal uids would overwrite each other."""
    uids = {
        monitoring.platform_dashboard(parse_named(name, namespace))["uid"]
        for name, namespace in [("shop", "a"), ("shop", "b"), ("blog", "a")]
    }
    assert len(uids) == 3
    assert all(len(uid) <= 40 for uid in uids)


def parse_named(name: str, namespace: str) -> SoraDeployment:
    return parse(body({"environment": "dev"}, name=name, namespace=namespace), IMAGE)


def test_without_the_prometheus_operator_its_kinds_are_left_out_entirely() -> None:
    parsed = make_sora_deployment("prod", monitoring=ALL_ON)
    with_crds = desired_state(parsed)
    without = desired_state(parsed, served=frozenset())
    assert {ref_of(m) for m in with_crds.manifests} >= MONITORING_REFS
    kinds = {ref_of(m).kind for m in without.manifests} | {r.kind for r in without.absent}
    assert not kinds & {"ServiceMonitor", "PrometheusRule"}
    assert DASHBOARD in {ref_of(m) for m in without.manifests}, "the dashboard needs no CRD"


def test_scrapes_are_admitted_from_prometheus_namespace_only_with_service_monitors() -> None:
    def peers(spec: dict[str, Any]) -> list[dict[str, Any]]:
        policy = networkpolicies.feedback_api_policy(make_sora_deployment("prod", **spec))
        return list(policy["spec"]["ingress"][0].get("from", []))

    private = {"ingress": {"enabled": False}}
    scraper = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "prometheus"}}}
    on = {"serviceMonitors": {"enabled": True}, "scrapeNamespace": "prometheus"}
    assert scraper in peers({**private, "monitoring": on})
    assert scraper not in peers(private)


@pytest.mark.parametrize(
    ("spec", "served", "state"),
    [
        ({}, frozenset(), "Disabled"),
        ({"dashboard": {"enabled": True}}, frozenset(), "Applied"),
        (ALL_ON, frozenset({"ServiceMonitor", "PrometheusRule"}), "Applied"),
        (ALL_ON, frozenset(), "Skipped"),
        (ALL_ON, frozenset({"ServiceMonitor"}), "Skipped"),
    ],
)
def test_status_says_what_was_made_and_what_was_skipped(
    spec: dict[str, Any], served: frozenset[str], state: str
) -> None:
    status = monitoring_status(make_sora_deployment("prod", monitoring=spec), served)
    assert status["state"] == state
    if state == "Skipped":
        assert "monitoring.coreos.com/v1" in status["message"]
        assert "PrometheusRule" in status["message"]


def test_one_event_when_skipping_starts_and_one_when_it_ends() -> None:
    skipped = {"monitoring": {"state": "Skipped", "message": "Skipped ServiceMonitor"}}
    applied = {"monitoring": {"state": "Applied", "message": "Created: ServiceMonitor."}}
    assert monitoring_events(skipped, skipped) == [
        (True, "MonitoringSkipped", "Skipped ServiceMonitor")
    ]
    assert monitoring_events({"monitoring": {"message": "other"}}, skipped) == []
    assert monitoring_events({}, skipped) == []
    assert monitoring_events(applied, applied) == [
        (False, "MonitoringApplied", "Created: ServiceMonitor.")
    ]


def test_a_cluster_without_the_crds_converges_without_problems(
    cluster: FakeCluster, reconciler: Reconciler
) -> None:
    cluster.monitoring_kinds = frozenset()
    outcome = reconciler.reconcile(body({"environment": "prod", "monitoring": ALL_ON}))
    assert outcome.problems == []
    assert outcome.status["monitoring"]["state"] == "Skipped"
    assert not {ref.kind for ref in cluster.objects} & {"ServiceMonitor", "PrometheusRule"}
    assert DASHBOARD in cluster.objects


def test_turning_monitoring_off_deletes_what_it_made(
    cluster: FakeCluster, reconciler: Reconciler
) -> None:
    reconciler.reconcile(body({"environment": "prod", "monitoring": ALL_ON}))
    assert MONITORING_REFS | {DASHBOARD} <= set(cluster.objects)
    outcome = reconciler.reconcile(body({"environment": "prod"}))
    assert not (MONITORING_REFS | {DASHBOARD}) & set(cluster.objects)
    assert {c.ref for c in outcome.changes if c.verb == "Deleted"} == MONITORING_REFS | {DASHBOARD}
    assert outcome.status["monitoring"]["state"] == "Disabled"
