import json

import pytest

from tests.integration.fileserver.http import raw_request
from tests.support.processes import Service

TRAVERSALS = [
    "/api/extensions/../../../../etc/passwd",
    "/api/extensions/..%2f..%2f..%2fetc%2fpasswd/download",
    "/api/extensions/%2e%2e/download",
    "/api/extensions/..%252f..%252fetc%252fpasswd/download",
    "/api/extensions/%2fetc%2fpasswd/download",
    "/api/extensions//etc/passwd",
    "/api/extensions/emoji-picker%00/download",
    "/api/extensions/" + "a" * 300 + "/download",
    "/api/extensions/emoji-picker/download?version=../../../etc/passwd",
    "/api/extensions/emoji-picker/download?version=1.0.0%00",
    "/api/layouts/..%5c..%5cwindows/download",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_traversal_attempts_get_a_json_400_or_404_and_no_file(server: Service, path: str) -> None:
    response = raw_request(server, "GET", path)
    assert response.status in (400, 404)
    assert response.headers["content-type"].startswith("application/json")
    assert "error" in json.loads(response.body)
    assert b"root:" not in response.body


@pytest.mark.parametrize("path", ["/", "/api", "/api/themes", "/admin", "/api/extensions/x/y/z"])
def test_unknown_routes_are_404_not_found(server: Service, path: str) -> None:
    response = raw_request(server, "GET", path)
    assert (response.status, json.loads(response.body)) == (404, {"error": "Not found"})


def test_an_unsupported_method_is_405_json(server: Service) -> None:
    response = raw_request(server, "POST", "/api/extensions")
    assert response.status == 405
    assert "error" in json.loads(response.body)
