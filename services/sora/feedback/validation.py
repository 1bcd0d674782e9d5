"""Turning untrusted input (JSON bodies, query strings, path segments) into the request
types of ``schemas.py``, which do the checking (rejections: :class:`ValidationError`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sora.common.validation import Shape, ValidationError, field_names, validate
from sora.feedback.model import Submission, Target
from sora.feedback.schemas import (
    AdminListQuery,
    FeedbackSubmission,
    RecommendationsQuery,
    StatsQuery,
    TargetRef,
)

__all__ = ["ValidationError", "parse_json_object", "parse_query", "parse_submission"]

Params = Mapping[str, str | list[str]]


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """json.loads rather than pydantic's parser: it also reads UTF-16 and UTF-32 bodies, and
    lone surrogates (then refused by the encoding rule), as the API always has."""
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


def parse_query(shape: type[Shape], params: Params) -> Shape:
    """Unknown parameters are refused rather than ignored, and repeated ones rather than
    one picked: a typo must not go unnoticed."""
    names = field_names(shape)
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
