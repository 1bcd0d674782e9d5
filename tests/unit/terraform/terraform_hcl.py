"""Parsed Terraform of ``terraform/`` for the unit tests (python-hcl2, no processes).

The conftest parses every ``.tf`` file once per session. Blocks come back as python-hcl2 8
serialises them with quotes stripped and comments dropped: ``{"resource": [{"aws_s3_bucket":
{"files": {...}}}]}``; expressions stay strings such as ``"${var.environment == \\"prod\\"}"``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2
from hcl2 import SerializationOptions

REPO = Path(__file__).resolve().parents[3]
TERRAFORM = REPO / "terraform"
MODULES = TERRAFORM / "modules"
PLATFORM = TERRAFORM / "platform"
BOOTSTRAP = TERRAFORM / "bootstrap"

_OPTIONS = SerializationOptions(
    with_comments=False, explicit_blocks=False, strip_string_quotes=True
)


@dataclass(frozen=True)
class Block:
    """One top-level block: ``resource "aws_s3_bucket" "files" {...}`` is kind ``resource``,
    type ``aws_s3_bucket``, name ``files``."""

    path: Path
    kind: str
    type: str
    name: str
    body: dict[str, Any]

    @property
    def module_dir(self) -> Path:
        return self.path.parent

    @property
    def address(self) -> str:
        return f"{self.path.relative_to(TERRAFORM)}:{self.type}.{self.name}"


@dataclass(frozen=True)
class TerraformTree:
    files: dict[Path, dict[str, Any]]

    def blocks(self, kind: str, type_: str | None = None) -> Iterator[Block]:
        """Resources and data sources (``kind`` resource/data) of every file."""
        for path, document in self.files.items():
            for entry in document.get(kind, []):
                for block_type, named in entry.items():
                    if type_ is not None and block_type != type_:
                        continue
                    for name, body in named.items():
                        yield Block(path, kind, block_type, name, body)

    def named(self, kind: str) -> Iterator[tuple[Path, str, dict[str, Any]]]:
        """Variables and outputs: ``(file, name, body)``."""
        for path, document in self.files.items():
            for entry in document.get(kind, []):
                for name, body in entry.items():
                    yield path, name, body

    def locals_of(self, directory: Path) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for path, document in self.files.items():
            if path.parent == directory:
                for entry in document.get("locals", []):
                    merged.update(entry)
        return merged

    def module_calls(self, directory: Path) -> dict[str, dict[str, Any]]:
        calls: dict[str, dict[str, Any]] = {}
        for path, document in self.files.items():
            if path.parent == directory:
                for entry in document.get("module", []):
                    calls.update(entry)
        return calls

    def moved(self, directory: Path) -> dict[str, str]:
        """The ``moved`` blocks of a module or root: ``{from address: to address}``."""
        moves: dict[str, str] = {}
        for path, document in self.files.items():
            if path.parent == directory:
                for entry in document.get("moved", []):
                    moves[expr(entry["from"])] = expr(entry["to"])
        return moves

    def resource(self, directory: Path, type_: str, name: str) -> dict[str, Any]:
        for block in self.blocks("resource", type_):
            if block.module_dir == directory and block.name == name:
                return block.body
        raise KeyError(f"no resource {type_}.{name} in {directory}")

    def data(self, directory: Path, type_: str, name: str) -> dict[str, Any]:
        for block in self.blocks("data", type_):
            if block.module_dir == directory and block.name == name:
                return block.body
        raise KeyError(f"no data {type_}.{name} in {directory}")


def terraform_files() -> list[Path]:
    return sorted(path for path in TERRAFORM.rglob("*.tf") if ".terraform" not in path.parts)


def parse(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return dict(hcl2.load(handle, serialization_options=_OPTIONS))


def load_tree() -> TerraformTree:
    return TerraformTree({path: parse(path) for path in terraform_files()})


def expr(value: Any) -> str:
    """An expression without its ``${...}`` wrapper and with whitespace normalised."""
    text = str(value).strip()
    if text.startswith("${") and text.endswith("}"):
        text = text[2:-1]
    return " ".join(text.split())
