"""One record and its versions, for readers in scope and for the HIS that posted it; and its withdrawal."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from clinical import domain, events, heads
from clinical.access import facility_of
from clinical.heads import Head
from clinical.records import queries
from clinical.tables import ClinicalRecordVersion
from clinical.views import record_public
from contracts.api.clinical import ItemOutcome, RecordPublic, RecordStatus, RecordVersionPublic
from contracts.scope import Principal
from servicekit import clock
from servicekit.errors import NotFound
from servicekit.outbox import Outbox


def version_public(row: ClinicalRecordVersion) -> RecordVersionPublic:
    return RecordVersionPublic(
        version=row.version, change=row.change, recorded_at=row.recorded_at, recorded_by=row.recorded_by, data=row.body
    )


async def _versions(session: AsyncSession, record_id: uuid.UUID) -> list[RecordVersionPublic]:
    return [version_public(row) for row in await session.scalars(queries.versions_of(record_id))]


async def get_record(session: AsyncSession, principal: Principal, record_id: uuid.UUID) -> RecordPublic:
    row = await session.scalar(queries.record_in_scope(principal, record_id))
    if row is None:
        raise NotFound("no such record")
    return record_public(row)


async def record_versions(
    session: AsyncSession, principal: Principal, record_id: uuid.UUID
) -> tuple[RecordPublic, list[RecordVersionPublic]]:
    record = await get_record(session, principal, record_id)
    return record, await _versions(session, record_id)


async def own_record(session: AsyncSession, principal: Principal, external_id: str) -> RecordPublic:
    row = await session.scalar(queries.own_record(principal, external_id))
    if row is None:
        raise NotFound("no record with this external_id from your facility")
    return record_public(row)


async def own_record_versions(
    session: AsyncSession, principal: Principal, external_id: str
) -> tuple[RecordPublic, list[RecordVersionPublic]]:
    record = await own_record(session, principal, external_id)
    return record, await _versions(session, record.id)


async def withdraw(
    session: AsyncSession, outbox: Outbox, principal: Principal, external_id: str, reason: str
) -> tuple[ItemOutcome, Head]:
    """A record posted in error is kept, marked withdrawn with the reason, as a new version. Withdrawing it
    again answers "existed"; it then refuses new versions (ingestion)."""
    facility = facility_of(principal)
    await heads.lock_records(session, facility, [external_id])
    head = (await heads.load_heads(session, facility, {external_id})).get(external_id)
    if head is None:
        raise NotFound("no record with this external_id from your facility")
    if head.status == RecordStatus.WITHDRAWN:
        return ItemOutcome.EXISTED, head
    now = clock.now()
    head.version += 1
    head.status = RecordStatus.WITHDRAWN.value
    head.withdrawn_reason = reason
    head.updated_at = now
    head.dirty = True
    head.body_json = domain.canonical_json(head.body)
    await heads.write(session, [head], [head.version_row("withdrawn", now, principal.subject)])
    change = events.withdrawn(head, domain.summarise(head.kind, head.body), reason)
    await events.append_events(session, outbox, [change])
    return ItemOutcome.WITHDRAWN, head
