"""The feedback API's Prometheus metrics. Labels take a handful of fixed values only.

Imported after :func:`sora.common.metrics.prepare` (multiprocess mode).
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

SUBMITTED = Counter(
    "sora_feedback_submitted_total",
    "Feedback stored, by target type and whether it replaced the client's earlier rating.",
    ["target_type", "outcome"],
)
REJECTED = Counter(
    "sora_feedback_rejected_total",
    "Feedback submissions refused, by reason (validation, too_large, media_type,"
    " unknown_target, catalog_unavailable).",
    ["reason"],
)
RATE_LIMITED = Counter(
    "sora_feedback_rate_limited_total",
    "Requests answered 429, by rate limit (submit, read).",
    ["limit"],
)
ADMIN_ACTIONS = Counter(
    "sora_feedback_admin_actions_total",
    "Admin operations, by action (list, export, hide, unhide, delete).",
    ["action"],
)
ADMIN_DENIED = Counter(
    "sora_feedback_admin_denied_total",
    "Admin requests refused for a missing or wrong bearer token.",
)
DECRYPT_FAILURES = Counter(
    "sora_feedback_decrypt_failures_total",
    "Comments that could not be decrypted (unknown key id or failed authentication).",
)
CATALOG_REFRESHES = Counter(
    "sora_feedback_catalog_refreshes_total",
    "Fetches of the file server's catalog, by outcome (ok, failed).",
    ["outcome"],
)
COMMIT_BATCH = Histogram(
    "sora_feedback_commit_batch_size",
    "Writes committed together in one SQLite transaction (group commit).",
    buckets=(1, 2, 4, 8, 16, 32, 64),
)
COMMIT_SECONDS = Histogram(
    "sora_feedback_commit_duration_seconds",
    "Time to run and commit one write transaction, lock wait included.",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)


def observe_commit(batch_size: int, seconds: float) -> None:
    COMMIT_BATCH.observe(batch_size)
    COMMIT_SECONDS.observe(seconds)


def observe_catalog_refresh(succeeded: bool) -> None:
    CATALOG_REFRESHES.labels("ok" if succeeded else "failed").inc()
