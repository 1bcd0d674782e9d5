"""The Events one reconcile announces, decided from the stored status and the outcome (pure).

- one per write (reason ``Created``, ``Updated`` or ``Deleted``);
- a Warning when ``Degraded`` turns (or stays, with news) True, or ``BackupHealthy``
  turns False (but for a failed Job, which has ``BackupFailed`` of its own); ``Ready``
  when it turns True;
- ``ScalingWindowChanged`` when another scaling window comes into force;
- one per new cause a component is not ready (status.py), per failed backup Job and
  restore phase (backups/events.py), and when monitoring is skipped or applied again.

handlers.py emits them; nothing here talks to the API.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sora_operator.backups.events import backup_events
from sora_operator.backups.health import CONDITION as BACKUP_CONDITION
from sora_operator.monitoring import monitoring_events
from sora_operator.plan import Change
from sora_operator.schedules import window_change_message
from sora_operator.status import cause_events


@dataclass(frozen=True)
class Event:
    warning: bool
    reason: str
    message: str


def reconcile_events(
    previous: Mapping[str, Any],
    changes: Sequence[Change],
    patch: Mapping[str, Any],
    status: Mapping[str, Any],
) -> list[Event]:
    """``previous``: the stored status; ``patch``: what the reconcile writes over it;
    ``status``: the status it computed."""
    events = [Event(False, change.verb, change.describe()) for change in changes]
    before = {c.get("type"): c for c in previous.get("conditions") or []}
    for condition in patch.get("conditions") or []:
        old = before.get(condition.get("type")) or {}
        if any(old.get(k) != condition.get(k) for k in ("status", "reason", "message")):
            events += _announcement(condition)
    window = window_change_message(previous.get("autoscaling"), status.get("autoscaling"))
    if window:
        events.append(Event(False, "ScalingWindowChanged", window))
    return events + [
        Event(*event)
        for event in (
            *cause_events(previous, status),
            *backup_events(patch, status),
            *monitoring_events(patch, status),
        )
    ]


def _announcement(condition: Mapping[str, Any]) -> list[Event]:
    kind, state = condition.get("type"), condition.get("status")
    message, reason = str(condition.get("message", "")), str(condition.get("reason"))
    backup_warning = kind == BACKUP_CONDITION and state == "False" and reason != "BackupFailed"
    if (kind == "Degraded" and state == "True") or backup_warning:
        return [Event(True, reason, message)]
    if kind == "Ready" and state == "True":
        return [Event(False, "Ready", message)]
    return []
