import io
from typing import Any

import pytest

from sora.feedback.schemas import MAX_BODY_BYTES
from sora.local.gateway import (
    BodyTooLargeError,
    Gateway,
    forwarded_headers,
    request_body,
    request_target,
)


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


def _environ(path: str, body: bytes, **extra: str) -> dict[str, Any]:
    return {"PATH_INFO": path, "wsgi.input": io.BytesIO(body), **extra}


def test_a_declared_feedback_body_over_one_mib_is_refused_without_reading_it_all() -> None:
    environ = _environ("/api/feedback", b"", CONTENT_LENGTH=str(MAX_BODY_BYTES + 1))
    with pytest.raises(BodyTooLargeError):
        request_body(environ, "/api/feedback", {})


def test_a_chunked_feedback_body_over_one_mib_is_refused() -> None:
    environ = _environ(
        "/api/feedback", b"x" * (MAX_BODY_BYTES + 1), HTTP_TRANSFER_ENCODING="chunked"
    )
    with pytest.raises(BodyTooLargeError):
        request_body(environ, "/api/feedback", {})


def test_a_chunked_feedback_body_is_sent_on_with_its_length() -> None:
    headers: dict[str, str] = {}
    environ = _environ("/api/feedback", b'{"rating": 5}', HTTP_TRANSFER_ENCODING="chunked")
    assert request_body(environ, "/api/feedback", headers) == b'{"rating": 5}'
    assert headers["Content-Length"] == "13"


def test_other_paths_stream_the_body_and_bodiless_requests_send_none() -> None:
    streamed = _environ("/admin/login", b"token=x", CONTENT_LENGTH="7")
    assert request_body(streamed, "/admin/login", {}) is streamed["wsgi.input"]
    assert request_body(_environ("/api/extensions", b""), "/api/extensions", {}) is None
