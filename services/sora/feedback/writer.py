"""The one SQLite writer of a server, shared by all its workers, committing in groups.

SQLite admits one writer at a time and a durable commit costs an ``fsync``. So
every write of every gunicorn worker goes to a single writer, which takes all
the requests waiting for it, runs each in its own savepoint inside one
``BEGIN IMMEDIATE`` transaction, commits once, and only then answers each
caller: N concurrent submissions cost one fsync, and nobody hears "done"
before its transaction is durable. One writer also keeps one warm page cache,
instead of every worker re-reading pages another worker just changed.

Who writes is decided by election, with no supervisor: each process that has
something to write runs a candidate thread blocked on an exclusive ``flock``
of ``<control>/writer.lock``. The holder leads: in the server it starts and
watches a dedicated writer process (``writer_process.py``, so that the writer
never waits for the GIL of a busy worker), elsewhere it writes from the
candidate thread itself; either way the writer listens on
``<control>/writer.sock`` (a Unix socket in a private directory). When the
leading worker exits (recycling, crash, ``kill -9``) the kernel drops its lock
and kills its writer, another candidate takes over within a fraction of a
second, and callers reconnect and resend. A resent request may already have
been committed; every operation is safe to apply twice (``sqlite.OPERATIONS``).

Frames are a 4-byte length and a pickle; only processes of the same user can
reach the socket (the directory is 0700).
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import logging
import os
import pickle
import selectors
import shutil
import socket
import sqlite3
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

log = logging.getLogger("sora.feedback.writer")
Operation = Callable[[sqlite3.Connection, Any], Any]
_LENGTH: Final = struct.Struct(">I")
_RETRY_PAUSE: Final = 0.02


class WriterTimeoutError(Exception):
    """No answer in time; the write may still be committed later."""


class WriterUnavailableError(Exception):
    """The writer could not commit (disk error, database locked by another program)."""


class _ReconnectError(Exception):
    """The leader went away before answering: connect to the next one and resend."""


class SharedWriter:
    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        operations: Mapping[str, Operation],
        *,
        observe: Callable[[int, float], None] | None = None,
        timeout: float = 10.0,
        process: Sequence[str] | None = None,
    ) -> None:
        """``process``: the command of a dedicated writer process (``writer_process.py``),
        which the leading worker starts and watches; without it, the leader writes from
        a thread of its own (command-line tools, tests)."""
        self._connect = connect
        self._operations = operations
        self._observe = observe
        self._timeout = timeout
        self._process = list(process) if process else None
        self._control = Path(tempfile.mkdtemp(prefix="sora-feedback-writer-"))
        self._owner = os.getpid()
        self._local = threading.local()
        self._candidate: int | None = None  # pid of the process whose candidate runs
        self._start_lock = threading.Lock()
        self._stop = threading.Event()
        atexit.register(self._remove_control)  # in the process that made it (the master)

    # --- callers -----------------------------------------------------------------------------

    def run(self, name: str, argument: Any, timeout: float | None = None) -> Any:
        """Apply ``operations[name](connection, argument)`` and return once it is committed."""
        request = pickle.dumps((name, argument), protocol=pickle.HIGHEST_PROTOCOL)
        deadline = time.monotonic() + (timeout or self._timeout)
        while True:
            self._ensure_candidate()
            try:
                return _unpack(self._exchange(request, deadline))
            except _ReconnectError:
                if time.monotonic() >= deadline:
                    raise WriterTimeoutError("no writer answered in time") from None
                time.sleep(_RETRY_PAUSE)

    def _exchange(self, request: bytes, deadline: float) -> bytes:
        sock = self._socket()
        try:
            sock.settimeout(max(0.001, deadline - time.monotonic()))
            sock.sendall(_LENGTH.pack(len(request)) + request)
            return _read_frame(sock)
        except TimeoutError:
            self._drop_socket()
            raise WriterTimeoutError("the writer did not answer in time") from None
        except (OSError, EOFError):
            self._drop_socket()
            raise _ReconnectError from None

    def _socket(self) -> socket.socket:
        sock: socket.socket | None = getattr(self._local, "sock", None)
        if sock is not None and getattr(self._local, "pid", None) == os.getpid():
            return sock
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(str(self._control / "writer.sock"))
        except OSError:
            sock.close()
            raise _ReconnectError from None
        self._local.sock, self._local.pid = sock, os.getpid()
        return sock

    def _drop_socket(self) -> None:
        sock = getattr(self._local, "sock", None)
        self._local.sock = None
        if sock is not None:
            sock.close()

    def close(self) -> None:
        self._stop.set()
        self._drop_socket()
        self._remove_control()

    def _remove_control(self) -> None:
        if os.getpid() == self._owner:
            shutil.rmtree(self._control, ignore_errors=True)

    # --- the election ------------------------------------------------------------------------

    def _ensure_candidate(self) -> None:
        if self._candidate == os.getpid():
            return
        with self._start_lock:
            if self._candidate != os.getpid():
                threading.Thread(target=self._stand, name="sqlite-writer", daemon=True).start()
                self._candidate = os.getpid()

    def _stand(self) -> None:
        """Wait to lead; lead until stopped. Should leading fail, step down and stand again."""
        while not self._stop.is_set():
            with open(self._control / "writer.lock", "a+b") as lock:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
                try:
                    if self._process:
                        self._watch_process(self._process)
                    else:
                        lead(
                            self._control,
                            self._connect(),
                            self._operations,
                            self._observe,
                            self._stop,
                        )
                except Exception:
                    log.exception("the SQLite writer stopped; another will take over")
                time.sleep(0.5)

    def _watch_process(self, command: list[str]) -> None:
        """Run the writer in a process of its own (no GIL shared with request threads),
        which dies with this thread (``PR_SET_PDEATHSIG``): a recycled or killed worker
        takes its writer along and another worker's candidate starts the next one."""
        process = subprocess.Popen([*command, str(self._control), str(os.getpid())])
        code = process.wait()
        if not self._stop.is_set():
            log.error("the SQLite writer process exited with %s; starting another", code)


def lead(
    control: Path,
    conn: sqlite3.Connection,
    operations: Mapping[str, Operation],
    observe: Callable[[int, float], None] | None,
    stop: threading.Event,
) -> None:
    """Serve the writer's socket in ``control`` with ``conn`` until ``stop`` is set."""
    path = control / "writer.sock"
    with contextlib.suppress(FileNotFoundError):
        path.unlink()  # left behind by the previous leader
    log.info("this process now writes to SQLite for all workers", extra={"pid": os.getpid()})
    with contextlib.closing(conn), socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(path))
        server.listen(256)
        server.setblocking(False)
        _Leader(conn, server, operations, observe).serve(stop)


class _Leader:
    """The writer's loop: accept, read every ready request, commit them together, answer."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        server: socket.socket,
        operations: Mapping[str, Operation],
        observe: Callable[[int, float], None] | None,
    ) -> None:
        self._conn = conn
        self._server = server
        self._operations = operations
        self._observe = observe
        self._selector = selectors.DefaultSelector()
        self._selector.register(server, selectors.EVENT_READ)
        self._buffers: dict[socket.socket, bytearray] = {}

    def serve(self, stop: threading.Event) -> None:
        while not stop.is_set():
            batch: list[tuple[socket.socket, bytes]] = []
            for key, _ in self._selector.select(timeout=0.5):
                if key.fileobj is self._server:
                    self._accept()
                else:
                    self._receive(key.fileobj, batch)  # type: ignore[arg-type]
            if batch:
                self._commit(batch)

    def _accept(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while True:
                client, _ = self._server.accept()
                client.settimeout(5)  # reads happen only when ready; replies are small
                self._selector.register(client, selectors.EVENT_READ)
                self._buffers[client] = bytearray()

    def _receive(self, client: socket.socket, batch: list[tuple[socket.socket, bytes]]) -> None:
        try:
            data = client.recv(1 << 20)
        except OSError:
            data = b""
        if not data:
            self._forget(client)
            return
        buffer = self._buffers[client]
        buffer += data
        while len(buffer) >= _LENGTH.size:
            (length,) = _LENGTH.unpack_from(buffer)
            if len(buffer) < _LENGTH.size + length:
                break
            batch.append((client, bytes(buffer[_LENGTH.size : _LENGTH.size + length])))
            del buffer[: _LENGTH.size + length]

    def _forget(self, client: socket.socket) -> None:
        self._selector.unregister(client)
        self._buffers.pop(client, None)
        client.close()

    def _commit(self, batch: list[tuple[socket.socket, bytes]]) -> None:
        started = time.perf_counter()
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            outcomes = [self._apply(payload) for _, payload in batch]
            conn.execute("COMMIT")
        except sqlite3.Error as error:  # the transaction itself failed: nothing was committed
            log.error("write transaction of %d failed: %s", len(batch), error)
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            outcomes = [("unavailable", str(error))] * len(batch)
        if self._observe:
            self._observe(len(batch), time.perf_counter() - started)
        for (client, _), outcome in zip(batch, outcomes, strict=True):
            reply = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
            try:
                client.sendall(_LENGTH.pack(len(reply)) + reply)
            except OSError:
                self._forget(client)

    def _apply(self, payload: bytes) -> tuple[str, Any]:
        """One request in its own savepoint: its failure leaves the others in the batch."""
        self._conn.execute("SAVEPOINT job")
        try:
            name, argument = pickle.loads(payload)  # noqa: S301 - our own processes, 0700 socket
            value = self._operations[name](self._conn, argument)
        except sqlite3.OperationalError:
            raise  # disk or lock trouble: the whole transaction fails
        except Exception as error:
            self._conn.execute("ROLLBACK TO job")
            self._conn.execute("RELEASE job")
            if not isinstance(error, sqlite3.IntegrityError):
                log.exception("write operation failed")
            kind = "integrity" if isinstance(error, sqlite3.IntegrityError) else "error"
            return kind, str(error)
        self._conn.execute("RELEASE job")
        return "ok", value


def _read_frame(sock: socket.socket) -> bytes:
    header = _read_exactly(sock, _LENGTH.size)
    return _read_exactly(sock, _LENGTH.unpack(header)[0])


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    chunks, missing = [], size
    while missing:
        chunk = sock.recv(missing)
        if not chunk:
            raise EOFError("the writer closed the connection")
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def _unpack(reply: bytes) -> Any:
    kind, value = pickle.loads(reply)  # noqa: S301 - our own processes, 0700 socket
    if kind == "ok":
        return value
    if kind == "integrity":
        raise sqlite3.IntegrityError(value)
    if kind == "unavailable":
        raise WriterUnavailableError(value)
    raise RuntimeError(f"write operation failed: {value}")
