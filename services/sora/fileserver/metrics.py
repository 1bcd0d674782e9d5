"""The file server's own Prometheus metrics (requests and latency are counted in sora.common.web).

Labels are bounded: a package kind or a result, never an id, a version or a path.
"""

from __future__ import annotations

from typing import Final

from prometheus_client import Counter

CACHE_LOOKUPS: Final = Counter(
    "sora_fileserver_cache_lookups_total",
    "Package cache lookups on the S3 backend, by result (hit or miss).",
    ["result"],
)
CACHE_EVICTED_BYTES: Final = Counter(
    "sora_fileserver_cache_evicted_bytes_total",
    "Bytes evicted from the package cache to stay under CACHE_MAX_BYTES.",
)
BYTES_SERVED: Final = Counter(
    "sora_fileserver_bytes_served_total",
    "Package bytes handed to the server for sending (200 and 206 responses), by kind.",
    ["kind"],
)
REDIRECTS: Final = Counter(
    "sora_fileserver_redirects_total",
    "Downloads answered with a redirect to a presigned S3 URL, by kind.",
    ["kind"],
)
INTEGRITY_FAILURES: Final = Counter(
    "sora_fileserver_integrity_failures_total",
    "Packages refused because their content did not match the manifest's size or sha256.",
)
CATALOG_REFRESH_FAILURES: Final = Counter(
    "sora_fileserver_catalog_refresh_failures_total",
    "Catalog refreshes that failed because the storage could not be read.",
)
