"""Test tiers follow the directory a test lives in (see docs/testing.md).

tests/unit → ``unit``, tests/integration → ``integration``, tests/e2e → ``e2e``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

pytest_plugins = ["tests.plugins.s3", "tests.plugins.kube", "tests.plugins.postgres"]

TIERS = ("unit", "integration", "e2e")
TESTS_ROOT = Path(__file__).parent

# No hypothesis deadline anywhere: the default 200 ms per example is a timing assert, and it
# fails on a loaded 2-core machine (CI shares one with other work) without any defect.
# Loaded here, before any test module builds its own @settings, which inherit it.
settings.register_profile("sora", deadline=None)
settings.load_profile("sora")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        tier = Path(item.path).relative_to(TESTS_ROOT).parts[0]
        if tier not in TIERS:
            raise pytest.UsageError(
                f"{item.nodeid}: tests live under tests/unit, tests/integration or tests/e2e"
            )
        item.add_marker(getattr(pytest.mark, tier))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # "no tests collected" must never pass silently: an empty selection is a failure.
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
