"""The child events the operator's own writes cause, recognised so that they start no
reconcile: the reconcile that wrote the object already saw the state it wrote.

Every write records the ``resourceVersion`` the API returned; a watch event carrying
that same version is the echo of the write. Anything else that changes the child (a
controller updating its status, someone editing it) has another version and starts a
drift reconcile as before.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Key = tuple[str, str, str]  # kind, namespace, name


def _key(obj: Mapping[str, Any]) -> Key:
    metadata = obj.get("metadata") or {}
    return str(obj.get("kind", "")), str(metadata.get("namespace", "")), str(metadata.get("name"))


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
