"""Each image's dependency group covers what its programs import, and no more than that.

The services image installs the base dependencies and the ``services`` group, the
operator image the base and the ``operator`` group (pyproject.toml, the
Dockerfiles). The imports come from the code itself (grimp's import graph, which
import-linter builds too); a group that misses a package would ship an image whose
program fails at its first import.
"""

from __future__ import annotations

import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import grimp
import pytest
from packaging.requirements import Requirement

REPO_ROOT = Path(__file__).resolve().parents[3]
PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
IMAGES = {"services": ("sora", "sora_contract"), "operator": ("sora_operator", "sora_contract")}


def _names(requirements: list[str]) -> set[str]:
    return {_canonical(Requirement(text).name) for text in requirements}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _installed_with(group: str) -> set[str]:
    """The distributions the image gets: its requirements and everything they require."""
    wanted = _names(PYPROJECT["project"]["dependencies"]) | _names(
        PYPROJECT["dependency-groups"][group]
    )
    seen: set[str] = set()
    while wanted:
        name = wanted.pop()
        if name in seen:
            continue
        seen.add(name)
        for text in metadata.requires(name) or ():
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                wanted.add(_canonical(requirement.name))
    return seen


def _imported_distributions(packages: tuple[str, ...]) -> set[str]:
    """The third-party distributions the packages import at run time."""
    graph = grimp.build_graph(
        *packages,
        include_external_packages=True,
        exclude_type_checking_imports=True,
        cache_dir=None,
    )
    owners = metadata.packages_distributions()
    imported = {
        module
        for module in graph.modules
        if not module.startswith(packages) and module not in sys.stdlib_module_names
    }
    return {_canonical(owners[module][0]) for module in imported}


@pytest.mark.parametrize("group", sorted(IMAGES))
def test_the_image_group_installs_every_package_its_programs_import(group: str) -> None:
    missing = _imported_distributions(IMAGES[group]) - _installed_with(group)
    assert not missing, f"add to the {group!r} dependency group: {sorted(missing)}"


@pytest.mark.parametrize("group", sorted(IMAGES))
def test_the_image_group_lists_only_packages_its_programs_import(group: str) -> None:
    unused = _names(PYPROJECT["dependency-groups"][group]) - _imported_distributions(IMAGES[group])
    assert not unused, f"the {group!r} programs never import {sorted(unused)}"


def test_the_images_share_only_the_base_dependencies() -> None:
    groups = PYPROJECT["dependency-groups"]
    assert not _names(groups["services"]) & _names(groups["operator"])
