"""A small reverse proxy for local runs, standing in for the seed's nginx.

It routes by the table the Ingress is built from (``sora_contract.routes``),
streams request and response bodies, adds ``X-Forwarded-For`` and
``X-Real-IP`` (the services trust loopback as a proxy in local runs), and
answers in the platform's JSON error shape: 404 for unrouted paths, 413 for a
body over the seed's ``client_max_body_size 1m`` on ``/api/feedback*`` (read
in full first, as nginx buffers request bodies, and never sent upstream), and
502 only when the upstream gave no answer. An upstream that answers before it
has read the whole body (a 413 or 429) is relayed as it answered. In a cluster
the Ingress (ALB) does this job instead.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import IO, Any, Final
from urllib.parse import quote, urlsplit

from sora.feedback.schemas import MAX_BODY_BYTES
from sora_contract.routes import ADMIN, FEEDBACK_API, FILE_SERVER, service_for

log = logging.getLogger("sora.gateway")

CHUNK: Final = 64 * 1024
#: The seed's nginx ``client_max_body_size 1m`` (1 MiB, the feedback API's own limit).
LIMITED_PREFIX: Final = "/api/feedback"
#: A refused body is read and dropped up to this size, so the client (still sending)
#: reads the 413 instead of a connection reset; beyond it the connection is closed.
DRAIN_MAX_BYTES: Final = 64 * 1024 * 1024
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
        # The gateway has the body already (or streams it); the upstream must not wait.
        "expect",
    }
)

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
Body = bytes | IO[bytes] | None


class BodyTooLargeError(Exception):
    """A body over the limit of the path it was sent to."""


def upstream_variable(service: str) -> str:
    """The environment variable through which ``sora up`` tells the gateway where a service is."""
    return f"SORA_UPSTREAM_{service.upper().replace('-', '_')}"


def _json_response(
    start_response: StartResponse, status: str, body: Mapping[str, object]
) -> list[bytes]:
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


def _declared_length(environ: Mapping[str, Any]) -> int | None:
    """Content-Length, or None for a chunked body (gunicorn has validated both)."""
    value = environ.get("CONTENT_LENGTH")
    return int(value) if value else None


def _is_chunked(environ: Mapping[str, Any]) -> bool:
    return "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()


def _drain(stream: IO[bytes], limit: int) -> None:
    remaining = limit
    while remaining > 0 and (chunk := stream.read(min(CHUNK, remaining))):
        remaining -= len(chunk)


def request_body(environ: Mapping[str, Any], path: str, headers: dict[str, str]) -> Body:
    """What to send upstream: the whole body for limited paths, else the client's stream.

    Raises BodyTooLargeError, after draining what the client sends (bounded), when a
    limited path's body is over MAX_BODY_BYTES; ``headers`` gets the length sent.
    """
    stream: IO[bytes] = environ["wsgi.input"]
    length = _declared_length(environ)
    if not path.startswith(LIMITED_PREFIX):
        # A chunked body goes on chunked: http.client frames a stream of unknown length.
        return stream if length or _is_chunked(environ) else None
    if length is not None and length > MAX_BODY_BYTES:
        if length <= DRAIN_MAX_BYTES:
            _drain(stream, length)
        raise BodyTooLargeError
    if not length and not _is_chunked(environ):
        return None
    body = stream.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        _drain(stream, DRAIN_MAX_BYTES)
        raise BodyTooLargeError
    headers["Content-Length"] = str(len(body))
    return body


def _stream(
    response: http.client.HTTPResponse, connection: http.client.HTTPConnection
) -> Iterator[bytes]:
    try:
        while chunk := response.read(CHUNK):
            yield chunk
    finally:
        connection.close()


def _exchange(
    connection: http.client.HTTPConnection,
    environ: Mapping[str, Any],
    body: Body,
    headers: dict[str, str],
) -> http.client.HTTPResponse:
    """Send the request and read the answer, even one given before the body was all sent.

    An upstream may answer early (a 413 or 429) and close its end while the body
    is still on its way; sending then fails with a broken pipe or reset, but
    the answer is already in our receive buffer, and it is what the client gets.
    """
    try:
        connection.request(
            environ["REQUEST_METHOD"], request_target(environ), body=body, headers=headers
        )
    except OSError as error:
        if connection.sock is None:  # never connected: nothing can have answered
            raise
        log.info("upstream stopped reading the request body (%s); reading its answer", error)
    return connection.getresponse()


class Gateway:
    """WSGI app: route by the shared table, proxy to the owning service."""

    def __init__(self, upstreams: Mapping[str, str]) -> None:
        self._upstreams = {name: urlsplit(url) for name, url in upstreams.items()}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        service = service_for(path)
        upstream = self._upstreams.get(service) if service else None
        if upstream is None:
            return _json_response(start_response, "404 Not Found", {"error": "Not found"})
        headers = forwarded_headers(environ)
        try:
            body = request_body(environ, path, headers)
        except BodyTooLargeError:
            return _json_response(
                start_response,
                "413 Content Too Large",
                {"error": "Request body is larger than 1 MiB", "max_bytes": MAX_BODY_BYTES},
            )
        connection = http.client.HTTPConnection(
            upstream.hostname or "127.0.0.1", upstream.port, timeout=60
        )
        try:
            response = _exchange(connection, environ, body, headers)
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            log.warning("upstream %s gave no answer: %s", service, error)
            return _json_response(
                start_response,
                "502 Bad Gateway",
                {"error": "Upstream unavailable", "service": str(service)},
            )
        headers_out = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
        start_response(f"{response.status} {response.reason}", headers_out)
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
    from sora.common.serve import ServerSettings, run_gunicorn
    from sora_contract import layout
    from sora_contract.logs import configure_logging
    from sora_contract.settings import Env

    configure_logging("sora-gateway", "development", "INFO", os.environ.get("LOG_FORMAT", "text"))
    server = ServerSettings.from_env(Env(), default_port=layout.GATEWAY_PORT)
    options = server.gunicorn_options()
    options.update(workers=2, threads=16, child_exit=None)
    run_gunicorn(app_from_environment, options)


if __name__ == "__main__":
    main()
