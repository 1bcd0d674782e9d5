"""The liveness endpoint of a standby replica.

The leader hands ``--liveness`` to kopf, whose endpoint answers while kopf runs.
A standby has no kopf yet, so it answers the same URL itself, as long as its
election loop is alive, and stops answering just before kopf takes the port.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@contextmanager
def standby_liveness(endpoint: str, alive: Callable[[], bool]) -> Iterator[None]:
    parts = urlsplit(endpoint)
    path = parts.path or "/healthz"

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            healthy = self.path.split("?")[0] == path and alive()
            body = b'{"standby": true}' if healthy else b'{"error": "Not found"}'
            self.send_response(200 if healthy else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return None

    server = ThreadingHTTPServer((parts.hostname or "0.0.0.0", parts.port or 8080), Handler)  # noqa: S104
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="standby-liveness", daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
