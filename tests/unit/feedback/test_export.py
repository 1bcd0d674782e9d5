import csv
import io
import json

import pytest

from sora.feedback.domain import AdminEntry
from sora.feedback.export import COLUMNS, cell, csv_lines, jsonl_lines
from sora.feedback.model import StoredFeedback, Target


def entry(comment: str | None) -> AdminEntry:
    row = StoredFeedback(
        id=7,
        target=Target("layout", "grid"),
        client_hash=bytes(32),
        rating=2,
        comment=None,
        client_version="1.0",
        locale="en",
        hidden=False,
        created_at=0,
        submitted_at=86_400_000,
    )
    return AdminEntry(row, comment, comment_unavailable=False)


@pytest.mark.parametrize("formula", ["=HYPERLINK(1)", "+1", "-1", "@SUM(A1)", "\tx"])
def test_cells_that_a_spreadsheet_would_evaluate_are_neutralised(formula: str) -> None:
    assert cell(formula) == "'" + formula


def test_csv_has_a_header_and_one_line_per_entry_with_commas_and_newlines_quoted() -> None:
    text = b"".join(csv_lines([entry('says "hi",\nthen leaves'), entry(None)])).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(COLUMNS)
    assert rows[1][COLUMNS.index("comment")] == 'says "hi",\nthen leaves'
    assert rows[2][COLUMNS.index("comment")] == ""
    assert rows[1][COLUMNS.index("hidden")] == "false"
    assert rows[1][COLUMNS.index("submitted_at")] == "1970-01-02T00:00:00.000Z"


def test_jsonl_is_one_object_per_line() -> None:
    lines = b"".join(jsonl_lines([entry("日本語"), entry(None)])).decode().splitlines()
    assert [json.loads(line)["comment"] for line in lines] == ["日本語", None]
