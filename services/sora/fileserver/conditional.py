"""Conditional request headers for downloads (RFC 9110, section 13)."""

from __future__ import annotations


def _tags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def none_match(header: str | None, etag: str) -> bool:
    """Whether ``If-None-Match`` matches ``etag`` (weak comparison, as the RFC requires)."""
    if not header:
        return False
    tags = _tags(header)
    return "*" in tags or any(tag.removeprefix("W/") == etag for tag in tags)


def range_applies(if_range: str | None, etag: str) -> bool:
    """Whether a ``Range`` header may be honoured given ``If-Range`` (strong comparison).

    A date in ``If-Range`` is never a match: packages carry no Last-Modified,
    so the client gets the whole, current file.
    """
    return if_range is None or if_range.strip() == etag
