"""Exam results applied a fetched batch at a time: the batch's invitations are read in one query
(projections.read_exam_candidates), and each event still sees what the earlier ones of its batch did."""

import uuid
from datetime import date
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event
from sqlmodel import select

from contracts.enums import EncounterKind, ManagementTier
from contracts.envelope import DomainEvent, EventEnvelope
from contracts.events.clinical import ClinicalRecordAmended, ClinicalRecordRecorded, RecordSummary
from contracts.events.registry import CadreRegistered, CadreTierChanged
from contracts.topics import CADRES, CLINICAL_RECORDS
from scheduling import projections
from scheduling.tables import RosterCadre, RosterHistory
from servicekit.consumer import EventConsumer
from servicekit.testing.events import record_of


def exam(cadre_id: uuid.UUID, occurred_on: str, record_id: uuid.UUID, **ids: Any) -> RecordSummary:
    return RecordSummary(
        record_id=record_id,
        version=1,
        kind=EncounterKind.PERIODIC_EXAM,
        cadre_id=cadre_id,
        facility="68-BVDK",
        external_id=f"HIS-{record_id.hex[:8]}",
        occurred_on=occurred_on,
        **ids,
    )


def exam_consumer(app: FastAPI) -> EventConsumer:
    return next(c for c in projections.consumers(app.state.runtime) if c.name == "scheduling-exams")


async def applied_as_one_batch(app: FastAPI, consumer: EventConsumer, topic: str, events: list[DomainEvent]) -> list[str]:
    """The events through the consumer as one fetched batch; returns the SQL statements it ran."""
    envelopes = [EventEnvelope.wrap(e, source="cadrecare/test", subject=str(uuid.uuid4())) for e in events]
    batch = [record_of(envelope, topic, 1000 + n, envelope.subject) for n, envelope in enumerate(envelopes)]
    statements: list[str] = []
    engine = app.state.runtime.db.engine.sync_engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731 - (conn, cursor, statement, ...)
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert await consumer.apply_batch(batch) is None
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return statements


async def status_of(client: httpx.AsyncClient, sign_as: Any, k: Any, invitation: dict[str, Any]) -> str:
    answer = await client.get(f"/invitations/{invitation['id']}", headers=sign_as(k.LAMDONG))
    assert answer.status_code == 200, answer.text
    status: str = answer.json()["status"]
    return status


async def test_a_batch_of_exam_results_attends_as_one_by_one_would(
    k: Any, client: httpx.AsyncClient, sign_as: Any, feed: Any, app: FastAPI
) -> None:
    twice = await k.register(feed, tier=ManagementTier.PROVINCIAL_1)  # rounds 1 and 2
    once = await k.register(feed, tier=ManagementTier.PROVINCIAL_2, full_name="Cán bộ B")
    _plan, invitations = await k.generated(client, sign_as)
    mine = {(i["cadre_id"], i["round_number"]): i for i in invitations}
    round1, round2 = mine[(str(twice.id), 1)], mine[(str(twice.id), 2)]
    first, second = uuid.uuid4(), uuid.uuid4()
    events: list[DomainEvent] = [
        # the same cadre twice in one batch: the second result must see the first one's invitation attended
        ClinicalRecordRecorded(record=exam(twice.id, k.day(3, 5), first)),
        ClinicalRecordRecorded(record=exam(twice.id, k.day(9, 8), second, round_id=uuid.UUID(round2["round_id"]))),
        # an amendment of the first in the same batch changes nothing; a date outside every round neither
        ClinicalRecordAmended(record=exam(twice.id, k.day(3, 5), first), previous_version=1),
        ClinicalRecordRecorded(record=exam(once.id, k.day(6, 1), uuid.uuid4())),
    ]
    statements = await applied_as_one_batch(app, exam_consumer(app), CLINICAL_RECORDS.name, events)

    assert await status_of(client, sign_as, k, round1) == "attended"
    assert await status_of(client, sign_as, k, round2) == "attended"
    assert await status_of(client, sign_as, k, mine[(str(once.id), 1)]) == "invited"
    changed = await k.outbox_events(app, "vn.cadrecare.scheduling.invitation.status_changed")
    assert len(changed) == 2
    # one read of the candidates for the whole batch, not one per exam event
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT") and "FROM invitation" in s]
    candidate_reads = [s for s in reads if "superseded_on IS NULL" in s]
    assert len(candidate_reads) == 1, candidate_reads


def registry_consumer(app: FastAPI) -> EventConsumer:
    return next(c for c in projections.consumers(app.state.runtime) if c.name == "scheduling-cadres")


async def test_a_run_of_registry_events_projects_the_roster_as_one_by_one_would(
    k: Any, client: httpx.AsyncClient, sign_as: Any, feed: Any, app: FastAPI
) -> None:
    """A cadre registered and regraded twice in one fetched batch, beside a cadre who joins a generated plan late:
    the roster is written when the late joiner is about to be invited (it reads the roster with its own row) and
    at the end of the run, not once per event, and the history holds each state from its own date."""
    await k.register(feed, tier=ManagementTier.PROVINCIAL_2)
    await k.generated(client, sign_as)  # Lâm Đồng's plan: Khánh Hòa's cadres join none
    mover = k.snapshot(full_name="Cán bộ Nhiều Lần", managing_unit="VN.56", status_since=date(2020, 1, 1))
    regraded = mover.model_copy(update={"tier": ManagementTier.PROVINCIAL_3})
    regraded_again = mover.model_copy(update={"tier": ManagementTier.PROVINCIAL_1})
    joiner = k.snapshot(full_name="Cán bộ Mới", tier=ManagementTier.PROVINCIAL_2)
    events: list[DomainEvent] = [
        CadreRegistered(cadre=mover),
        CadreRegistered(cadre=joiner),
        CadreTierChanged(cadre=regraded, previous_tier=mover.tier, effective_date=date(2024, 3, 1)),
        CadreTierChanged(cadre=regraded_again, previous_tier=regraded.tier, effective_date=date(2025, 2, 1)),
    ]
    statements = await applied_as_one_batch(app, registry_consumer(app), CADRES.name, events)

    async with app.state.runtime.db.read() as session:
        history = (
            await session.execute(
                select(RosterHistory.valid_from, RosterHistory.managing_unit, RosterHistory.tier)
                .where(RosterHistory.cadre_id == mover.id)
                .order_by(RosterHistory.valid_from)
            )
        ).all()
        roster = await session.get(RosterCadre, mover.id)
    assert [tuple(row) for row in history] == [
        (date(2020, 1, 1), "VN.56", "provincial_2"),
        (date(2024, 3, 1), "VN.56", "provincial_3"),
        (date(2025, 2, 1), "VN.56", "provincial_1"),
    ]
    assert roster is not None and (roster.managing_unit, roster.tier) == ("VN.56", "provincial_1")
    invited = await k.invitations_of(client, sign_as, k.ADMIN, cadre_id=str(joiner.id))
    assert [i["status"] for i in invited] == ["invited"]
    roster_writes = [s for s in statements if s.lstrip().upper().startswith("INSERT INTO rostercadre".upper())]
    assert len(roster_writes) == 2, roster_writes
