"""Prometheus metrics that work under several gunicorn workers.

Under gunicorn each worker is a process; prometheus-client's multiprocess mode
keeps their samples in files under ``PROMETHEUS_MULTIPROC_DIR``. :func:`prepare`
must run before anything imports ``prometheus_client``'s metric classes, which
is why the service entry points call it first.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Final

MULTIPROC_ENV: Final = "PROMETHEUS_MULTIPROC_DIR"


def prepare(service: str) -> str:
    """Point prometheus-client at a fresh, empty directory owned by this server."""
    directory = os.environ.get(MULTIPROC_ENV)
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)
    else:
        directory = tempfile.mkdtemp(prefix=f"{service}-metrics-")
        os.environ[MULTIPROC_ENV] = directory
    return directory


def render_latest() -> tuple[bytes, str]:
    """The exposition of every worker's samples (or this process's alone)."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def worker_exited(pid: int) -> None:
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
