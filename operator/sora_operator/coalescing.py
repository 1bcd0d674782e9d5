"""At most one reconcile per SoraDeployment at a time; requests meanwhile coalesce.

Many things ask for a reconcile of the same SoraDeployment (its own changes,
a burst of events from its children during a rollout, the resync timer). The
first asker runs it; whoever asks while it runs only marks it pending, and
the runner goes round once more for all of them with a fresh read. A burst of
N events costs at most two reconciles, and two never run at once for one
SoraDeployment, so their status writes cannot race.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass
class _Entry:
    pending: bool = False
    running: bool = False


class CoalescingRunner:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._entries: dict[Hashable, _Entry] = {}
        self._closed = False

    def run(self, key: Hashable, reconcile: Callable[[], T]) -> T | None:
        """Run ``reconcile`` now, or leave it to the caller already running it (None)."""
        with self._lock:
            if self._closed:
                return None
            entry = self._entries.setdefault(key, _Entry())
            entry.pending = True
            if entry.running:
                return None
            entry.running = True
        return self._drain(key, entry, reconcile)

    def _drain(self, key: Hashable, entry: _Entry, reconcile: Callable[[], T]) -> T | None:
        result: T | None = None
        while True:
            with self._lock:
                if not entry.pending or self._closed:
                    self._retire(key, entry)
                    return result
                entry.pending = False
            try:
                result = reconcile()
            except BaseException:
                # Whoever asked meanwhile is served by the retry of the failed caller
                # (kopf retries its handlers) or, at the latest, by the resync timer.
                with self._lock:
                    self._retire(key, entry)
                raise

    def _retire(self, key: Hashable, entry: _Entry) -> None:
        """Called with the lock held: the runner leaves; forget the key unless still pending."""
        entry.running = False
        if not entry.pending or self._closed:
            self._entries.pop(key, None)
        self._idle.notify_all()

    def depth(self) -> int:
        """SoraDeployments with a reconcile running or pending."""
        with self._lock:
            return len(self._entries)

    def close(self, timeout: float) -> bool:
        """Refuse new work and wait for running reconciles; False if some still run."""
        deadline = time.monotonic() + timeout
        with self._lock:
            self._closed = True
            while any(entry.running for entry in self._entries.values()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True
