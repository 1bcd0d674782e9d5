"""Fixtures of the Terraform integration tests: the tools, each built or installed once.

- Terraform 1.11.4 (``hack/terraform-tools.sh terraform``): the one on PATH, or built from its Go
  module into ~/.cache/sora-terraform.
- checkov (``hack/checkov.sh``): its own virtual environment under ~/.cache/sora-checkov.
- The providers (``hack/terraform-tools.sh providers``): built from their Go modules into a local
  filesystem mirror, for ``terraform validate`` and ``terraform test``. A cold build is long (see
  docs/terraform.md), so it only happens when SORA_TERRAFORM_PROVIDERS=build, or when the mirror is
  already complete; otherwise those tests are skipped with that reason printed.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from terraform_runner import CHECKOV, TERRAFORM_DIR, TOOLS, Terraform, providers_built, run

PROVIDERS_SKIP_REASON = (
    "terraform validate/test need the aws, helm and kubernetes providers, built from their Go "
    "modules since the Terraform registry is unreachable; a cold build is too long for every "
    "test run (docs/terraform.md). Run `hack/terraform-tools.sh providers` once, or set "
    "SORA_TERRAFORM_PROVIDERS=build, and these tests run."
)


@pytest.fixture(scope="session")
def terraform_binary() -> str:
    if shutil.which("go") is None and shutil.which("terraform") is None:
        pytest.skip("no terraform binary, and no go command to build one, on this machine")
    return run(["bash", str(TOOLS), "terraform"], timeout=1800).strip()


@pytest.fixture(scope="session")
def terraform(terraform_binary: str) -> Terraform:
    """Terraform with the provider mirror: builds the providers when asked to, or when built."""
    if shutil.which("go") is None:
        pytest.skip("the go command is needed to build the Terraform providers")
    if os.environ.get("SORA_TERRAFORM_PROVIDERS") != "build" and not providers_built():
        pytest.skip(PROVIDERS_SKIP_REASON)
    cli_config = run(["bash", str(TOOLS), "providers"], timeout=7200).strip()
    return Terraform(terraform_binary, cli_config)


@pytest.fixture(scope="session")
def checkov_report() -> dict[str, object]:
    """checkov's JSON report on terraform/, run as the issue asks."""
    output = run(
        [
            "bash",
            str(CHECKOV),
            "--directory",
            str(TERRAFORM_DIR),
            "--framework",
            "terraform",
            "--skip-download",
            "--download-external-modules",
            "false",
            "--output",
            "json",
            "--soft-fail",
        ],
        timeout=1200,
    )
    report = json.loads(output)
    # One framework gives one report object; several give a list of them.
    if isinstance(report, list):
        (report,) = [entry for entry in report if entry.get("check_type") == "terraform"]
    return dict(report)


@pytest.fixture
def scratch_copy(tmp_path: Path) -> Path:
    """A copy of terraform/ without working directories, so that init never writes in the tree."""
    copy = tmp_path / "terraform"
    ignore = shutil.ignore_patterns(".terraform", "*.tfstate*", ".terraform.lock.hcl")
    shutil.copytree(TERRAFORM_DIR, copy, ignore=ignore)
    # The platform root points at ../../charts for the optional Helm releases.
    (tmp_path / "charts").mkdir()
    return copy
