"""Event handlers that keep the read models: topic -> contracts model -> upsert.

Idempotent twice over: the consumer kit skips an event id it has applied, and every handler is an
upsert or a recomputation from stored facts, so applying an event again changes nothing.
"""

from datetime import UTC

from sqlalchemy import delete, exists, insert, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from contracts.enums import EncounterKind
from contracts.envelope import EventEnvelope
from contracts.events.clinical import ClinicalRecordAmended, ClinicalRecordRecorded, ClinicalRecordWithdrawn, RecordSummary
from contracts.events.registry import CadreEvent, CadreRegistered, UnitCreated, UnitRenamed, UnitSnapshot, UnitsReorganized
from contracts.events.scheduling import ExamPlanPublished, InvitationIssued, InvitationStatusChanged
from contracts.topics import CADRES
from reporting.domain import Change, chronic_groups, effective_date, intervals_of, month_of, province_of
from reporting.tables import (
    KIT,
    CadreChange,
    CadreFact,
    CadreInterval,
    ClinicalFact,
    DiagnosisFact,
    ExamPlanFact,
    ExamRoundFact,
    InvitationFact,
    UnitFact,
    UnitSuccessor,
)
from servicekit.consumer import EventConsumer, Handler
from servicekit.runtime import Runtime
from servicekit.sql import insert_ignoring_duplicates, table_of, upsert

# One consumer for every topic; it keeps the foundation's name, which tests and the platform bench look for.
CONSUMER_NAMES = ("reporting-cadres",)

# --- cadres -----------------------------------------------------------------------------------------


async def project_cadre(session: AsyncSession, envelope: EventEnvelope, event: CadreEvent) -> None:
    cadre = event.cadre
    previous = await session.get(CadreFact, cadre.id)
    await upsert(
        session,
        table_of(CadreFact),
        {
            "cadre_id": cadre.id,
            "managing_unit": cadre.managing_unit,
            "province": province_of(cadre.managing_unit),
            "tier": cadre.tier.value,
            "status": cadre.status.value,
            "status_since": cadre.status_since,
            "updated_at": envelope.time,
        },
        keys=("cadre_id",),
    )
    effective_on = effective_date(
        event_effective=getattr(event, "effective_date", None),
        registered=isinstance(event, CadreRegistered),
        status_changed=previous is not None and previous.status != cadre.status.value,
        status_since=cadre.status_since,
        recorded_on=envelope.time.astimezone(UTC).date(),
    )
    await session.execute(
        insert_ignoring_duplicates(session, table_of(CadreChange)).values(
            event_id=envelope.id,
            cadre_id=cadre.id,
            effective_on=effective_on,
            recorded_at=envelope.time,
            managing_unit=cadre.managing_unit,
            tier=cadre.tier.value,
            status=cadre.status.value,
        )
    )
    if previous is None:  # a cadre's first event: one open interval, and records that came first get its scope
        await session.execute(
            insert(CadreInterval).values(
                cadre_id=cadre.id,
                managing_unit=cadre.managing_unit,
                province=province_of(cadre.managing_unit),
                tier=cadre.tier.value,
                status=cadre.status.value,
                valid_from=effective_on,
                valid_to=None,
            )
        )
        await _fill_scope_of_records(session, cadre.id, cadre.managing_unit, cadre.tier.value)
    else:
        await _recompute_intervals(session, cadre.id)


async def _recompute_intervals(session: AsyncSession, cadre_id: object) -> None:
    rows = (await session.execute(select(CadreChange).where(col(CadreChange.cadre_id) == cadre_id))).scalars().all()
    changes = [
        Change(r.effective_on, (r.recorded_at.astimezone(UTC).isoformat(), str(r.event_id)), r.managing_unit, r.tier, r.status)
        for r in rows
    ]
    await session.execute(delete(CadreInterval).where(col(CadreInterval.cadre_id) == cadre_id))
    for interval in intervals_of(changes):
        session.add(
            CadreInterval(
                cadre_id=rows[0].cadre_id,
                managing_unit=interval.managing_unit,
                province=province_of(interval.managing_unit),
                tier=interval.tier,
                status=interval.status,
                valid_from=interval.valid_from,
                valid_to=interval.valid_to,
            )
        )
    await session.flush()


async def _fill_scope_of_records(session: AsyncSession, cadre_id: object, unit: str, tier: str) -> None:
    """Records that arrived without scope keys (and before their cadre) take the cadre's managing unit."""
    values = {"managing_unit": unit, "province": province_of(unit), "tier": tier}
    for model in (ClinicalFact, DiagnosisFact):
        await session.execute(
            update(model).where(col(model.cadre_id) == cadre_id, col(model.managing_unit).is_(None)).values(**values)
        )


# --- units ------------------------------------------------------------------------------------------


async def _upsert_unit(session: AsyncSession, unit: UnitSnapshot) -> None:
    await upsert(session, table_of(UnitFact), unit.model_dump(), keys=("path",))


async def project_unit(session: AsyncSession, _envelope: EventEnvelope, event: UnitCreated | UnitRenamed) -> None:
    await _upsert_unit(session, event.unit)


async def project_reorganization(session: AsyncSession, _envelope: EventEnvelope, event: UnitsReorganized) -> None:
    for unit in (*event.retired_units, *event.created_units):
        await _upsert_unit(session, unit)
    for old_path, new_paths in event.mapping.items():
        for new_path in new_paths:
            await upsert(
                session,
                table_of(UnitSuccessor),
                {"old_path": old_path, "new_path": new_path, "effective_on": event.effective_date},
                keys=("old_path", "new_path"),
            )


# --- scheduling -------------------------------------------------------------------------------------


async def project_plan(session: AsyncSession, _envelope: EventEnvelope, event: ExamPlanPublished) -> None:
    await upsert(
        session,
        table_of(ExamPlanFact),
        {"plan_id": event.plan_id, "board_unit": event.board_unit, "year": event.year, "title": event.title},
        keys=("plan_id",),
    )
    for round_ in event.rounds:
        await upsert(
            session,
            table_of(ExamRoundFact),
            {
                "round_id": round_.id,
                "plan_id": event.plan_id,
                "number": round_.number,
                "starts_on": round_.starts_on,
                "ends_on": round_.ends_on,
            },
            keys=("round_id",),
        )


async def _exam_recorded(session: AsyncSession, cadre_id: object, round_id: object) -> bool:
    found = await session.scalar(
        select(
            exists().where(
                col(ClinicalFact.cadre_id) == cadre_id,
                col(ClinicalFact.round_id) == round_id,
                col(ClinicalFact.kind) == EncounterKind.PERIODIC_EXAM.value,
                col(ClinicalFact.withdrawn).is_(False),
            )
        )
    )
    return bool(found)


async def project_invitation(session: AsyncSession, _envelope: EventEnvelope, event: InvitationIssued) -> None:
    existing = await session.get(InvitationFact, event.invitation_id)
    await upsert(
        session,
        table_of(InvitationFact),
        {
            "invitation_id": event.invitation_id,
            "plan_id": event.plan_id,
            "round_id": event.round_id,
            "cadre_id": event.cadre_id,
            "tier": event.tier.value,
            "managing_unit": event.managing_unit,
            "province": province_of(event.managing_unit),
            "facility": event.facility,
            "appointment_date": event.appointment_date,
            "status": existing.status if existing is not None else "invited",
            "status_on": existing.status_on if existing is not None else None,
            "exam_recorded": await _exam_recorded(session, event.cadre_id, event.round_id),
        },
        keys=("invitation_id",),
    )


async def project_invitation_status(session: AsyncSession, _envelope: EventEnvelope, event: InvitationStatusChanged) -> None:
    await session.execute(
        update(InvitationFact)
        .where(col(InvitationFact.invitation_id) == event.invitation_id)
        .values(status=event.status, status_on=event.effective_date)
    )


# --- clinical ---------------------------------------------------------------------------------------


async def _scope_of(session: AsyncSession, envelope: EventEnvelope, record: RecordSummary) -> tuple[str | None, str | None]:
    if envelope.managing_unit:
        tier = envelope.tier.value if envelope.tier is not None else None
        if tier is not None:
            return envelope.managing_unit, tier
    cadre = await session.get(CadreFact, record.cadre_id)
    if cadre is not None:
        return cadre.managing_unit, cadre.tier
    return envelope.managing_unit, None


async def _store_record(session: AsyncSession, envelope: EventEnvelope, record: RecordSummary, *, withdrawn: bool) -> None:
    existing = await session.get(ClinicalFact, record.record_id)
    if existing is not None and (
        existing.version > record.version or (existing.version == record.version and existing.withdrawn and not withdrawn)
    ):
        return  # an older version arriving late changes nothing; a withdrawal is final for its version
    unit, tier = await _scope_of(session, envelope, record)
    await upsert(
        session,
        table_of(ClinicalFact),
        {
            "record_id": record.record_id,
            "version": record.version,
            "kind": record.kind.value,
            "cadre_id": record.cadre_id,
            "facility": record.facility,
            "occurred_on": record.occurred_on,
            "month": month_of(record.occurred_on),
            "ended_on": record.ended_on,
            "plan_id": record.plan_id,
            "round_id": record.round_id,
            "at_home": record.at_home,
            "classification": record.classification.code if record.classification is not None else None,
            "referral_kind": record.referral_kind.value if record.referral_kind is not None else None,
            "needs_follow_up": record.needs_follow_up,
            "withdrawn": withdrawn,
            "managing_unit": unit,
            "province": province_of(unit) if unit else None,
            "tier": tier,
        },
        keys=("record_id",),
    )
    if existing is not None:
        await session.execute(delete(DiagnosisFact).where(col(DiagnosisFact.record_id) == record.record_id))
    groups = [] if withdrawn else chronic_groups(record.diagnoses)
    if groups:
        await session.execute(
            insert(DiagnosisFact),
            [
                {
                    "record_id": record.record_id,
                    "chronic_group": group,
                    "cadre_id": record.cadre_id,
                    "occurred_on": record.occurred_on,
                    "managing_unit": unit,
                    "province": province_of(unit) if unit else None,
                    "tier": tier,
                }
                for group in groups
            ],
        )
    rounds = {record.round_id, existing.round_id if existing is not None else None} - {None}
    for round_id in rounds:
        await session.execute(
            update(InvitationFact)
            .where(col(InvitationFact.cadre_id) == record.cadre_id, col(InvitationFact.round_id) == round_id)
            .values(exam_recorded=await _exam_recorded(session, record.cadre_id, round_id))
        )


async def project_record(
    session: AsyncSession, envelope: EventEnvelope, event: ClinicalRecordRecorded | ClinicalRecordAmended
) -> None:
    await _store_record(session, envelope, event.record, withdrawn=False)


async def project_withdrawal(session: AsyncSession, envelope: EventEnvelope, event: ClinicalRecordWithdrawn) -> None:
    await _store_record(session, envelope, event.record, withdrawn=True)


# --- wiring -----------------------------------------------------------------------------------------


def handlers() -> dict[type, Handler]:
    """Every event reporting projects, from all five topics, handled by one consumer.

    One consumer rather than one per topic: on SQLite (the embedded default) concurrent writers
    starve each other; one writer applies ~250 events a second there without contention.
    """
    return {
        **{event: project_cadre for event in CADRES.events},
        UnitCreated: project_unit,
        UnitRenamed: project_unit,
        UnitsReorganized: project_reorganization,
        ExamPlanPublished: project_plan,
        InvitationIssued: project_invitation,
        InvitationStatusChanged: project_invitation_status,
        ClinicalRecordRecorded: project_record,
        ClinicalRecordAmended: project_record,
        ClinicalRecordWithdrawn: project_withdrawal,
    }


def handlers_by_consumer() -> dict[str, dict[type, Handler]]:
    return {CONSUMER_NAMES[0]: handlers()}


def consumers(runtime: Runtime) -> list[EventConsumer]:
    return [
        EventConsumer(name, runtime.db, KIT, runtime.broker, by_type, max_attempts=runtime.settings.consumer_max_attempts)
        for name, by_type in handlers_by_consumer().items()
    ]
