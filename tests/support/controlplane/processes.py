"""Child processes that die with the parent, recorded by pid + start time so that a
crashed run's leftovers are found and stopped by the next one."""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO

from tests.support.controlplane.config import ControlPlaneError, Log, run_root, stderr_log


def proc_state(stat_text: str) -> str:
    """Field 3 (R, S, D, Z, ...) of a ``/proc/<pid>/stat`` line."""
    return stat_text[stat_text.rindex(")") + 2 :].split(maxsplit=1)[0]


def proc_start_time(stat_text: str) -> int:
    """Field 22 (start time in clock ticks) of a ``/proc/<pid>/stat`` line."""
    # The command name (field 2) is parenthesised and may contain spaces or ')'.
    return int(stat_text[stat_text.rindex(")") + 2 :].split()[19])


_PR_SET_PDEATHSIG = 1


_libc = ctypes.CDLL(None, use_errno=True)


_prctl = _libc.prctl


def child_setup(parent_pid: int, niceness: int = 0) -> Callable[[], None]:
    def setup() -> None:
        # SIGKILL this process when the thread that forked it dies (PR_SET_PDEATHSIG).
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)
        if niceness:
            os.nice(niceness)

    return setup


def _start_time(pid: int) -> int | None:
    """The start time of a live process; None when it is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        if proc_state(stat) in ("Z", "X"):  # dead, waiting to be reaped
            return None
        return proc_start_time(stat)
    except (OSError, ValueError, IndexError):
        return None


def same_process(pid: int, start_time: int) -> bool:
    return _start_time(pid) == start_time


def read_pid_record(path: Path) -> tuple[int, int] | None:
    try:
        pid, start = path.read_text().split()[:2]
        return int(pid), int(start)
    except (OSError, ValueError):
        return None


def write_pid_record(path: Path, pid: int) -> None:
    start = _start_time(pid)
    path.write_text(f"{pid} {start if start is not None else -1}\n")


def _kill_record(path: Path, sig: int = signal.SIGKILL) -> bool:
    record = read_pid_record(path)
    if record and same_process(*record):
        with contextlib.suppress(ProcessLookupError):
            os.kill(record[0], sig)
        return True
    return False


def owner_alive(state_dir: Path) -> bool:
    record = read_pid_record(state_dir / "owner.pid")
    return bool(record and same_process(*record))


def cleanup_state_dir(state_dir: Path) -> None:
    """Kill whatever a state directory's pid files still name, then remove it."""
    pids = state_dir / "pids"
    if pids.is_dir():
        for record in pids.glob("*.pid"):
            _kill_record(record)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(
            (r := read_pid_record(p)) and same_process(*r) for p in pids.glob("*.pid")
        ):
            time.sleep(0.1)
    shutil.rmtree(state_dir, ignore_errors=True)


def cleanup_stale_runs(log: Log = stderr_log) -> None:
    """Remove the state of control planes whose owner process is gone (crashed runs)."""
    root = run_root()
    if not root.is_dir():
        return
    for state_dir in root.iterdir():
        if state_dir.is_dir() and not owner_alive(state_dir):
            log(f"cleaning up stale control plane state {state_dir}")
            cleanup_state_dir(state_dir)


def run_step(
    args: Sequence[str | Path],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    log_file: IO[str] | None = None,
    niceness: int = 0,
) -> str:
    """Run a build step bound to our lifetime; return stdout, raise with the output on error."""
    proc = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        preexec_fn=child_setup(os.getpid(), niceness),
        check=False,
    )
    if log_file is not None:
        log_file.write(f"$ {' '.join(str(a) for a in args)}\n{proc.stderr}")
        log_file.flush()
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-40:])
        raise ControlPlaneError(
            f"command failed ({proc.returncode}): {' '.join(str(a) for a in args)}\n{tail}"
        )
    return proc.stdout
