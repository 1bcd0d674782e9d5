"""Fixtures of the Terraform unit tests: the parsed ``terraform/`` tree, once per session."""

from __future__ import annotations

import pytest
from terraform_hcl import TerraformTree, load_tree


@pytest.fixture(scope="session")
def tree() -> TerraformTree:
    return load_tree()
