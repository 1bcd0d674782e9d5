import json
import logging
import shutil
from pathlib import Path

import pytest

from sora.fileserver.cache import IntegrityError
from sora.fileserver.catalog import Manifest
from sora.fileserver.library import Library
from sora.fileserver.sample import create_sample_catalog
from sora.fileserver.storage import LocalStorage, StorageError


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def root(tmp_path: Path) -> Path:
    create_sample_catalog(tmp_path / "catalog")
    return tmp_path / "catalog"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def library(root: Path, clock: Clock) -> Library:
    return Library(LocalStorage(root), None, ttl=30, clock=clock)


def add_version(root: Path, entry_id: str, old: str, new: str) -> None:
    source, target = root / "extensions" / entry_id / old, root / "extensions" / entry_id / new
    shutil.copytree(source, target)
    manifest = json.loads((target / "manifest.json").read_text())
    (target / "manifest.json").write_text(json.dumps({**manifest, "version": new}))


def latest(library: Library, kind: str, entry_id: str) -> Manifest:
    entry = library.catalog().get(kind, entry_id)
    assert entry is not None
    return entry.latest


def test_the_catalog_is_kept_until_the_ttl_passes(
    library: Library, root: Path, clock: Clock
) -> None:
    assert str(latest(library, "extensions", "word-count").version) == "2.0.0"
    add_version(root, "word-count", "2.0.0", "2.1.0")
    clock.now = 29
    assert str(latest(library, "extensions", "word-count").version) == "2.0.0"
    clock.now = 31
    assert str(latest(library, "extensions", "word-count").version) == "2.1.0"


def test_an_unreachable_storage_keeps_the_previous_catalog(
    library: Library, root: Path, clock: Clock
) -> None:
    before = library.catalog()
    root.rename(root.with_name("gone"))
    clock.now = 100
    assert library.catalog() is before


def test_without_any_catalog_an_unreachable_storage_is_an_error(root: Path) -> None:
    library = Library(LocalStorage(root), None, ttl=30)
    root.rename(root.with_name("gone"))
    with pytest.raises(StorageError):
        library.catalog()


def test_health_is_degraded_when_the_storage_is_unreachable(library: Library, root: Path) -> None:
    assert library.health().ok
    root.rename(root.with_name("gone"))
    health = library.health()
    assert not health.ok
    assert health.detail["status"] == "degraded"


def test_a_skipped_manifest_is_warned_about_once(
    library: Library, root: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    (root / "layouts" / "dvorak" / "1.0.0" / "manifest.json").write_text("{broken")
    with caplog.at_level(logging.WARNING, logger="sora.fileserver"):
        library.catalog()
        clock.now = 100
        library.catalog()
    warnings = [r for r in caplog.records if "dvorak/1.0.0" in r.getMessage()]
    assert len(warnings) == 1
    assert library.catalog().get("layouts", "dvorak") is not None


def test_a_local_package_that_does_not_match_its_sha256_is_refused(
    library: Library, root: Path
) -> None:
    manifest = latest(library, "layouts", "colemak")
    package = root / manifest.package_key
    data = bytearray(package.read_bytes())
    data[-1] ^= 0xFF
    package.write_bytes(bytes(data))
    with pytest.raises(IntegrityError):
        library.open_package(manifest)


def test_rendered_answers_are_reused_until_the_catalog_changes(
    library: Library, root: Path, clock: Clock
) -> None:
    calls: list[int] = []

    def render(catalog: object) -> dict[str, int]:
        calls.append(1)
        return {"count": len(calls)}

    first = library.rendered("key", render)
    assert library.rendered("key", render) == first
    assert first.body == b'{"count": 1}'
    add_version(root, "word-count", "2.0.0", "2.1.0")
    clock.now = 31
    second = library.rendered("key", render)
    assert second.body == b'{"count": 2}'
    assert second.etag != first.etag  # a changed body is a changed validator
    assert second.etag.startswith('"')
    assert second.etag.endswith('"')
