"""`helm lint --strict` is clean for both charts, with defaults and each example values file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.charts.support import Helm, case_id, values_args, values_cases

CASES = values_cases()


def test_every_chart_has_example_values() -> None:
    charts = {chart.name for chart, values in CASES if values is not None}
    assert charts == {"sora-operator", "sora"}


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_chart_lints_strictly(helm: Helm, case: tuple[Path, Path | None]) -> None:
    chart, values = case
    result = helm.run("lint", "--strict", str(chart), *values_args(values), check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout
    assert "[WARNING]" not in result.stdout, result.stdout
    assert "[ERROR]" not in result.stdout, result.stdout
