"""The catalog benchmark's baseline: a bare Falcon endpoint returning fixed bytes.

Served by the same gunicorn runner and settings as ``sora-file-server``
(``ServerSettings.from_env`` and ``run_gunicorn``), without the shared
middleware, logging, metrics or catalog search.

    python -m benchmarks._bare_falcon BODY_FILE   # PORT and WEB_* from the environment
"""

from __future__ import annotations

import sys
from pathlib import Path

import falcon

from sora.common.serve import ServerSettings, run_gunicorn
from sora_contract.settings import Env


class FixedBody:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.data = self._body
        resp.content_type = falcon.MEDIA_JSON


def create_app(body: bytes) -> falcon.App[falcon.Request, falcon.Response]:
    app = falcon.App()
    app.add_route("/api/extensions", FixedBody(body))
    app.add_route("/health", FixedBody(b'{"status": "ok"}'))
    return app


def main() -> int:
    body = Path(sys.argv[1]).read_bytes()
    settings = ServerSettings.from_env(Env(), 3000)
    run_gunicorn(lambda: create_app(body), settings.gunicorn_options())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
