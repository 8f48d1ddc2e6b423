"""The projections write a fetched batch set-wise just before it commits (`reporting.pending`, a before-commit
step of the unit of work). Whatever the batch boundaries, the read models must be exactly what applying the
same events one per transaction leaves, including the awkward orders: a later version before the first, a
withdrawal, a status change before its invitation, several changes of one cadre in one batch, records that
came before their cadre. SQLite and PostgreSQL."""

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka.structs import ConsumerRecord
from sqlalchemy import select

from contracts.codesystems import HEALTH_CLASSIFICATION_1266, CodedValue
from contracts.enums import CadreStatus, EncounterKind, ManagementTier, Sex, UnitLevel
from contracts.envelope import DomainEvent, EventEnvelope
from contracts.events.clinical import ClinicalRecordAmended, ClinicalRecordRecorded, ClinicalRecordWithdrawn, RecordSummary
from contracts.events.registry import (
    CadreRegistered,
    CadreRetired,
    CadreSnapshot,
    CadreTierChanged,
    CadreTransferred,
    CadreUpdated,
    CardIssued,
    UnitCreated,
    UnitSnapshot,
)
from contracts.events.scheduling import ExamPlanPublished, InvitationIssued, InvitationStatusChanged, RoundSnapshot
from contracts.topics import topic_of
from reporting.feed import record_of
from reporting.projections import build_consumers
from reporting.tables import READ_MODELS
from servicekit import migrations
from servicekit.broker import Broker
from servicekit.consumer import EventConsumer
from servicekit.db import Database
from servicekit.embedded import PostgresCluster
from servicekit.testing.plugin import fresh_postgres_url

P, DALAT = "VN.68", "VN.68.672"
T0 = datetime(2023, 3, 1, 8, tzinfo=UTC)


def cadre(tier: ManagementTier = ManagementTier.PROVINCIAL_2, **changes: Any) -> CadreSnapshot:
    base = CadreSnapshot(
        id=uuid.uuid4(),
        full_name="Trần Văn Lô",
        date_of_birth=date(1958, 5, 1),
        sex=Sex.MALE,
        national_id="068058000001",
        tier=tier,
        status=CadreStatus.ACTIVE,
        status_since=date(2015, 1, 1),
        managing_unit=P,
    )
    return base.model_copy(update=changes)


def summary(cadre_id: uuid.UUID, record_id: uuid.UUID, version: int, **fields: Any) -> RecordSummary:
    return RecordSummary.model_validate(
        {
            "record_id": record_id,
            "version": version,
            "kind": EncounterKind.OUTPATIENT_VISIT,
            "cadre_id": cadre_id,
            "facility": "68-BVDK",
            "external_id": str(record_id),
            "occurred_on": date(2023, 3, 2),
            **fields,
        }
    )


Batch = list[tuple[DomainEvent, str | None, ManagementTier | None]]


def scenario() -> list[Batch]:
    """Batches in delivery order; each holds events of one topic (as a fetched partition does)."""
    a, b, c, late = cadre(), cadre(ManagementTier.PROVINCIAL_1), cadre(), cadre(ManagementTier.PROVINCIAL_3)
    plan, round_1, round_2 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    a_retired = a.model_copy(update={"status": CadreStatus.RETIRED, "status_since": date(2023, 2, 1)})
    b_moved = b.model_copy(update={"managing_unit": DALAT, "tier": ManagementTier.DISTRICT})
    units = [
        UnitSnapshot(
            path="VN", code="VN", name="Việt Nam", level=UnitLevel.NATION, parent_path=None, valid_from=date(1976, 7, 2)
        ),
        UnitSnapshot(path=P, code="68", name="Lâm Đồng", level=UnitLevel.PROVINCE, parent_path="VN", valid_from=date(1976, 7, 2)),
        UnitSnapshot(path=DALAT, code="672", name="Đà Lạt", level=UnitLevel.DISTRICT, parent_path=P, valid_from=date(2004, 1, 1)),
    ]
    r1, r2, r3, r4, r5 = (uuid.uuid4() for _ in range(5))
    b1 = CodedValue(system=HEALTH_CLASSIFICATION_1266.system, version=HEALTH_CLASSIFICATION_1266.version, code="B1")
    exam = {"kind": EncounterKind.PERIODIC_EXAM, "plan_id": plan, "classification": b1}
    inv_a, inv_c = uuid.uuid4(), uuid.uuid4()

    def issued(invitation: uuid.UUID, who: CadreSnapshot, round_id: uuid.UUID) -> InvitationIssued:
        return InvitationIssued(
            invitation_id=invitation,
            plan_id=plan,
            round_id=round_id,
            cadre_id=who.id,
            tier=who.tier,
            managing_unit=who.managing_unit,
            facility="68-BVDK",
            appointment_date=date(2023, 3, 2),
        )

    def status(invitation: uuid.UUID, who: CadreSnapshot, round_id: uuid.UUID, new: str) -> InvitationStatusChanged:
        return InvitationStatusChanged(
            invitation_id=invitation,
            plan_id=plan,
            round_id=round_id,
            cadre_id=who.id,
            previous_status="invited",
            status=new,
            effective_date=date(2023, 3, 2),
        )

    rounds = [
        RoundSnapshot(id=round_1, number=1, starts_on=date(2023, 3, 1), ends_on=date(2023, 3, 31)),
        RoundSnapshot(id=round_2, number=2, starts_on=date(2023, 9, 1), ends_on=date(2023, 9, 30)),
    ]
    return [
        [(UnitCreated(unit=u), None, None) for u in units],
        [(ExamPlanPublished(plan_id=plan, board_unit=P, year=2023, title="KH", rounds=rounds), None, None)],
        # a record of a cadre nobody has heard of yet, without scope keys
        [(ClinicalRecordRecorded(record=summary(late.id, r5, 1, diagnoses=["E11.9"])), None, None)],
        [
            (CadreRegistered(cadre=a), P, a.tier),
            (CadreUpdated(cadre=a, changed_fields=["phone"]), P, a.tier),
            (CadreRetired(cadre=a_retired, effective_date=date(2023, 2, 1)), P, a.tier),
            (CardIssued(cadre=a_retired, card_number="LD-1"), P, a.tier),
            (CadreRegistered(cadre=b), P, b.tier),
            (CadreTierChanged(cadre=b_moved, previous_tier=b.tier, effective_date=date(2023, 4, 1)), P, b.tier),
            (
                CadreTransferred(cadre=b_moved, previous_managing_unit=P, effective_date=date(2023, 4, 1), reason="x"),
                DALAT,
                b_moved.tier,
            ),
            (CadreRegistered(cadre=c), P, c.tier),
            (
                CadreRetired(cadre=c.model_copy(update={"status": CadreStatus.RETIRED}), effective_date=date(2023, 5, 1)),
                P,
                c.tier,
            ),
        ],
        [
            (status(inv_c, c, round_1, "attended"), None, None),  # before its invitation: nothing to update yet
            (issued(inv_a, a, round_1), None, None),
            (issued(inv_c, c, round_1), None, None),
            (status(inv_a, a, round_1, "deferred"), None, None),
            (issued(inv_a, a, round_1), None, None),  # issued again: the status it has stays
            (status(inv_a, a, round_1, "attended"), None, None),
        ],
        [
            (ClinicalRecordRecorded(record=summary(a.id, r1, 1, round_id=round_1, **exam)), P, a.tier),
            (
                ClinicalRecordAmended(
                    record=summary(a.id, r1, 2, round_id=round_2, diagnoses=["I10"], **exam), previous_version=1
                ),
                P,
                a.tier,
            ),
            # version 2 before version 1: version 2 stays, with its diagnoses only
            (ClinicalRecordAmended(record=summary(c.id, r2, 2, diagnoses=["I10", "J44.1"]), previous_version=1), P, c.tier),
            (ClinicalRecordRecorded(record=summary(c.id, r2, 1, diagnoses=["C34.1"])), P, c.tier),
            (ClinicalRecordRecorded(record=summary(c.id, r3, 1, round_id=round_1, diagnoses=["I10"], **exam)), P, c.tier),
            (ClinicalRecordWithdrawn(record=summary(c.id, r3, 1, round_id=round_1, **exam), reason="nhầm"), P, c.tier),
            (ClinicalRecordRecorded(record=summary(c.id, r3, 1, round_id=round_1, **exam)), P, c.tier),  # late: stays withdrawn
            (ClinicalRecordRecorded(record=summary(b.id, r4, 1, occurred_on=date(2023, 4, 2), diagnoses=["I25.1"])), None, None),
        ],
        [(CadreRegistered(cadre=late), P, late.tier)],  # its earlier record takes its scope
    ]


def records(batches: list[Batch]) -> list[list[ConsumerRecord[bytes, bytes]]]:
    offsets: dict[str, int] = {}
    out = []
    for i, batch in enumerate(batches):
        part = []
        for j, (event, unit, tier) in enumerate(batch):
            topic = topic_of(type(event)).name
            envelope = EventEnvelope.wrap(event, source="test", subject=str(uuid.uuid4()), managing_unit=unit, tier=tier)
            envelope.time = T0 + timedelta(minutes=10 * i + j)
            part.append(record_of(envelope, topic, offsets.setdefault(topic, 0), envelope.subject))
            offsets[topic] += 1
        out.append(part)
    return out


async def dump(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    tables: dict[str, list[tuple[Any, ...]]] = {}
    async with db.transaction() as session:
        for model in READ_MODELS:
            columns = [c for c in model.__table__.columns if c.name != "id"]  # type: ignore[attr-defined]
            rows = (await session.execute(select(*columns))).all()
            tables[model.__tablename__] = sorted((tuple(r) for r in rows), key=repr)  # type: ignore[attr-defined]
    return tables


@pytest.fixture
def second_url(database_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if database_url.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{tmp_path / 'one-by-one.db'}"
    else:
        cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
        yield fresh_postgres_url(cluster)


async def test_batches_leave_what_one_event_per_transaction_leaves(database_url: str, second_url: str) -> None:
    fed = records(scenario())
    results = []
    for url, batched in ((database_url, True), (second_url, False)):
        migrations.upgrade("reporting", url)
        db = Database(url)
        try:
            consumer: EventConsumer = build_consumers(db, Broker("127.0.0.1:9"), max_attempts=1)[0]
            for batch in fed:
                if batched:
                    assert await consumer.apply_batch(batch) is None, consumer._batch_error
                else:
                    for message in batch:
                        await consumer.process(message)
            results.append(await dump(db))
            if batched:  # redelivered, as after a lost position: nothing changes
                for batch in fed:
                    assert await consumer.apply_batch(batch) is None
                assert await dump(db) == results[0]
        finally:
            await db.dispose()
    batched, one_by_one = results
    assert batched == one_by_one

    facts = {row[0]: row for row in batched["clinicalfact"]}
    assert len(facts) == 5
    assert sorted(g for _, g, *_ in batched["diagnosisfact"]) == sorted(
        ["hypertension", "hypertension", "copd", "ischaemic_heart", "diabetes"]
    )  # r1 v2, r2 v2 (not v1's cancer), r4, r5; nothing of the withdrawn r3
    invitations = {row[0]: row for row in batched["invitationfact"]}
    assert sorted((row[9], row[11]) for row in invitations.values()) == [("attended", False), ("invited", False)]
    intervals = batched["cadreinterval"]
    assert len(intervals) == 2 + 2 + 2 + 1  # a: active, retired; b: moved; c: retired; late: one
    unscoped = [row for row in batched["clinicalfact"] if row[15] is None]
    assert unscoped == []  # the early record took its cadre's unit when the cadre arrived
