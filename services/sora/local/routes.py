"""Which service answers which path: the seed's nginx and ALB rules, in one place.

Prefixes match like the ALB's ``/api/extensions*`` patterns (and nginx's
prefix locations): ``/api/extensions/x`` and ``/api/extensionsfoo`` both go to
the file server. Anything unmatched is answered ``404 {"error": "Not found"}``.
"""

from __future__ import annotations

from typing import Final

FILE_SERVER: Final = "file-server"
FEEDBACK_API: Final = "feedback-api"
ADMIN: Final = "admin"

# Order matters only for readability: no prefix is a prefix of another.
ROUTES: Final[tuple[tuple[str, str], ...]] = (
    ("/api/extensions", FILE_SERVER),
    ("/api/layouts", FILE_SERVER),
    ("/health", FILE_SERVER),
    ("/api/feedback", FEEDBACK_API),
    ("/api/recommendations", FEEDBACK_API),
    ("/api/stats", FEEDBACK_API),
    ("/admin", ADMIN),
)


def service_for(path: str) -> str | None:
    """The service that owns ``path``, or None for the gateway's own 404."""
    for prefix, service in ROUTES:
        if path.startswith(prefix):
            return service
    return None


def upstream_variable(service: str) -> str:
    """The environment variable through which ``sora up`` tells the gateway where a service is."""
    return f"SORA_UPSTREAM_{service.upper().replace('-', '_')}"
