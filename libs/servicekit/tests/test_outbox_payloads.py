"""Outbox.append_payloads, the bulk writers' path (COPY on PostgreSQL, INSERT on SQLite): the rows read back as
the relay reads them, in the order appended, with each event's own headers; rolled back with their transaction.
On SQLite and PostgreSQL."""

from typing import Any

import orjson
import pytest
from event_flow_support import KIT, registered
from sqlalchemy import func, select

from contracts.envelope import EventEnvelope
from contracts.topics import CADRES
from servicekit.db import Database
from servicekit.outbox import ROWS_PER_INSERT, Outbox, RawEvent


class Boom(Exception):
    pass


def raw_events(count: int) -> list[RawEvent]:
    events = []
    for n in range(count):
        payload = registered().model_dump(mode="json")
        payload["cadre"]["full_name"] = f"Nguyễn Văn {n}"
        tier = None if n % 3 == 0 else "provincial_2"  # an absent scope key leaves its header out
        events.append(RawEvent(str(payload["cadre"]["id"]), payload, "VN.68" if tier else None, tier))
    return events


async def stored_rows(db: Database) -> list[dict[str, Any]]:
    table = KIT.outbox
    async with db.read() as session:
        rows = await session.execute(
            select(table.c.id, table.c.event_id, table.c.topic, table.c.key, table.c.headers, table.c.payload).order_by(
                table.c.id
            )
        )
        return [dict(row._mapping) for row in rows]


async def test_payload_rows_read_back_in_order_with_their_own_headers(db: Database) -> None:
    outbox = Outbox(KIT, source="test")
    events = raw_events(ROWS_PER_INSERT + 5)  # two statements (or COPYs)
    async with db.transaction() as session:
        await session.execute(select(1))
        assert await outbox.append_payloads(session, registered(), events) == len(events)
    rows = await stored_rows(db)
    assert [orjson.loads(bytes(r["payload"])) for r in rows] == [e.payload for e in events]
    assert [r["key"] for r in rows] == [e.subject for e in events]
    assert {r["topic"] for r in rows} == {CADRES.name}
    assert len({r["event_id"] for r in rows}) == len(events)
    for row, event in zip(rows, events, strict=True):
        headers = [(name, value.encode()) for name, value in row["headers"]]
        envelope = EventEnvelope.from_kafka(headers, bytes(row["payload"]))
        assert str(envelope.id) == row["event_id"] and envelope.subject == event.subject
        assert envelope.managing_unit == event.managing_unit
        assert (envelope.tier.value if envelope.tier else None) == event.tier


async def append_then_fail(db: Database, outbox: Outbox, events: list[RawEvent]) -> None:
    async with db.transaction() as session:
        await session.execute(select(1))
        await outbox.append_payloads(session, registered(), events)
        raise Boom


async def test_payload_rows_go_with_a_transaction_that_fails(db: Database) -> None:
    outbox = Outbox(KIT, source="test")
    async with db.transaction() as session:
        await session.execute(select(1))
        await outbox.append_payloads(session, registered(), raw_events(3))
    with pytest.raises(Boom):
        await append_then_fail(db, outbox, raw_events(50))
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(KIT.outbox)) == 3


async def test_nothing_to_append_writes_nothing(db: Database) -> None:
    async with db.transaction() as session:
        assert await Outbox(KIT, source="test").append_payloads(session, registered(), []) == 0
    assert await stored_rows(db) == []
