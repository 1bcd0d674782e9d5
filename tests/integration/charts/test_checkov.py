"""checkov (--framework kubernetes) on the rendered charts: resources scanned, none failing.

checkov's own helm mode passes silently when it cannot run helm, so the charts are
rendered here with the pinned helm (defaults and every example values file) and checkov
scans the output. Each exception is a `checkov.io/skipN` annotation, with its reason, on
the object it applies to.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.integration.charts.support import (
    CHECKOV,
    Helm,
    case_id,
    documents,
    values_args,
    values_cases,
)

SKIP_ANNOTATION = re.compile(r"^checkov\.io/skip\d+$")


@pytest.fixture(scope="module")
def rendered_dir(helm: Helm, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("rendered")
    for case in values_cases():
        chart, values = case
        namespace = "sora-system" if chart.name == "sora-operator" else "sora"
        rendered = helm.template(chart, *values_args(values), namespace=namespace)
        (directory / f"{case_id(case).replace(':', '--')}.yaml").write_text(rendered)
    return directory


@pytest.fixture(scope="module")
def checkov_report(rendered_dir: Path) -> dict[str, Any]:
    proc = subprocess.run(
        [
            "bash",
            str(CHECKOV),
            "--directory",
            str(rendered_dir),
            "--framework",
            "kubernetes",
            "--skip-download",
            "--output",
            "json",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.stdout.strip(), f"checkov printed nothing ({proc.returncode}):\n{proc.stderr}"
    report = json.loads(proc.stdout)
    # One framework gives one object; checkov gives a list when it ran several.
    if isinstance(report, list):
        (report,) = [r for r in report if r.get("check_type") == "kubernetes"]
    assert isinstance(report, dict)
    return report


def test_checkov_scans_the_rendered_resources(checkov_report: dict[str, Any]) -> None:
    summary = checkov_report["summary"]
    assert summary["resource_count"] > 0
    assert summary["passed"] > 0


def test_checkov_finds_no_failed_check(checkov_report: dict[str, Any]) -> None:
    failed = [
        f"{check['check_id']} {check['resource']} ({check['file_path']}): {check['check_name']}"
        for check in checkov_report["results"].get("failed_checks", [])
    ]
    assert not failed, "checkov failed checks:\n" + "\n".join(failed)


def test_every_skipped_check_carries_a_reason(rendered_dir: Path) -> None:
    """A skip annotation reads `CKV_K8S_nn=why`, on the object the check applies to."""
    skips = []
    for path in sorted(rendered_dir.glob("*.yaml")):
        for document in documents(path.read_text()):
            annotations = document["metadata"].get("annotations") or {}
            skips += [v for k, v in annotations.items() if SKIP_ANNOTATION.match(k)]
    assert skips
    for skip in skips:
        assert re.match(r"^CKV2?_K8S_\d+=\S.{15,}$", skip), skip
