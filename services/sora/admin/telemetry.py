"""The panel's own metrics (HTTP request metrics come from ``sora.common.web``).

Imported only after ``sora.common.metrics.prepare()`` (see ``__main__``).
"""

from __future__ import annotations

from prometheus_client import Counter

SIGN_INS = Counter(
    "sora_admin_sign_ins_total",
    "Sign-in attempts, by result (success, wrong_token).",
    ["result"],
)
CSRF_REFUSED = Counter(
    "sora_admin_csrf_refused_total",
    "State-changing requests refused for a missing or wrong CSRF token.",
)
MODERATION = Counter(
    "sora_admin_moderation_actions_total",
    "Moderation actions passed to the feedback API, by action (hide, unhide, delete).",
    ["action"],
)
UPSTREAM_ERRORS = Counter(
    "sora_admin_upstream_errors_total",
    "Failed calls to the APIs, by service and reason (unreachable, timeout, failing, busy, ...).",
    ["service", "reason"],
)
