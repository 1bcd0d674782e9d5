from pathlib import Path

from sora.fileserver.catalog import manifest_location
from sora.fileserver.library import Library
from sora.fileserver.sample import create_sample_catalog
from sora.fileserver.storage import LocalStorage


def test_the_sample_catalog_is_byte_identical_on_every_run(tmp_path: Path) -> None:
    create_sample_catalog(tmp_path / "a")
    create_sample_catalog(tmp_path / "b")
    files = sorted(
        p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file()
    )
    assert files
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_every_sample_manifest_is_listed_and_its_package_verifies(tmp_path: Path) -> None:
    written = create_sample_catalog(tmp_path)
    library = Library(LocalStorage(tmp_path), None, ttl=60)
    catalog = library.catalog()
    assert catalog.skipped == ()
    assert sum(len(e.versions) for items in catalog.entries.values() for e in items) == len(written)
    for entry in catalog.entries["extensions"] + catalog.entries["layouts"]:
        for manifest in entry.versions:
            with library.open_package(manifest) as file:
                assert file.read(2) == b"PK"


def test_the_sample_has_several_extensions_layouts_and_versions(tmp_path: Path) -> None:
    create_sample_catalog(tmp_path)
    keys = [str(p.relative_to(tmp_path)) for p in tmp_path.rglob("manifest.json")]
    locations = [loc for loc in map(manifest_location, keys) if loc is not None]
    assert {loc.kind for loc in locations} == {"extensions", "layouts"}
    assert len({(loc.kind, loc.id) for loc in locations}) >= 5
    assert len(locations) >= 10
