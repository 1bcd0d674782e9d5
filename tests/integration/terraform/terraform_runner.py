"""Helpers of the Terraform integration tests: paths, running commands, Terraform with the
provider mirror."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
TERRAFORM_DIR = REPO / "terraform"
TOOLS = REPO / "hack" / "terraform-tools.sh"
CHECKOV = REPO / "hack" / "checkov.sh"


def run(
    command: list[str], cwd: Path = REPO, env: dict[str, str] | None = None, timeout: int = 600
) -> str:
    """Run a command; on failure, fail the test with everything it printed."""
    completed = subprocess.run(
        command,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if completed.returncode != 0:
        pytest.fail(
            f"{' '.join(command)} exited {completed.returncode}\n"
            f"--- stdout ---\n{completed.stdout}\n--- stderr ---\n{completed.stderr}",
            pytrace=False,
        )
    return completed.stdout


@dataclass(frozen=True)
class Terraform:
    """Terraform 1.11.4 that installs providers from the local mirror only."""

    binary: str
    cli_config: str

    def __call__(self, directory: Path, *args: str, timeout: int = 600) -> str:
        env = {
            "TF_CLI_CONFIG_FILE": self.cli_config,
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": "1",
        }
        return run([self.binary, *args], cwd=directory, env=env, timeout=timeout)


def providers_built() -> bool:
    status = run(["bash", str(TOOLS), "status"]).splitlines()
    providers = [line for line in status if line.startswith("provider ")]
    return bool(providers) and all(line.endswith(": built") for line in providers)
