"""Each chart's README lists every value of its values.yaml, and each template helper exists."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.integration.charts.support import OPERATOR_CHART, PLATFORM_CHART, REPO_ROOT

CHARTS = [OPERATOR_CHART, PLATFORM_CHART]


def value_keys(values: dict[str, Any], prefix: str = "") -> Iterator[str]:
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            yield from value_keys(value, f"{path}.")
        else:
            yield path


@pytest.mark.parametrize("chart", CHARTS, ids=lambda c: c.name)
def test_readme_lists_every_value(chart: Path) -> None:
    readme = (chart / "README.md").read_text()
    values = yaml.safe_load((chart / "values.yaml").read_text())
    missing = [key for key in value_keys(values) if f"| `{key}` |" not in readme]
    assert not missing, f"{chart.name}/README.md does not list: {missing}"


@pytest.mark.parametrize("chart", CHARTS, ids=lambda c: c.name)
def test_every_value_has_a_comment(chart: Path) -> None:
    """helm-docs style: a `# --` comment above each top-level key."""
    lines = (chart / "values.yaml").read_text().splitlines()
    undocumented = []
    for number, line in enumerate(lines):
        if line and not line.startswith((" ", "#")) and ":" in line:
            above = lines[number - 1] if number else ""
            if not above.startswith("#"):
                undocumented.append(line.split(":")[0])
    assert not undocumented, undocumented


@pytest.mark.parametrize("chart", CHARTS, ids=lambda c: c.name)
def test_chart_metadata_is_complete(chart: Path) -> None:
    meta = yaml.safe_load((chart / "Chart.yaml").read_text())
    assert meta["apiVersion"] == "v2"
    for field in ("version", "appVersion", "kubeVersion", "description", "maintainers"):
        assert meta.get(field), field
    helpers = (chart / "templates" / "_helpers.tpl").read_text()
    for helper in ("fullname", "labels", "selectorLabels", "serviceAccountName"):
        assert f'define "{chart.name}.{helper}"' in helpers, helper
    assert (chart / "templates" / "NOTES.txt").is_file()


def test_generated_chart_files_are_current() -> None:
    """values.schema.json of charts/sora follows crds/; the READMEs' tables follow values.yaml."""
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "hack" / "chart-sync.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
