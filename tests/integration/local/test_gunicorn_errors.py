"""The errors gunicorn answers itself are JSON too, from every server ``sora up`` runs."""

from __future__ import annotations

import json
import socket

import pytest

from tests.integration.local.conftest import Platform

# file server, feedback API, admin panel (offsets from the base port), then the gateway
SERVERS = ("file-server", "feedback-api", "admin", "gateway")
MALFORMED = {
    "uri too long": (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    "bad request line": (b"NOT A REQUEST LINE\r\n\r\n", 400),
    "bad http version": (b"GET / HTTP/9.9\r\nHost: x\r\n\r\n", 400),
    "too many headers": (
        b"GET /health HTTP/1.1\r\nHost: x\r\n"
        + b"".join(b"X-H%d: 1\r\n" % n for n in range(150))
        + b"\r\n",
        431,
    ),
    "header too large": (
        b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n",
        431,
    ),
}


def _port(platform: Platform, server: str) -> int:
    return platform.port if server == "gateway" else platform.base_port + SERVERS.index(server)


def _exchange(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes, read until the server closes; the status, headers and body."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), {k.lower(): v for k, v in headers.items()}, body


@pytest.mark.parametrize("server", SERVERS)
@pytest.mark.parametrize("case", MALFORMED)
def test_gunicorns_own_errors_are_json_in_the_contract_shape(
    platform: Platform, server: str, case: str
) -> None:
    request, expected_status = MALFORMED[case]
    status, headers, body = _exchange(_port(platform, server), request)
    assert status == expected_status
    assert headers["content-type"] == "application/json"
    assert int(headers["content-length"]) == len(body)
    error = json.loads(body)
    assert isinstance(error["error"], str)
    assert error["error"]


def test_the_invalid_request_warning_does_not_log_the_client_address(platform: Platform) -> None:
    _exchange(platform.base_port, MALFORMED["bad request line"][0])
    warnings = [line for line in platform.output().splitlines() if "Invalid request" in line]
    assert warnings
    assert not any("127.0.0.1" in line for line in warnings)
