"""OpenAPI 3.1 pieces generated from pydantic types, so that a service's document and its
validation come from one source (each service's ``schemas.py``).

JSON Schema 2020-12 is OpenAPI 3.1's schema dialect: what pydantic writes is used as it is,
with references pointed at ``#/components/schemas``.
"""

from __future__ import annotations

from typing import Any, Final, Literal

from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema

Json = dict[str, Any]
REF_TEMPLATE: Final = "#/components/schemas/{model}"
JSON: Final = "application/json"


class _Generator(GenerateJsonSchema):
    def field_title_should_be_set(self, schema: Any) -> bool:
        return False  # a "title" on every property would only repeat its name


def _schema(shape: Any) -> Json:
    return TypeAdapter(shape).json_schema(ref_template=REF_TEMPLATE, schema_generator=_Generator)


def ref(name: str) -> Json:
    return {"$ref": REF_TEMPLATE.format(model=name)}


def components(*shapes: Any) -> Json:
    """``components.schemas`` for these types (by their titles) and every type they use."""
    found: Json = {}
    for shape in shapes:
        schema = _schema(shape)
        found.update(schema.pop("$defs", {}))
        found[schema["title"]] = schema
    return found


def parameters(shape: Any, where: Literal["query", "path"] = "query") -> list[Json]:
    """One parameter per field of a request dataclass, in field order."""
    schema = _schema(shape)
    required = set(schema.get("required", ()))
    return [
        _parameter(name, where, where == "path" or name in required, field)
        for name, field in schema["properties"].items()
    ]


def _parameter(name: str, where: str, required: bool, schema: Json) -> Json:
    schema = _never_null(schema)
    parameter = {"name": name, "in": where, "required": required, "schema": schema}
    if "description" in schema:
        parameter["description"] = schema.pop("description")
    return parameter


def _never_null(schema: Json) -> Json:
    """An absent parameter is the field's ``None``: a query string cannot say null."""
    schema = {key: value for key, value in schema.items() if key != "default" or value is not None}
    options = [option for option in schema.pop("anyOf", []) if option != {"type": "null"}]
    if len(options) == 1:
        return {**options[0], **schema}
    return {**schema, "anyOf": options} if options else schema


def json_response(description: str, schema: Json, headers: Json | None = None) -> Json:
    response: Json = {"description": description, "content": {JSON: {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response
