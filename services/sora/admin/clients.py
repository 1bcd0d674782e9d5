"""HTTP clients for the feedback API and the file server, server to server.

Every call has a connect and a read timeout. Whatever goes wrong becomes an
:class:`UpstreamError` whose message a person can act on; the pages show it
instead of failing. The admin token is sent from here only: it never reaches
a browser.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeVar
from urllib.parse import quote

import requests

from sora.admin import models, telemetry
from sora.admin.models import (
    CatalogItem,
    FeedbackEntry,
    FeedbackPage,
    MalformedAnswerError,
    Statistics,
    TargetStatistics,
)
from sora_contract.logs import request_id_var

log = logging.getLogger("sora.admin.upstream")

FEEDBACK_API: Final = "feedback API"
FILE_SERVER: Final = "file server"
EXPORT_CHUNK: Final = 64 * 1024
MAX_CATALOG_PAGES: Final = 20
# After a timeout or a refused connection, calls to that API fail at once for this long:
# a page that needs four calls to a hung API must not wait four timeouts (and hit
# gunicorn's worker timeout) before it can say what is wrong.
HOLD_DOWN_SECONDS: Final = 5.0
CATALOG_PAGE_SIZE: Final = 100

Params = Mapping[str, str | int]
T = TypeVar("T")


class UpstreamError(Exception):
    """A call to one of the APIs failed; ``message`` says so in words for the page."""

    def __init__(self, service: str, message: str) -> None:
        super().__init__(message)
        self.service = service
        self.message = message


class UpstreamUnavailableError(UpstreamError):
    """Unreachable, too slow, failing (5xx), busy (429) or answering nonsense."""


class UpstreamRejectedError(UpstreamError):
    """The API refused the request (4xx): bad filter, unknown id, wrong admin token."""

    def __init__(self, service: str, message: str, status: int, field: str | None) -> None:
        super().__init__(service, message)
        self.status = status
        self.field = field


@dataclass(frozen=True)
class Download:
    """A streamed answer (the feedback export) to pass on to the browser."""

    chunks: Iterator[bytes]
    content_type: str
    disposition: str | None


class _Http:
    """One API: base URL, fixed headers, timeouts, errors translated."""

    def __init__(
        self,
        service: str,
        base_url: str,
        timeout: tuple[float, float],
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.service = service
        self.base_url = base_url
        self._timeout = timeout
        self._session = requests.Session()
        self._session.trust_env = False  # no proxies from the environment on a cluster network
        self._session.headers.update({"Accept": "application/json", **(headers or {})})
        self._down_until = 0.0
        self._down_message = ""

    def call(
        self, method: str, path: str, params: Params | None = None, *, stream: bool = False
    ) -> requests.Response:
        if time.monotonic() < self._down_until:
            raise UpstreamUnavailableError(self.service, self._down_message)
        url = f"{self.base_url}{path}"
        headers = {}
        request_id = request_id_var.get()
        if request_id:
            headers["X-Request-Id"] = request_id
        try:
            response = self._session.request(
                method, url, params=params, headers=headers, timeout=self._timeout, stream=stream
            )
        except requests.Timeout:
            raise self._hold_down(
                "timeout", f"The {self.service} did not answer within {self._timeout[1]:g} s"
            ) from None
        except requests.RequestException as error:
            log.warning("%s unreachable at %s: %s", self.service, self.base_url, error)
            raise self._hold_down(
                "unreachable", f"The {self.service} cannot be reached at {self.base_url}"
            ) from None
        if response.status_code >= 400:
            raise self._refused(response)
        return response

    def json(self, method: str, path: str, params: Params | None = None) -> Any:
        response = self.call(method, path, params)
        try:
            return response.json()
        except ValueError:
            raise self.malformed(MalformedAnswerError("the body is not JSON")) from None

    def malformed(self, error: MalformedAnswerError) -> UpstreamUnavailableError:
        log.error("%s answered something unexpected: %s", self.service, error)
        return self._unavailable("malformed", f"The {self.service} answered unexpectedly: {error}")

    def _hold_down(self, reason: str, message: str) -> UpstreamUnavailableError:
        self._down_until = time.monotonic() + HOLD_DOWN_SECONDS
        self._down_message = message
        return self._unavailable(reason, message)

    def _unavailable(self, reason: str, message: str) -> UpstreamUnavailableError:
        telemetry.UPSTREAM_ERRORS.labels(self.service, reason).inc()
        return UpstreamUnavailableError(self.service, message)

    def _refused(self, response: requests.Response) -> UpstreamError:
        status = response.status_code
        try:
            message, field = models.error_message(response.json())
        except ValueError:
            message, field = None, None
        response.close()
        if status == 429:
            wait = response.headers.get("Retry-After", "a few")
            return self._unavailable(
                "busy", f"The {self.service} is limiting requests; retry in {wait} seconds"
            )
        if status >= 500:
            detail = f": {message}" if message else ""
            return self._unavailable("failing", f"The {self.service} failed ({status}){detail}")
        if status in (401, 403):
            telemetry.UPSTREAM_ERRORS.labels(self.service, "unauthorised").inc()
            return UpstreamRejectedError(
                self.service,
                f"The {self.service} refused the panel's ADMIN_TOKEN: "
                "the panel and the API must be given the same token",
                status,
                None,
            )
        return UpstreamRejectedError(
            self.service, message or f"The {self.service} answered {status}", status, field
        )


class FeedbackClient:
    """The feedback API: admin endpoints (bearer token) and public statistics."""

    def __init__(self, base_url: str, admin_token: str, timeout: tuple[float, float]) -> None:
        self._http = _Http(
            FEEDBACK_API, base_url, timeout, {"Authorization": f"Bearer {admin_token}"}
        )

    @property
    def base_url(self) -> str:
        return self._http.base_url

    def page(self, filters: Params, limit: int, cursor: int | None) -> FeedbackPage:
        params: dict[str, str | int] = {**filters, "limit": limit}
        if cursor:
            params["cursor"] = cursor
        return self._parse(models.feedback_page, self._http.json("GET", "/api/feedback", params))

    def entry(self, feedback_id: int) -> FeedbackEntry | None:
        """One entry by id: the list is newest first and ``cursor`` means "ids below it"."""
        page = self.page({}, 1, feedback_id + 1)
        found = page.items[0] if page.items else None
        return found if found is not None and found.id == feedback_id else None

    def hide(self, feedback_id: int) -> None:
        self._http.call("POST", f"/api/feedback/{feedback_id}/hide").close()

    def unhide(self, feedback_id: int) -> None:
        self._http.call("POST", f"/api/feedback/{feedback_id}/unhide").close()

    def delete(self, feedback_id: int) -> None:
        self._http.call("DELETE", f"/api/feedback/{feedback_id}").close()

    def export(self, params: Params) -> Download:
        response = self._http.call("GET", "/api/feedback/export", params, stream=True)
        return Download(
            chunks=_chunks(response),
            content_type=response.headers.get("Content-Type", "application/octet-stream"),
            disposition=response.headers.get("Content-Disposition"),
        )

    def statistics(self, days: int, kind: str | None = None, limit: int = 10) -> Statistics:
        params: dict[str, str | int] = {"days": days, "limit": limit}
        if kind:
            params["kind"] = kind
        return self._parse(models.statistics, self._http.json("GET", "/api/stats", params))

    def target_statistics(self, target_type: str, target_id: str, days: int) -> TargetStatistics:
        path = f"/api/stats/{quote(target_type, safe='')}/{quote(target_id, safe='')}"
        answer = self._http.json("GET", path, {"days": days})
        return self._parse(models.target_statistics, answer)

    def _parse(self, parser: Callable[[Any], T], answer: Any) -> T:
        try:
            return parser(answer)
        except MalformedAnswerError as error:
            raise self._http.malformed(error) from None


class CatalogClient:
    """The file server's catalog (public endpoints)."""

    def __init__(self, base_url: str, timeout: tuple[float, float]) -> None:
        self._http = _Http(FILE_SERVER, base_url, timeout)

    @property
    def base_url(self) -> str:
        return self._http.base_url

    def entries(self, kind: str) -> list[CatalogItem]:
        """Every entry of one kind (latest versions), following the pages."""
        items: list[CatalogItem] = []
        offset: int | None = 0
        for _ in range(MAX_CATALOG_PAGES):
            if offset is None:
                break
            answer = self._http.json(
                "GET", f"/api/{kind}", {"limit": CATALOG_PAGE_SIZE, "offset": offset}
            )
            try:
                page = models.catalog_page(answer, kind)
            except MalformedAnswerError as error:
                raise self._http.malformed(error) from None
            items.extend(page.items)
            offset = page.next_offset
        return items

    def version(self, kind: str, entry_id: str, version: str | None = None) -> CatalogItem:
        params = {"version": version} if version else None
        path = f"/api/{quote(kind, safe='')}/{quote(entry_id, safe='')}"
        answer = self._http.json("GET", path, params)
        try:
            return models.catalog_item(answer, kind)
        except MalformedAnswerError as error:
            raise self._http.malformed(error) from None


def _chunks(response: requests.Response) -> Iterator[bytes]:
    try:
        yield from response.iter_content(EXPORT_CHUNK)
    finally:
        response.close()
