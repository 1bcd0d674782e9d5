"""The alert rules as data: labels, annotations and runbooks (promtool runs in integration)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from sora_contract.monitoring import alert_rules, operator_alert_rules

DOCS = Path(__file__).resolve().parents[3] / "docs" / "observability.md"
RUNBOOK_PREFIX = "https://github.com/example/sora/blob/main/docs/observability.md#"
EXPECTED = {
    "SoraComponentHighCPU",
    "SoraComponentHighMemory",
    "SoraComponentUnavailable",
    "SoraHTTPServerErrors",
    "SoraHTTPSlowResponses",
    "SoraFeedbackVolumeFilling",
    "SoraBackupStale",
    "SoraBackupJobFailed",
    "SoraOperatorReconcileErrors",
    "SoraOperatorNoLeader",
}


def _alerts() -> list[dict[str, Any]]:
    platform, operator = alert_rules("sora", "demo"), operator_alert_rules("sora-system")
    groups = [*platform["groups"], *operator["groups"]]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def _anchors() -> set[str]:
    """GitHub's anchors for the headings of docs/observability.md."""
    anchors = set()
    for line in DOCS.read_text().splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"[^a-z0-9 _-]", "", title).replace(" ", "-"))
    return anchors


def test_the_expected_alerts_exist_once() -> None:
    names = [rule["alert"] for rule in _alerts()]
    assert sorted(names) == sorted(EXPECTED)


@pytest.mark.parametrize("rule", _alerts(), ids=lambda rule: rule["alert"])
def test_an_alert_is_complete(rule: dict[str, Any]) -> None:
    assert rule["labels"]["severity"] in {"critical", "warning", "info"}
    assert rule["annotations"]["summary"].strip()
    assert rule["annotations"]["description"].strip()
    assert rule["for"] == "10m", "the seed's alarms wait two five-minute periods"
    url = rule["annotations"]["runbook_url"]
    assert url == RUNBOOK_PREFIX + rule["alert"].lower()
    assert rule["alert"].lower() in _anchors(), f"no runbook section {rule['alert']} in {DOCS}"


def test_the_seed_thresholds_are_kept() -> None:
    exprs = {rule["alert"]: rule["expr"] for rule in _alerts()}
    assert "> 0.80" in exprs["SoraComponentHighCPU"]
    assert "> 0.85" in exprs["SoraComponentHighMemory"]
    assert "[5m])) > 10" in exprs["SoraHTTPServerErrors"]
    assert "> 2" in exprs["SoraHTTPSlowResponses"]
    assert "> 0.80" in exprs["SoraFeedbackVolumeFilling"]


def test_no_rule_groups_by_a_raw_path_or_id() -> None:
    for rule in _alerts():
        for grouping in re.findall(r"by \(([^)]*)\)", rule["expr"]):
            labels = {label.strip() for label in grouping.split(",")}
            assert not labels & {"route", "path", "id", "uid", "target_id"}, rule["alert"]


def test_the_platform_rules_select_one_soradeployment_only() -> None:
    """Every selector names the namespace, and the instance where the metric has one."""
    for group in alert_rules("shop-prod", "shop")["groups"]:
        for rule in group["rules"]:
            selectors = re.findall(r"\w+\{([^}]*)\}", rule["expr"])
            assert selectors, rule["alert"]
            for selector in selectors:
                assert 'namespace=~"shop\\\\-prod"' in selector or (
                    'soradeployment_namespace=~"shop\\\\-prod"' in selector
                ), (rule["alert"], selector)
                assert "shop" in selector.replace("shop\\\\-prod", ""), (rule["alert"], selector)


def test_names_are_matched_literally() -> None:
    """A dot in a name is not a regex wildcard: ``a.b`` never selects ``axb``."""
    expr = alert_rules("ns", "a.b")["groups"][0]["rules"][0]["expr"]
    assert 'pod=~"a\\\\.b-(file-server' in expr


def test_the_operator_rules_select_the_operator_namespace() -> None:
    for group in operator_alert_rules("sora-system")["groups"]:
        for rule in group["rules"]:
            assert 'namespace="sora-system"' in rule["expr"], rule["alert"]
