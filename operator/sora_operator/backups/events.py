"""The Events a status write announces about backups and restores."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def backup_events(
    patch: Mapping[str, Any], status: Mapping[str, Any]
) -> list[tuple[bool, str, str]]:
    """(warning, reason, message) Events for what a status write says happened.

    One per new failed backup Job (``lastBackup.job`` changed), one per restore
    phase reached, one per finished restore.
    """
    events: list[tuple[bool, str, str]] = []
    entry = status.get("lastBackup") or {}
    if "job" in (patch.get("lastBackup") or {}) and entry.get("result") == "failed":
        events.append(
            (True, "BackupFailed", f"Backup Job {entry.get('job')}: {entry.get('message')}")
        )
    progress = status.get("restore") or {}
    if "phase" in (patch.get("restore") or {}) and progress:
        events.append((False, f"Restore{progress['phase']}", str(progress.get("message", ""))))
    last = status.get("lastRestore") or {}
    if "requestId" in (patch.get("lastRestore") or {}) or (
        "time" in (patch.get("lastRestore") or {})
    ):
        failed = last.get("result") != "restored"
        reason = "RestoreFailed" if failed else "RestoreSucceeded"
        events.append((failed, reason, f"{last.get('requestId')}: {last.get('message')}"))
    return events
