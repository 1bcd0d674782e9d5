"""What the watches of the operator's children spare a reconcile.

Echoes: every write records the ``resourceVersion`` the API returned; a watch event
carrying that same version is the echo of the write and starts no reconcile (the
reconcile that wrote it already saw it). Anything else that changes the child (a
controller updating its status, someone editing it) has another version and starts a
drift reconcile as before.

Known absences: a child the spec turns off is looked up on every reconcile, to delete
a leftover, and is nearly always not there. Once a lookup found nothing, the next
reconciles trust that for ``ttl`` seconds; any watch event about the object (it was
created, or changed) ends the trust at once. The ttl bounds how long a leftover whose
event was missed can stay: one resync period by default.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sora_operator.objects import ObjectRef

Key = tuple[str, str, str]  # kind, namespace, name


def _key(obj: Mapping[str, Any]) -> Key:
    metadata = obj.get("metadata") or {}
    return str(obj.get("kind", "")), str(metadata.get("namespace", "")), str(metadata.get("name"))


def _ref_key(ref: ObjectRef) -> Key:
    return ref.kind, ref.namespace, ref.name


def _version(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")


@dataclass
class OwnWrites:
    """The newest resourceVersion each of the operator's writes returned, by object."""

    _versions: dict[Key, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, written: Mapping[str, Any] | None) -> None:
        if written and _version(written):
            with self._lock:
                self._versions[_key(written)] = _version(written)

    def is_echo(self, event_type: str, obj: Mapping[str, Any]) -> bool:
        """Is this watch event the echo of our own last write of the object? A deletion
        never is (and the object's record goes with it)."""
        key = _key(obj)
        with self._lock:
            if event_type == "DELETED":
                self._versions.pop(key, None)
                return False
            return bool(_version(obj)) and self._versions.get(key) == _version(obj)

    def __len__(self) -> int:
        with self._lock:
            return len(self._versions)


@dataclass
class KnownAbsent:
    """Children a lookup found absent, trusted for ``ttl`` seconds or until a watch event."""

    ttl: float
    clock: Callable[[], float] = time.monotonic
    _since: dict[Key, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, ref: ObjectRef) -> None:
        with self._lock:
            self._since[_ref_key(ref)] = self.clock()

    def holds(self, ref: ObjectRef) -> bool:
        key = _ref_key(ref)
        with self._lock:
            since = self._since.get(key)
            if since is None:
                return False
            if self.clock() - since > self.ttl:
                del self._since[key]
                return False
            return True

    def seen(self, obj: Mapping[str, Any]) -> None:
        """A watch event about ``obj``: whatever it says, the object is not known absent."""
        with self._lock:
            self._since.pop(_key(obj), None)

    def forget(self, ref: ObjectRef) -> None:
        """The spec wants the object now: it may be created before its event arrives."""
        with self._lock:
            self._since.pop(_ref_key(ref), None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._since)
