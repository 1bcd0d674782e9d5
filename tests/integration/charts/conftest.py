"""Fixtures for the chart tests: the pinned helm binary for offline rendering.

Tests that need the control plane use ``kube_cluster`` (tests/plugins/kube.py); the
rest render and lint without one.
"""

from __future__ import annotations

import pytest

from tests.integration.charts.support import Helm
from tests.support import controlplane as cp


@pytest.fixture(scope="session")
def helm(tmp_path_factory: pytest.TempPathFactory) -> Helm:
    tools = cp.ensure_tools(("helm",))
    return Helm(tools["helm"], tmp_path_factory.mktemp("helm-offline"))
