"""JSON logs that carry the correlation id from the HTTP request through every event it causes."""

import asyncio
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TextIO

import orjson

from servicekit.ids import new_id

correlation_id_var: ContextVar[str | None] = ContextVar("correlation_id", default=None)


def current_correlation_id() -> str | None:
    return correlation_id_var.get()


@contextmanager
def correlated(correlation_id: str | None) -> Iterator[None]:
    """Logs and events caused inside carry this correlation id (a run handler's per-event work)."""
    token = correlation_id_var.set(correlation_id)
    try:
        yield
    finally:
        correlation_id_var.reset(token)


def new_correlation_id() -> str:
    return new_id()


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
            "correlation_id": correlation_id_var.get(),
        }
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            entry.update(extra)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


ACCESS_LOGGER = "cadrecare.access"
access_log = logging.getLogger(ACCESS_LOGGER)


class AccessLines:
    """The access log: one line per request, the line JsonFormatter would write for a record of logger
    cadrecare.access, but built straight from its values and written in batches (one write every
    `flush_seconds`, or every `flush_bytes`, and when the service stops).

    Why not a logging call per request: the record, the formatter and a write(2) per line cost the gateway
    ~0.09 ms of CPU per request under load, a sixth of all it spends on one (`python -m bench gateway`).
    The price: the lines of the last `flush_seconds` are lost if the process is killed. The audit trail is
    not written here (gateway.audit.journal). The logger's level still decides (WARNING: no access lines);
    with plain-text logs (log_json off, for reading on a terminal) each line goes through logging as before.
    """

    def __init__(self, *, flush_seconds: float = 0.1, flush_bytes: int = 64 * 1024) -> None:
        self.flush_seconds = flush_seconds
        self.flush_bytes = flush_bytes
        self.service = ""
        self.stream: TextIO | None = None  # None: through logging (plain text)
        self._lines: list[bytes] = []
        self._size = 0
        self._flush_at: asyncio.TimerHandle | None = None
        self._flush_loop: asyncio.AbstractEventLoop | None = None  # the loop that holds _flush_at

    def configure(self, service: str, stream: TextIO | None) -> None:
        self.flush()
        self.service, self.stream = service, stream

    def request(self, method: str, path: str, status: int, seconds: float) -> None:
        """One request's line, unless the access logger's level leaves it out."""
        if not access_log.isEnabledFor(logging.INFO):
            return
        fields = {"method": method, "path": path, "status": status, "duration_ms": round(seconds * 1000, 2)}
        if self.stream is None:
            access_log.info("%s %s %s", method, path, status, extra={"fields": fields})
            return
        entry = {
            "time": datetime.fromtimestamp(time.time(), UTC).isoformat(),
            "level": "INFO",
            "service": self.service,
            "logger": ACCESS_LOGGER,
            "message": f"{method} {path} {status}",
            "correlation_id": correlation_id_var.get(),
            **fields,
        }
        line = orjson.dumps(entry, option=orjson.OPT_APPEND_NEWLINE)
        self._lines.append(line)
        self._size += len(line)
        if self._size >= self.flush_bytes:
            self.flush()
        elif self._flush_at is None or (self._flush_loop is not None and self._flush_loop.is_closed()):
            self._schedule()  # a loop closed before its timer fired (one per test, in-process) never will

    def _schedule(self) -> None:
        try:
            self._flush_loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (a synchronous caller): written at once
            self.flush()
            return
        self._flush_at = self._flush_loop.call_later(self.flush_seconds, self.flush)

    def flush(self) -> None:
        if self._flush_at is not None:
            self._flush_at.cancel()
            self._flush_at = None
        if not self._lines or self.stream is None:
            return
        text = b"".join(self._lines).decode()
        self._lines, self._size = [], 0
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed stream (shut-down): the lines are dropped, as logging would
            pass


access_lines = AccessLines()


def configure_logging(service: str, level: str = "INFO", as_json: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if as_json:
        handler.setFormatter(JsonFormatter(service))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    access_lines.configure(service, handler.stream if as_json else None)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiokafka", "kafka", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel("WARNING")
    for server in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        # uvicorn set up its own plain-text handlers before the app existed: its lines go through ours
        logging.getLogger(server).handlers[:] = []
        logging.getLogger(server).propagate = True
