"""The JSON log lines: their shape, one write per line, and request ids."""

from __future__ import annotations

import io
import json
import logging
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from sora.common.web import RequestIds
from sora_contract.logs import FastInfo, JsonFormatter, LineHandler, request_id_var


@pytest.fixture
def pipe() -> Iterator[tuple[io.TextIOWrapper, int]]:
    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)
    writer = os.fdopen(write_fd, "w")
    yield writer, read_fd
    writer.close()
    os.close(read_fd)


def _logger(handler: logging.Handler) -> logging.Logger:
    handler.setFormatter(JsonFormatter("sora-test", "test"))
    logger = logging.getLogger(f"sora.test.{id(handler)}")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger


def _drain(read_fd: int) -> list[str]:
    chunks = []
    while True:
        try:
            chunk = os.read(read_fd, 65536)
        except BlockingIOError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode().splitlines()


def test_one_json_line_per_record_on_the_descriptor(pipe: tuple[io.TextIOWrapper, int]) -> None:
    writer, read_fd = pipe
    logger = _logger(LineHandler(writer))
    logger.info("stored %s", "1", extra={"route": "/api/feedback"})
    (line,) = _drain(read_fd)
    entry = json.loads(line)
    assert entry["message"] == "stored 1"
    assert entry["route"] == "/api/feedback"
    assert {"timestamp", "level", "service", "environment"} <= set(entry)


def test_lines_from_many_threads_never_interleave(pipe: tuple[io.TextIOWrapper, int]) -> None:
    writer, read_fd = pipe
    logger = _logger(LineHandler(writer))
    lines: list[str] = []
    done = threading.Event()

    def reader() -> None:  # keep the pipe from filling up
        while not done.is_set():
            lines.extend(_drain(read_fd))
        lines.extend(_drain(read_fd))

    def write(n: int) -> None:
        for i in range(300):
            logger.info("thread %d line %d", n, i, extra={"padding": "x" * 500})

    drain = threading.Thread(target=reader)
    drain.start()
    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    drain.join()
    assert len(lines) == 1200
    assert all(json.loads(line)["padding"] == "x" * 500 for line in lines)


def test_a_stream_without_a_descriptor_still_gets_the_lines() -> None:
    stream = io.StringIO()
    _logger(LineHandler(stream)).warning("no descriptor")
    assert json.loads(stream.getvalue())["message"] == "no descriptor"


@pytest.fixture
def root_handlers() -> Iterator[list[logging.Handler]]:
    """The root logger's handlers, restored afterwards (pytest installs its own)."""
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    yield root.handlers
    root.handlers[:] = saved
    root.setLevel(level)


def _json_root(handlers: list[logging.Handler], writer: io.TextIOWrapper) -> LineHandler:
    handler = LineHandler(writer)
    handler.setFormatter(JsonFormatter("sora-test", "test"))
    handlers[:] = [handler]
    logging.getLogger().setLevel(logging.INFO)
    return handler


def test_a_fast_line_is_the_line_the_logging_module_writes(
    pipe: tuple[io.TextIOWrapper, int], root_handlers: list[logging.Handler]
) -> None:
    writer, read_fd = pipe
    _json_root(root_handlers, writer)
    fields = {"route": "/api/extensions", "status": 200}
    factory = logging.getLogRecordFactory()
    records: list[str] = []

    def counting(*args: object, **kwargs: object) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        records.append(record.name)
        return record

    logging.setLogRecordFactory(counting)
    request_id_var.set("req-1")
    try:
        FastInfo("sora.access").info("GET /api/extensions 200", fields)
        assert records == []  # no LogRecord: the fast path wrote it
        logging.getLogger("sora.access").info("%s", "GET /api/extensions 200", extra=fields)
    finally:
        request_id_var.set(None)
        logging.setLogRecordFactory(factory)
    fast, ordinary = (json.loads(line) for line in _drain(read_fd))
    fast.pop("timestamp")
    ordinary.pop("timestamp")
    assert fast == ordinary
    assert fast["request_id"] == "req-1"
    assert fast["status"] == 200


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_any_other_handler_gets_an_ordinary_record(
    pipe: tuple[io.TextIOWrapper, int], root_handlers: list[logging.Handler]
) -> None:
    writer, read_fd = pipe
    _json_root(root_handlers, writer)
    collector = _Collector()
    root_handlers.append(collector)
    FastInfo("sora.access").info("GET / 200", {"status": 200})
    assert [(record.getMessage(), record.__dict__["status"]) for record in collector.records] == [
        ("GET / 200", 200)
    ]
    assert json.loads(_drain(read_fd)[0])["status"] == 200


def test_no_fast_line_below_the_configured_level(
    pipe: tuple[io.TextIOWrapper, int], root_handlers: list[logging.Handler]
) -> None:
    writer, read_fd = pipe
    _json_root(root_handlers, writer)
    logging.getLogger().setLevel(logging.WARNING)
    FastInfo("sora.access").info("GET / 200", {})
    assert _drain(read_fd) == []


@pytest.mark.parametrize("created", [0.0, 1764300000.0, 1764300000.0005, 1764300000.9999])
def test_the_timestamp_is_iso_8601_utc_with_milliseconds(created: float) -> None:
    record = logging.LogRecord("x", logging.INFO, "x", 1, "m", None, None)
    record.created = created
    entry = json.loads(JsonFormatter("s", "e").format(record))
    expected = datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
    assert entry["timestamp"] == expected


def test_request_ids_are_unique_and_well_formed() -> None:
    ids = RequestIds()
    issued = [ids.next() for _ in range(10_000)]
    assert len(set(issued)) == len(issued)
    assert all(len(value) <= 128 and value.replace("-", "").isalnum() for value in issued)
