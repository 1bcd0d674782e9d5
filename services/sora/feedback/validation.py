"""Turning untrusted input (JSON bodies, query strings, path segments) into typed values.

Every rejection is a :class:`ValidationError` naming the field and the rule it
broke, so a client can tell exactly what to fix. The patterns below are the
ones published in the OpenAPI document (``openapi.py`` imports them).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from sora.feedback.model import ORDERS, TARGET_TYPES, FeedbackFilter, Order, Submission, Target

MAX_BODY_BYTES: Final = 1024 * 1024
MAX_COMMENT_CHARS: Final = 4000
TARGET_ID_PATTERN: Final = r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}"
CLIENT_VERSION_PATTERN: Final = r"[0-9A-Za-z][0-9A-Za-z.+_-]{0,31}"
LOCALE_PATTERN: Final = r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8}){0,3}"
EXPORT_FORMATS: Final = ("csv", "jsonl")
# Up to 19 digits: every value up to 2**63 - 1; the range check does the rest.
_DIGITS: Final = re.compile(r"[0-9]{1,19}")
_TRUE: Final = "true"
_FALSE: Final = "false"
_DATE_TIME: Final = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})?)?"
)
_EPOCH: Final = date(1970, 1, 1)

Params = Mapping[str, str | list[str]]


class ValidationError(ValueError):
    """Input that breaks a rule; ``field`` and ``rule`` go into the 400 body."""

    def __init__(self, field: str, rule: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.rule = rule
        self.message = message


# --- request bodies -------------------------------------------------------------------------


def parse_json_object(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        raise ValidationError("body", "required", "request body must be a JSON object")
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValidationError("body", "json", "request body is not valid JSON") from None
    if not isinstance(value, dict):
        raise ValidationError("body", "object", "request body must be a JSON object")
    return value


def parse_submission(body: Mapping[str, Any]) -> Submission:
    """A feedback submission; unknown fields are ignored so older servers accept newer clients."""
    return Submission(
        target=_target(body),
        rating=_rating(body.get("rating")),
        comment=_comment(body.get("comment")),
        client_version=_optional_pattern(
            body, "client_version", CLIENT_VERSION_PATTERN, "a version"
        ),
        locale=_optional_pattern(body, "locale", LOCALE_PATTERN, "a language tag such as ja-JP"),
    )


def _target(fields: Mapping[str, Any]) -> Target:
    target_type = _required_string(fields, "target_type")
    target_id = _required_string(fields, "target_id")
    return Target(
        type=_check_enum("target_type", target_type, TARGET_TYPES),
        id=_check_pattern("target_id", target_id, TARGET_ID_PATTERN, "an id"),
    )


def _rating(value: Any) -> int:
    if value is None:
        raise ValidationError("rating", "required", "rating is required")
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationError("rating", "type", "rating must be an integer from 1 to 5")
    if not 1 <= value <= 5:
        raise ValidationError("rating", "range", "rating must be an integer from 1 to 5")
    return value


def _comment(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError("comment", "type", "comment must be a string or null")
    if len(value) > MAX_COMMENT_CHARS:
        raise ValidationError(
            "comment", "max_length", f"comment must be at most {MAX_COMMENT_CHARS} characters"
        )
    try:
        value.encode()
    except UnicodeEncodeError:
        raise ValidationError("comment", "encoding", "comment must be valid Unicode text") from None
    return value.strip() or None


def _optional_string(fields: Mapping[str, Any], field: str) -> str | None:
    value = fields.get(field)
    if value is not None and not isinstance(value, str):
        raise ValidationError(field, "type", f"{field} must be a string")
    return value


def _required_string(fields: Mapping[str, Any], field: str) -> str:
    value = _optional_string(fields, field)
    if value is None:
        raise ValidationError(field, "required", f"{field} is required")
    return value


def _optional_pattern(fields: Mapping[str, Any], field: str, pattern: str, what: str) -> str | None:
    value = _optional_string(fields, field)
    return None if value is None else _check_pattern(field, value, pattern, what)


def _check_enum(field: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValidationError(field, "enum", f"{field} must be one of {', '.join(choices)}")
    return value


def _check_pattern(field: str, value: str, pattern: str, what: str) -> str:
    if not re.fullmatch(pattern, value):
        raise ValidationError(field, "pattern", f"{field} must be {what} matching ^{pattern}$")
    return value


# --- path segments --------------------------------------------------------------------------


def parse_target(target_type: str, target_id: str) -> Target:
    return _target({"target_type": target_type, "target_id": target_id})


# --- query strings --------------------------------------------------------------------------


@dataclass(frozen=True)
class RecommendationsQuery:
    kind: str | None
    order: Order
    limit: int


@dataclass(frozen=True)
class StatsQuery:
    kind: str | None
    limit: int
    days: int


@dataclass(frozen=True)
class AdminListQuery:
    filters: FeedbackFilter
    limit: int
    cursor: int | None


_FILTER_NAMES: Final = frozenset(
    ("target_type", "target_id", "rating", "hidden", "has_comment", "locale", "since", "until")
)


def _only(params: Params, *names: str | frozenset[str]) -> None:
    """Unknown parameters are refused rather than ignored: a typo must not go unnoticed."""
    allowed = {name for group in names for name in ([group] if isinstance(group, str) else group)}
    for name in params:
        if name not in allowed:
            raise ValidationError(name, "unknown", f"unknown parameter {name!r}")


def parse_recommendations_query(params: Params) -> RecommendationsQuery:
    _only(params, "kind", "order", "limit")
    order = _query_enum(params, "order", ORDERS) or "score"
    return RecommendationsQuery(
        kind=_query_enum(params, "kind", TARGET_TYPES),
        order="trending" if order == "trending" else "score",
        limit=_query_int(params, "limit", 10, 1, 100),
    )


def parse_stats_query(params: Params) -> StatsQuery:
    _only(params, "kind", "limit", "days")
    return StatsQuery(
        kind=_query_enum(params, "kind", TARGET_TYPES),
        limit=_query_int(params, "limit", 20, 1, 100),
        days=parse_days(params),
    )


def parse_target_stats_query(params: Params) -> int:
    """The number of days of a target's daily counts."""
    _only(params, "days")
    return parse_days(params)


def parse_days(params: Params) -> int:
    return _query_int(params, "days", 30, 1, 365)


def parse_admin_list_query(params: Params) -> AdminListQuery:
    _only(params, _FILTER_NAMES, "limit", "cursor")
    cursor = _query_int(params, "cursor", 0, 1, 2**63 - 1)
    return AdminListQuery(
        filters=parse_feedback_filter(params),
        limit=_query_int(params, "limit", 50, 1, 200),
        cursor=cursor or None,
    )


def parse_export_query(params: Params) -> tuple[str, FeedbackFilter]:
    _only(params, _FILTER_NAMES, "format")
    return parse_export_format(params), parse_feedback_filter(params)


def parse_export_format(params: Params) -> str:
    return _query_enum(params, "format", EXPORT_FORMATS) or "csv"


def parse_feedback_filter(params: Params) -> FeedbackFilter:
    rating = _query_int(params, "rating", 0, 1, 5)
    return FeedbackFilter(
        target_type=_query_enum(params, "target_type", TARGET_TYPES),
        target_id=_query_pattern(params, "target_id", TARGET_ID_PATTERN, "an id"),
        rating=rating or None,
        hidden=_query_bool(params, "hidden"),
        has_comment=_query_bool(params, "has_comment"),
        locale=_query_pattern(params, "locale", LOCALE_PATTERN, "a language tag"),
        since=_query_time(params, "since"),
        until=_query_time(params, "until"),
    )


def _query(params: Params, name: str) -> str | None:
    value = params.get(name)
    if isinstance(value, list):
        raise ValidationError(name, "single", f"{name} must be given at most once")
    return value


def _query_enum(params: Params, name: str, choices: tuple[str, ...]) -> str | None:
    value = _query(params, name)
    return None if value is None else _check_enum(name, value, choices)


def _query_pattern(params: Params, name: str, pattern: str, what: str) -> str | None:
    value = _query(params, name)
    return None if value is None else _check_pattern(name, value, pattern, what)


def _query_int(params: Params, name: str, default: int, minimum: int, maximum: int) -> int:
    value = _query(params, name)
    if value is None:
        return default
    message = f"{name} must be a whole number from {minimum} to {maximum}"
    if not _DIGITS.fullmatch(value):
        raise ValidationError(name, "integer", message)
    number = int(value)
    if not minimum <= number <= maximum:
        raise ValidationError(name, "range", message)
    return number


def _query_bool(params: Params, name: str) -> bool | None:
    value = _query(params, name)
    if value is None:
        return None
    if value == _TRUE:
        return True
    if value == _FALSE:
        return False
    raise ValidationError(name, "boolean", f"{name} must be true or false")


def _query_time(params: Params, name: str) -> int | None:
    """An RFC 3339 date-time, or a date (midnight UTC), as Unix milliseconds."""
    value = _query(params, name)
    if value is None:
        return None
    match = _DATE_TIME.fullmatch(value)
    try:
        if match is None:
            raise ValueError(value)
        return _unix_ms(match)
    except ValueError:
        raise ValidationError(
            name, "datetime", f"{name} must be an RFC 3339 date-time or a date"
        ) from None


def _unix_ms(match: re.Match[str]) -> int:
    """Integer arithmetic rather than datetime.timestamp(): any year 0001-9999 works."""
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    days = (date(int(year), int(month), int(day)) - _EPOCH).days  # validates the date
    if int(hour or 0) > 23 or int(minute or 0) > 59 or int(second or 0) > 60:
        raise ValueError("time out of range")
    seconds = days * 86400 + int(hour or 0) * 3600 + int(minute or 0) * 60 + int(second or 0)
    millis = int((fraction or ".0")[1:4].ljust(3, "0"))
    if offset and offset.upper() != "Z":
        sign = -1 if offset[0] == "-" else 1
        if int(offset[1:3]) > 23 or int(offset[4:6]) > 59:
            raise ValueError("offset out of range")
        seconds -= sign * (int(offset[1:3]) * 3600 + int(offset[4:6]) * 60)
    return seconds * 1000 + millis
