"""Admin export formats: CSV (spreadsheet-safe) and JSON lines, produced row by row."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any, Final

from sora.feedback import views
from sora.feedback.domain import AdminEntry

COLUMNS: Final = (
    "id",
    "target_type",
    "target_id",
    "rating",
    "comment",
    "comment_unavailable",
    "client_version",
    "locale",
    "hidden",
    "client",
    "created_at",
    "submitted_at",
)
MEDIA_TYPES: Final = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}
# A cell starting with one of these is a formula to a spreadsheet: neutralise it.
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    """A CSV cell: booleans as true/false, null as empty, text safe from formula injection."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_lines(entries: Iterable[AdminEntry]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> bytes:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text.encode()

    writer.writerow(COLUMNS)
    yield flush()
    for entry in entries:
        row = views.admin_entry(entry)
        writer.writerow([cell(row[column]) for column in COLUMNS])
        yield flush()


def jsonl_lines(entries: Iterable[AdminEntry]) -> Iterator[bytes]:
    for entry in entries:
        yield json.dumps(views.admin_entry(entry), ensure_ascii=False).encode() + b"\n"
