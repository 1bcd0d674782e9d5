"""A real PostgreSQL server on loopback: ``initdb`` and ``postgres`` from Debian's package,
as the control-plane harness runs etcd. Used by the tests and by the benchmark.

PostgreSQL refuses to run as root, so under root the cluster belongs to ``nobody``.
Authentication is ``trust`` on 127.0.0.1 only: the server is private to the test run.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.support.processes import REPO_ROOT, free_port

SUPERUSER = "sora"
_PR_SET_PDEATHSIG = 1
_names = itertools.count(1)


def bin_dir() -> Path:
    """Where initdb and postgres are, installing Debian's package when they are missing."""
    found = subprocess.run(
        [str(REPO_ROOT / "hack" / "postgres-tools.sh")], check=True, capture_output=True, text=True
    )
    return Path(found.stdout.strip().splitlines()[-1])


def _owner() -> pwd.struct_passwd | None:
    return pwd.getpwnam("nobody") if os.geteuid() == 0 else None


def _as_owner() -> None:
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)  # after the user change, which clears it
    os.setpgrp()


@dataclass
class PostgresServer:
    process: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    log_path: Path
    bin: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, prefix: str = "feedback") -> str:
        """A fresh, empty database; returns its URL."""
        name = f"{prefix}_{os.getpid()}_{next(_names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: signal.Signals = signal.SIGINT) -> None:
        """SIGINT is PostgreSQL's fast shutdown; SIGKILL of the postmaster is a crash."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)

    def start_again(self) -> None:
        """Start the same cluster (after :meth:`stop`) on the same port."""
        self.process = _postmaster(self.bin, self.data_dir, self.port, self.log_path, ())
        _wait_ready(self)


def _run_as_owner(command: Sequence[str]) -> None:
    owner = _owner()
    subprocess.run(
        list(command),
        check=True,
        capture_output=True,
        user=owner.pw_uid if owner else None,
        group=owner.pw_gid if owner else None,
    )


def _postmaster(
    bin_path: Path, data_dir: Path, port: int, log_path: Path, settings: Sequence[str]
) -> subprocess.Popen[bytes]:
    owner = _owner()
    log = log_path.open("ab")
    options = [f"-c{setting}" for setting in settings]
    process = subprocess.Popen(
        [str(bin_path / "postgres"), "-D", str(data_dir), "-p", str(port),
         "-c", "listen_addresses=127.0.0.1", "-k", str(data_dir), *options],
        stdout=log,
        stderr=subprocess.STDOUT,
        user=owner.pw_uid if owner else None,
        group=owner.pw_gid if owner else None,
        preexec_fn=_as_owner,  # noqa: PLW1509 - needed for PDEATHSIG
    )  # fmt: skip
    log.close()
    return process


def _wait_ready(server: PostgresServer, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"postgres exited before ready:\n{server.logs()[-4000:]}")
        try:
            with psycopg.connect(server.url(), connect_timeout=2):
                return
        except psycopg.OperationalError:
            time.sleep(0.1)
    raise TimeoutError(f"postgres not ready after {timeout}s:\n{server.logs()[-4000:]}")


@contextlib.contextmanager
def postgres_server(settings: Sequence[str] = ()) -> Iterator[PostgresServer]:
    """A new cluster in a directory of its own (outside pytest's root-only tmp folders, so
    that ``nobody`` can own it), removed afterwards."""
    bin_path = bin_dir()
    root = Path(tempfile.mkdtemp(prefix="sora-postgres-"))
    data_dir, log_path = root / "data", root / "postgres.log"
    owner = _owner()
    if owner:
        os.chown(root, owner.pw_uid, owner.pw_gid)
    try:
        _run_as_owner(
            [str(bin_path / "initdb"), "-D", str(data_dir), "-U", SUPERUSER, "--auth=trust",
             "--encoding=UTF8", "--locale=C.UTF-8"]
        )  # fmt: skip
        port = free_port()
        server = PostgresServer(
            _postmaster(bin_path, data_dir, port, log_path, settings), port, data_dir, log_path,
            bin_path,
        )  # fmt: skip
        try:
            _wait_ready(server)
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
