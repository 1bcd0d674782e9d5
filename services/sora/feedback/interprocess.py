"""Coordination between the forked gunicorn workers of one server.

Objects here are created in the master before it forks, and so are shared by
every worker. The lock is a POSIX record lock on an unlinked temporary file:
the kernel releases it when its holder dies, so a worker killed at the wrong
moment cannot wedge the others.
"""

from __future__ import annotations

import fcntl
import tempfile
import threading
from types import TracebackType


class ProcessLock:
    """Mutual exclusion across forked processes and across threads within each."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the lock
        # Record locks belong to a process, so threads of one process also need this.
        self._threads = threading.Lock()

    def __enter__(self) -> None:
        self._threads.acquire()
        try:
            fcntl.lockf(self._file.fileno(), fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            fcntl.lockf(self._file.fileno(), fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def close(self) -> None:
        self._file.close()
