import pytest

from sora.local.routes import ADMIN, FEEDBACK_API, FILE_SERVER, service_for


@pytest.mark.parametrize(
    ("path", "service"),
    [
        ("/api/extensions", FILE_SERVER),
        ("/api/extensions/clock/download", FILE_SERVER),
        ("/api/layouts?tag=x", FILE_SERVER),
        ("/health", FILE_SERVER),
        ("/api/feedback", FEEDBACK_API),
        ("/api/feedback/123/hide", FEEDBACK_API),
        ("/api/recommendations", FEEDBACK_API),
        ("/api/stats/extension/clock", FEEDBACK_API),
        ("/admin", ADMIN),
        ("/admin/feedback", ADMIN),
    ],
)
def test_paths_route_like_the_seed_alb_rules(path: str, service: str) -> None:
    assert service_for(path) == service


@pytest.mark.parametrize(
    "path", ["/", "/api", "/api/", "/metrics", "/openapi.json", "/apiextensions"]
)
def test_unrouted_paths_belong_to_no_service(path: str) -> None:
    assert service_for(path) is None
