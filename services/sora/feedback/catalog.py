"""Which extensions and layouts exist: the file server's catalog, as a set in memory.

Feedback is accepted, ranked and counted only for targets the file server
lists. Each worker process keeps the catalog as a ``frozenset`` of
:class:`~sora.feedback.model.Target` and a background thread refreshes it every
``CATALOG_TTL_SECONDS`` (``GET /api/extensions`` and ``/api/layouts``, page by
page, with ``If-None-Match`` wherever the file server gave an ``ETag``). A
request only looks its target up in the set: no HTTP call on the request path.

When the file server cannot be reached the last catalog is kept, and:

* submissions are checked against it while it is at most
  ``CATALOG_MAX_AGE_SECONDS`` old, then refused with 503 until a refresh
  succeeds. Refusing rather than accepting and reconciling later: a client can
  retry a 503, while accepting unchecked targets would reopen the hole this
  check closes (anyone filling the store with names of their choosing) and
  need a purge job to undo it;
* public reads (recommendations, statistics) keep filtering with the last
  catalog, whatever its age: showing an entry removed during the outage is
  the lesser harm than no rankings at all;
* before the first successful fetch there is nothing to check against, and
  both answer 503. Until then a request does not wait for the background retry
  (up to ``RETRY_SECONDS`` away): it fetches at once, one fetch at a time per
  process, at most every ``FIRST_LOAD_RETRY_SECONDS``. So a pod that came up
  before its file server accepts feedback as soon as the file server answers,
  not seconds after the platform reported Ready.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final, Literal, Protocol

import requests

from sora.feedback.model import Target

log = logging.getLogger("sora.feedback.catalog")

# Target type -> the file server's listing for it.
LISTINGS: Final = {"extension": "extensions", "layout": "layouts"}
PAGE_SIZE: Final = 100  # the file server's largest page
MAX_PAGES: Final = 1000  # per kind: 100,000 entries, far beyond any real catalog
TIMEOUT: Final = (2.0, 10.0)  # connect, read (seconds)
# A worker's first requests wait this long at most for its first fetch to finish.
FIRST_LOAD_WAIT_SECONDS: Final = 5.0
# After a failed refresh, try again this soon (or after the TTL, if shorter).
RETRY_SECONDS: Final = 2.0
# Before any catalog was loaded, a request fetches itself, at most this often per process.
FIRST_LOAD_RETRY_SECONDS: Final = 0.25

CatalogState = Literal["ok", "stale", "unavailable"]


class CatalogUnavailableError(Exception):
    """No catalog recent enough to decide with; the message says why (for the log)."""


class CatalogFetchError(Exception):
    """The file server did not give a usable catalog; the message says what went wrong."""


@dataclass(frozen=True)
class Snapshot:
    targets: frozenset[Target]
    loaded_at: float  # time.monotonic()


class FileServerCatalog:
    """Every entry id the file server lists, read through its public list endpoints."""

    def __init__(self, base_url: str, timeout: tuple[float, float] = TIMEOUT) -> None:
        self.base_url = base_url
        self._timeout = timeout
        self._session = requests.Session()
        self._session.trust_env = False  # no proxies from the environment on a cluster network
        self._session.headers["Accept"] = "application/json"
        self._pages: dict[tuple[str, int], tuple[str, dict[str, Any]]] = {}  # ETag, body

    def fetch(self) -> frozenset[Target]:
        return frozenset(
            Target(target_type, entry_id)
            for target_type, listing in LISTINGS.items()
            for entry_id in self._ids(listing)
        )

    def _ids(self, listing: str) -> Iterator[str]:
        offset = 0
        for _ in range(MAX_PAGES):
            page = self._page(listing, offset)
            yield from _entry_ids(page, listing)
            following = page.get("next_offset")
            if following is None:
                return
            if not isinstance(following, int) or following <= offset:
                raise CatalogFetchError(f"/api/{listing}: next_offset {following!r} is not ahead")
            offset = following
        raise CatalogFetchError(f"/api/{listing}: more than {MAX_PAGES} pages")

    def _page(self, listing: str, offset: int) -> dict[str, Any]:
        """One page, revalidated with its ETag when the file server sent one."""
        cached = self._pages.get((listing, offset))
        headers = {"If-None-Match": cached[0]} if cached else {}
        url = f"{self.base_url}/api/{listing}"
        params = {"limit": PAGE_SIZE, "offset": offset}
        try:
            response = self._session.get(url, params=params, headers=headers, timeout=self._timeout)
        except requests.RequestException as error:
            raise CatalogFetchError(f"{url} unreachable: {type(error).__name__}") from None
        if response.status_code == 304 and cached:
            return cached[1]
        if response.status_code != 200:
            raise CatalogFetchError(f"{url} answered {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise CatalogFetchError(f"{url} answered a body that is not JSON") from None
        if not isinstance(body, dict):
            raise CatalogFetchError(f"{url} answered JSON that is not an object")
        etag = response.headers.get("ETag")
        if etag:
            self._pages[(listing, offset)] = (etag, body)
        return body


def _entry_ids(page: dict[str, Any], listing: str) -> Iterator[str]:
    items = page.get("items")
    if not isinstance(items, list):
        raise CatalogFetchError(f"/api/{listing}: the page has no items list")
    for item in items:
        entry_id = item.get("id") if isinstance(item, dict) else None
        if not isinstance(entry_id, str):
            raise CatalogFetchError(f"/api/{listing}: an item without a string id")
        yield entry_id


class TargetCatalog(Protocol):
    """What the resources need of a catalog (:class:`Catalog`, or a fixed one in tests)."""

    def for_writes(self) -> frozenset[Target]: ...

    def for_reads(self) -> frozenset[Target]: ...

    def state(self) -> CatalogState: ...


class Catalog:
    """The latest catalog fetched, refreshed by a thread of this process (started on first use:
    gunicorn builds the app in its master, and threads do not survive the fork)."""

    def __init__(
        self,
        fetch: Callable[[], frozenset[Target]],
        *,
        ttl_seconds: float,
        max_age_seconds: float,
        observe: Callable[[bool], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl_seconds
        self._max_age = max_age_seconds
        self._observe = observe or (lambda ok: None)
        self._clock = clock
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._first_attempt = threading.Event()
        self._closed = threading.Event()
        self._fetching = threading.Lock()  # the on-demand first load: one fetch at a time
        self._last_attempt = float("-inf")

    def for_writes(self) -> frozenset[Target]:
        """The catalog to accept a submission against: one no older than the maximum age."""
        snapshot = self._loaded()
        if snapshot is None:
            raise CatalogUnavailableError("no catalog fetched from the file server yet")
        age = self._clock() - snapshot.loaded_at
        if age > self._max_age:
            raise CatalogUnavailableError(f"the catalog is {age:.0f} s old, past its maximum age")
        return snapshot.targets

    def for_reads(self) -> frozenset[Target]:
        """The catalog to filter public rankings with: the last one fetched, however old."""
        snapshot = self._loaded()
        if snapshot is None:
            raise CatalogUnavailableError("no catalog fetched from the file server yet")
        return snapshot.targets

    def state(self) -> CatalogState:
        """For the health answer; never waits."""
        self._start()
        snapshot = self._snapshot
        if snapshot is None:
            return "unavailable"
        return "stale" if self._clock() - snapshot.loaded_at > self._max_age else "ok"

    def refresh(self) -> bool:
        """One fetch; on failure the previous catalog stays. True when it succeeded."""
        try:
            targets = self._fetch()
        except CatalogFetchError as error:
            log.warning("catalog refresh failed, keeping the last one: %s", error)
            self._observe(False)
            return False
        self._snapshot = Snapshot(targets, self._clock())
        self._observe(True)
        return True

    def _loaded(self) -> Snapshot | None:
        self._start()
        if self._snapshot is None:
            self._first_attempt.wait(FIRST_LOAD_WAIT_SECONDS)
        if self._snapshot is None:
            self._first_load_now()
        return self._snapshot

    def _first_load_now(self) -> None:
        """Fetch now rather than at the background thread's next retry; requests that
        arrive during that fetch wait for it instead of fetching again."""
        if not self._fetching.acquire(timeout=FIRST_LOAD_WAIT_SECONDS):
            return
        try:
            due = self._last_attempt + FIRST_LOAD_RETRY_SECONDS
            if self._snapshot is None and self._clock() >= due:
                self._last_attempt = self._clock()
                self.refresh()
        finally:
            self._fetching.release()

    def _start(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            self._first_attempt = threading.Event()
            threading.Thread(target=self._run, name="catalog-refresh", daemon=True).start()
            self._pid = os.getpid()

    def close(self) -> None:
        """Stop refreshing (the thread ends at its next wake-up)."""
        self._closed.set()

    def _run(self) -> None:
        while not self._closed.is_set():
            try:
                refreshed = self.refresh()
            except Exception:  # a bug must not end the refreshing for the life of the worker
                log.exception("catalog refresh crashed")
                refreshed = False
            self._first_attempt.set()
            self._closed.wait(self._ttl if refreshed else min(self._ttl, RETRY_SECONDS))
