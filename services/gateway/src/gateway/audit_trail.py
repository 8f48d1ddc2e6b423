"""The audit trail: who did what to whose record, when, from where, with what outcome.

Append-only and hash-chained (gateway.chain): every append locks the chain head, so the sequence has
no gaps and no forks, also with several gateway replicas on one PostgreSQL database. The one deletion
is retention: records older than the retention period go, and the chain head keeps the hash of the
last one removed as the anchor that verification starts from.
"""

import asyncio
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, exists, false, func, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from contracts.api.common import Page
from contracts.api.gateway import AuditPurge, AuditRecord, AuditVerification
from contracts.enums import Action
from contracts.scope import Principal
from gateway.chain import GENESIS_HASH, ChainVerifier, record_hash
from gateway.grants import home_unit
from gateway.tables import AuditChainHead, AuditRecordRow, AuditSubjectRow, CadreScope
from servicekit.auth import scope_filter, within_unit
from servicekit.db import Database
from servicekit.sql import insert_ignoring_duplicates, table_of

VERIFY_CHUNK = 2000
GROUP_COMMIT_MAX = 500


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
    def __init__(self, db: Database, *, retention_days: int) -> None:
        self.db = db
        self.retention = timedelta(days=retention_days)
        self._lock = asyncio.Lock()  # writes and purges of this process; the head row's lock orders the processes
        self._queue: list[tuple[AuditEntry, asyncio.Future[AuditRecord]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def _head(self, session: AsyncSession) -> AuditChainHead:
        head = await session.scalar(select(AuditChainHead).where(col(AuditChainHead.id) == 1).with_for_update())
        if head is None:
            await session.execute(
                insert_ignoring_duplicates(session, table_of(AuditChainHead)).values(
                    id=1, last_seq=0, last_hash=GENESIS_HASH, anchor_seq=0, anchor_hash=GENESIS_HASH
                )
            )
            head = await session.scalar(select(AuditChainHead).where(col(AuditChainHead.id) == 1).with_for_update())
        assert head is not None
        return head

    async def append(self, entry: AuditEntry) -> AuditRecord:
        """Write one record and return it once committed ("no audit, no answer").

        Appends that arrive together are committed together (group commit): one writer task per process
        takes whatever is queued, chains it under the head row's lock in one transaction, and wakes the
        waiting requests.
        """
        future: asyncio.Future[AuditRecord] = asyncio.get_running_loop().create_future()
        self._queue.append((entry, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain(), name="audit-writer")
        return await future

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:GROUP_COMMIT_MAX], self._queue[GROUP_COMMIT_MAX:]
            try:
                records = await self._write([entry for entry, _ in batch])
            except Exception as exc:  # noqa: BLE001 - every waiting request learns that its record was not written
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), written in zip(batch, records, strict=True):
                if not future.done():
                    future.set_result(written)

    async def _write(self, entries: list[AuditEntry]) -> list[AuditRecord]:
        written: list[AuditRecord] = []
        async with self._lock, self.db.transaction() as session:
            head = await self._head(session)
            seq, previous = head.last_seq, head.last_hash
            for entry in entries:
                seq += 1
                values: dict[str, object] = {
                    **asdict(entry),
                    "seq": seq,
                    "at": datetime.now(UTC),
                    "prev_hash": previous,
                    "subjects": [str(s) for s in entry.subjects],
                }
                for name in ("path", "operation"):
                    values[name] = str(values[name])[:300]
                values["hash"] = previous = record_hash(values)
                row = AuditRecordRow(**values)  # type: ignore[arg-type]
                session.add(row)
                for cadre_id in _subject_ids(row.subjects):
                    session.add(AuditSubjectRow(seq=row.seq, cadre_id=cadre_id))
                written.append(AuditRecord.model_validate(_row_fields(row)))
            head.last_seq, head.last_hash = seq, previous
            session.add(head)
            await session.flush()
        return written

    @staticmethod
    def visible_to(auditor: Principal) -> object:
        """Records about cadres the auditor's unit manages, or by actors who belong to its unit."""
        by_subject = exists(
            select(col(AuditSubjectRow.seq))
            .join(CadreScope, col(CadreScope.cadre_id) == col(AuditSubjectRow.cadre_id))
            .where(
                col(AuditSubjectRow.seq) == col(AuditRecordRow.seq),
                scope_filter(auditor, Action.READ, col(CadreScope.managing_unit), col(CadreScope.tier)),
            )
        )
        units = {g.unit_path for g in auditor.grants if Action.READ in g.actions}
        by_actor = or_(*(within_unit(col(AuditRecordRow.actor_unit), unit) for unit in sorted(units))) if units else false()
        return or_(by_subject, by_actor)

    async def query(
        self,
        session: AsyncSession,
        auditor: Principal,
        *,
        cadre_id: uuid.UUID | None = None,
        actor: str | None = None,
        outcome: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> Page[AuditRecord]:
        query = select(AuditRecordRow).where(self.visible_to(auditor))  # type: ignore[arg-type]
        if cadre_id is not None:
            query = query.where(
                exists(
                    select(col(AuditSubjectRow.seq)).where(
                        col(AuditSubjectRow.seq) == col(AuditRecordRow.seq), col(AuditSubjectRow.cadre_id) == cadre_id
                    )
                )
            )
        if actor:
            query = query.where(col(AuditRecordRow.actor) == actor)
        if outcome:
            query = query.where(col(AuditRecordRow.outcome) == outcome)
        if since:
            query = query.where(col(AuditRecordRow.at) >= since)
        if until:
            query = query.where(col(AuditRecordRow.at) < until)
        total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = await session.scalars(query.order_by(col(AuditRecordRow.seq).desc()).offset(offset).limit(limit))
        items = [AuditRecord.model_validate(_row_fields(r)) for r in rows]
        return Page[AuditRecord](items=items, total=total, offset=offset, limit=limit)

    async def verify(self) -> AuditVerification:
        async with self.db.transaction() as session:
            head = await session.get(AuditChainHead, 1)
            anchor_seq, anchor_hash = (head.anchor_seq, head.anchor_hash) if head else (0, GENESIS_HASH)
            head_seq, head_hash = (head.last_seq, head.last_hash) if head else (0, GENESIS_HASH)
            verifier = ChainVerifier(anchor_seq=anchor_seq, anchor_hash=anchor_hash)
            after = anchor_seq
            while True:
                rows = list(
                    await session.scalars(
                        select(AuditRecordRow)
                        .where(col(AuditRecordRow.seq) > after, col(AuditRecordRow.seq) <= head_seq)
                        .order_by(col(AuditRecordRow.seq))
                        .limit(VERIFY_CHUNK)
                    )
                )
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
        cutoff = (now or datetime.now(UTC)) - self.retention
        async with self._lock, self.db.transaction() as session:
            head = await self._head(session)
            last_expired = await session.scalar(select(func.max(col(AuditRecordRow.seq))).where(col(AuditRecordRow.at) < cutoff))
            if not last_expired:
                return AuditPurge(purged=0, anchor_seq=head.anchor_seq)
            anchor = await session.get(AuditRecordRow, last_expired)
            assert anchor is not None
            purged = await session.scalar(
                select(func.count()).select_from(AuditRecordRow).where(col(AuditRecordRow.seq) <= last_expired)
            )
            await session.execute(delete(AuditSubjectRow).where(col(AuditSubjectRow.seq) <= last_expired))
            await session.execute(delete(AuditRecordRow).where(col(AuditRecordRow.seq) <= last_expired))
            head.anchor_seq, head.anchor_hash = anchor.seq, anchor.hash
            session.add(head)
            return AuditPurge(purged=purged or 0, anchor_seq=anchor.seq)
