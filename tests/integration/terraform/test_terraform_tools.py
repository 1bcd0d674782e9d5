"""The Terraform tree passes the tools the issue names: terraform fmt, checkov, and (with the
providers built from their Go modules) terraform validate and terraform test."""

from __future__ import annotations

from pathlib import Path

import pytest
from terraform_runner import TERRAFORM_DIR, Terraform, run

MODULE_TESTS = [
    "modules/network",
    "modules/storage",
    "modules/hardened-bucket",
    "modules/cdn",
    "modules/postgres",
]
ROOTS = ["platform", "bootstrap"]


# On a machine without Terraform 1.11.4 the first use builds it from its Go module (minutes).
@pytest.mark.timeout(3600)
def test_terraform_fmt_finds_nothing_to_change(terraform_binary: str) -> None:
    # -check exits non-zero and lists the files that are not in canonical format.
    run([terraform_binary, "fmt", "-check", "-recursive", "-diff", str(TERRAFORM_DIR)])


def test_checkov_scans_the_terraform_resources(checkov_report: dict[str, object]) -> None:
    summary = checkov_report["summary"]
    assert isinstance(summary, dict)
    assert summary["resource_count"] > 50
    assert summary["passed"] > 300


def test_checkov_finds_no_failed_check(checkov_report: dict[str, object]) -> None:
    results = checkov_report["results"]
    assert isinstance(results, dict)
    failed = [
        f"{check['check_id']} {check['resource']} ({check['file_path']}): {check['check_name']}"
        for check in results["failed_checks"]
    ]
    assert not failed, "checkov failed checks:\n" + "\n".join(failed)


def test_every_checkov_exception_is_justified_where_it_applies(
    checkov_report: dict[str, object],
) -> None:
    results = checkov_report["results"]
    assert isinstance(results, dict)
    skipped = results["skipped_checks"]
    assert skipped, "the exceptions written inline should show up as skipped checks"
    unjustified = [
        f"{check['check_id']} {check['resource']}"
        for check in skipped
        if len(str(check.get("check_result", {}).get("suppress_comment", "")).strip()) < 20
    ]
    assert not unjustified


@pytest.mark.timeout(7200)
@pytest.mark.parametrize("root", ROOTS)
def test_terraform_validate_accepts_every_root(
    terraform: Terraform, scratch_copy: Path, root: str
) -> None:
    directory = scratch_copy / root
    terraform(directory, "init", "-backend=false", "-input=false", "-no-color")
    terraform(directory, "validate", "-no-color")


@pytest.mark.timeout(7200)
def test_terraform_test_checks_each_environment(terraform: Terraform, scratch_copy: Path) -> None:
    directory = scratch_copy / "platform"
    terraform(directory, "init", "-backend=false", "-input=false", "-no-color")
    output = terraform(directory, "test", "-no-color", timeout=1800)
    assert "0 failed" in output
    for run_name in ("dev_saves_cost", "staging_saves_cost_like_dev", "prod_is_durable"):
        assert f'run "{run_name}"... pass' in output, output


@pytest.mark.timeout(7200)
@pytest.mark.parametrize("module", MODULE_TESTS)
def test_terraform_test_checks_the_module(
    terraform: Terraform, scratch_copy: Path, module: str
) -> None:
    directory = scratch_copy / module
    terraform(directory, "init", "-backend=false", "-input=false", "-no-color")
    output = terraform(directory, "test", "-no-color", timeout=1800)
    assert "0 failed" in output, output
