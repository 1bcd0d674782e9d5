"""gunicorn's worker count from the CPU quota the container is given."""

from __future__ import annotations

from pathlib import Path

import pytest

from sora.common.serve import _cgroup_quota, workers_for


@pytest.mark.parametrize(
    ("cpus", "workers"), [(0.256, 3), (0.512, 3), (1.0, 3), (1.5, 5), (2.0, 5), (3.0, 7), (32, 9)]
)
def test_two_workers_per_started_cpu_of_the_quota_and_one(cpus: float, workers: int) -> None:
    assert workers_for(cpus) == workers


def test_a_cgroup_v2_quota_is_read_from_cpu_max(tmp_path: Path) -> None:
    (tmp_path / "cpu.max").write_text("51200 100000\n")
    assert _cgroup_quota(tmp_path) == pytest.approx(0.512)


def test_a_cgroup_v1_quota_is_read_from_the_cfs_files(tmp_path: Path) -> None:
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("25600\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert _cgroup_quota(tmp_path) == pytest.approx(0.256)


@pytest.mark.parametrize("v2", [True, False])
def test_no_quota_means_none(tmp_path: Path, v2: bool) -> None:
    if v2:
        (tmp_path / "cpu.max").write_text("max 100000\n")
    else:
        (tmp_path / "cpu").mkdir()
        (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
        (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert _cgroup_quota(tmp_path) is None
