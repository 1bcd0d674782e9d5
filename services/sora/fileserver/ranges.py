"""HTTP ``Range`` requests for one byte range (RFC 9110, section 14).

The server answers a single range with 206. A header it does not understand
(bad syntax, another unit, several ranges) is ignored and the whole file is
sent with 200, which RFC 9110 allows. A syntactically valid range that lies
entirely outside the file is unsatisfiable: 416 with ``Content-Range: bytes */size``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

_SPEC: Final = re.compile(r"bytes=[ \t]*(\d*)-(\d*)[ \t]*", re.ASCII)
# Longer numbers than this are not byte offsets of any file we serve.
_MAX_DIGITS: Final = 19


@dataclass(frozen=True)
class ByteRange:
    """Bytes ``start`` to ``end``, both inclusive, of a file of ``size`` bytes."""

    start: int
    end: int
    size: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self) -> str:
        return f"bytes {self.start}-{self.end}/{self.size}"


@dataclass(frozen=True)
class Unsatisfiable:
    size: int

    def content_range(self) -> str:
        return f"bytes */{self.size}"


def parse_range(header: str | None, size: int) -> ByteRange | Unsatisfiable | None:
    """The range to serve for ``header``; ``None`` means "send the whole file"."""
    bounds = _bounds(header)
    if bounds is None:
        return None
    first, last = bounds
    if first is None:
        return _suffix(last or 0, size)
    if last is not None and last < first:
        return None  # an invalid range-spec is ignored, not refused
    if first >= size:
        return Unsatisfiable(size)
    return ByteRange(first, size - 1 if last is None else min(last, size - 1), size)


def _bounds(header: str | None) -> tuple[int | None, int | None] | None:
    """``(first, last)`` of a single ``bytes=first-last`` spec, either may be absent."""
    match = _SPEC.fullmatch(header or "")
    if match is None:
        return None
    first, last = match.groups()
    if not (first or last) or len(first) > _MAX_DIGITS or len(last) > _MAX_DIGITS:
        return None
    return (int(first) if first else None, int(last) if last else None)


def _suffix(length: int, size: int) -> ByteRange | Unsatisfiable:
    """The last ``length`` bytes (all of them when the file is shorter)."""
    if length == 0 or size == 0:
        return Unsatisfiable(size)
    return ByteRange(max(0, size - length), size - 1, size)
