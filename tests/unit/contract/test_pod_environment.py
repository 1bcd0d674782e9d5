"""Every variable the operator puts in a service pod's environment is one its program reads.

The pod's environment is put together as the kubelet does (the ``envFrom``
ConfigMap, then the container's ``env``, Secret references filled with strong
values), and the program's own settings module reads it through an Env that
records each name asked for. A variable the operator sets that the program never
reads is a typo on one side or a setting that silently does nothing; a value the
program refuses would stop the pod at start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from sora.admin.settings import AdminSettings
from sora.feedback.settings import FeedbackSettings
from sora.fileserver.settings import Settings as FileServerSettings
from sora_contract.settings import Env
from sora_operator.builders.desired import desired_state
from sora_operator.spec import SoraDeployment
from tests.unit.operator.factories import make_sora_deployment

SECRET_VALUE = "Zq8vN3kW1xT7pL5rB9mC2yH6"  # strong enough for every secret check
S3_CATALOG = {"type": "s3", "s3": {"bucket": "cat", "prefix": "c/", "region": "eu-west-1"}}
READERS: dict[str, Callable[[Env], object]] = {
    "file-server": FileServerSettings.from_env,
    "feedback-api": FeedbackSettings.from_env,
    "admin": AdminSettings.from_env,
}


class RecordingEnv(Env):
    """An Env that remembers every variable a settings module asks for."""

    def __init__(self, environ: dict[str, str]) -> None:
        super().__init__(environ)
        self.asked: set[str] = set()

    def raw(self, name: str) -> str | None:
        self.asked.add(name)
        return super().raw(name)


def _platforms() -> dict[str, SoraDeployment]:
    platforms = {
        "dev": make_sora_deployment("dev"),
        "prod": make_sora_deployment("prod"),
        "prod-s3": make_sora_deployment("prod", fileServer={"storage": S3_CATALOG}),
    }
    return {name: replace(p, admin=replace(p.admin, enabled=True)) for name, p in platforms.items()}


def _environments(platform: SoraDeployment) -> dict[str, dict[str, str]]:
    """Each service container's environment, by container name."""
    manifests = desired_state(platform).manifests
    configmaps = {m["metadata"]["name"]: m["data"] for m in manifests if m["kind"] == "ConfigMap"}
    found: dict[str, dict[str, str]] = {}
    for manifest in manifests:
        if manifest["kind"] != "Deployment":
            continue
        for container in manifest["spec"]["template"]["spec"]["containers"]:
            environment: dict[str, str] = {}
            for source in container.get("envFrom", []):
                environment.update(configmaps[source["configMapRef"]["name"]])
            for item in container.get("env", []):
                environment[item["name"]] = item.get("value", f"{SECRET_VALUE}-{item['name']}")
            found[container["name"]] = environment
    return found


CASES = [
    (platform_name, service)
    for platform_name, platform in _platforms().items()
    for service in _environments(platform)
]


def test_every_service_deployment_has_a_settings_reader() -> None:
    assert {service for _, service in CASES} == set(READERS)


@pytest.mark.parametrize(("platform_name", "service"), CASES)
def test_the_program_reads_every_variable_its_pod_gets(
    platform_name: str, service: str, tmp_path: Path
) -> None:
    environment = _environments(_platforms()[platform_name])[service]
    if "STORAGE_DIR" in environment:  # a volume in the pod; the file server checks it exists
        environment["STORAGE_DIR"] = str(tmp_path)
    env = RecordingEnv(environment)
    READERS[service](env)  # raises ConfigError if the program refused a value
    assert set(environment) - env.asked == set()
