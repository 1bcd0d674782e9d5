import json

import requests

from tests.integration.fileserver.conftest import ORIGIN
from tests.support.processes import Service


def test_health_is_ok_with_the_catalog_counts(server: Service) -> None:
    response = requests.get(server.url + "/health", timeout=10)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["catalog"] == {"extensions": 5, "layouts": 3}


def test_an_allowed_origin_gets_cors_headers(server: Service) -> None:
    response = requests.get(server.url + "/api/layouts", headers={"Origin": ORIGIN}, timeout=10)
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]


def test_another_origin_gets_no_cors_headers(server: Service) -> None:
    response = requests.get(
        server.url + "/api/layouts", headers={"Origin": "https://evil.example"}, timeout=10
    )
    assert "Access-Control-Allow-Origin" not in response.headers


def test_a_preflight_from_an_allowed_origin_is_204(server: Service) -> None:
    response = requests.options(
        server.url + "/api/extensions/emoji-picker/download",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"},
        timeout=10,
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_a_preflight_from_another_origin_is_refused(server: Service) -> None:
    response = requests.options(
        server.url + "/api/extensions",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        timeout=10,
    )
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response.headers


def test_access_logs_are_json_with_the_request_id_and_no_client_address(server: Service) -> None:
    requests.get(
        server.url + "/api/layouts/colemak",
        headers={"X-Request-Id": "trace-colemak-1", "X-Forwarded-For": "203.0.113.77"},
        timeout=10,
    )
    lines = [json.loads(line) for line in server.logs().splitlines() if "trace-colemak-1" in line]
    assert lines
    assert lines[0]["request_id"] == "trace-colemak-1"
    assert lines[0]["route"] == "/api/layouts/{id}"
    assert len(lines[0]["client"]) == 16
    assert "203.0.113.77" not in server.logs()


def test_metrics_count_requests_by_route_template_never_by_id(server: Service) -> None:
    requests.get(server.url + "/api/layouts/dvorak/download", timeout=10)
    text = requests.get(server.url + "/metrics", timeout=10).text
    assert 'route="/api/layouts/{id}/download"' in text
    assert "dvorak" not in text


def test_metrics_count_the_package_bytes_served(server: Service) -> None:
    size = requests.get(server.url + "/api/layouts/jis-kana", timeout=10).json()["size"]
    requests.get(server.url + "/api/layouts/jis-kana/download", timeout=10)
    text = requests.get(server.url + "/metrics", timeout=10).text
    served = next(
        float(line.split()[-1])
        for line in text.splitlines()
        if line.startswith('sora_fileserver_bytes_served_total{kind="layouts"}')
    )
    assert served >= size


def test_the_openapi_document_is_served(server: Service) -> None:
    document = requests.get(server.url + "/openapi.json", timeout=10).json()
    assert "/api/extensions/{id}/download" in document["paths"]
