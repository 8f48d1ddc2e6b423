"""Event handlers that keep the read models: topic -> contracts model -> rows.

Idempotent twice over: the consumer kit skips an event id it has applied, and every write is an
upsert or a recomputation from stored facts, so applying an event again changes nothing. Cadre,
invitation and record rows are gathered per transaction and written set-wise just before it commits
(`reporting.pending`, a before-commit step of the transaction's unit of work): a fetched batch of
events costs a handful of statements, not several per event.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.envelope import EventEnvelope
from contracts.events.clinical import ClinicalRecordAmended, ClinicalRecordRecorded, ClinicalRecordWithdrawn, RecordSummary
from contracts.events.registry import CadreEvent, CadreRegistered, UnitCreated, UnitRenamed, UnitSnapshot, UnitsReorganized
from contracts.events.scheduling import (
    ConvalescenceRegistered,
    ConvalescenceRegistrationCancelled,
    ConvalescenceTripPublished,
    ExamPlanPublished,
    InvitationIssued,
    InvitationStatusChanged,
)
from contracts.topics import CADRES
from reporting.approvals import late as approvals_late
from reporting.domain import chronic_groups, effective_date, month_of, province_of
from reporting.pending import RecordCandidate, figures_counted_at_the_end, known_cadre, written_before_commit
from reporting.settings import ReportingSettings
from reporting.tables import (
    KIT,
    ConvalescenceRegistrationFact,
    ConvalescenceTripFact,
    ExamPlanFact,
    ExamRoundFact,
    UnitFact,
    UnitSuccessor,
    UnitVersion,
)
from servicekit import clock
from servicekit.broker import Broker
from servicekit.consumer import EventConsumer, Handler
from servicekit.db import Database
from servicekit.runtime import Runtime
from servicekit.sql import dialect_name, table_of, upsert, upsert_many

# One consumer for every topic; it keeps the foundation's name, which tests and the platform bench look for.
CONSUMER_NAMES = ("reporting-cadres",)

# --- cadres -----------------------------------------------------------------------------------------


async def project_cadre(session: AsyncSession, envelope: EventEnvelope, event: CadreEvent) -> None:
    """A dated state of the cadre; the intervals of the cadres touched are recomputed once per transaction."""
    cadre = event.cadre
    own_date = event.stated_effective_date
    registered = isinstance(event, CadreRegistered)
    status_changed = False
    if own_date is None and not registered:  # only then does the date depend on the state before this event
        previous = await known_cadre(session, cadre.id)
        status_changed = previous is not None and previous[2] != cadre.status.value
    effective_on = effective_date(
        event_effective=own_date,
        registered=registered,
        status_changed=status_changed,
        status_since=cadre.status_since,
        recorded_on=clock.vietnam_date(envelope.time),
    )
    state = {"managing_unit": cadre.managing_unit, "tier": cadre.tier.value, "status": cadre.status.value}
    written_before_commit(session).cadre(
        {"event_id": envelope.id, "cadre_id": cadre.id, "effective_on": effective_on, "recorded_at": envelope.time, **state},
        {
            "cadre_id": cadre.id,
            "province": province_of(cadre.managing_unit),
            "status_since": cadre.status_since,
            "updated_at": envelope.time,
            **state,
        },
    )


# --- units ------------------------------------------------------------------------------------------


async def _upsert_units(session: AsyncSession, units: Sequence[UnitSnapshot]) -> None:
    """The units' latest versions (UnitFact: the last given per path wins), and these versions kept among their
    others (UnitVersion); one statement each, as a national reorganisation names thousands of units."""
    rows = [unit.model_dump() for unit in units]
    await upsert_many(session, table_of(UnitFact), rows, keys=("path",))
    await upsert_many(session, table_of(UnitVersion), rows, keys=("path", "valid_from"))


async def project_unit(session: AsyncSession, _envelope: EventEnvelope, event: UnitCreated | UnitRenamed) -> None:
    await _upsert_units(session, [event.unit])


async def project_reorganization(session: AsyncSession, _envelope: EventEnvelope, event: UnitsReorganized) -> None:
    await _upsert_units(session, [*event.retired_units, *event.created_units])
    successions = [
        {"old_path": old_path, "new_path": new_path, "effective_on": event.effective_date}
        for old_path, new_paths in event.mapping.items()
        for new_path in new_paths
    ]
    await upsert_many(session, table_of(UnitSuccessor), successions, keys=("old_path", "new_path"))
    written_before_commit(session).reorganised.update(event.mapping)  # their rows mapped onto today's units again


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


async def project_invitation(session: AsyncSession, _envelope: EventEnvelope, event: InvitationIssued) -> None:
    """Its description; a status it already has stays, and `exam_recorded` is recomputed before the commit."""
    written_before_commit(session).invitation(
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
            "status": "invited",
            "status_on": None,
            "exam_recorded": False,
        }
    )


async def project_invitation_status(session: AsyncSession, _envelope: EventEnvelope, event: InvitationStatusChanged) -> None:
    written_before_commit(session).status(event.invitation_id, event.status, event.effective_date)


# --- convalescence ----------------------------------------------------------------------------------


async def _upsert_if_later(
    session: AsyncSession, model: type[Any], row: dict[str, Any], update_columns: Sequence[str], time_column: str
) -> None:
    """Insert `row`, or update `update_columns` of the stored row unless a later event set it (by `time_column`)."""
    table = table_of(model)
    key = [c.name for c in table.primary_key.columns]
    statement = (postgresql.insert if dialect_name(session) == "postgresql" else sqlite.insert)(table).values(**row)
    incoming = statement.excluded
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=key,
            set_={name: incoming[name] for name in update_columns},
            where=table.c[time_column] <= incoming[time_column],
        )
    )


async def project_trip(session: AsyncSession, envelope: EventEnvelope, event: ConvalescenceTripPublished) -> None:
    row = {
        "trip_id": event.trip_id,
        "board_unit": event.board_unit,
        "title": event.title,
        "destination": event.destination,
        "starts_on": event.starts_on,
        "ends_on": event.ends_on,
        "quota": event.quota,
        "eligible": event.eligible,
        "published_at": envelope.time,
    }
    await _upsert_if_later(session, ConvalescenceTripFact, row, [k for k in row if k != "trip_id"], "published_at")


async def project_registration(session: AsyncSession, envelope: EventEnvelope, event: ConvalescenceRegistered) -> None:
    """Registered (again): the status, dates and scope when no later event is stored; the trip's facts in any case."""
    trip = {"board_unit": event.board_unit, "trip_starts_on": event.starts_on}
    row = {
        "registration_id": event.registration_id,
        "trip_id": event.trip_id,
        "cadre_id": event.cadre_id,
        **trip,
        "managing_unit": event.managing_unit,
        "province": province_of(event.managing_unit),
        "tier": event.tier.value,
        "status": "registered",
        "registered_on": event.registered_on,
        "cancelled_on": None,
        "updated_at": envelope.time,
    }
    changing = ("managing_unit", "province", "tier", "status", "registered_on", "cancelled_on", "updated_at")
    await _upsert_if_later(session, ConvalescenceRegistrationFact, row, changing, "updated_at")
    await session.execute(  # a cancellation seen first knows neither the trip's start nor its board
        update(ConvalescenceRegistrationFact)
        .where(col(ConvalescenceRegistrationFact.registration_id) == event.registration_id)
        .values(**trip)
    )
    written_before_commit(session).reattribute.add(event.cadre_id)  # on the trip's start, before the commit


async def project_registration_cancelled(
    session: AsyncSession, envelope: EventEnvelope, event: ConvalescenceRegistrationCancelled
) -> None:
    unit, tier = envelope.managing_unit, envelope.tier.value if envelope.tier is not None else None
    row = {
        "registration_id": event.registration_id,
        "trip_id": event.trip_id,
        "cadre_id": event.cadre_id,
        "managing_unit": unit,
        "province": province_of(unit) if unit else None,
        "tier": tier,
        "status": "cancelled",
        "cancelled_on": event.cancelled_on,
        "updated_at": envelope.time,
    }
    await _upsert_if_later(session, ConvalescenceRegistrationFact, row, ("status", "cancelled_on", "updated_at"), "updated_at")
    written_before_commit(session).reattribute.add(event.cadre_id)


# --- clinical ---------------------------------------------------------------------------------------


async def _scope_of(session: AsyncSession, envelope: EventEnvelope, record: RecordSummary) -> tuple[str | None, str | None]:
    if envelope.managing_unit and envelope.tier is not None:
        return envelope.managing_unit, envelope.tier.value
    cadre = await known_cadre(session, record.cadre_id)
    if cadre is not None:
        return cadre[0], cadre[1]
    return envelope.managing_unit, None


async def _store_record(session: AsyncSession, envelope: EventEnvelope, record: RecordSummary, *, withdrawn: bool) -> None:
    """A candidate row: it is written before the commit unless a later version (or its withdrawal) is stored."""
    unit, tier = await _scope_of(session, envelope, record)
    row = {
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
    }
    written_before_commit(session).record(RecordCandidate(row, [] if withdrawn else chronic_groups(record.diagnoses)))
    await approvals_late.flag_if_late(session, envelope.time, row)  # a locked period's late record is listed


async def project_record(
    session: AsyncSession, envelope: EventEnvelope, event: ClinicalRecordRecorded | ClinicalRecordAmended
) -> None:
    await _store_record(session, envelope, event.record, withdrawn=False)


async def project_withdrawal(session: AsyncSession, envelope: EventEnvelope, event: ClinicalRecordWithdrawn) -> None:
    await _store_record(session, envelope, event.record, withdrawn=True)


# --- wiring -----------------------------------------------------------------------------------------


def handlers() -> dict[type, Handler]:
    """Every event reporting projects, from all six topics, handled by one consumer.

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
        ConvalescenceTripPublished: project_trip,
        ConvalescenceRegistered: project_registration,
        ConvalescenceRegistrationCancelled: project_registration_cancelled,
        ClinicalRecordRecorded: project_record,
        ClinicalRecordAmended: project_record,
        ClinicalRecordWithdrawn: project_withdrawal,
    }


def handlers_by_consumer() -> dict[str, dict[type, Handler]]:
    return {CONSUMER_NAMES[0]: handlers()}


def build_consumers(
    db: Database, broker: Broker, max_attempts: int = 3, *, figures_at_the_end: bool = False
) -> list[EventConsumer]:
    """The service's consumers; `figures_at_the_end`: the rebuild's, which write the facts alone (the rebuild then
    counts the figures once)."""
    prepare = figures_counted_at_the_end if figures_at_the_end else None
    return [
        EventConsumer(name, db, KIT, broker, by_type, max_attempts=max_attempts, prepare=prepare)
        for name, by_type in handlers_by_consumer().items()
    ]


def consumers(runtime: Runtime[ReportingSettings]) -> list[EventConsumer]:
    return build_consumers(runtime.db, runtime.broker, runtime.settings.consumer_max_attempts)
