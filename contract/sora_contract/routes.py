"""Which service answers which path: the seed's ALB and nginx rules, in one table.

The Ingress builder (``sora_operator.builders.ingress``) writes these routes as
ALB rules and the local gateway (``sora.local.gateway``) routes by them, so an
ALB and ``sora up`` send every path to the same service. A prefix route matches
like the ALB's ``/api/extensions*`` pattern (and nginx's prefix locations):
``/api/extensions/x`` and ``/api/extensionsfoo`` both go to the file server.
An exact route matches its path only, as the seed's ``/health`` rule does.
Anything unmatched is answered ``404 {"error": "Not found"}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

FILE_SERVER: Final = "file-server"
FEEDBACK_API: Final = "feedback-api"
ADMIN: Final = "admin"


@dataclass(frozen=True)
class Route:
    path: str
    service: str
    exact: bool = False

    def matches(self, path: str) -> bool:
        return path == self.path if self.exact else path.startswith(self.path)


#: The seed's rules in its order (priority 100 file server, 200 feedback API, 300 /health).
ROUTES: Final = (
    Route("/api/extensions", FILE_SERVER),
    Route("/api/layouts", FILE_SERVER),
    Route("/api/feedback", FEEDBACK_API),
    Route("/api/recommendations", FEEDBACK_API),
    Route("/api/stats", FEEDBACK_API),
    Route("/health", FILE_SERVER, exact=True),
)
#: The admin panel's route, after the seed's (its nginx ``location /admin``). The
#: Ingress has it only when the SoraDeployment enables the panel; ``sora up`` always.
ADMIN_ROUTE: Final = Route("/admin", ADMIN)


def service_for(path: str, routes: tuple[Route, ...] = (*ROUTES, ADMIN_ROUTE)) -> str | None:
    """The service that owns ``path`` (the first route that matches), or None."""
    return next((route.service for route in routes if route.matches(path)), None)
