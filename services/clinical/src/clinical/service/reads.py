"""Reading clinical records: doctors and staff within their scope, a HIS only what its facility wrote."""

import uuid
from datetime import date

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from clinical import codes, domain
from clinical.service.ingest import facility_of
from clinical.tables import ClinicalRecord, ClinicalRecordVersion, PatientCadre
from contracts.api.clinical import ChronicCondition, ProblemList, RecordPublic, RecordStatus, RecordVersionPublic
from contracts.codesystems import CodedValue
from contracts.enums import Action, EncounterKind
from contracts.scope import Principal
from servicekit.auth import scope_filter
from servicekit.errors import NotFound


def records_in_scope(principal: Principal) -> SelectOfScalar[ClinicalRecord]:
    """Every staff query of records starts here: the cadre's managing unit and tier inside a READ grant."""
    return select(ClinicalRecord).where(
        scope_filter(principal, Action.READ, col(ClinicalRecord.managing_unit), col(ClinicalRecord.tier))
    )


def records_of_facility(principal: Principal) -> SelectOfScalar[ClinicalRecord]:
    """Every HIS read starts here: what its own facility wrote, nothing else."""
    return select(ClinicalRecord).where(col(ClinicalRecord.facility) == facility_of(principal))


def public(row: ClinicalRecord) -> RecordPublic:
    summary = domain.summarise(row.kind, row.body)
    return RecordPublic(
        id=row.id,
        kind=EncounterKind(row.kind),
        facility=row.facility,
        external_id=row.external_id,
        cadre_id=row.cadre_id,
        version=row.version,
        status=RecordStatus(row.status),
        occurred_on=row.occurred_on,
        ended_on=row.ended_on,
        managing_unit=row.managing_unit,
        recorded_at=row.recorded_at,
        updated_at=row.updated_at,
        classification=CodedValue(**summary.classification) if summary.classification else None,
        diagnoses=summary.diagnoses,
        needs_follow_up=summary.needs_follow_up,
        withdrawn_reason=row.withdrawn_reason,
        data=row.body,
    )


async def _cadre_in_scope(session: AsyncSession, principal: Principal, cadre_id: uuid.UUID) -> None:
    in_scope = scope_filter(principal, Action.READ, col(PatientCadre.managing_unit), col(PatientCadre.tier))
    found = await session.scalar(select(col(PatientCadre.cadre_id)).where(col(PatientCadre.cadre_id) == cadre_id, in_scope))
    if found is None:
        raise NotFound("no such cadre")  # also when the cadre exists outside the caller's scope


async def timeline(
    session: AsyncSession,
    principal: Principal,
    cadre_id: uuid.UUID,
    *,
    kind: EncounterKind | None,
    include_withdrawn: bool,
    offset: int,
    limit: int,
) -> tuple[list[RecordPublic], int]:
    """Everything about one cadre, newest first."""
    await _cadre_in_scope(session, principal, cadre_id)
    query = records_in_scope(principal).where(col(ClinicalRecord.cadre_id) == cadre_id)
    if kind is not None:
        query = query.where(col(ClinicalRecord.kind) == kind.value)
    if not include_withdrawn:
        query = query.where(col(ClinicalRecord.status) == RecordStatus.CURRENT.value)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(
        query.order_by(col(ClinicalRecord.occurred_on).desc(), col(ClinicalRecord.recorded_at).desc(), col(ClinicalRecord.id))
        .offset(offset)
        .limit(limit)
    )
    return [public(row) for row in rows], total


async def get_record(session: AsyncSession, principal: Principal, record_id: uuid.UUID) -> RecordPublic:
    row = await session.scalar(records_in_scope(principal).where(col(ClinicalRecord.id) == record_id))
    if row is None:
        raise NotFound("no such record")
    return public(row)


async def _versions(session: AsyncSession, record_id: uuid.UUID) -> list[RecordVersionPublic]:
    rows = await session.scalars(
        select(ClinicalRecordVersion)
        .where(col(ClinicalRecordVersion.record_id) == record_id)
        .order_by(col(ClinicalRecordVersion.version))
    )
    return [
        RecordVersionPublic(version=v.version, change=v.change, recorded_at=v.recorded_at, recorded_by=v.recorded_by, data=v.body)
        for v in rows
    ]


async def record_versions(
    session: AsyncSession, principal: Principal, record_id: uuid.UUID
) -> tuple[RecordPublic, list[RecordVersionPublic]]:
    record = await get_record(session, principal, record_id)
    return record, await _versions(session, record_id)


async def own_record(session: AsyncSession, principal: Principal, external_id: str) -> RecordPublic:
    row = await session.scalar(records_of_facility(principal).where(col(ClinicalRecord.external_id) == external_id))
    if row is None:
        raise NotFound("no record with this external_id from your facility")
    return public(row)


async def own_record_versions(
    session: AsyncSession, principal: Principal, external_id: str
) -> tuple[RecordPublic, list[RecordVersionPublic]]:
    record = await own_record(session, principal, external_id)
    return record, await _versions(session, record.id)


async def problem_list(session: AsyncSession, principal: Principal, cadre_id: uuid.UUID) -> ProblemList:
    """Chronic conditions derived from the diagnoses of the cadre's current records, with first and last seen."""
    await _cadre_in_scope(session, principal, cadre_id)
    rows = await session.scalars(
        records_in_scope(principal).where(
            col(ClinicalRecord.cadre_id) == cadre_id, col(ClinicalRecord.status) == RecordStatus.CURRENT.value
        )
    )
    seen: dict[str, tuple[date, date, set[str], int]] = {}
    for row in rows:
        summary = domain.summarise(row.kind, row.body)
        for group in codes.chronic_groups():
            matched = {code for code in summary.diagnoses if group.matches(code)}
            if not matched:
                continue
            first, last, found, count = seen.get(group.group, (row.occurred_on, row.occurred_on, set(), 0))
            seen[group.group] = (min(first, row.occurred_on), max(last, row.occurred_on), found | matched, count + 1)
    conditions = [
        ChronicCondition(
            group=g.group,
            label_vi=g.label_vi,
            label_en=g.label_en,
            codes=sorted(seen[g.group][2]),
            first_seen=seen[g.group][0],
            last_seen=seen[g.group][1],
            records=seen[g.group][3],
        )
        for g in codes.chronic_groups()
        if g.group in seen
    ]
    return ProblemList(cadre_id=cadre_id, conditions=conditions, comorbidity=len(conditions))
