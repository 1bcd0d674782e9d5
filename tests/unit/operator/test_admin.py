"""The admin panel (spec.admin): parsing, its children, the /admin route, its Secret, status."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from sora.admin.settings import AdminSettings
from sora_contract.settings import Env
from sora_operator.builders import networkpolicies, secret, serviceaccounts, services
from sora_operator.builders.admin import admin_deployment
from sora_operator.builders.desired import desired_state
from sora_operator.builders.ingress import ingress
from sora_operator.objects import ObjectRef, ref_of
from sora_operator.reconcile import Reconciler, random_admin_secret_values, random_secret_values
from sora_operator.spec import SoraDeployment, SpecError
from sora_operator.status import compute_status, rollout
from tests.unit.operator.conftest import FakeCluster
from tests.unit.operator.factories import body, container, env_value, make_sora_deployment, pod_spec

NAMESPACE = "sora-prod"
ADMIN = {"enabled": True}
ALB = "alb.ingress.kubernetes.io"
ADMIN_REFS = {
    ObjectRef("ServiceAccount", NAMESPACE, "shop-admin"),
    ObjectRef("Service", NAMESPACE, "shop-admin"),
    ObjectRef("Deployment", NAMESPACE, "shop-admin"),
    ObjectRef("NetworkPolicy", NAMESPACE, "shop-admin"),
}
ADMIN_SECRET = ObjectRef("Secret", NAMESPACE, "shop-admin-secrets")


def _with_admin(environment: str = "dev", **admin: Any) -> SoraDeployment:
    return make_sora_deployment(environment, admin={"enabled": True, **admin})


def _deployment(platform: SoraDeployment) -> dict[str, Any]:
    built = admin_deployment(platform)
    assert built is not None
    return built


def _routes(platform: SoraDeployment) -> list[tuple[str, str, str]]:
    manifest = ingress(platform)
    assert manifest is not None
    paths = manifest["spec"]["rules"][0]["http"]["paths"]
    return [(p["path"], p["pathType"], p["backend"]["service"]["name"]) for p in paths]


# -- spec.admin -----------------------------------------------------------------------


def test_admin_is_off_unless_asked_for() -> None:
    assert make_sora_deployment("prod").admin.enabled is False


def test_admin_defaults_to_one_replica_and_its_own_secret() -> None:
    admin = _with_admin().admin
    assert (admin.replicas, admin.session_secret_name) == (1, "shop-admin-secrets")


def test_admin_secret_name_can_be_given() -> None:
    assert _with_admin(sessionSecretName="mine").admin.session_secret_name == "mine"


def test_admin_resources_default_to_the_environments_size() -> None:
    resources = _with_admin("prod").admin.resources
    assert (resources.cpu_request, resources.memory_limit) == ("512m", "1Gi")


def test_admin_request_above_its_limit_is_refused() -> None:
    section: dict[str, Any] = {"resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}}
    with pytest.raises(SpecError, match=r"admin\.resources"):
        _with_admin(**section)


def test_admin_route_is_on_by_default() -> None:
    assert _with_admin().admin.ingress.enabled is True


def test_admin_source_cidrs_need_an_alb() -> None:
    spec = {"className": "nginx"}
    admin = {**ADMIN, "ingress": {"sourceCidrs": ["203.0.113.0/24"]}}
    with pytest.raises(SpecError, match=r"sourceCidrs needs ingress\.className alb"):
        make_sora_deployment("dev", ingress=spec, admin=admin)


# -- Deployment -----------------------------------------------------------------------


def test_disabled_admin_builds_no_deployment() -> None:
    assert admin_deployment(make_sora_deployment("dev")) is None


def test_admin_runs_sora_admin_on_port_3002() -> None:
    deployment = _deployment(_with_admin())
    assert container(deployment)["command"] == ["sora-admin"]
    assert container(deployment)["ports"][0]["containerPort"] == 3002
    assert env_value(deployment, "PORT") == "3002"


def test_admin_reaches_both_apis_through_their_services() -> None:
    deployment = _deployment(_with_admin())
    assert (
        env_value(deployment, "FEEDBACK_API_URL") == "http://shop-feedback-api.sora-prod.svc:3001"
    )
    assert env_value(deployment, "FILE_SERVER_URL") == "http://shop-file-server.sora-prod.svc:3000"


@pytest.mark.parametrize("key", ["ADMIN_TOKEN", "IP_SALT"])
def test_admin_shares_the_feedback_apis_token_and_salt(key: str) -> None:
    reference = env_value(_deployment(_with_admin()), key)["secretKeyRef"]
    assert reference == {"name": "shop-secrets", "key": key}


def test_admin_signs_sessions_with_the_key_of_its_own_secret() -> None:
    deployment = _deployment(_with_admin(sessionSecretName="mine"))
    reference = env_value(deployment, "SESSION_SECRET")["secretKeyRef"]
    assert reference == {"name": "mine", "key": "SESSION_SECRET"}


def test_admin_runs_in_production_mode() -> None:
    assert env_value(_deployment(_with_admin()), "SORA_ENV") == "production"


def test_the_pods_environment_is_a_complete_admin_panel_configuration() -> None:
    """What sora-admin reads at start, with the Secrets' keys filled in as the kubelet would."""
    values = {**random_secret_values(), **random_admin_secret_values()}
    environ = {
        entry["name"]: entry["value"]
        if "value" in entry
        else values[entry["valueFrom"]["secretKeyRef"]["key"]]
        for entry in container(_deployment(_with_admin("prod")))["env"]
    }
    settings = AdminSettings.from_env(Env(environ))
    assert settings.server.port == 3002
    assert settings.upstreams.feedback_api_url == "http://shop-feedback-api.sora-prod.svc:3001"
    assert settings.session_secret != settings.admin_token


def test_admin_replicas_follow_the_spec_and_roll_without_a_gap() -> None:
    spec = _deployment(_with_admin(replicas=3))["spec"]
    assert spec["replicas"] == 3
    assert spec["strategy"]["rollingUpdate"] == {"maxUnavailable": 0, "maxSurge": 1}


def test_admin_probes_its_health_endpoint() -> None:
    probe = container(_deployment(_with_admin()))["readinessProbe"]
    assert probe["httpGet"] == {"path": "/health", "port": "http"}


def test_admin_runs_under_its_own_account_without_a_token() -> None:
    pod = pod_spec(_deployment(_with_admin()))
    assert pod["serviceAccountName"] == "shop-admin"
    assert pod["automountServiceAccountToken"] is False


def test_admin_pods_roll_when_their_settings_change() -> None:
    def checksum(platform: SoraDeployment) -> str:
        template = _deployment(platform)["spec"]["template"]
        return str(template["metadata"]["annotations"]["sora.example.com/config-checksum"])

    moved = make_sora_deployment("dev", admin=ADMIN, ingress={"sourceCidrs": ["10.0.0.0/24"]})
    assert checksum(_with_admin()) != checksum(moved)


# -- Service, ServiceAccount, NetworkPolicy -------------------------------------------


def test_admin_service_exposes_port_3002_by_name() -> None:
    service = services.admin_service(_with_admin())
    assert service is not None
    (port,) = service["spec"]["ports"]
    assert (port["name"], port["port"], port["targetPort"]) == ("http", 3002, "http")
    assert service["spec"]["selector"]["app.kubernetes.io/name"] == "sora-admin"


def test_disabled_admin_builds_no_service_account_service_or_policy() -> None:
    platform = make_sora_deployment("dev")
    assert services.admin_service(platform) is None
    assert serviceaccounts.admin_service_account(platform) is None
    assert networkpolicies.admin_policy(platform) is None


def _peers(platform: SoraDeployment) -> list[dict[str, Any]] | None:
    policy = networkpolicies.admin_policy(platform)
    assert policy is not None
    (rule,) = policy["spec"]["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 3002}]
    peers: list[dict[str, Any]] | None = rule.get("from")
    return peers


def test_routed_admin_admits_the_load_balancer_like_the_other_services() -> None:
    platform = make_sora_deployment("dev", admin=ADMIN, ingress={"sourceCidrs": ["10.0.0.0/24"]})
    assert _peers(platform) == [
        {
            "podSelector": {
                "matchLabels": {
                    "app.kubernetes.io/instance": "shop",
                    "app.kubernetes.io/part-of": "sora",
                }
            }
        },
        {"ipBlock": {"cidr": "10.0.0.0/24"}},
    ]


def test_unrouted_admin_admits_no_load_balancer() -> None:
    platform = make_sora_deployment("dev", admin={**ADMIN, "ingress": {"enabled": False}})
    peers = _peers(platform)
    assert peers is not None
    assert not any("ipBlock" in peer for peer in peers)


# -- the /admin route -----------------------------------------------------------------


def test_admin_route_comes_last_after_the_seeds_routes_on_an_alb() -> None:
    routes = _routes(_with_admin())
    assert routes[-1] == ("/admin*", "ImplementationSpecific", "shop-admin")
    assert routes[:-1] == _routes(make_sora_deployment("dev"))


def test_admin_route_is_a_prefix_path_for_other_ingress_classes() -> None:
    routes = _routes(make_sora_deployment("dev", admin=ADMIN, ingress={"className": "nginx"}))
    assert routes[-1] == ("/admin", "Prefix", "shop-admin")


@pytest.mark.parametrize(
    "admin", [{}, {"enabled": False}, {"enabled": True, "ingress": {"enabled": False}}]
)
def test_admin_is_not_routed_unless_enabled_and_routed(admin: dict[str, Any]) -> None:
    routes = _routes(make_sora_deployment("dev", admin=admin))
    assert not any(path.startswith("/admin") for path, _, _ in routes)


def test_admin_source_cidrs_become_a_source_ip_condition_on_its_alb_rule() -> None:
    cidrs = ["203.0.113.0/24", "198.51.100.7/32"]
    manifest = ingress(_with_admin(ingress={"sourceCidrs": cidrs}))
    assert manifest is not None
    condition = json.loads(manifest["metadata"]["annotations"][f"{ALB}/conditions.shop-admin"])
    assert condition == [{"field": "source-ip", "sourceIpConfig": {"values": cidrs}}]


def test_admin_without_source_cidrs_gets_no_condition() -> None:
    manifest = ingress(_with_admin())
    assert manifest is not None
    assert not any(".conditions." in key for key in manifest["metadata"]["annotations"])


# -- desired state --------------------------------------------------------------------


def test_enabled_admin_adds_its_four_children_none_absent() -> None:
    state = desired_state(_with_admin())
    assert {ref_of(m) for m in state.manifests} >= ADMIN_REFS
    assert not ADMIN_REFS & set(state.absent)


def test_disabled_admin_lists_its_children_as_absent() -> None:
    assert set(desired_state(make_sora_deployment("dev")).absent) >= ADMIN_REFS


def test_admin_account_comes_before_the_pods_that_use_it() -> None:
    refs = [ref_of(m) for m in desired_state(_with_admin()).manifests]
    account = refs.index(ObjectRef("ServiceAccount", NAMESPACE, "shop-admin"))
    assert account < refs.index(ObjectRef("Deployment", NAMESPACE, "shop-admin"))


# -- the admin Secret -----------------------------------------------------------------


def test_generated_admin_secret_holds_only_the_session_secret() -> None:
    manifest = secret.generated_admin_secret(_with_admin(), {"SESSION_SECRET": "x" * 43})
    assert manifest["metadata"]["name"] == "shop-admin-secrets"
    assert manifest["stringData"] == {"SESSION_SECRET": "x" * 43}


def test_generated_admin_secret_goes_with_the_soradeployment() -> None:
    manifest = secret.generated_admin_secret(_with_admin(), {"SESSION_SECRET": "x" * 43})
    assert manifest["metadata"]["ownerReferences"][0]["name"] == "shop"


def test_generated_admin_secret_refuses_a_missing_value() -> None:
    with pytest.raises(ValueError, match="SESSION_SECRET"):
        secret.generated_admin_secret(_with_admin(), {})


# -- status ---------------------------------------------------------------------------


def _ready_deployment() -> dict[str, Any]:
    return {
        "metadata": {"generation": 1},
        "spec": {"replicas": 1},
        "status": {
            "observedGeneration": 1,
            "replicas": 1,
            "readyReplicas": 1,
            "updatedReplicas": 1,
            "availableReplicas": 1,
        },
    }


def _status(platform: SoraDeployment, admin_ready: bool) -> dict[str, Any]:
    rollouts = [
        rollout("file server", _ready_deployment()),
        rollout("feedback API", _ready_deployment()),
    ]
    if platform.admin.enabled:
        rollouts.append(rollout("admin panel", _ready_deployment() if admin_ready else None))
    return compute_status(
        platform, generation=1, rollouts=rollouts, problems=[], previous={}, now="t"
    )


def test_an_admin_panel_not_yet_available_keeps_ready_false() -> None:
    status = _status(_with_admin(), admin_ready=False)
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "False"
    assert "admin panel" in ready["message"]


def test_an_available_admin_panel_is_reported_with_its_counts() -> None:
    status = _status(_with_admin(), admin_ready=True)
    assert status["admin"]["ready"] == "1/1"
    assert status["endpoints"]["admin"] == "http://shop-admin.sora-prod.svc:3002"


def test_a_disabled_admin_panel_removes_its_counts_from_the_status() -> None:
    status = _status(make_sora_deployment("dev"), admin_ready=False)
    assert status["admin"] is None
    assert "admin" not in status["endpoints"]


# -- reconcile ------------------------------------------------------------------------


def _spec(enabled: bool) -> dict[str, Any]:
    return {"environment": "prod", "admin": {"enabled": enabled}}


def test_enabling_admin_creates_its_secret_and_children(
    cluster: FakeCluster, reconciler: Reconciler
) -> None:
    outcome = reconciler.reconcile(body(_spec(True)))
    created = {change.ref for change in outcome.changes if change.verb == "Created"}
    assert ADMIN_REFS | {ADMIN_SECRET} <= created
    stored = cluster.objects[ADMIN_SECRET]["data"]
    assert base64.b64decode(stored["SESSION_SECRET"]).decode() == "k" * 43


def test_feedback_secret_keeps_its_three_keys_with_admin_enabled(
    cluster: FakeCluster, reconciler: Reconciler
) -> None:
    reconciler.reconcile(body(_spec(True)))
    feedback_secret = cluster.objects[ObjectRef("Secret", NAMESPACE, "shop-secrets")]
    assert set(feedback_secret["data"]) == {"ENCRYPTION_KEY", "IP_SALT", "ADMIN_TOKEN"}


def test_disabled_admin_creates_no_admin_secret(
    cluster: FakeCluster, reconciler: Reconciler
) -> None:
    reconciler.reconcile(body(_spec(False)))
    assert ADMIN_SECRET not in cluster.objects


def test_an_existing_admin_secret_is_never_written(
    cluster: FakeCluster, reconciler: Reconciler
) -> None:
    existing = {
        "kind": "Secret",
        "metadata": {"name": ADMIN_SECRET.name, "namespace": NAMESPACE},
        "data": {"SESSION_SECRET": base64.b64encode(b"mine-0000000000000000").decode()},
    }
    cluster.objects[ADMIN_SECRET] = existing
    outcome = reconciler.reconcile(body(_spec(True)))
    assert cluster.objects[ADMIN_SECRET] == existing
    assert not any(ref == ADMIN_SECRET for _, ref in cluster.writes)
    assert outcome.problems == []


def test_an_admin_secret_without_session_secret_is_reported_not_completed(
    cluster: FakeCluster, reconciler: Reconciler
) -> None:
    cluster.objects[ADMIN_SECRET] = {
        "kind": "Secret",
        "metadata": {"name": ADMIN_SECRET.name, "namespace": NAMESPACE},
        "data": {},
    }
    outcome = reconciler.reconcile(body(_spec(True)))
    assert [p.reason for p in outcome.problems] == ["SecretIncomplete"]
    assert "SESSION_SECRET" in outcome.problems[0].message


def test_disabling_admin_deletes_its_children_and_keeps_its_secret(
    cluster: FakeCluster, reconciler: Reconciler
) -> None:
    reconciler.reconcile(body(_spec(True)))
    outcome = reconciler.reconcile(body(_spec(False)))
    deleted = {change.ref for change in outcome.changes if change.verb == "Deleted"}
    assert deleted == ADMIN_REFS
    assert ADMIN_SECRET in cluster.objects
    assert outcome.status["admin"] is None
