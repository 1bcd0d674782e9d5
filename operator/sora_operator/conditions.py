"""Status conditions, in the manner of apimachinery's ``meta.SetStatusCondition``.

A condition's ``lastTransitionTime`` moves only when its status changes, so a
resync that finds the same state writes nothing; ``observedGeneration`` says which
spec it describes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def condition(kind: str, holds: bool, reason: str, message: str) -> dict[str, str]:
    return {
        "type": kind,
        "status": "True" if holds else "False",
        "reason": reason,
        "message": message,
    }


def find(conditions: Iterable[Any] | None, kind: str) -> Mapping[str, Any] | None:
    """The condition of type ``kind`` in a status's ``conditions`` list, if there is one."""
    return next(
        (c for c in conditions or [] if isinstance(c, Mapping) and c.get("type") == kind), None
    )


def with_transition_time(
    new: Mapping[str, Any], previous: Iterable[Any] | None, generation: int, now: str
) -> dict[str, Any]:
    """``new`` stamped with ``observedGeneration`` and a ``lastTransitionTime`` kept from
    the previous condition of its type when the status is unchanged, else ``now``."""
    old = find(previous, str(new["type"]))
    unchanged = old is not None and old.get("status") == new["status"]
    transition = old.get("lastTransitionTime") if unchanged and old else None
    return {**new, "observedGeneration": generation, "lastTransitionTime": transition or now}
