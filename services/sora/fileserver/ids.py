"""What an id, a version, a tag or a package file name may look like.

Ids become path segments in the storage layout, so the rules are strict:
lowercase letters and digits, with single ``.``, ``_`` or ``-`` between
them. That excludes ``..``, slashes, NUL, absolute paths and anything a
filesystem or an S3 key could interpret, before any storage is touched.
Versions are SemVer 2.0 (``MAJOR.MINOR.PATCH[-prerelease]``, no build
metadata) and are ordered by SemVer precedence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering
from typing import Final, Literal, get_args

Kind = Literal["extensions", "layouts"]
KINDS: Final[tuple[Kind, ...]] = get_args(Kind)
MAX_ID_LENGTH: Final = 64
MAX_VERSION_LENGTH: Final = 64
MAX_TAG_LENGTH: Final = 32
MAX_FILE_NAME_LENGTH: Final = 128

# Anchored patterns, shared with the OpenAPI document (JSON Schema "pattern").
ID_PATTERN: Final = r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$"
TAG_PATTERN: Final = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
_NUMBER: Final = r"(?:0|[1-9][0-9]*)"
_PRERELEASE_PART: Final = r"(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)"
VERSION_PATTERN: Final = (
    rf"^({_NUMBER})\.({_NUMBER})\.({_NUMBER})"
    rf"(?:-({_PRERELEASE_PART}(?:\.{_PRERELEASE_PART})*))?$"
)

_ID: Final = re.compile(ID_PATTERN.strip("^$"))
_TAG: Final = re.compile(TAG_PATTERN.strip("^$"))
_FILE_NAME: Final = re.compile(r"[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*")
_VERSION: Final = re.compile(VERSION_PATTERN.strip("^$"))


def is_valid_id(value: str) -> bool:
    return len(value) <= MAX_ID_LENGTH and _ID.fullmatch(value) is not None


def is_valid_tag(value: str) -> bool:
    return len(value) <= MAX_TAG_LENGTH and _TAG.fullmatch(value) is not None


def is_valid_file_name(value: str) -> bool:
    """A package file name: one path segment, no leading dot, no ``..``."""
    return len(value) <= MAX_FILE_NAME_LENGTH and _FILE_NAME.fullmatch(value) is not None


def is_valid_version(value: str) -> bool:
    return len(value) <= MAX_VERSION_LENGTH and _VERSION.fullmatch(value) is not None


@total_ordering
@dataclass(frozen=True)
class Version:
    """A SemVer version, ordered by precedence (``1.0.0-rc.1 < 1.0.0 < 1.10.0``)."""

    major: int
    minor: int
    patch: int
    prerelease: tuple[int | str, ...]
    text: str

    @classmethod
    def parse(cls, text: str) -> Version:
        match = _VERSION.fullmatch(text) if len(text) <= MAX_VERSION_LENGTH else None
        if match is None:
            raise ValueError(f"not a version: {text!r}")
        major, minor, patch, prerelease = match.groups()
        parts = tuple(
            int(part) if part.isdigit() else part for part in (prerelease or "").split(".") if part
        )
        return cls(int(major), int(minor), int(patch), parts, text)

    def _key(self) -> tuple[int, int, int, int, tuple[tuple[int, int, str], ...]]:
        # A release sorts after its prereleases; numeric identifiers sort before
        # alphanumeric ones, and numerically among themselves.
        identifiers = tuple(
            (0, part, "") if isinstance(part, int) else (1, 0, part) for part in self.prerelease
        )
        return (self.major, self.minor, self.patch, 0 if self.prerelease else 1, identifiers)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() < other._key()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        return self.text
