import json
from typing import Any

import pytest

from sora.common.openapi import components, parameters
from sora.feedback import openapi as feedback_openapi
from sora.feedback.schemas import AdminListQuery, TargetRef
from sora.fileserver import openapi as fileserver_openapi
from sora.fileserver.schemas import Page


def test_an_optional_query_field_is_an_optional_parameter_that_is_never_null() -> None:
    documented = {parameter["name"]: parameter for parameter in parameters(AdminListQuery)}
    assert documented["hidden"]["required"] is False
    assert documented["hidden"]["schema"] == {"type": "boolean"}
    assert "null" not in json.dumps(documented)


def test_a_field_description_becomes_the_parameter_description() -> None:
    cursor = next(p for p in parameters(AdminListQuery) if p["name"] == "cursor")
    assert cursor["description"] == "next_cursor from the previous page"
    assert "description" not in cursor["schema"]


def test_path_parameters_are_required() -> None:
    assert all(parameter["required"] for parameter in parameters(TargetRef, "path"))


def test_components_hold_the_types_a_schema_refers_to() -> None:
    schemas = components(Page)
    assert schemas["Page"]["properties"]["items"]["items"] == {
        "$ref": "#/components/schemas/Summary"
    }
    assert "Summary" in schemas


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {key for item in value.values() for key in _keys(item)}
    if isinstance(value, list):
        return {key for item in value for key in _keys(item)}
    return set()


@pytest.mark.parametrize("document", [feedback_openapi.document, fileserver_openapi.document])
def test_no_constraint_is_left_in_pydantic_s_own_spelling(document: Any) -> None:
    """Constraints given after a BeforeValidator come out as ``ge``/``le``, which JSON Schema
    ignores: the document would then promise less than the validation checks."""
    assert not _keys(document()) & {"ge", "le", "gt", "lt", "min_length", "max_length"}
