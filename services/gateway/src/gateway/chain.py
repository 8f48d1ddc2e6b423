"""The audit trail's hash chain, with no I/O: each record's hash covers its content and the hash of the
record before it, so altering, removing or reordering any record breaks every hash after it."""

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64

# The fields the hash covers, in this order; `hash` itself is not among them.
CHAINED_FIELDS = (
    "seq",
    "at",
    "actor",
    "actor_kind",
    "actor_unit",
    "on_behalf_of",
    "operation",
    "method",
    "path",
    "subjects",
    "outcome",
    "status_code",
    "client_address",
    "correlation_id",
    "break_glass_id",
    "detail",
    "prev_hash",
)


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:  # SQLite may hand back naive UTC
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def record_hash(fields: Mapping[str, Any]) -> str:
    content = {name: _canonical(fields.get(name)) for name in CHAINED_FIELDS}
    encoded = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()


@dataclass(frozen=True)
class ChainCheck:
    valid: bool
    checked: int
    first_seq: int
    last_seq: int
    first_broken_seq: int | None = None
    problem: str | None = None


class ChainVerifier:
    """Walks the records in sequence order from the retention anchor; feed them in chunks, then finish."""

    def __init__(self, *, anchor_seq: int, anchor_hash: str) -> None:
        self.anchor_seq = anchor_seq
        self.expected_prev = anchor_hash
        self.expected_seq = anchor_seq + 1
        self.checked = 0
        self.last = anchor_seq
        self.failure: ChainCheck | None = None

    def feed(self, record: Mapping[str, Any]) -> bool:
        """False once the chain is broken (the failure is kept)."""
        if self.failure is not None:
            return False
        seq = int(record["seq"])
        problem: str | None = None
        if seq != self.expected_seq:
            problem, seq = f"record {self.expected_seq} is missing", self.expected_seq
        elif record["prev_hash"] != self.expected_prev:
            problem = "the link to the previous record is broken"
        elif record_hash(record) != record["hash"]:
            problem = "the record's content does not match its hash"
        if problem is not None:
            self.failure = ChainCheck(False, self.checked, self.anchor_seq + 1, self.last, seq, problem)
            return False
        self.expected_prev, self.expected_seq, self.last = record["hash"], seq + 1, seq
        self.checked += 1
        return True

    def finish(self, *, head_seq: int, head_hash: str) -> ChainCheck:
        if self.failure is not None:
            return self.failure
        if self.last != head_seq or self.expected_prev != head_hash:
            return ChainCheck(
                False, self.checked, self.anchor_seq + 1, self.last, self.last + 1, "records after the last one found are missing"
            )
        return ChainCheck(True, self.checked, self.anchor_seq + 1, self.last)


def verify_chain(
    records: Iterable[Mapping[str, Any]], *, anchor_seq: int, anchor_hash: str, head_seq: int, head_hash: str
) -> ChainCheck:
    verifier = ChainVerifier(anchor_seq=anchor_seq, anchor_hash=anchor_hash)
    for record in records:
        if not verifier.feed(record):
            break
    return verifier.finish(head_seq=head_seq, head_hash=head_hash)
