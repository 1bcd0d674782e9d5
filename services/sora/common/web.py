"""Falcon plumbing shared by the HTTP services.

Resources stay thin: request ids, access logs, metrics, CORS and the JSON
error shape (``{"error": "<short message>", ...details}``) live here, once.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import re
import secrets
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

import falcon
from prometheus_client import Counter, Histogram

from sora.common import metrics
from sora.common.clientip import client_address, hash_address
from sora.common.validation import ValidationError
from sora_contract.logs import FastInfo, request_id_var
from sora_contract.settings import SharedSettings

log = logging.getLogger("sora.http")
access_log = FastInfo("sora.access")

REQUESTS = Counter(
    "sora_http_requests_total",
    "HTTP requests answered, by route template, method and status code.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "sora_http_request_duration_seconds",
    "Time to produce a response (excluding the body transfer for streamed files).",
    ["route", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

_REQUEST_ID: Final = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
UNMATCHED_ROUTE: Final = "unmatched"


class RequestIds:
    """``<16 random hex>-<counter in hex>``: unique within and across processes.

    Cheaper than a uuid4 per request (no random-number syscall); a forked worker
    draws its own prefix, so it never repeats its parent's ids.
    """

    def __init__(self) -> None:
        self._start()
        os.register_at_fork(after_in_child=self._start)

    def _start(self) -> None:
        self._prefix = secrets.token_hex(8)
        self._counter: Iterator[int] = itertools.count(1)

    def next(self) -> str:
        return f"{self._prefix}-{next(self._counter):x}"


_request_ids = RequestIds()


class ApiError(falcon.HTTPError):
    """An HTTP error whose JSON body carries a short message and optional details."""

    def __init__(
        self,
        status: str | int,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        **details: Any,
    ) -> None:
        super().__init__(status, description=message, headers=dict(headers or {}))
        self.details = details


def bad_request(message: str, **details: Any) -> ApiError:
    return ApiError(400, message, **details)


def not_found(message: str = "Not found", **details: Any) -> ApiError:
    return ApiError(404, message, **details)


def error_body(error: falcon.HTTPError) -> dict[str, Any]:
    if error.description:
        message = error.description
    else:
        # Falcon titles look like "404 Not Found"; keep the words, in sentence case.
        message = (error.title or "Error").partition(" ")[2].capitalize() or "Error"
    body: dict[str, Any] = {"error": message}
    body.update(getattr(error, "details", {}))
    return body


def _serialize_error(req: falcon.Request, resp: falcon.Response, error: falcon.HTTPError) -> None:
    resp.content_type = falcon.MEDIA_JSON
    resp.text = json.dumps(error_body(error))
    resp.vary = ("Accept",) if resp.vary is None else resp.vary


def _invalid(
    req: falcon.Request, resp: falcon.Response, error: ValidationError, params: dict[str, Any]
) -> None:
    raise bad_request(error.message, field=error.field, rule=error.rule)


def _unexpected_error(
    req: falcon.Request, resp: falcon.Response, ex: Exception, params: dict[str, Any]
) -> None:
    if isinstance(ex, falcon.HTTPError | falcon.HTTPStatus):
        raise ex
    log.exception("unhandled error serving %s %s", req.method, req.path)
    raise ApiError(500, "Internal server error", request_id=request_id_var.get())


@dataclass(frozen=True)
class ReadSampling:
    """Successful reads of ``routes`` get one access log line in ``every`` (per process).

    The others are still counted, exactly, in ``sora_http_requests_total`` and
    the latency histogram; errors, writes and other routes are always logged.
    Sampled lines carry ``sampled_1_in`` so that log-based counts can be scaled.
    """

    routes: frozenset[str]
    every: int

    def applies(self, method: str, route: str, status: int) -> bool:
        return self.every > 1 and status < 400 and method in _READS and route in self.routes


_READS: Final = frozenset({"GET", "HEAD"})
_UNLOGGED_ROUTES: Final = frozenset({"/health", "/metrics"})


class RequestContext:
    """Request id (accepted from the caller when well formed) and the hashed client.

    This runs on every request, so it reads headers straight from the WSGI
    environment, keeps the metric children it has used (``labels()`` takes a lock
    and checks its arguments each call) and writes its log line without a
    LogRecord (:class:`sora_contract.logs.FastInfo`): a cached catalog read spent
    more time here than in Falcon and the resource together (docs/benchmarks.md).
    """

    def __init__(self, settings: SharedSettings, sampling: ReadSampling | None = None) -> None:
        self._settings = settings
        self._sampling = sampling
        self._sampled: Iterator[int] = itertools.count()
        self._counters: dict[tuple[str, str, int], Counter] = {}
        self._histograms: dict[tuple[str, str], Histogram] = {}

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        env = req.env
        incoming = env.get("HTTP_X_REQUEST_ID")
        request_id = incoming if incoming and _REQUEST_ID.match(incoming) else _request_ids.next()
        req.context.request_id = request_id
        req.context.started = time.perf_counter()
        req.context.client_ip = client_address(
            req.remote_addr or "",
            env.get("HTTP_X_FORWARDED_FOR"),
            env.get("HTTP_X_REAL_IP"),
            self._settings.trusted_proxies,
        )
        req.context.client_hash = hash_address(req.context.client_ip, self._settings.ip_salt)
        request_id_var.set(request_id)
        resp.set_header("X-Request-Id", request_id)

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, req_succeeded: bool
    ) -> None:
        started = getattr(req.context, "started", None)
        if started is None:
            return
        route = req.uri_template or UNMATCHED_ROUTE
        elapsed = time.perf_counter() - started
        method, status = req.method, resp.status_code
        self._observe(route, method, status, elapsed)
        if route not in _UNLOGGED_ROUTES:
            self._log(req, route, status, elapsed)
        request_id_var.set(None)

    def _observe(self, route: str, method: str, status: int, elapsed: float) -> None:
        # Two threads may both create a missing child: labels() returns the same one.
        counter = self._counters.get((route, method, status))
        if counter is None:
            counter = self._counters[route, method, status] = REQUESTS.labels(
                route, method, str(status)
            )
        histogram = self._histograms.get((route, method))
        if histogram is None:
            histogram = self._histograms[route, method] = LATENCY.labels(route, method)
        counter.inc()
        histogram.observe(elapsed)

    def _log(self, req: falcon.Request, route: str, status: int, elapsed: float) -> None:
        sampling = self._sampling
        every = sampling.every if sampling and sampling.applies(req.method, route, status) else 0
        # next() on an itertools.count is atomic under the GIL: no lock between threads.
        if every and next(self._sampled) % every:
            return
        fields: dict[str, Any] = {
            "method": req.method,
            "path": req.path,
            "route": route,
            "status": status,
            "duration_ms": round(elapsed * 1000, 2),
            "client": req.context.client_hash[:16],
        }
        if every:
            fields["sampled_1_in"] = every
        access_log.info(f"{req.method} {req.path} {status}", fields)


class Cors:
    """CORS for exactly the configured origins; preflight answered with 204."""

    def __init__(self, allowed_origins: Iterable[str], methods: str, headers: str) -> None:
        self._allowed = frozenset(allowed_origins)
        self._any = "*" in self._allowed
        self._methods = methods
        self._headers = headers

    def _allows(self, origin: str) -> bool:
        return self._any or origin in self._allowed

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        if req.method != "OPTIONS":
            return
        origin = req.env.get("HTTP_ORIGIN")
        if not (origin and req.env.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD")):
            return
        if not self._allows(origin):
            raise ApiError(403, "Origin not allowed")
        resp.set_header("Access-Control-Allow-Methods", self._methods)
        resp.set_header("Access-Control-Allow-Headers", self._headers)
        resp.set_header("Access-Control-Max-Age", "600")
        resp.status = falcon.HTTP_204
        resp.complete = True

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, req_succeeded: bool
    ) -> None:
        origin = req.env.get("HTTP_ORIGIN")
        resp.append_header("Vary", "Origin")
        if origin and self._allows(origin):
            resp.set_header("Access-Control-Allow-Origin", "*" if self._any else origin)
            resp.set_header(
                "Access-Control-Expose-Headers",
                "ETag, Content-Length, Content-Range, Content-Disposition, "
                "X-Request-Id, Retry-After",
            )


class MetricsResource:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        body, content_type = metrics.render_latest()
        resp.data = body
        resp.content_type = content_type


class OpenApiResource:
    def __init__(self, document: Mapping[str, Any]) -> None:
        self._body = json.dumps(document).encode()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.data = self._body
        resp.content_type = falcon.MEDIA_JSON


def create_app(
    settings: SharedSettings,
    *,
    cors_methods: str,
    extra_middleware: Iterable[object] = (),
    openapi: Mapping[str, Any] | None = None,
    read_sampling: ReadSampling | None = None,
) -> falcon.App[falcon.Request, falcon.Response]:
    """A Falcon app with the shared middleware, error shape, /metrics and /openapi.json."""
    middleware: list[Any] = [
        RequestContext(settings, read_sampling),
        Cors(settings.allowed_origins, cors_methods, "Authorization, Content-Type, X-Request-Id"),
        *extra_middleware,
    ]
    app = falcon.App(middleware=middleware)
    app.req_options.strip_url_path_trailing_slash = True
    app.resp_options.secure_cookies_by_default = not settings.is_development
    app.set_error_serializer(_serialize_error)
    app.add_error_handler(Exception, _unexpected_error)
    app.add_error_handler(ValidationError, _invalid)
    app.add_route("/metrics", MetricsResource())
    if openapi is not None:
        app.add_route("/openapi.json", OpenApiResource(openapi))
    return app
