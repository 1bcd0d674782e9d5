"""One JSON object per line on stderr, with the fields the log pipeline relies on.

Fields: ``timestamp``, ``level``, ``service``, ``environment``, ``message``,
``request_id`` while a request is being served, plus whatever a caller passes
in ``extra``. Raw client addresses are never logged; callers log the salted
hash from :mod:`sora.common.clientip` instead.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import sys
import time
from datetime import UTC, datetime
from typing import Any, Final

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)

# Attributes every LogRecord has; anything else came from ``extra`` and is logged.
_STANDARD_ATTRS: Final = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str, environment: str) -> None:
        super().__init__()
        self._service = service
        self._environment = environment
        self._second = -1
        self._second_text = ""

    def _timestamp(self, created: float) -> str:
        """ISO 8601 UTC with milliseconds; the part up to the second is reused within it."""
        second = int(created)
        if second != self._second:
            self._second_text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            self._second = second
        return f"{self._second_text}.{int((created - second) * 1000):03d}+00:00"

    def format(self, record: logging.LogRecord) -> str:
        fields = {key: value for key, value in vars(record).items() if key not in _STANDARD_ATTRS}
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        return self.line(
            record.created, record.levelname.lower(), record.name, record.getMessage(), fields
        )

    def line(
        self, created: float, level: str, logger: str, message: str, fields: dict[str, Any]
    ) -> str:
        entry: dict[str, Any] = {
            "timestamp": self._timestamp(created),
            "level": level,
            "service": self._service,
            "environment": self._environment,
            "logger": logger,
            "message": message,
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        entry.update(fields)
        return json.dumps(entry, default=str, ensure_ascii=False)


class LineHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """One ``write(2)`` per record, straight to the stream's file descriptor, without a lock.

    A single write of one line is not interleaved with another thread's or
    process's (the kernel serialises writes to a pipe up to PIPE_BUF, and to a
    file opened for appending), so the handler lock that StreamHandler takes
    around its buffered write and flush is not needed: under load the request
    threads no longer queue behind each other to log. A stream without a file
    descriptor (a test's capture buffer) is written as StreamHandler does.
    """

    def handle(self, record: logging.LogRecord) -> bool:
        if self._descriptor() is None:
            return bool(super().handle(record))
        if self.filter(record):
            self.emit(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        descriptor = self._descriptor()
        if descriptor is None:
            super().emit(record)
            return
        try:
            self.write_line(descriptor, self.format(record))
        except Exception:  # logging must never raise into the caller
            self.handleError(record)

    @staticmethod
    def write_line(descriptor: int, text: str) -> None:
        line = (text + "\n").encode("utf-8", "replace")
        while line:
            line = line[os.write(descriptor, line) :]

    def _descriptor(self) -> int | None:
        try:
            return int(self.stream.fileno())
        except (AttributeError, OSError, ValueError):
            return None


class FastInfo:
    """INFO lines of one logger, written without a LogRecord when the JSON handler is the
    only one that would see them.

    The access log line is on the hot path of every request: through the logging
    module a line costs about 28 µs, most of it the LogRecord and the handler
    chain; written directly about a fifth of that (docs/benchmarks.md). The line is
    the one :class:`JsonFormatter` writes. With any other handler installed (a
    test's ``caplog``, the text format of development) the record goes the
    ordinary way.
    """

    def __init__(self, name: str) -> None:
        self._logger = logging.getLogger(name)

    def info(self, message: str, fields: dict[str, Any]) -> None:
        logger = self._logger
        if not logger.isEnabledFor(logging.INFO):
            return
        target = self._direct_target()
        if target is None:
            logger.info("%s", message, extra=fields)
            return
        handler, formatter, descriptor = target
        try:
            handler.write_line(
                descriptor, formatter.line(time.time(), "info", logger.name, message, fields)
            )
        except Exception:  # logging must never raise into the caller
            logger.info("%s", message, extra=fields)

    def _direct_target(self) -> tuple[LineHandler, JsonFormatter, int] | None:
        logger: logging.Logger | None = self._logger
        while logger is not None and logger is not logging.root:
            if logger.handlers or not logger.propagate:
                return None
            logger = logger.parent
        handlers = logging.root.handlers
        if len(handlers) != 1:
            return None
        handler = handlers[0]
        if not isinstance(handler, LineHandler) or handler.filters or handler.level > logging.INFO:
            return None
        formatter = handler.formatter
        descriptor = handler._descriptor()
        if not isinstance(formatter, JsonFormatter) or descriptor is None:
            return None
        return handler, formatter, descriptor


class TextFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__(f"%(asctime)s %(levelname)-7s {service} %(name)s: %(message)s")


def configure_logging(service: str, environment: str, level: str, fmt: str) -> None:
    """Route every logger (gunicorn's included) through one stderr handler."""
    handler = LineHandler(sys.stderr)
    formatter: logging.Formatter = (
        JsonFormatter(service, environment) if fmt == "json" else TextFormatter(service)
    )
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("botocore", "boto3", "urllib3", "s3transfer"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
