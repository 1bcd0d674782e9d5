"""The alert rules under ``promtool check rules`` and ``promtool test rules``.

promtool is built from the Go module proxy by ``hack/promtool.sh`` (cached per
version under ~/.cache/sora-promtool). The tests skip, saying why, only when it
cannot be built (no Go toolchain, no network on a cold cache).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from sora_contract.monitoring import alert_rules, operator_alert_rules
from tests.support.processes import REPO_ROOT

HERE = Path(__file__).parent
RULES_TEST = HERE / "rules-test.yaml"
PROMTOOL_SCRIPT = REPO_ROOT / "hack" / "promtool.sh"
BUILD_TIMEOUT = 1800  # a cold build on two shared cores
#: As the operator renders them for SoraDeployment sora/demo, and the operator chart for
#: an operator in sora-system.
RULE_FILES = {
    "sora-rules.yaml": alert_rules("sora", "demo"),
    "sora-operator-rules.yaml": operator_alert_rules("sora-system"),
}


@pytest.fixture(scope="session")
def promtool() -> Path:
    override = os.environ.get("SORA_PROMTOOL")
    if override:
        return Path(override)
    if shutil.which("go") is None:
        reason = "promtool cannot be built: no Go toolchain on PATH"
        print(reason)
        pytest.skip(reason)
    result = subprocess.run(
        ["bash", str(PROMTOOL_SCRIPT)],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        reason = f"promtool cannot be built (hack/promtool.sh): {result.stderr[-1500:]}"
        print(reason)
        pytest.skip(reason)
    print(result.stderr.strip())
    return Path(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def rule_dir(tmp_path: Path) -> Path:
    """The rules as Prometheus rule files, next to a copy of the promtool test file."""
    for name, rules in RULE_FILES.items():
        (tmp_path / name).write_text(yaml.safe_dump(rules, sort_keys=False))
    shutil.copy(RULES_TEST, tmp_path / RULES_TEST.name)
    return tmp_path


def _promtool(promtool: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(promtool), *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


def test_the_rules_pass_promtool_check(promtool: Path, rule_dir: Path) -> None:
    result = _promtool(promtool, "check", "rules", "--lint=all", *RULE_FILES, cwd=rule_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


def test_the_rules_pass_promtool_unit_tests(promtool: Path, rule_dir: Path) -> None:
    result = _promtool(promtool, "test", "rules", RULES_TEST.name, cwd=rule_dir)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_is_tested_firing_and_not_firing() -> None:
    alerts = {
        rule["alert"]
        for rules in RULE_FILES.values()
        for group in rules["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }
    cases: list[dict[str, Any]] = [
        case
        for test in yaml.safe_load(RULES_TEST.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
    ]
    firing = {case["alertname"] for case in cases if case.get("exp_alerts")}
    quiet = {case["alertname"] for case in cases if not case.get("exp_alerts")}
    assert alerts - firing == set(), "alerts never tested firing"
    assert alerts - quiet == set(), "alerts never tested not firing"
    assert {case["alertname"] for case in cases} <= alerts, "tests of alerts that do not exist"
