import contextlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sora.feedback.model import Target
from sora.feedback.schemas import MAX_COMMENT_CHARS
from sora.feedback.validation import (
    ValidationError,
    parse_admin_list_query,
    parse_json_object,
    parse_recommendations_query,
    parse_stats_query,
    parse_submission,
    parse_target,
)

VALID = {"target_type": "extension", "target_id": "word-count", "rating": 4}


def rejection(body: dict[str, Any]) -> tuple[str, str]:
    with pytest.raises(ValidationError) as caught:
        parse_submission(body)
    return caught.value.field, caught.value.rule


def test_a_minimal_submission_is_accepted() -> None:
    submission = parse_submission(VALID)
    assert submission.target == Target("extension", "word-count")
    assert (submission.rating, submission.comment, submission.locale) == (4, None, None)


def test_a_full_submission_keeps_every_field() -> None:
    submission = parse_submission(
        {**VALID, "comment": "  useful  ", "client_version": "1.4.0-beta+2", "locale": "ja-JP"}
    )
    assert (submission.comment, submission.client_version, submission.locale) == (
        "useful",
        "1.4.0-beta+2",
        "ja-JP",
    )


def test_unknown_fields_are_ignored_for_newer_clients() -> None:
    assert parse_submission({**VALID, "device": "tablet"}).rating == 4


def test_an_integral_float_rating_is_an_integer() -> None:
    assert parse_submission({**VALID, "rating": 5.0}).rating == 5


def test_a_blank_comment_is_no_comment() -> None:
    assert parse_submission({**VALID, "comment": "   "}).comment is None


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        ({"target_type": None}, "target_type", "required"),
        ({"target_type": "theme"}, "target_type", "enum"),
        ({"target_type": 3}, "target_type", "type"),
        ({"target_id": None}, "target_id", "required"),
        ({"target_id": ""}, "target_id", "pattern"),
        ({"target_id": "has space"}, "target_id", "pattern"),
        ({"target_id": "a/b"}, "target_id", "pattern"),
        ({"target_id": "x" * 129}, "target_id", "pattern"),
        ({"target_id": "trailing\n"}, "target_id", "pattern"),
        ({"rating": None}, "rating", "required"),
        ({"rating": 0}, "rating", "range"),
        ({"rating": 6}, "rating", "range"),
        ({"rating": 4.5}, "rating", "type"),
        ({"rating": "5"}, "rating", "type"),
        ({"rating": True}, "rating", "type"),
        ({"rating": float("nan")}, "rating", "type"),
        ({"comment": 12}, "comment", "type"),
        ({"comment": "x" * (MAX_COMMENT_CHARS + 1)}, "comment", "max_length"),
        ({"comment": "bad \ud800 surrogate"}, "comment", "encoding"),
        ({"client_version": "1.0 beta"}, "client_version", "pattern"),
        ({"locale": "english!"}, "locale", "pattern"),
        ({"locale": ["ja"]}, "locale", "type"),
    ],
)
def test_each_broken_rule_is_named_with_its_field(
    change: dict[str, Any], field: str, rule: str
) -> None:
    assert rejection({**VALID, **change}) == (field, rule)


@pytest.mark.parametrize(
    ("raw", "rule"),
    [(b"", "required"), (b"{", "json"), (b"[1]", "object"), (b'"x"', "object"), (b"\xff", "json")],
)
def test_a_body_that_is_not_a_json_object_is_refused(raw: bytes, rule: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_json_object(raw)
    assert (caught.value.field, caught.value.rule) == ("body", rule)


def test_deeply_nested_json_is_a_validation_error_not_a_crash() -> None:
    with pytest.raises(ValidationError):
        parse_json_object(b"[" * 100_000 + b"]" * 100_000)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=10,
)


@given(st.dictionaries(st.sampled_from([*VALID, "comment", "locale", "x"]), json_values))
def test_any_json_object_is_either_accepted_or_refused_with_a_field(body: dict[str, Any]) -> None:
    error = None
    try:
        parse_submission(body)
    except ValidationError as caught:
        error = caught
    assert error is None or error.field in body or error.rule == "required"


@given(st.binary(max_size=64))
def test_arbitrary_bytes_never_escape_as_another_exception(raw: bytes) -> None:
    with contextlib.suppress(ValidationError):
        parse_submission(parse_json_object(raw))


def test_query_defaults() -> None:
    query = parse_recommendations_query({})
    assert (query.kind, query.order, query.limit) == (None, "score", 10)
    stats = parse_stats_query({})
    assert (stats.kind, stats.limit, stats.days) == (None, 20, 30)


@pytest.mark.parametrize(
    ("params", "field", "rule"),
    [
        ({"limit": "0"}, "limit", "range"),
        ({"limit": "101"}, "limit", "range"),
        ({"limit": "ten"}, "limit", "integer"),
        ({"limit": "-1"}, "limit", "integer"),
        ({"limit": "\u0661"}, "limit", "integer"),  # an Arabic-Indic digit: int() would take it
        ({"limit": ["1", "2"]}, "limit", "single"),
        ({"order": "random"}, "order", "enum"),
        ({"kind": "theme"}, "kind", "enum"),
    ],
)
def test_bad_query_parameters_are_named(params: dict[str, Any], field: str, rule: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_recommendations_query(params)
    assert (caught.value.field, caught.value.rule) == (field, rule)


def test_admin_filters_are_parsed() -> None:
    query = parse_admin_list_query(
        {"hidden": "false", "rating": "5", "since": "2026-01-02", "cursor": "40", "limit": "5"}
    )
    assert query.filters.hidden is False
    assert query.filters.rating == 5
    assert query.filters.since == 1767312000000
    assert (query.cursor, query.limit) == (40, 5)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"hidden": "maybe"}, "hidden"),
        ({"since": "yesterday"}, "since"),
        ({"rating": "9"}, "rating"),
    ],
)
def test_bad_admin_filters_are_named(params: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_admin_list_query(params)
    assert caught.value.field == field


def test_path_targets_are_validated_like_bodies() -> None:
    assert parse_target("layout", "grid.v2") == Target("layout", "grid.v2")
    with pytest.raises(ValidationError):
        parse_target("layouts", "grid")


def test_error_messages_are_json_serialisable() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_submission({**VALID, "rating": 9})
    assert json.dumps({"error": caught.value.message})


def test_unknown_query_parameters_are_refused_by_name() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_recommendations_query({"limt": "5"})
    assert (caught.value.field, caught.value.rule) == ("limt", "unknown")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1970-01-01T00:00:01Z", 1000),
        ("1970-01-01T09:00:00+09:00", 0),
        ("1970-01-01t00:00:00.5z", 500),
        ("2026-01-02", 1767312000000),
        ("0001-01-01T00:00:00+23:59", -62135683140000),  # before year 1 in UTC: still a number
    ],
)
def test_since_accepts_any_rfc3339_date_time(value: str, expected: int) -> None:
    assert parse_admin_list_query({"since": value}).filters.since == expected


@pytest.mark.parametrize("value", ["2026-02-30", "2026-01-01T24:00:00Z", "yesterday", "1"])
def test_since_refuses_what_is_not_a_date(value: str) -> None:
    with pytest.raises(ValidationError):
        parse_admin_list_query({"since": value})


def test_the_largest_documented_cursor_is_accepted() -> None:
    assert parse_admin_list_query({"cursor": str(2**63 - 1)}).cursor == 2**63 - 1


def test_a_cursor_beyond_the_documented_maximum_is_refused() -> None:
    with pytest.raises(ValidationError, match="cursor"):
        parse_admin_list_query({"cursor": str(2**63)})
