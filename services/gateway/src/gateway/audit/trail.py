"""The audit trail: who did what to whose record, when, from where, with what outcome.

Append-only and hash-chained (gateway.domain): every append locks the chain head, so the sequence has
no gaps and no forks, also with several gateway replicas on one PostgreSQL database. The one deletion
is retention: records older than the retention period go, and the chain head keeps the hash of the
last one removed as the anchor that verification starts from.

"No audit, no answer", in one of two modes (setting `audit_durability`):
- "journal" (default): `append` returns once the record is in the local audit journal
  (gateway.audit.journal: one write(2), no database round trip on the request path); a writer task
  chains the journal's records into the database in batches, retrying while the database is away,
  and the records of a crashed process are replayed at start-up. The writer lingers `linger_seconds`
  (200 ms) to chain what arrives meanwhile in one transaction: one commit per batch, not per request.
  A batch's transaction, head lock and statements cost about as much as its first twenty records: at
  ~370 audited requests a second, 50 ms batches of ~18 put the gateway at 0.60 ms of CPU per request,
  200 ms batches of ~75 at 0.48 (`python -m bench gateway`).
  If the journal cannot be written, or the backlog not yet chained exceeds `max_backlog` (the
  database has been away too long), `append` raises AuditUnavailable and the caller gets 503, not
  the data. The price: a record reaches the database (queries, verification) up to ~200 ms after the
  answer (longer while the database is away); queries, verification and purges of this process wait
  for its own backlog first; a record is as durable as the journal file (see gateway.audit.journal).
- "commit": `append` returns only once the record's transaction has committed (group commit: appends
  that arrive together share one transaction). One database transaction per request at low load.
"""

import asyncio
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.api.common import Page
from contracts.api.gateway import AuditPurge, AuditRecord, AuditVerification
from contracts.scope import Principal
from gateway.audit import queries
from gateway.audit.journal import AuditJournal
from gateway.domain import GENESIS_HASH, ChainVerifier, home_unit, record_hash
from gateway.tables import AuditChainHead, AuditRecordRow, AuditSubjectRow
from servicekit import clock
from servicekit.db import Database
from servicekit.errors import DomainError
from servicekit.ids import new_id
from servicekit.pagination import PageParams, paginate
from servicekit.retry import Backoff
from servicekit.sql import insert_ignoring_duplicates, table_of
from servicekit.timeouts import within

log = logging.getLogger(__name__)

VERIFY_CHUNK = 2000
GROUP_COMMIT_MAX = 500
RETRY_FIRST_WAIT = 0.2  # seconds before chaining is retried (then doubling, servicekit.retry)


class AuditUnavailable(DomainError):
    status_code = 503
    code = "audit_unavailable"


@dataclass
class AuditEntry:
    actor: str
    actor_kind: str
    operation: str
    method: str
    path: str
    outcome: str
    status_code: int
    subjects: list[str] = field(default_factory=list)
    actor_unit: str | None = None
    on_behalf_of: str | None = None
    client_address: str | None = None
    correlation_id: str | None = None
    break_glass_id: str | None = None
    detail: str | None = None

    @classmethod
    def by(cls, principal: Principal, **values: object) -> "AuditEntry":
        return cls(actor=principal.subject, actor_kind=principal.kind.value, actor_unit=home_unit(principal.grants), **values)  # type: ignore[arg-type]


def outcome_of(status: int) -> str:
    if status < 400:
        return "success"
    if status in (401, 403):
        return "denied"
    if status == 404:
        return "not_found"
    if status == 429:
        return "rate_limited"
    if status == 504:
        return "timeout"
    return "refused" if status < 500 else "error"


def _row_fields(row: AuditRecordRow) -> dict[str, object]:
    return {name: getattr(row, name) for name in AuditRecord.model_fields}


def _subject_ids(subjects: list[str]) -> list[uuid.UUID]:
    ids = []
    for value in dict.fromkeys(subjects):
        try:
            ids.append(uuid.UUID(value))
        except ValueError:
            continue
    return ids


class AuditTrail:
    def __init__(
        self,
        db: Database,
        *,
        retention_days: int,
        journal: AuditJournal | None = None,
        max_backlog: int = 50_000,
        linger_seconds: float = 0.2,
    ) -> None:
        self.db = db
        self.linger_seconds = linger_seconds  # journal mode: gather records this long, chain them in one transaction
        self.retention = timedelta(days=retention_days)
        self.journal = journal
        self.max_backlog = max_backlog
        self._lock = asyncio.Lock()  # writes and purges of this process; the head row's lock orders the processes
        self._queue: list[tuple[dict[str, object], asyncio.Future[None] | None]] = []
        self._writer: asyncio.Task[None] | None = None
        self._settled = asyncio.Event()
        self._settled.set()

    async def _head(self, session: AsyncSession) -> AuditChainHead:
        head = await session.scalar(queries.locked_head())
        if head is None:
            await session.execute(
                insert_ignoring_duplicates(session, table_of(AuditChainHead)).values(
                    id=queries.HEAD_ID, last_seq=0, last_hash=GENESIS_HASH, anchor_seq=0, anchor_hash=GENESIS_HASH
                )
            )
            head = await session.scalar(queries.locked_head())
        assert head is not None
        return head

    async def append(self, entry: AuditEntry) -> None:
        """Record one entry before the caller answers ("no audit, no answer"); raises AuditUnavailable.

        Journal mode: returns once the entry is in the journal. Commit mode: once its transaction has
        committed. Either way one writer task per process chains whatever is queued in one transaction.
        """
        at = clock.now()
        values: dict[str, object] = {**vars(entry), "subjects": list(entry.subjects), "entry_id": new_id(), "at": at}
        future: asyncio.Future[None] | None = None
        if self.journal is not None:
            if len(self._queue) >= self.max_backlog:
                raise AuditUnavailable("the audit trail cannot be written now: the request is refused")
            try:
                self.journal.write({**values, "at": at.isoformat()})
            except OSError as exc:
                log.error("audit journal write failed: %s", exc)
                raise AuditUnavailable("the audit trail cannot be written now: the request is refused") from exc
        else:
            future = asyncio.get_running_loop().create_future()
        self._queue.append((values, future))
        self._settled.clear()
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain(), name="audit-writer")
        if future is not None:
            try:
                await future
            except Exception as exc:
                raise AuditUnavailable("the audit trail cannot be written now: the request is refused") from exc

    async def settled(self, timeout: float = 5.0) -> None:
        """Wait (a bounded time) until every record this process has accepted is in the chain."""
        if not self._settled.is_set():
            try:
                await within(timeout, self._settled.wait())
            except TimeoutError:
                log.warning("the audit backlog (%d records) is not chained yet", len(self._queue))

    async def _drain(self) -> None:
        backoff = Backoff(RETRY_FIRST_WAIT)
        while self._queue:
            if self.journal is not None and len(self._queue) < GROUP_COMMIT_MAX:
                await asyncio.sleep(self.linger_seconds)  # the records are safe in the journal: batch them
            batch, self._queue = self._queue[:GROUP_COMMIT_MAX], self._queue[GROUP_COMMIT_MAX:]
            try:
                await self._write([values for values, _ in batch])
            except Exception as exc:  # noqa: BLE001 - journaled records wait and retry; committed ones report the failure
                kept = [(values, future) for values, future in batch if future is None]
                for _, future in batch:
                    if future is not None and not future.done():
                        future.set_exception(exc)
                if kept:
                    self._queue = kept + self._queue
                    log.warning("chaining %d journaled audit records failed (%s): retrying", len(kept), exc)
                    await asyncio.sleep(backoff.failed())
                continue
            backoff.reset()
            for _, future in batch:
                if future is not None and not future.done():
                    future.set_result(None)
        if self.journal is not None:
            self.journal.rotate_if_large()
        self._settled.set()

    async def _locked_head_row(self, session: AsyncSession) -> tuple[int, str]:
        """(last seq, last hash) of the chain head, locked; the row is created the first time."""
        row = (await session.execute(queries.LOCKED_HEAD_ROW)).first()
        if row is None:
            await self._head(session)
            row = (await session.execute(queries.LOCKED_HEAD_ROW)).first()
        assert row is not None
        return int(row.last_seq), str(row.last_hash)

    async def _write(self, batch: list[dict[str, object]], *, skip_known: bool = False) -> int:
        async with self._lock, self.db.transaction() as session:
            seq, previous = await self._locked_head_row(session)
            if skip_known:  # a replay: records already chained (by us before a crash, or another process) are skipped
                ids = [str(values["entry_id"]) for values in batch]
                known = set(await session.scalars(queries.chained_entries(ids)))
                batch = [values for values in batch if values["entry_id"] not in known]
            records: list[dict[str, object]] = []
            subjects: list[dict[str, object]] = []
            for entry in batch:
                seq += 1
                values: dict[str, object] = {
                    **entry,
                    "seq": seq,
                    "prev_hash": previous,
                    "subjects": [str(s) for s in entry["subjects"]],  # type: ignore[attr-defined]
                }
                for name in ("path", "operation"):
                    values[name] = str(values[name])[:300]
                values["hash"] = previous = record_hash(values)
                records.append(values)
                subjects += ({"seq": seq, "cadre_id": cadre_id} for cadre_id in _subject_ids(values["subjects"]))  # type: ignore[arg-type]
            if records:  # Core inserts in bulk: the ORM's unit of work costs more than the statements
                await session.execute(insert(table_of(AuditRecordRow)), records)
            if subjects:
                await session.execute(insert(table_of(AuditSubjectRow)), subjects)
            if records:
                await session.execute(queries.MOVE_HEAD, {"new_seq": seq, "new_hash": previous})
        return len(batch)

    async def recover(self) -> int:
        """Chain the journaled records of processes that stopped before chaining them; returns how many."""
        if self.journal is None:
            return 0
        recovered = 0
        for path in self.journal.leftovers():
            records = AuditJournal.read(path)
            for record in records:
                record["at"] = datetime.fromisoformat(str(record["at"]))
            for start in range(0, len(records), GROUP_COMMIT_MAX):
                recovered += await self._write(records[start : start + GROUP_COMMIT_MAX], skip_known=True)
            path.unlink(missing_ok=True)
        if recovered:
            log.warning("chained %d audit records left in the journal by a previous process", recovered)
        return recovered

    async def close(self) -> None:
        await self.settled()
        if self.journal is not None:
            self.journal.close(drop=not self._queue)

    async def query(
        self,
        session: AsyncSession,
        auditor: Principal,
        page: PageParams,
        *,
        cadre_id: uuid.UUID | None = None,
        actor: str | None = None,
        outcome: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Page[AuditRecord]:
        """Call `settled()` first, before opening the session (on SQLite an open write transaction blocks the writer)."""
        statement = queries.records_visible_to(auditor, cadre_id=cadre_id, actor=actor, outcome=outcome, since=since, until=until)
        return await paginate(session, statement, page, lambda row: AuditRecord.model_validate(_row_fields(row[0])))

    async def verify(self) -> AuditVerification:
        await self.settled()
        async with self.db.transaction() as session:
            head = await session.get(AuditChainHead, queries.HEAD_ID)
            anchor_seq, anchor_hash = (head.anchor_seq, head.anchor_hash) if head else (0, GENESIS_HASH)
            head_seq, head_hash = (head.last_seq, head.last_hash) if head else (0, GENESIS_HASH)
            verifier = ChainVerifier(anchor_seq=anchor_seq, anchor_hash=anchor_hash)
            after = anchor_seq
            while True:
                rows = list(await session.scalars(queries.chain_segment(after, head_seq, VERIFY_CHUNK)))
                if not rows or not all(verifier.feed(_row_fields(r)) for r in rows):
                    break
                after = rows[-1].seq
            check = verifier.finish(head_seq=head_seq, head_hash=head_hash)
        return AuditVerification(
            valid=check.valid,
            records_checked=check.checked,
            first_seq=check.first_seq,
            last_seq=check.last_seq,
            first_broken_seq=check.first_broken_seq,
            problem=check.problem,
        )

    async def purge_expired(self, now: datetime | None = None) -> AuditPurge:
        """Remove the records older than the retention period (a prefix of the chain) and move the anchor."""
        cutoff = (now or clock.now()) - self.retention
        await self.settled()
        async with self._lock, self.db.transaction() as session:
            head = await self._head(session)
            last_expired = await session.scalar(queries.last_older_than(cutoff))
            if not last_expired:
                return AuditPurge(purged=0, anchor_seq=head.anchor_seq)
            anchor = await session.get(AuditRecordRow, last_expired)
            assert anchor is not None
            purged = await session.scalar(queries.count_through(last_expired))
            for statement in queries.purge_through(last_expired):
                await session.execute(statement)
            head.anchor_seq, head.anchor_hash = anchor.seq, anchor.hash
            session.add(head)
            return AuditPurge(purged=purged or 0, anchor_seq=anchor.seq)
