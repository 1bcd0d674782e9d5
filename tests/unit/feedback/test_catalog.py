"""The catalog kept in memory: freshness rules, refresh failures, paging and ETags."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from requests.adapters import BaseAdapter

from sora.feedback.catalog import (
    Catalog,
    CatalogFetchError,
    CatalogUnavailableError,
    FileServerCatalog,
)
from sora.feedback.model import Target

CLOCK_START = 1000.0
LONG_TTL = 3600.0  # the background thread refreshes once, then sleeps through the test
MAX_AGE = 300.0
TARGETS = frozenset({Target("extension", "word-count"), Target("layout", "dvorak")})


class Clock:
    def __init__(self) -> None:
        self.now = CLOCK_START

    def __call__(self) -> float:
        return self.now


class Source:
    """A fetch that answers what it is told to, or fails."""

    def __init__(self, targets: frozenset[Target] | None) -> None:
        self.targets = targets
        self.calls = 0

    def __call__(self) -> frozenset[Target]:
        self.calls += 1
        if self.targets is None:
            raise CatalogFetchError("http://file-server/api/extensions unreachable")
        return self.targets


_opened: list[Catalog] = []


@pytest.fixture(autouse=True)
def _close_catalogs() -> Iterator[None]:
    yield
    while _opened:
        _opened.pop().close()


def catalog(source: Source, clock: Clock, outcomes: list[bool] | None = None) -> Catalog:
    opened = Catalog(
        source,
        ttl_seconds=LONG_TTL,
        max_age_seconds=MAX_AGE,
        clock=clock,
        observe=(outcomes if outcomes is not None else []).append,
    )
    _opened.append(opened)
    return opened


def test_a_fresh_catalog_serves_writes_and_reads() -> None:
    loaded = catalog(Source(TARGETS), Clock())
    assert loaded.for_writes() == TARGETS
    assert loaded.for_reads() == TARGETS
    assert loaded.state() == "ok"


def test_without_any_catalog_writes_and_reads_are_refused() -> None:
    outcomes: list[bool] = []
    empty = catalog(Source(None), Clock(), outcomes)
    with pytest.raises(CatalogUnavailableError, match="no catalog fetched"):
        empty.for_writes()
    with pytest.raises(CatalogUnavailableError):
        empty.for_reads()
    assert empty.state() == "unavailable"
    assert outcomes
    assert not any(outcomes)  # the thread may have retried meanwhile


def test_past_its_maximum_age_the_catalog_serves_reads_but_not_writes() -> None:
    clock = Clock()
    aging = catalog(Source(TARGETS), clock)
    assert aging.for_writes() == TARGETS
    clock.now += MAX_AGE + 1
    with pytest.raises(CatalogUnavailableError, match="past its maximum age"):
        aging.for_writes()
    assert aging.for_reads() == TARGETS
    assert aging.state() == "stale"


def test_a_failed_refresh_keeps_the_last_catalog_and_a_later_one_replaces_it() -> None:
    clock, source = Clock(), Source(TARGETS)
    outcomes: list[bool] = []
    kept = catalog(source, clock, outcomes)
    assert kept.for_reads() == TARGETS
    source.targets = None
    clock.now += 10
    assert kept.refresh() is False
    assert kept.for_writes() == TARGETS
    source.targets = frozenset({Target("layout", "colemak")})
    clock.now += MAX_AGE  # a success restarts the age from now
    assert kept.refresh() is True
    assert kept.for_writes() == {Target("layout", "colemak")}
    assert outcomes == [True, False, True]


def test_requests_look_up_the_set_without_fetching_again() -> None:
    source = Source(TARGETS)
    loaded = catalog(source, Clock())
    for _ in range(50):
        loaded.for_writes()
        loaded.for_reads()
    assert source.calls == 1


# --- FileServerCatalog over a transport that answers like the file server ---------------------


class FileServer(BaseAdapter):
    """Answers ``GET /api/{kind}?limit&offset`` from ``entries``, with ETags when asked."""

    def __init__(self, entries: Mapping[str, list[str]], etags: bool = False) -> None:
        super().__init__()
        self.entries = entries
        self.etags = etags
        self.requests: list[requests.PreparedRequest] = []
        self.status = 200

    def send(  # type: ignore[override]  # the adapter ignores requests' transport options
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        self.requests.append(request)
        url = urlsplit(request.url or "")
        query = dict(part.split("=") for part in url.query.split("&"))
        kind = url.path.rsplit("/", 1)[1]
        limit, offset = int(query["limit"]), int(query["offset"])
        ids = self.entries[kind]
        following = offset + limit if offset + limit < len(ids) else None
        body = {"items": [{"id": i} for i in ids[offset : offset + limit]], "total": len(ids),
                "limit": limit, "offset": offset, "next_offset": following}  # fmt: skip
        response = requests.Response()
        response.request, response.url = request, request.url or ""
        response.status_code = self.status
        tag = f'"{kind}-{offset}-{len(ids)}"'
        if self.etags:
            response.headers["ETag"] = tag
            if request.headers.get("If-None-Match") == tag:
                response.status_code = 304
                response._content = b""
                return response
        response._content = json.dumps(body).encode()
        return response

    def close(self) -> None:
        pass


def fetcher(server: FileServer) -> FileServerCatalog:
    client = FileServerCatalog("http://file-server")
    client._session.mount("http://", server)
    return client


def test_every_page_of_both_kinds_is_read() -> None:
    server = FileServer({"extensions": [f"e-{n}" for n in range(250)], "layouts": ["dvorak"]})
    found = fetcher(server).fetch()
    assert len(found) == 251
    assert Target("extension", "e-249") in found
    assert Target("layout", "dvorak") in found
    assert Target("extension", "dvorak") not in found
    assert len(server.requests) == 4  # three pages of extensions, one of layouts


def test_pages_are_revalidated_with_their_etag() -> None:
    server = FileServer({"extensions": ["word-count"], "layouts": ["dvorak"]}, etags=True)
    client = fetcher(server)
    first = client.fetch()
    assert client.fetch() == first
    revalidations = [r.headers.get("If-None-Match") for r in server.requests[2:]]
    assert revalidations == ['"extensions-0-1"', '"layouts-0-1"']


@pytest.mark.parametrize(("status", "message"), [(503, "answered 503"), (404, "answered 404")])
def test_a_failing_file_server_is_a_fetch_error(status: int, message: str) -> None:
    server = FileServer({"extensions": [], "layouts": []})
    server.status = status
    with pytest.raises(CatalogFetchError, match=message):
        fetcher(server).fetch()


def test_before_any_catalog_a_request_fetches_at_once_rather_than_wait_for_the_retry() -> None:
    clock, source = Clock(), Source(None)
    starting = catalog(source, clock)
    with pytest.raises(CatalogUnavailableError):
        starting.for_writes()  # the file server is not up yet
    tried = source.calls
    source.targets = TARGETS  # it is now; the background retry is RETRY_SECONDS away
    with pytest.raises(CatalogUnavailableError):
        starting.for_writes()  # within FIRST_LOAD_RETRY_SECONDS of the last attempt
    clock.now += 1
    assert starting.for_writes() == TARGETS
    assert source.calls > tried
    calls = source.calls
    starting.for_writes()
    assert source.calls == calls  # loaded: no more fetches on the request path
