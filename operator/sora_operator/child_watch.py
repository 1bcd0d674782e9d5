"""What the watches of the operator's children spare a reconcile.

Echoes: every read and every write of a child records the ``resourceVersion`` the API
returned; a watch event carrying that same version is the echo of what a reconcile has
already seen and starts no reconcile. Anything else that changes the child (a
controller updating its status, someone editing it) has another version and starts a
drift reconcile as before.

Status nobody reads: the controllers of PodDisruptionBudgets and HorizontalPodAutoscalers
rewrite their status as pods come and go (every 15 s for an HPA), and the reconcile reads
neither status. An event of those kinds whose ``metadata.generation`` is the one a
reconcile saw changes only status or metadata, and starts no reconcile; an edit of their
spec bumps the generation and still does. A label edited on one of them is therefore put
back at the next resync rather than at once.

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
from typing import Any, Final

from sora_operator.objects import ObjectRef

Key = tuple[str, str, str]  # kind, namespace, name

#: Kinds whose status no reconcile reads (status.py reads Deployments, claims, Ingresses, Jobs).
STATUS_UNREAD_KINDS: Final = frozenset({"PodDisruptionBudget", "HorizontalPodAutoscaler"})


def _key(obj: Mapping[str, Any]) -> Key:
    metadata = obj.get("metadata") or {}
    return str(obj.get("kind", "")), str(metadata.get("namespace", "")), str(metadata.get("name"))


def _ref_key(ref: ObjectRef) -> Key:
    return ref.kind, ref.namespace, ref.name


def _version(obj: Mapping[str, Any]) -> tuple[str, int | None]:
    """resourceVersion and generation (None for kinds without one)."""
    metadata = obj.get("metadata") or {}
    generation = metadata.get("generation")
    if not isinstance(generation, int):
        generation = None
    return str(metadata.get("resourceVersion") or ""), generation


@dataclass
class SeenChildren:
    """The newest version of each child a reconcile has read or written."""

    _versions: dict[Key, tuple[str, int | None]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, obj: Mapping[str, Any] | None) -> None:
        version = _version(obj) if obj else None
        if obj and version and version[0]:
            with self._lock:
                self._versions[_key(obj)] = version

    def is_seen(self, event_type: str, obj: Mapping[str, Any]) -> bool:
        """Does this watch event tell a reconcile nothing it has not seen? A deletion
        always tells something (and the object's record goes with it)."""
        key = _key(obj)
        with self._lock:
            if event_type == "DELETED":
                self._versions.pop(key, None)
                return False
            seen = self._versions.get(key)
        if seen is None:
            return False
        version, generation = _version(obj)
        if version and version == seen[0]:
            return True
        unread_status = key[0] in STATUS_UNREAD_KINDS and generation is not None
        return unread_status and generation == seen[1]

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
