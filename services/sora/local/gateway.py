"""A small reverse proxy for local runs, standing in for the seed's nginx.

It streams request and response bodies, adds ``X-Forwarded-For`` and
``X-Real-IP`` (the services trust loopback as a proxy in local runs), and
answers 404 and 502 with the platform's JSON error shape. In a cluster the
Ingress (ALB) does this job instead.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Final
from urllib.parse import quote, urlsplit

from sora.common.routes import ADMIN, FEEDBACK_API, FILE_SERVER, service_for

log = logging.getLogger("sora.gateway")

CHUNK: Final = 64 * 1024
HOP_BY_HOP: Final = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def upstream_variable(service: str) -> str:
    """The environment variable through which ``sora up`` tells the gateway where a service is."""
    return f"SORA_UPSTREAM_{service.upper().replace('-', '_')}"


def _json_response(start_response: StartResponse, status: str, body: dict[str, str]) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]


def request_target(environ: Mapping[str, Any]) -> str:
    """The path and query exactly as the client sent them (percent-encoding intact)."""
    raw = environ.get("RAW_URI")
    if raw:
        return str(raw)
    target = quote(environ.get("PATH_INFO", "/"))
    query = environ.get("QUERY_STRING")
    return f"{target}?{query}" if query else target


def forwarded_headers(environ: Mapping[str, Any]) -> dict[str, str]:
    headers = {
        key[5:].replace("_", "-").title(): value
        for key, value in environ.items()
        if key.startswith("HTTP_") and key[5:].replace("_", "-").lower() not in HOP_BY_HOP
    }
    for key, name in (("CONTENT_TYPE", "Content-Type"), ("CONTENT_LENGTH", "Content-Length")):
        if environ.get(key):
            headers[name] = environ[key]
    peer = environ.get("REMOTE_ADDR", "")
    prior = headers.get("X-Forwarded-For")
    headers["X-Forwarded-For"] = f"{prior}, {peer}" if prior else peer
    headers["X-Real-Ip"] = peer
    headers["X-Forwarded-Proto"] = environ.get("wsgi.url_scheme", "http")
    return headers


def _stream(
    response: http.client.HTTPResponse, connection: http.client.HTTPConnection
) -> Iterator[bytes]:
    try:
        while chunk := response.read(CHUNK):
            yield chunk
    finally:
        connection.close()


class Gateway:
    """WSGI app: route by the table the Ingress is built from, proxy to the owning service."""

    def __init__(self, upstreams: Mapping[str, str]) -> None:
        self._upstreams = {name: urlsplit(url) for name, url in upstreams.items()}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        service = service_for(environ.get("PATH_INFO", "/"))
        upstream = self._upstreams.get(service) if service else None
        if upstream is None:
            return _json_response(start_response, "404 Not Found", {"error": "Not found"})
        connection = http.client.HTTPConnection(
            upstream.hostname or "127.0.0.1", upstream.port, timeout=60
        )
        length = int(environ.get("CONTENT_LENGTH") or 0)
        try:
            connection.request(
                environ["REQUEST_METHOD"],
                request_target(environ),
                body=environ["wsgi.input"] if length else None,
                headers=forwarded_headers(environ),
            )
            response = connection.getresponse()
        except OSError as error:
            connection.close()
            log.warning("upstream %s unavailable: %s", service, error)
            return _json_response(
                start_response,
                "502 Bad Gateway",
                {"error": "Upstream unavailable", "service": str(service)},
            )
        headers = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
        start_response(f"{response.status} {response.reason}", headers)
        return _stream(response, connection)


def app_from_environment() -> Gateway:
    """Upstreams come from SORA_UPSTREAM_<SERVICE> variables set by ``sora up``."""
    upstreams = {
        service: os.environ[upstream_variable(service)]
        for service in (FILE_SERVER, FEEDBACK_API, ADMIN)
        if os.environ.get(upstream_variable(service))
    }
    return Gateway(upstreams)


def main() -> None:
    from sora.common.logs import configure_logging
    from sora.common.serve import ServerSettings, run_gunicorn
    from sora.common.settings import Env

    configure_logging("sora-gateway", "development", "INFO", os.environ.get("LOG_FORMAT", "text"))
    server = ServerSettings.from_env(Env(), default_port=8080)
    options = server.gunicorn_options()
    options.update(workers=2, threads=16, child_exit=None)
    run_gunicorn(app_from_environment, options)


if __name__ == "__main__":
    main()
