import io

from sora.local.gateway import Gateway, forwarded_headers, request_target


def test_request_target_keeps_the_raw_encoding() -> None:
    environ = {"RAW_URI": "/api/extensions/%2e%2e/x?q=1", "PATH_INFO": "/api/extensions/../x"}
    assert request_target(environ) == "/api/extensions/%2e%2e/x?q=1"


def test_forwarded_headers_append_the_peer_and_drop_hop_by_hop_headers() -> None:
    environ = {
        "REMOTE_ADDR": "127.0.0.9",
        "HTTP_X_FORWARDED_FOR": "203.0.113.7",
        "HTTP_CONNECTION": "keep-alive",
        "HTTP_ACCEPT": "application/json",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": "12",
    }
    headers = forwarded_headers(environ)
    assert headers["X-Forwarded-For"] == "203.0.113.7, 127.0.0.9"
    assert headers["X-Real-Ip"] == "127.0.0.9"
    assert headers["Content-Length"] == "12"
    assert "Connection" not in headers


def test_unrouted_path_answers_json_not_found() -> None:
    captured: list[str] = []
    body = Gateway({})(
        {"PATH_INFO": "/nope", "REQUEST_METHOD": "GET", "wsgi.input": io.BytesIO()},
        lambda status, headers: captured.append(status),
    )
    assert captured == ["404 Not Found"]
    assert b"".join(body) == b'{"error": "Not found"}'
