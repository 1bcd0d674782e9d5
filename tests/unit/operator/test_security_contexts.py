"""Every pod the operator builds is hardened the same way, probed and bounded."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from sora.common.serve import ServerSettings
from sora_contract.settings import Env
from sora_operator.builders.admin import admin_deployment
from sora_operator.builders.desired import desired_state
from sora_operator.builders.feedback import feedback_api_deployment
from sora_operator.builders.fileserver import file_server_deployment
from sora_operator.spec import SoraDeployment
from tests.unit.operator.factories import make_sora_deployment, pod_spec

Builder = Callable[[SoraDeployment, str], dict[str, Any]]


def _admin_panel(platform: SoraDeployment, _config_checksum: str) -> dict[str, Any]:
    """The admin panel's Deployment, turned on (it is off by default)."""
    built = admin_deployment(replace(platform, admin=replace(platform.admin, enabled=True)))
    assert built is not None
    return built


BUILDERS: list[Builder] = [file_server_deployment, feedback_api_deployment, _admin_panel]
IDS = ["file-server", "feedback-api", "admin"]


def _all_containers(build: Builder) -> list[dict[str, Any]]:
    pod = pod_spec(build(make_sora_deployment("prod"), "abc"))
    return [*pod.get("initContainers", []), *pod["containers"]]


def _dev_containers(build: Builder) -> list[dict[str, Any]]:
    pod = pod_spec(build(make_sora_deployment("dev"), "abc"))
    return [*pod.get("initContainers", []), *pod["containers"]]


@pytest.mark.parametrize("build", BUILDERS, ids=IDS)
def test_pod_runs_as_the_images_non_root_user(build: Builder) -> None:
    context = pod_spec(build(make_sora_deployment("dev"), "abc"))["securityContext"]
    assert context["runAsNonRoot"] is True
    assert context["runAsUser"] == 10001
    assert context["fsGroup"] == 10001


@pytest.mark.parametrize("build", BUILDERS, ids=IDS)
def test_pod_uses_the_runtime_default_seccomp_profile(build: Builder) -> None:
    context = pod_spec(build(make_sora_deployment("dev"), "abc"))["securityContext"]
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}


@pytest.mark.parametrize("build", BUILDERS, ids=IDS)
def test_every_container_drops_all_capabilities_and_cannot_escalate(build: Builder) -> None:
    for container in _dev_containers(build):
        context = container["securityContext"]
        assert context["capabilities"] == {"drop": ["ALL"]}
        assert context["allowPrivilegeEscalation"] is False
        assert context["privileged"] is False


@pytest.mark.parametrize("build", BUILDERS, ids=IDS)
def test_every_container_has_a_read_only_root_filesystem(build: Builder) -> None:
    assert all(c["securityContext"]["readOnlyRootFilesystem"] for c in _dev_containers(build))


@pytest.mark.parametrize("build", BUILDERS, ids=IDS)
def test_tmp_is_a_writable_emptydir(build: Builder) -> None:
    pod = pod_spec(build(make_sora_deployment("dev"), "abc"))
    mounts = {m["mountPath"]: m["name"] for m in pod["containers"][0]["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]


@pytest.mark.parametrize("build", BUILDERS, ids=IDS)
def test_every_container_has_requests_and_limits(build: Builder) -> None:
    for container in _dev_containers(build):
        assert set(container["resources"]["requests"]) == {"cpu", "memory"}
        assert set(container["resources"]["limits"]) == {"cpu", "memory"}


@pytest.mark.parametrize("build", BUILDERS, ids=IDS)
@pytest.mark.parametrize("probe", ["startupProbe", "readinessProbe", "livenessProbe"])
def test_main_container_probes_health(build: Builder, probe: str) -> None:
    container = pod_spec(build(make_sora_deployment("dev"), "abc"))["containers"][0]
    assert container[probe]["httpGet"] == {"path": "/health", "port": "http"}


def _server_settings(pod: dict[str, Any], platform: SoraDeployment) -> ServerSettings:
    """gunicorn's settings as the program reads them from the environment the pod gets."""
    container = pod["containers"][0]
    configmaps = {
        manifest["metadata"]["name"]: manifest.get("data", {})
        for manifest in desired_state(platform).manifests
        if manifest["kind"] == "ConfigMap"
    }
    environment: dict[str, str] = {}
    for source in container.get("envFrom", []):
        environment.update(configmaps[source["configMapRef"]["name"]])
    environment.update(
        {item["name"]: item["value"] for item in container["env"] if "value" in item}
    )
    return ServerSettings.from_env(Env(environment), default_port=0)


@pytest.mark.parametrize("build", BUILDERS, ids=IDS)
def test_termination_grace_outlasts_the_pre_stop_pause_and_gunicorns_timeout(
    build: Builder,
) -> None:
    platform = replace(
        make_sora_deployment("dev"), admin=replace(make_sora_deployment("dev").admin, enabled=True)
    )
    pod = pod_spec(build(platform, "abc"))
    pause = pod["containers"][0]["lifecycle"]["preStop"]["sleep"]["seconds"]
    graceful_timeout = _server_settings(pod, platform).graceful_timeout
    assert pod["terminationGracePeriodSeconds"] > pause + graceful_timeout


@pytest.mark.parametrize("build", BUILDERS, ids=IDS)
def test_pods_get_no_kubernetes_api_token(build: Builder) -> None:
    assert (
        pod_spec(build(make_sora_deployment("dev"), "abc"))["automountServiceAccountToken"] is False
    )


@pytest.mark.parametrize("build", BUILDERS, ids=IDS)
def test_prod_containers_are_sized_as_the_seeds_prod_tasks(build: Builder) -> None:
    container = _all_containers(build)[-1]
    assert container["resources"]["limits"] == {"cpu": "512m", "memory": "1Gi"}
