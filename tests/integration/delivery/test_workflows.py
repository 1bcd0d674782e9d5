"""The workflows pass actionlint (the pinned version `make lint` builds), which also type-checks
every `${{ }}` expression against the jobs' outputs, needs and matrices."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
ACTIONLINT = REPO / ".tools" / "bin" / "actionlint"


@pytest.fixture(scope="session")
def actionlint() -> Path:
    if not ACTIONLINT.is_file():
        if shutil.which("go") is None:
            pytest.skip("actionlint is built with go install, and there is no go command here")
        subprocess.run(
            ["make", str(ACTIONLINT.relative_to(REPO))], cwd=REPO, check=True, timeout=1200
        )
    return ACTIONLINT


@pytest.mark.timeout(1500)
def test_actionlint_finds_nothing_in_the_workflows(actionlint: Path) -> None:
    workflows = sorted((REPO / ".github" / "workflows").glob("*.yml"))
    assert {path.name for path in workflows} >= {"ci.yml", "terraform.yml"}
    result = subprocess.run(
        [str(actionlint), *map(str, workflows)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_reports_a_broken_workflow(actionlint: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n"
        "    steps:\n      - run: echo ${{ needs.nothing.outputs.x }}\n"
    )
    result = subprocess.run(
        [str(actionlint), str(broken)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert "needs.nothing" in result.stdout or "nothing" in result.stdout
