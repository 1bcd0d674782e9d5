import hashlib
import json
from typing import Any

import pytest

from sora.fileserver.catalog import (
    ManifestError,
    ManifestLocation,
    build_catalog,
    manifest_location,
    parse_manifest,
)

PACKAGE = b"zip bytes"


def manifest(
    entry_id: str = "emoji-picker", version: str = "1.0.0", **changes: Any
) -> dict[str, Any]:
    document = {
        "id": entry_id,
        "version": version,
        "name": entry_id.replace("-", " ").title(),
        "description": "Insert emoji by name",
        "author": "Aoi",
        "tags": ["input", "emoji"],
        "file": "package.zip",
        "size": len(PACKAGE),
        "sha256": hashlib.sha256(PACKAGE).hexdigest(),
        "published_at": "2024-01-01T00:00:00+00:00",
    }
    document.update(changes)
    return {k: v for k, v in document.items() if v is not None}


def located(kind: str, document: dict[str, Any]) -> tuple[ManifestLocation, bytes]:
    location = ManifestLocation(kind, document["id"], document["version"])
    return location, json.dumps(document).encode()


def catalog_of(*documents: dict[str, Any], kind: str = "extensions") -> Any:
    pairs = [located(kind, d) for d in documents]
    sizes = {f"{kind}/{d['id']}/{d['version']}/{d['file']}": len(PACKAGE) for d in documents}
    return build_catalog(pairs, sizes)


def test_manifest_keys_in_the_layout_are_located() -> None:
    assert manifest_location("layouts/dvorak/1.0.1/manifest.json") == ManifestLocation(
        "layouts", "dvorak", "1.0.1"
    )


@pytest.mark.parametrize(
    "key",
    [
        "extensions/a/1.0.0/package.zip",
        "themes/a/1.0.0/manifest.json",
        "extensions/a/manifest.json",
        "extensions/a/1.0.0/extra/manifest.json",
    ],
)
def test_other_keys_are_not_manifests(key: str) -> None:
    assert manifest_location(key) is None


def test_a_valid_manifest_is_parsed_into_its_fields() -> None:
    parsed = parse_manifest(*located("extensions", manifest()))
    assert parsed.document()["tags"] == ["input", "emoji"]
    assert parsed.package_key == "extensions/emoji-picker/1.0.0/package.zip"


def test_optional_manifest_fields_default_to_empty() -> None:
    parsed = parse_manifest(
        *located("extensions", manifest(description=None, author=None, published_at=None))
    )
    assert (parsed.description, parsed.author, parsed.published_at) == ("", "", None)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"name": ""}, "name"),
        ({"size": -1}, "size"),
        ({"size": True}, "size"),
        ({"sha256": "ABC"}, "sha256"),
        ({"file": "../../etc/passwd"}, "file"),
        ({"file": "manifest.json"}, "file"),
        ({"tags": ["Not A Tag"]}, "tags"),
        ({"tags": "emoji"}, "tags"),
        ({"published_at": "yesterday"}, "published_at"),
        ({"published_at": "2024-01-01T00:00:00"}, "time zone"),
        ({"version": "2.0.0"}, "version"),
    ],
)
def test_invalid_manifest_fields_are_refused_naming_the_field(
    changes: dict[str, Any], reason: str
) -> None:
    document = manifest(**changes)
    location = ManifestLocation("extensions", "emoji-picker", "1.0.0")
    with pytest.raises(ManifestError, match=reason):
        parse_manifest(location, json.dumps(document).encode())


def test_a_manifest_whose_id_differs_from_its_directory_is_refused() -> None:
    location = ManifestLocation("extensions", "other", "1.0.0")
    with pytest.raises(ManifestError, match="does not match"):
        parse_manifest(location, json.dumps(manifest()).encode())


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"\xff\xfe", b"{}" + b" " * 70_000])
def test_unparseable_manifests_are_refused(raw: bytes) -> None:
    with pytest.raises(ManifestError):
        parse_manifest(ManifestLocation("extensions", "emoji-picker", "1.0.0"), raw)


def test_invalid_manifests_are_skipped_with_a_reason_and_the_rest_listed() -> None:
    catalog = catalog_of(manifest("good"), manifest("bad", name=""))
    assert [e.latest.id for e in catalog.entries["extensions"]] == ["good"]
    assert [s.key for s in catalog.skipped] == ["extensions/bad/1.0.0/manifest.json"]


def test_a_version_without_its_package_is_skipped() -> None:
    location, raw = located("extensions", manifest())
    catalog = build_catalog([(location, raw)], {})
    assert catalog.count("extensions") == 0
    assert "missing" in catalog.skipped[0].reason


def test_a_package_of_another_size_than_the_manifest_says_is_skipped() -> None:
    location, raw = located("extensions", manifest())
    catalog = build_catalog([(location, raw)], {"extensions/emoji-picker/1.0.0/package.zip": 1})
    assert "the manifest says" in catalog.skipped[0].reason


def test_versions_are_newest_first_and_latest_is_the_newest_release() -> None:
    catalog = catalog_of(
        manifest(version="1.0.0"),
        manifest(version="1.10.0"),
        manifest(version="2.0.0-rc.1"),
        manifest(version="1.9.0"),
    )
    entry = catalog.get("extensions", "emoji-picker")
    assert [str(m.version) for m in entry.versions] == ["2.0.0-rc.1", "1.10.0", "1.9.0", "1.0.0"]
    assert str(entry.latest.version) == "1.10.0"


def test_an_entry_with_only_prereleases_has_the_newest_as_latest() -> None:
    catalog = catalog_of(manifest(version="1.0.0-alpha"), manifest(version="1.0.0-beta"))
    assert str(catalog.get("extensions", "emoji-picker").latest.version) == "1.0.0-beta"


def test_a_specific_version_is_found_by_its_text() -> None:
    entry = catalog_of(manifest(version="1.0.0"), manifest(version="1.1.0")).get(
        "extensions", "emoji-picker"
    )
    assert str(entry.version("1.0.0").version) == "1.0.0"
    assert entry.version("3.0.0") is None


def test_listing_order_is_by_name_then_id() -> None:
    catalog = catalog_of(
        manifest("b-tool", name="Zeta"),
        manifest("a-tool", name="zeta"),
        manifest("c", name="Alpha"),
    )
    assert [e.latest.id for e in catalog.entries["extensions"]] == ["c", "a-tool", "b-tool"]


def test_search_matches_text_in_name_description_author_or_tags_case_insensitively() -> None:
    catalog = catalog_of(
        manifest("one", description="Counts WORDS"),
        manifest("two", author="Words Inc"),
        manifest("three", tags=["words"]),
        manifest("four"),
    )
    found = catalog.search("extensions", text="words")
    assert {e.latest.id for e in found.items} == {"one", "two", "three"}


def test_search_by_tags_requires_every_tag() -> None:
    catalog = catalog_of(manifest("one", tags=["a", "b"]), manifest("two", tags=["a"]))
    assert [e.latest.id for e in catalog.search("extensions", tags=["a", "b"]).items] == ["one"]


def test_pages_slice_the_stable_order_and_point_to_the_next_page() -> None:
    catalog = catalog_of(*(manifest(f"tool-{n}", name=f"Tool {n}") for n in range(5)))
    first = catalog.search("extensions", limit=2, offset=0)
    last = catalog.search("extensions", limit=2, offset=4)
    assert [e.latest.id for e in first.items] == ["tool-0", "tool-1"]
    assert (first.total, first.next_offset) == (5, 2)
    assert ([e.latest.id for e in last.items], last.next_offset) == (["tool-4"], None)


def test_kinds_are_listed_separately() -> None:
    catalog = catalog_of(manifest("dvorak"), kind="layouts")
    assert catalog.count("layouts") == 1
    assert catalog.count("extensions") == 0
    assert catalog.get("extensions", "dvorak") is None
