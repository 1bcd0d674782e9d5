"""The Dockerfiles agree with the contract: ports, paths, the user, the default program.

The images are built from text the Python code cannot import, so each value the
Dockerfiles restate is read out of them here and compared to the one source
(``sora_contract.layout`` for the services image, the operator's configuration
defaults for the operator image).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from sora_contract import layout
from sora_contract.settings import Env
from sora_operator.config import OperatorConfig

REPO_ROOT = Path(__file__).resolve().parents[3]


def _instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the final stage, continuation lines joined."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    stages: list[list[tuple[str, str]]] = [[]]
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, arguments = line.partition(" ")
        if keyword.upper() == "FROM":
            stages.append([])
        stages[-1].append((keyword.upper(), arguments.strip()))
    return stages[-1]


def _all(dockerfile: Path, keyword: str) -> list[str]:
    return [arguments for name, arguments in _instructions(dockerfile) if name == keyword]


def _env(dockerfile: Path) -> dict[str, str]:
    items = (item.partition("=") for env in _all(dockerfile, "ENV") for item in shlex.split(env))
    return {name: value for name, _, value in items}


def _exposed(dockerfile: Path) -> set[int]:
    return {int(port) for line in _all(dockerfile, "EXPOSE") for port in line.split()}


SERVICES = REPO_ROOT / "services" / "Dockerfile"
OPERATOR = REPO_ROOT / "operator" / "Dockerfile"


def test_the_services_image_exposes_the_three_service_ports() -> None:
    ports = {layout.FILE_SERVER_PORT, layout.FEEDBACK_API_PORT, layout.ADMIN_PORT}
    assert _exposed(SERVICES) == ports


def test_the_services_image_runs_the_file_server_on_its_port_by_default() -> None:
    assert _all(SERVICES, "CMD")[-1] == f'["{layout.FILE_SERVER_COMMAND}"]'
    assert _env(SERVICES)["PORT"] == str(layout.FILE_SERVER_PORT)


def test_the_services_healthcheck_falls_back_to_the_file_server_port() -> None:
    (healthcheck,) = _all(SERVICES, "HEALTHCHECK")
    assert f'os.environ.get(\\"PORT\\",\\"{layout.FILE_SERVER_PORT}\\")' in healthcheck


@pytest.mark.parametrize(
    ("variable", "path"), [("CACHE_DIR", layout.CACHE_DIR), ("DATABASE_PATH", layout.DATABASE_PATH)]
)
def test_the_services_image_sets_the_contract_paths(variable: str, path: str) -> None:
    assert _env(SERVICES)[variable] == path


def test_the_services_image_creates_the_writable_directories_for_its_user() -> None:
    (run,) = [line for line in _all(SERVICES, "RUN") if "useradd" in line]
    uid = layout.RUN_AS_USER
    assert f"--gid {uid} sora" in run
    assert f"--uid {uid} " in run
    assert f"mkdir -p {layout.CACHE_DIR} {layout.DATA_DIR}" in run
    assert f"chown sora:sora {layout.CACHE_DIR} {layout.DATA_DIR}" in run
    assert _all(SERVICES, "USER") == [f"{uid}:{uid}"]


def test_the_operator_image_exposes_its_liveness_and_metrics_ports() -> None:
    defaults = OperatorConfig.from_env(Env({}))
    liveness_port = int(defaults.liveness_endpoint.rsplit(":", 1)[1].split("/", 1)[0])
    assert _exposed(OPERATOR) == {liveness_port, defaults.metrics_port}
