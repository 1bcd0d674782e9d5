"""The catalog: which extensions and layouts exist, in which versions.

Pure functions over storage keys and manifest bytes; nothing here does I/O.

Layout (under the storage root, or ``S3_PREFIX`` in a bucket)::

    <kind>/<id>/<version>/manifest.json
    <kind>/<id>/<version>/<file named by the manifest>

``kind`` is ``extensions`` or ``layouts``. A version is listed only when its
manifest is valid, agrees with the directory it sits in, and its package
exists with the size the manifest states; anything else is skipped and
reported (the caller logs a warning), never an error for clients.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sora.fileserver.ids import (
    KINDS,
    Version,
    is_valid_file_name,
    is_valid_id,
    is_valid_tag,
    is_valid_version,
)

MANIFEST_NAME: Final = "manifest.json"
MAX_MANIFEST_BYTES: Final = 64 * 1024
MAX_NAME_LENGTH: Final = 100
MAX_TEXT_LENGTH: Final = 2000
MAX_TAGS: Final = 20
_SHA256: Final = re.compile(r"[0-9a-f]{64}")


class ManifestError(ValueError):
    """A manifest that cannot be listed; the message says why."""


@dataclass(frozen=True)
class Manifest:
    """One version of one extension or layout."""

    kind: str
    id: str
    version: Version
    name: str
    description: str
    author: str
    tags: tuple[str, ...]
    file: str
    size: int
    sha256: str
    published_at: str | None

    @property
    def package_key(self) -> str:
        return f"{self.kind}/{self.id}/{self.version}/{self.file}"

    def document(self) -> dict[str, Any]:
        """The manifest as clients see it."""
        return {
            "kind": self.kind,
            "id": self.id,
            "version": str(self.version),
            "name": self.name,
            "description": self.description,
            "author": self.author,
            "tags": list(self.tags),
            "file": self.file,
            "size": self.size,
            "sha256": self.sha256,
            "published_at": self.published_at,
        }


@dataclass(frozen=True)
class Skipped:
    """A catalog entry that was left out, and why (for the log)."""

    key: str
    reason: str


@dataclass(frozen=True)
class Entry:
    """An extension or layout with all its listed versions, newest first."""

    versions: tuple[Manifest, ...]

    @property
    def latest(self) -> Manifest:
        """The newest release; the newest prerelease only when there is no release."""
        return next((m for m in self.versions if not m.version.prerelease), self.versions[0])

    def version(self, version: str) -> Manifest | None:
        wanted = Version.parse(version)
        return next((m for m in self.versions if m.version == wanted), None)

    def sort_key(self) -> tuple[str, str]:
        return (self.latest.name.casefold(), self.latest.id)

    def matches(self, text: str, tags: Sequence[str]) -> bool:
        latest = self.latest
        if any(tag not in latest.tags for tag in tags):
            return False
        if not text:
            return True
        needle = text.casefold()
        haystack = (latest.id, latest.name, latest.description, latest.author, *latest.tags)
        return any(needle in value.casefold() for value in haystack)

    def summary(self) -> dict[str, Any]:
        return {**self.latest.document(), "versions": [str(m.version) for m in self.versions]}


@dataclass(frozen=True)
class Page:
    items: tuple[Entry, ...]
    total: int
    limit: int
    offset: int

    @property
    def next_offset(self) -> int | None:
        following = self.offset + self.limit
        return following if following < self.total else None


@dataclass(frozen=True)
class Catalog:
    """Every listed entry per kind, in the stable listing order (name, then id)."""

    entries: Mapping[str, tuple[Entry, ...]]
    skipped: tuple[Skipped, ...] = ()
    _by_id: Mapping[tuple[str, str], Entry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index = {(kind, e.latest.id): e for kind, items in self.entries.items() for e in items}
        object.__setattr__(self, "_by_id", index)

    def get(self, kind: str, entry_id: str) -> Entry | None:
        return self._by_id.get((kind, entry_id))

    def count(self, kind: str) -> int:
        return len(self.entries.get(kind, ()))

    def search(
        self, kind: str, text: str = "", tags: Sequence[str] = (), limit: int = 20, offset: int = 0
    ) -> Page:
        found = [e for e in self.entries.get(kind, ()) if e.matches(text, tags)]
        return Page(tuple(found[offset : offset + limit]), len(found), limit, offset)


@dataclass(frozen=True)
class ManifestLocation:
    kind: str
    id: str
    version: str

    @property
    def key(self) -> str:
        return f"{self.kind}/{self.id}/{self.version}/{MANIFEST_NAME}"


def manifest_location(key: str) -> ManifestLocation | None:
    """Where a storage key is a manifest in the layout, the kind, id and version it names."""
    parts = key.split("/")
    if len(parts) != 4 or parts[3] != MANIFEST_NAME or parts[0] not in KINDS:
        return None
    return ManifestLocation(parts[0], parts[1], parts[2])


def parse_manifest(location: ManifestLocation, raw: bytes) -> Manifest:
    """Validate a manifest's bytes against the place it was found; raise ManifestError."""
    if not is_valid_id(location.id):
        raise ManifestError(f"directory name {location.id!r} is not a valid id")
    if not is_valid_version(location.version):
        raise ManifestError(f"directory name {location.version!r} is not a valid version")
    if len(raw) > MAX_MANIFEST_BYTES:
        raise ManifestError(f"manifest is larger than {MAX_MANIFEST_BYTES} bytes")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ManifestError(f"not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise ManifestError("manifest must be a JSON object")
    return _manifest_from(location, data)


def _manifest_from(location: ManifestLocation, data: dict[str, Any]) -> Manifest:
    fields = _Fields(data)
    manifest = Manifest(
        kind=location.kind,
        id=fields.text("id", MAX_NAME_LENGTH),
        version=Version.parse(location.version),
        name=fields.text("name", MAX_NAME_LENGTH),
        description=fields.text("description", MAX_TEXT_LENGTH, required=False),
        author=fields.text("author", MAX_NAME_LENGTH, required=False),
        tags=fields.tags(),
        file=fields.text("file", 128),
        size=fields.size(),
        sha256=fields.text("sha256", 64),
        published_at=fields.timestamp("published_at"),
    )
    if manifest.id != location.id:
        raise ManifestError(f"id {manifest.id!r} does not match its directory {location.id!r}")
    if fields.text("version", 64) != location.version:
        raise ManifestError(f"version does not match its directory {location.version!r}")
    if not is_valid_file_name(manifest.file) or manifest.file == MANIFEST_NAME:
        raise ManifestError(f"file {manifest.file!r} is not a plain file name")
    if _SHA256.fullmatch(manifest.sha256) is None:
        raise ManifestError("sha256 must be 64 lowercase hexadecimal digits")
    return manifest


class _Fields:
    """Typed reads of manifest fields, each raising ManifestError naming the field."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def text(self, name: str, max_length: int, *, required: bool = True) -> str:
        value = self._data.get(name)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            raise ManifestError(f"{name} must be a non-empty string")
        if len(value) > max_length:
            raise ManifestError(f"{name} is longer than {max_length} characters")
        return value

    def tags(self) -> tuple[str, ...]:
        value = self._data.get("tags", [])
        if not isinstance(value, list) or len(value) > MAX_TAGS:
            raise ManifestError(f"tags must be a list of at most {MAX_TAGS} tags")
        if not all(isinstance(tag, str) and is_valid_tag(tag) for tag in value):
            raise ManifestError("tags must be lowercase words joined by '-'")
        return tuple(dict.fromkeys(value))

    def size(self) -> int:
        value = self._data.get("size")
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ManifestError("size must be a whole number of bytes")
        return value

    def timestamp(self, name: str) -> str | None:
        value = self._data.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            raise ManifestError(f"{name} must be an ISO 8601 date-time")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ManifestError(f"{name} must be an ISO 8601 date-time") from None
        if parsed.tzinfo is None:
            raise ManifestError(f"{name} must include a time zone")
        return value


def build_catalog(
    manifests: Iterable[tuple[ManifestLocation, bytes]], sizes: Mapping[str, int]
) -> Catalog:
    """The catalog from manifest bytes and the sizes of every object in storage by key."""
    versions: dict[tuple[str, str], list[Manifest]] = {}
    skipped: list[Skipped] = []
    for location, raw in manifests:
        try:
            manifest = parse_manifest(location, raw)
            _check_package(manifest, sizes)
        except ManifestError as error:
            skipped.append(Skipped(location.key, str(error)))
            continue
        versions.setdefault((manifest.kind, manifest.id), []).append(manifest)
    entries: dict[str, list[Entry]] = {kind: [] for kind in KINDS}
    for (kind, _), found in versions.items():
        found.sort(key=lambda m: m.version, reverse=True)
        entries[kind].append(Entry(tuple(found)))
    ordered = {kind: tuple(sorted(items, key=Entry.sort_key)) for kind, items in entries.items()}
    return Catalog(ordered, tuple(skipped))


def _check_package(manifest: Manifest, sizes: Mapping[str, int]) -> None:
    size = sizes.get(manifest.package_key)
    if size is None:
        raise ManifestError(f"package {manifest.file!r} is missing")
    if size != manifest.size:
        raise ManifestError(f"package is {size} bytes, the manifest says {manifest.size}")
