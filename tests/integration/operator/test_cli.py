"""The ``sora-operator`` console script: help, and one clear line for a bad setting."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import yaml

from tests.support.processes import free_port, program

UNREACHABLE_CLUSTER = {
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:9"}}],
    "users": [{"name": "u", "user": {"token": "t"}}],
    "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
    "current-context": "x",
}


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [program("sora-operator"), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_help_describes_the_program_and_its_flags() -> None:
    result = _run("--help")
    assert result.returncode == 0
    assert "SoraDeployment" in result.stdout
    assert "--namespace" in result.stdout


def test_a_bad_setting_stops_the_program_with_one_line_naming_it() -> None:
    result = _run(SORA_OPERATOR_RESYNC_SECONDS="often")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "sora-operator: SORA_OPERATOR_RESYNC_SECONDS must be a number, got 'often'"
    ]


def test_missing_credentials_stop_the_program_with_one_line(tmp_path: Path) -> None:
    result = _run(KUBECONFIG=str(tmp_path / "absent"), HOME=str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.startswith("sora-operator: no Kubernetes credentials")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_busy_metrics_port_stops_the_program_with_one_line(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(UNREACHABLE_CLUSTER))
    with socket.socket() as busy:
        port = free_port()
        busy.bind(("0.0.0.0", port))
        busy.listen()
        result = _run(KUBECONFIG=str(kubeconfig), SORA_OPERATOR_METRICS_PORT=str(port))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"sora-operator: cannot serve metrics on port {port} (SORA_OPERATOR_METRICS_PORT): "
        "Address already in use"
    ]
