"""What the event-flow tests share: a kit schema with one effect table, events, and waiting helpers."""

import asyncio
import uuid
from datetime import date

from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.enums import CadreStatus, ManagementTier, Sex
from contracts.envelope import EventEnvelope
from contracts.events.registry import CadreRegistered, CadreSnapshot
from servicekit.broker import Broker
from servicekit.consumer import EventConsumer
from servicekit.db import Database
from servicekit.embedded import TansuBroker
from servicekit.outbox import Outbox
from servicekit.tables import kit_tables

metadata = MetaData()
KIT = kit_tables(metadata)
effects = Table(
    "effects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False),  # not unique on purpose: a double application would show
    Column("cadre_id", String(36), nullable=False),
)


def registered(cadre_id: uuid.UUID | None = None) -> CadreRegistered:
    return CadreRegistered(
        cadre=CadreSnapshot(
            id=cadre_id or uuid.uuid4(),
            full_name="Nguyễn Văn An",
            date_of_birth=date(1960, 5, 1),
            sex=Sex.MALE,
            national_id="068060123456",
            tier=ManagementTier.PROVINCIAL_2,
            status=CadreStatus.RETIRED,
            status_since=date(2020, 6, 1),
            managing_unit="VN.68",
        )
    )


async def record_effect(session: AsyncSession, envelope: EventEnvelope, event: CadreRegistered) -> None:
    await session.execute(insert(effects).values(event_id=str(envelope.id), cadre_id=str(event.cadre.id)))


def make_consumer(db: Database, broker: TansuBroker, **kwargs: object) -> EventConsumer:
    return EventConsumer(
        "test-consumer", db, KIT, Broker(broker.bootstrap), {CadreRegistered: record_effect}, retry_backoff=0.01, **kwargs
    )  # type: ignore[arg-type]


async def append_events(db: Database, outbox: Outbox, count: int) -> list[str]:
    ids = []
    for _ in range(count):
        async with db.transaction() as session:
            event = registered()
            envelope = await outbox.append(session, event, subject=str(event.cadre.id), managing_unit="VN.68")
            ids.append(str(envelope.id))
    return ids


async def effect_counts(db: Database) -> dict[str, int]:
    async with db.transaction() as session:
        rows = await session.execute(select(effects.c.event_id, func.count()).group_by(effects.c.event_id))
        return {event_id: n for event_id, n in rows}


async def wait_until(predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.05)


async def unsent(db: Database) -> int:
    async with db.transaction() as session:
        return await session.scalar(select(func.count()).select_from(KIT.outbox).where(KIT.outbox.c.sent_at.is_(None))) or 0
