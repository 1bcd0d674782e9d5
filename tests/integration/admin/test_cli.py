"""``sora-admin`` as a program: help, and refusing to start on weak or missing secrets."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.support.processes import free_port, program


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {key: value for key, value in os.environ.items() if not key.startswith("SORA_")}
    for name in ("ADMIN_TOKEN", "SESSION_SECRET", "IP_SALT"):
        base.pop(name, None)
    return subprocess.run(
        [program("sora-admin"), *args],
        env={**base, "PORT": str(free_port()), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_help_names_the_program() -> None:
    result = run({}, "--help")
    assert result.returncode == 0
    assert "admin panel" in result.stdout


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"IP_SALT": "strong-enough-ip-salt-value"}, "ADMIN_TOKEN is required"),
        (
            {"IP_SALT": "strong-enough-ip-salt-value", "ADMIN_TOKEN": "short"},
            "ADMIN_TOKEN is too weak",
        ),
        (
            {"IP_SALT": "strong-enough-ip-salt-value", "ADMIN_TOKEN": "admin-token-strong-1234"},
            "SESSION_SECRET is required",
        ),
    ],
)
def test_outside_development_weak_or_missing_secrets_stop_the_panel(
    env: dict[str, str], message: str
) -> None:
    result = run({"SORA_ENV": "production", **env})
    assert result.returncode == 2
    line = result.stderr.strip()
    assert "\n" not in line
    assert line.startswith(f"sora-admin: configuration error: {message}")
