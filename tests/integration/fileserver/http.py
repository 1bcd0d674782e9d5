"""Raw HTTP for tests that must send paths exactly as written (no dot-segment cleanup)."""

from __future__ import annotations

import http.client
from dataclasses import dataclass

from tests.support.processes import Service


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes


def raw_request(
    service: Service, method: str, path: str, headers: dict[str, str] | None = None
) -> RawResponse:
    connection = http.client.HTTPConnection("127.0.0.1", service.port, timeout=10)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        body = response.read()
        return RawResponse(response.status, {k.lower(): v for k, v in response.getheaders()}, body)
    finally:
        connection.close()
