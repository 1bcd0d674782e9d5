from typing import Any

import pytest
from falcon import inspect
from openapi_spec_validator import validate

from sora.feedback.app import create_app
from sora.feedback.openapi import document
from sora.feedback.settings import FeedbackSettings
from sora_contract.settings import Env


def test_the_document_is_valid_openapi_3_1() -> None:
    spec = document()
    assert spec["openapi"].startswith("3.1")
    validate(spec)


@pytest.fixture(scope="module")
def routes() -> dict[str, set[str]]:
    settings = FeedbackSettings.from_env(Env({"SORA_ENV": "development"}))
    app = create_app(settings, store=object())  # type: ignore[arg-type]  # no request is served
    found: dict[str, set[str]] = {}
    for route in inspect.inspect_routes(app):
        path = route.path.replace(
            "{feedback_id:int(min=1, max=9223372036854775807)}", "{feedback_id}"
        )
        methods = {m.method.lower() for m in route.methods if m.internal is False}
        found[path] = methods - {"options"}
    return found


def test_every_route_and_method_is_documented(routes: dict[str, set[str]]) -> None:
    paths = document()["paths"]
    for path, methods in routes.items():
        assert path in paths, path
        assert methods <= set(paths[path]), (path, methods)


def test_every_documented_operation_exists(routes: dict[str, set[str]]) -> None:
    for path, operations in document()["paths"].items():
        assert set(operations) <= routes.get(path, set()), path


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, operations in document()["paths"].items()
        for method, operation in operations.items()
    ]


@pytest.mark.parametrize(("path", "method", "operation"), _operations())
def test_admin_operations_require_the_bearer_token_and_document_401(
    path: str, method: str, operation: dict[str, Any]
) -> None:
    if "admin" in operation.get("tags", []):
        assert operation["security"] == [{"adminBearer": []}]
        assert "401" in operation["responses"]
    else:
        assert "security" not in operation


def test_submission_documents_every_error_status() -> None:
    responses = document()["paths"]["/api/feedback"]["post"]["responses"]
    assert {"201", "400", "413", "415", "422", "429", "503"} <= set(responses)


def test_catalog_refusals_are_documented_where_they_happen() -> None:
    paths = document()["paths"]
    unknown = {"$ref": "#/components/responses/UnknownTarget"}
    assert paths["/api/feedback"]["post"]["responses"]["422"] == unknown
    assert paths["/api/stats/{target_type}/{target_id}"]["get"]["responses"]["404"] == unknown
    for path in ("/api/recommendations", "/api/stats", "/api/stats/{target_type}/{target_id}"):
        assert "503" in paths[path]["get"]["responses"], path
