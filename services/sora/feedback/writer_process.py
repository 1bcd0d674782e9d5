"""The dedicated SQLite writer process, started by the leading worker (see ``writer.py``).

    python -m sora.feedback.writer_process DATABASE SYNCHRONOUS BUSY_TIMEOUT_MS CONTROL PARENT_PID

It dies with the worker thread that started it (``PR_SET_PDEATHSIG``). Logging
and metrics follow the server's environment (``LOG_LEVEL``, ``LOG_FORMAT``,
``PROMETHEUS_MULTIPROC_DIR``), which it inherits.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
from pathlib import Path

from sora.common.logs import configure_logging
from sora.common.settings import ENVIRONMENTS, LOG_LEVELS, Env, log_environment

_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before prctl took effect
        raise SystemExit(1)


def main() -> None:
    database, synchronous, busy_timeout_ms, control, parent = sys.argv[1:6]
    _die_with_parent(int(parent))
    env = Env()
    configure_logging(
        "sora-feedback-api",
        log_environment(env, env.choice("SORA_ENV", ENVIRONMENTS, "production")),
        env.choice("LOG_LEVEL", LOG_LEVELS, "INFO"),
        env.choice("LOG_FORMAT", ("json", "text"), "json"),
    )
    from sora.feedback import telemetry
    from sora.feedback.sqlite import OPERATIONS, connect
    from sora.feedback.writer import lead

    conn = connect(Path(database), synchronous=synchronous, busy_timeout_ms=int(busy_timeout_ms))
    lead(Path(control), conn, OPERATIONS, telemetry.observe_commit, threading.Event())


if __name__ == "__main__":
    main()
