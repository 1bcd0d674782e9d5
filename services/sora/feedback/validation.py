"""Turning untrusted input (JSON bodies, query strings, path segments) into the request
types of ``schemas.py``, which do the checking.

Every rejection is a :class:`ValidationError` naming the field and the rule it broke
(the 400 body's ``field`` and ``rule``), so a client can tell exactly what to fix.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import fields
from typing import Any, Final, TypeVar

import pydantic
from pydantic_core import ErrorDetails

from sora.feedback.model import Submission, Target
from sora.feedback.schemas import (
    AdminListQuery,
    FeedbackSubmission,
    RecommendationsQuery,
    StatsQuery,
    TargetRef,
)

Params = Mapping[str, str | list[str]]
Request = TypeVar("Request")

# pydantic's error types as the rule names of our 400 bodies; any other is a "type" error.
RULES: Final = {
    "missing": "required",
    "literal_error": "enum",
    "string_pattern_mismatch": "pattern",
    "string_too_long": "max_length",
    "string_unicode": "encoding",  # a lone surrogate: no UTF-8 for the comment's encryption
    "greater_than_equal": "range",
    "less_than_equal": "range",
    # raised as PydanticCustomError by the field types in schemas.py
    "integer": "integer",
    "boolean": "boolean",
    "datetime": "datetime",
}


class ValidationError(ValueError):
    """Input that breaks a rule; ``field`` and ``rule`` go into the 400 body."""

    def __init__(self, field: str, rule: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.rule = rule
        self.message = message


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """json.loads rather than pydantic's parser: it also reads UTF-16 and UTF-32 bodies and
    lone surrogates (refused by the comment's encoding rule), as the API always has."""
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
    return validate(FeedbackSubmission, body).submission()


def parse_target(target_type: str, target_id: str) -> Target:
    return validate(TargetRef, {"target_type": target_type, "target_id": target_id}).target


def parse_query(shape: type[Request], params: Params) -> Request:
    """Unknown parameters are refused rather than ignored, and repeated ones rather than
    one picked: a typo must not go unnoticed."""
    names = _compiled(shape)[1]
    for name, value in params.items():
        if name not in names:
            raise ValidationError(name, "unknown", f"unknown parameter {name!r}")
        if isinstance(value, list):
            raise ValidationError(name, "single", f"{name} must be given at most once")
    return validate(shape, params)


def parse_recommendations_query(params: Params) -> RecommendationsQuery:
    return parse_query(RecommendationsQuery, params)


def parse_stats_query(params: Params) -> StatsQuery:
    return parse_query(StatsQuery, params)


def parse_admin_list_query(params: Params) -> AdminListQuery:
    return parse_query(AdminListQuery, params)


def validate(shape: type[Request], value: object) -> Request:
    adapter: pydantic.TypeAdapter[Request] = _compiled(shape)[0]
    try:
        return adapter.validate_python(value)
    except pydantic.ValidationError as error:
        raise _rejection(error.errors(include_url=False)[0]) from None


_COMPILED: Final[dict[type[Any], tuple[pydantic.TypeAdapter[Any], frozenset[str]]]] = {}


def _compiled(shape: type[Any]) -> tuple[pydantic.TypeAdapter[Any], frozenset[str]]:
    """A type's validator and field names, made once: a TypeAdapter compiles its validator
    when it is created (two threads may both make the first one: either will do)."""
    if shape not in _COMPILED:
        names = frozenset(field.name for field in fields(shape))
        _COMPILED[shape] = (pydantic.TypeAdapter(shape), names)
    return _COMPILED[shape]


def _rejection(error: ErrorDetails) -> ValidationError:
    field = str(error["loc"][0]) if error["loc"] else "body"
    if error["type"] == "missing" or error["input"] is None:
        return ValidationError(field, "required", f"{field} is required")
    rule = RULES.get(error["type"], "type")
    if rule == "enum" and not isinstance(error["input"], str):
        rule = "type"  # pydantic calls any value outside a Literal a literal_error
    return ValidationError(field, rule, f"{field}: {error['msg']}")
