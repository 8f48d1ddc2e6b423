"""The audit journal: where an audit record is written before the answer leaves the gateway.

The trade-off (see gateway.audit.trail): a request waits for its record to be appended to this local,
append-only file (one JSON line, one write(2) call), not for the database transaction that chains it.
A background writer moves the journal's records into the hash chain in batches; at start-up, records
of a previous process that did not reach the chain are replayed (each carries an id, so nothing is
chained twice). If the journal cannot be written, the request fails and its data is not returned.

Durability: without `fsync` a record survives a crash of the gateway process but not a power loss
before the kernel writes it back (the same as SQLite's WAL at synchronous=NORMAL, the embedded default);
with `fsync` it survives both, at the cost of one disk flush per request. In production, put the
journal on a persistent volume of the gateway's pod.

One segment file per process, locked while open (several processes may share the directory); a
segment whose lock can be taken belongs to a process that is gone and is replayed.
"""

import fcntl
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

import orjson

ROTATE_BYTES = 16 * 1024 * 1024


class AuditJournal:
    def __init__(self, directory: Path, *, fsync: bool = False, rotate_bytes: int = ROTATE_BYTES) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.fsync = fsync
        self.rotate_bytes = rotate_bytes
        self.fd = -1
        self.path = directory
        self.size = 0
        self._open_segment()

    def _open_segment(self) -> None:
        self.path = self.directory / f"segment-{time.time_ns()}-{uuid.uuid4().hex[:8]}.jsonl"
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.size = 0

    def write(self, record: dict[str, Any]) -> None:
        """Append one record; raises OSError if it is not written whole."""
        line = orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)  # what json.dumps wrote, compact UTF-8
        written = os.write(self.fd, line)
        if written != len(line):
            raise OSError(f"short write to the audit journal ({written} of {len(line)} bytes)")
        if self.fsync:
            os.fsync(self.fd)
        self.size += written

    def rotate_if_large(self) -> None:
        """Start a new segment and drop the old one; only when every record written so far is chained."""
        if self.size < self.rotate_bytes:
            return
        old_fd, old_path = self.fd, self.path
        self._open_segment()
        old_path.unlink(missing_ok=True)
        os.close(old_fd)

    def leftovers(self) -> list[Path]:
        """Segments of processes that are gone (their lock is free), oldest first, each locked by us now."""
        found: list[Path] = []
        for path in sorted(self.directory.glob("segment-*.jsonl")):
            if path == self.path:
                continue
            fd = os.open(path, os.O_RDONLY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue  # a live process writes it
            os.close(fd)
            found.append(path)
        return found

    @staticmethod
    def read(path: Path) -> list[dict[str, Any]]:
        """The segment's records; a torn last line (the process died mid-write, before answering) is skipped."""
        records: list[dict[str, Any]] = []
        for line in path.read_bytes().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and isinstance(record.get("entry_id"), str):
                records.append(record)
        return records

    def close(self, *, drop: bool) -> None:
        if self.fd < 0:
            return
        if drop:
            self.path.unlink(missing_ok=True)
        os.close(self.fd)
        self.fd = -1
