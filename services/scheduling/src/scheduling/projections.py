"""Event handlers: scheduling's read model of the registry (with its history, for "as of" a date), and
what registry changes and clinical records do to invitations, home visits, trips, clinic bookings and follow-ups."""

import uuid
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.enums import EncounterKind
from contracts.envelope import DomainEvent, EventEnvelope
from contracts.events.clinical import ClinicalRecordAmended, ClinicalRecordRecorded, ClinicalRecordWithdrawn
from contracts.events.registry import (
    CadreDied,
    CadreEvent,
    CadreRegistered,
    CadreRemoved,
    CadreRetired,
    CadreTierChanged,
    CadreTransferred,
    UnitCreated,
    UnitRenamed,
    UnitSnapshot,
    UnitsReorganized,
)
from contracts.scope import unit_covers
from contracts.topics import CADRES, CLINICAL_RECORDS, UNITS
from scheduling.clinic_days import service as clinic_days
from scheduling.convalescence import registrations as convalescence
from scheduling.domain import EXAMINABLE_STATUSES
from scheduling.follow_ups import from_events as follow_ups
from scheduling.home_visits import service as home_visits
from scheduling.invitations import from_events as invitations
from scheduling.plans.queries import generated_plans_from
from scheduling.roster.projection import RosterRun
from scheduling.settings import SchedulingSettings
from scheduling.tables import KIT, ExamPlan, Invitation, RosterSuccession, RosterUnit
from servicekit import clock
from servicekit.consumer import EventConsumer, Handler, RunHandler
from servicekit.logs import correlated
from servicekit.outbox import Outbox
from servicekit.runtime import Runtime
from servicekit.sql import table_of, upsert


def cadre_handler(outbox: Outbox) -> RunHandler:
    async def apply(session: AsyncSession, run: list[tuple[EventEnvelope, CadreEvent]]) -> None:
        roster = await RosterRun.read(session, {event.cadre.id for _, event in run})
        joinable = await _late_joining_plans(session, run)
        for envelope, event in run:
            effective = roster.project(envelope, event)
            if _acts_on_invitations(event, joinable):
                await roster.write(session)  # what it reads (the roster as of a date) includes this event
                with correlated(envelope.correlation_id):
                    await _follow_on_invitations(session, outbox, envelope, event, effective)
        await roster.write(session)

    return RunHandler(apply)


async def _late_joining_plans(session: AsyncSession, run: list[tuple[EventEnvelope, CadreEvent]]) -> list[ExamPlan]:
    """The generated plans any cadre of the run could join late, read once for the run."""
    first_year = min(clock.vietnam_date(envelope.time).year for envelope, _ in run)
    return list(await session.scalars(generated_plans_from(first_year)))


def _acts_on_invitations(event: CadreEvent, joinable: list[ExamPlan]) -> bool:
    if isinstance(event, CadreDied | CadreRemoved | CadreTransferred):
        return True
    late_joiner = (
        isinstance(event, CadreRegistered | CadreRetired | CadreTierChanged) and event.cadre.status in EXAMINABLE_STATUSES
    )
    return late_joiner and any(unit_covers(plan.board_unit, event.cadre.managing_unit) for plan in joinable)


async def _follow_on_invitations(
    session: AsyncSession, outbox: Outbox, envelope: EventEnvelope, event: CadreEvent, effective: date
) -> None:
    on = max(effective, clock.vietnam_date(envelope.time))  # rounds not yet started when the change became known
    cadre = event.cadre
    if isinstance(event, CadreDied | CadreRemoved):
        reason = "deceased" if isinstance(event, CadreDied) else f"removed: {event.reason}"
        await invitations.cancel_open(session, outbox, cadre.id, reason, effective)
        await home_visits.end_for_cadre(session, cadre.id, reason)
        await convalescence.cancel_for_cadre(session, outbox, cadre.id, reason, on)
        await clinic_days.cancel_for_cadre(session, cadre.id, reason, on)
        await follow_ups.cancel_for_cadre(session, cadre.id, reason, on)
    elif isinstance(event, CadreTransferred):
        await invitations.transfer(session, outbox, cadre.id, cadre.managing_unit, effective, on)
    else:
        await invitations.invite_late_joiner(session, outbox, cadre.id, cadre.managing_unit, on)


async def _unit(session: AsyncSession, unit: UnitSnapshot) -> None:
    values = {"path": unit.path, "name": unit.name, "level": unit.level.value, "parent_path": unit.parent_path}
    await upsert(session, table_of(RosterUnit), values, keys=("path",))


async def project_unit(session: AsyncSession, _envelope: EventEnvelope, event: DomainEvent) -> None:
    if isinstance(event, UnitCreated | UnitRenamed):
        await _unit(session, event.unit)
    elif isinstance(event, UnitsReorganized):
        for unit in event.created_units:
            await _unit(session, unit)
        for old_path, new_paths in event.mapping.items():  # what coverage on today's units follows
            for new_path in new_paths:
                values = {"old_path": old_path, "new_path": new_path, "effective_on": event.effective_date}
                await upsert(session, table_of(RosterSuccession), values, keys=("old_path", "new_path"))


READ_AHEAD = "scheduling.exam_candidates"  # session.info key: the batch's invitations by cadre (read_exam_candidates)


async def read_exam_candidates(session: AsyncSession, batch: list[tuple[EventEnvelope, Any]]) -> None:
    """A batch step of the exam consumer: the invitations its periodic-exam results may attend, for every cadre
    of the batch in one query, instead of one query per event (most cadres have none)."""
    cadres = {
        event.record.cadre_id
        for _, event in batch
        if isinstance(event, ClinicalRecordRecorded | ClinicalRecordAmended) and event.record.kind == EncounterKind.PERIODIC_EXAM
    }
    session.info[READ_AHEAD] = await invitations.exam_candidates(session, cadres)


def exam_handler(outbox: Outbox) -> Handler:
    async def handle(session: AsyncSession, envelope: EventEnvelope, event: DomainEvent) -> None:
        assert isinstance(event, ClinicalRecordRecorded | ClinicalRecordAmended | ClinicalRecordWithdrawn)
        await follow_ups.apply_record(session, event, clock.vietnam_date(envelope.time))
        if isinstance(event, ClinicalRecordWithdrawn):
            if event.record.kind == EncounterKind.PERIODIC_EXAM:
                await invitations.withdraw_exam(session, outbox, event.record.record_id)
            return
        record = event.record
        if record.kind == EncounterKind.HOME_VISIT and isinstance(event, ClinicalRecordRecorded):
            await home_visits.visit_from_clinical(session, record.cadre_id, record.record_id, record.occurred_on, record.facility)
            return
        if record.kind != EncounterKind.PERIODIC_EXAM:
            return
        read_ahead: dict[uuid.UUID, list[Invitation]] | None = session.info.get(READ_AHEAD)
        await invitations.record_exam(
            session,
            outbox,
            cadre_id=record.cadre_id,
            record_id=record.record_id,
            occurred_on=record.occurred_on,
            plan_id=record.plan_id,
            round_id=record.round_id,
            read_ahead=None if read_ahead is None else read_ahead.get(record.cadre_id, []),
        )

    return handle


def consumers(runtime: Runtime[SchedulingSettings]) -> list[EventConsumer]:
    on_cadre = cadre_handler(runtime.outbox)
    registry_handlers: dict[type, Handler] = {event: on_cadre for event in CADRES.events}
    registry_handlers.update({event: project_unit for event in UNITS.events})
    on_exam = exam_handler(runtime.outbox)
    exam_handlers: dict[type, Handler] = {event: on_exam for event in CLINICAL_RECORDS.events}
    attempts = runtime.settings.consumer_max_attempts
    return [
        EventConsumer("scheduling-cadres", runtime.db, KIT, runtime.broker, registry_handlers, max_attempts=attempts),
        EventConsumer(
            "scheduling-exams",
            runtime.db,
            KIT,
            runtime.broker,
            exam_handlers,
            max_attempts=attempts,
            prepare=read_exam_candidates,
        ),
    ]
