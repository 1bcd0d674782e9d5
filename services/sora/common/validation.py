"""Validating untrusted input through pydantic types, with rejections in the services'
own terms: a :class:`ValidationError` names the field and the rule it broke (the 400
body's ``field`` and ``rule``), so a client can tell exactly what to fix.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Final, TypeVar

import pydantic
from pydantic_core import ErrorDetails

Shape = TypeVar("Shape")

# pydantic's error types as the rule names of our 400 bodies; any other is a "type" error.
RULES: Final = {
    "missing": "required",
    "literal_error": "enum",
    "string_pattern_mismatch": "pattern",
    "string_too_long": "max_length",
    "too_long": "max_length",
    "greater_than_equal": "range",
    "less_than_equal": "range",
    "string_unicode": "encoding",  # a lone surrogate: text that has no UTF-8
    # raised as PydanticCustomError by the services' field types
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


def validate(shape: type[Shape], value: object) -> Shape:
    adapter: pydantic.TypeAdapter[Shape] = _compiled(shape)[0]
    try:
        return adapter.validate_python(value)
    except pydantic.ValidationError as error:
        raise _rejection(error.errors(include_url=False)[0]) from None


def field_names(shape: type[Any]) -> frozenset[str]:
    return _compiled(shape)[1]


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
