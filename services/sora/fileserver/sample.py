"""A small, deterministic sample catalog: what ``sora up`` serves and the tests use.

Running :func:`create_sample_catalog` twice gives byte-identical files: zip
entries carry a fixed timestamp and the content is derived from the names.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

_ZIP_TIME: Final = (2024, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class _Sample:
    kind: str
    id: str
    name: str
    description: str
    author: str
    tags: tuple[str, ...]
    versions: tuple[str, ...]


SAMPLES: Final = (
    _Sample(
        "extensions",
        "clipboard-history",
        "Clipboard History",
        "Keeps the last hundred things you copied and lets you paste any of them.",
        "Sora Team",
        ("productivity", "clipboard"),
        ("1.0.0", "1.1.0", "1.2.0-beta.1"),
    ),
    _Sample(
        "extensions",
        "emoji-picker",
        "Emoji Picker",
        "Search and insert emoji by name, in English or Japanese.",
        "Aoi Tanaka",
        ("input", "emoji"),
        ("0.9.0", "1.0.0"),
    ),
    _Sample(
        "extensions",
        "word-count",
        "Word Count",
        "Counts words, characters and reading time as you type.",
        "Sora Team",
        ("writing", "productivity"),
        ("2.0.0",),
    ),
    _Sample(
        "extensions",
        "spell-check",
        "Spell Check",
        "Underlines misspelt words with suggestions from an offline dictionary.",
        "Ren Sato",
        ("writing", "language"),
        ("0.1.0", "0.2.0", "0.10.0"),
    ),
    _Sample(
        "layouts",
        "dvorak",
        "Dvorak",
        "The Dvorak simplified keyboard for English.",
        "Sora Team",
        ("english", "ergonomic"),
        ("1.0.0", "1.0.1"),
    ),
    _Sample(
        "layouts",
        "colemak",
        "Colemak",
        "Colemak: most common letters on the home row, shortcuts where they were.",
        "Sora Team",
        ("english", "ergonomic"),
        ("1.0.0",),
    ),
    _Sample(
        "layouts",
        "jis-kana",
        "JIS Kana",
        "Japanese kana input on the JIS layout.",
        "Aoi Tanaka",
        ("japanese",),
        ("1.0.0", "2.0.0"),
    ),
)


def _filler(seed: str, size: int) -> bytes:
    """Deterministic, poorly compressible bytes so packages have realistic sizes."""
    out = bytearray()
    block = hashlib.sha256(seed.encode()).digest()
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:size])


def package_bytes(sample: _Sample, version: str) -> bytes:
    """A real zip: a descriptor, a script or key map, and an asset."""
    descriptor = {"id": sample.id, "name": sample.name, "version": version}
    main = "main.js" if sample.kind == "extensions" else "keymap.json"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data, method in (
            (
                f"{sample.kind[:-1]}.json",
                json.dumps(descriptor, indent=2).encode(),
                zipfile.ZIP_DEFLATED,
            ),
            (main, f"// {sample.name} {version}\n".encode() * 20, zipfile.ZIP_DEFLATED),
            (
                "assets/data.bin",
                _filler(f"{sample.id}/{version}", 4096 * (1 + len(sample.id) % 5)),
                zipfile.ZIP_STORED,
            ),
        ):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = method
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def manifest_for(sample: _Sample, version: str, package: bytes, index: int) -> dict[str, Any]:
    return {
        "id": sample.id,
        "version": version,
        "name": sample.name,
        "description": sample.description,
        "author": sample.author,
        "tags": list(sample.tags),
        "file": "package.zip",
        "size": len(package),
        "sha256": hashlib.sha256(package).hexdigest(),
        "published_at": f"2024-0{1 + index % 9}-1{index % 10}T09:00:00+00:00",
    }


def create_sample_catalog(path: Path) -> list[dict[str, Any]]:
    """Write the sample catalog under ``path`` (created if needed); returns its manifests."""
    written = []
    for sample in SAMPLES:
        for index, version in enumerate(sample.versions):
            package = package_bytes(sample, version)
            manifest = manifest_for(sample, version, package, index)
            directory = Path(path, sample.kind, sample.id, version)
            directory.mkdir(parents=True, exist_ok=True)
            (directory / "package.zip").write_bytes(package)
            (directory / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
            written.append({"kind": sample.kind, **manifest})
    return written
