"""schemathesis against the server's own /openapi.json: no 5xx, responses as documented.

Driven through the Python API (``schemathesis.openapi.from_url`` and
``APIOperation.as_strategy``), one bounded run per operation and mode. The admin
token is given to schemathesis as the ``adminBearer`` scheme's credential rather
than pasted onto each request: schemathesis then sends it except where it negates
the header itself (those cases must get 401), and judges negative cases by the
headers actually sent. Overriding ``Authorization`` at ``case.call`` turned a
case whose only fault was a missing token into a valid request that schemathesis
still expected to be refused (docs/testing.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig

from sora.feedback.openapi import document
from tests.integration.feedback.conftest import ADMIN_TOKEN, NewDatabase, feedback_server
from tests.support.processes import Service

OPERATIONS = [
    (path, method) for path, operations in document()["paths"].items() for method in operations
]
CASES = [(path, method, GenerationMode.POSITIVE) for path, method in OPERATIONS] + [
    (path, method, GenerationMode.NEGATIVE)
    for path, method in OPERATIONS
    if document()["paths"][path][method].get("parameters")
    or document()["paths"][path][method].get("requestBody")
]
URI_TOO_LONG = 414  # gunicorn refuses request lines over 4094 bytes before the app sees them
# A schema-valid submission may name a target the catalog lacks (the schema cannot list
# the catalog): 422 is then the right answer, as documented, and its body is checked.
CONFIG = SchemathesisConfig.from_dict(
    {
        "auth": {"openapi": {"adminBearer": {"bearer": ADMIN_TOKEN}}},
        "operations": [
            {
                "include-path": "/api/feedback",
                "include-method": "POST",
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": ["2xx", "401", "404", "422", "429"]
                    }
                },
            }
        ],
    }
)


@pytest.fixture(scope="module")
def fuzzed(
    tmp_path_factory: pytest.TempPathFactory, catalog: Service, new_database: NewDatabase
) -> Iterator[Service]:
    """One server per engine (``new_database`` is parametrised by it)."""
    tmp = tmp_path_factory.mktemp("feedback-schemathesis")
    with feedback_server(tmp, catalog.url, **new_database(tmp).env) as service:
        yield service


@pytest.fixture(scope="module")
def schema(fuzzed: Service) -> Any:
    return schemathesis.openapi.from_url(fuzzed.url + "/openapi.json", config=CONFIG)


def answers_as_documented(case: Any) -> None:
    response = case.call()
    assert response.status_code < 500, (response.status_code, response.text[:300])
    if response.status_code != URI_TOO_LONG:
        case.validate_response(response)


@pytest.mark.parametrize(("path", "method", "mode"), CASES)
def test_every_operation_answers_as_documented_and_never_with_5xx(
    schema: Any, path: str, method: str, mode: GenerationMode
) -> None:
    operation = schema[path][method]

    @given(operation.as_strategy(generation_mode=mode))
    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    def check(case: Any) -> None:
        answers_as_documented(case)

    check()


def test_the_admin_list_without_a_token_is_judged_as_sent(schema: Any) -> None:
    """The seed that drew ``GET /api/feedback?cursor=1`` (and an empty-named, empty-list
    query parameter, which is not sent) without ``Authorization``: the old check pasted the
    token on, the API rightly answered 200, and schemathesis reported bad input accepted."""

    @seed(178242421500798071543046208719784330848)
    @given(schema["/api/feedback"]["GET"].as_strategy(generation_mode=GenerationMode.NEGATIVE))
    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    def check(case: Any) -> None:
        answers_as_documented(case)

    check()
