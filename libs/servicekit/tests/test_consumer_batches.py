"""A fetched batch applied at once: its batch step (`prepare`) reads ahead once for every event it claimed, and
the log gets one line per request's run of events, not one per event."""

import logging
import uuid
from typing import Any

from aiokafka.structs import ConsumerRecord
from event_flow_support import effect_counts, make_consumer, record_effect, registered
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import EventEnvelope
from contracts.events.registry import CadreRegistered
from contracts.topics import CADRES
from servicekit.db import Database
from servicekit.embedded import TansuBroker
from servicekit.testing.events import record_of


def _record(envelope: EventEnvelope, offset: int) -> ConsumerRecord[bytes, bytes]:
    return record_of(envelope, CADRES.name, offset, "k")


def _envelope(correlation_id: str | None = None) -> EventEnvelope:
    return EventEnvelope.wrap(registered(), source="test", subject=str(uuid.uuid4()), correlation_id=correlation_id)


async def test_the_batch_step_sees_each_claimed_event_once_before_the_handlers(db: Database, kafka_broker: TansuBroker) -> None:
    steps: list[list[str]] = []
    handled: list[tuple[str, list[str]]] = []

    async def prepare(session: AsyncSession, batch: list[tuple[EventEnvelope, Any]]) -> None:
        assert all(isinstance(event, CadreRegistered) for _, event in batch)  # payloads come parsed
        steps.append([str(envelope.id) for envelope, _ in batch])
        session.info["read ahead"] = steps[-1]

    async def handler(session: AsyncSession, envelope: EventEnvelope, event: CadreRegistered) -> None:
        handled.append((str(envelope.id), session.info["read ahead"]))
        await record_effect(session, envelope, event)

    consumer = make_consumer(db, kafka_broker, prepare=prepare)
    consumer.handlers = {key: handler for key in consumer.handlers}
    old, first, second = _envelope(), _envelope(), _envelope()
    assert await consumer.apply_batch([_record(old, 0)]) is None
    # `old` redelivered and `first` twice in the batch: the step and the handlers get first and second once each
    assert await consumer.apply_batch([_record(old, 1), _record(first, 2), _record(second, 3), _record(first, 4)]) is None
    ids = [str(first.id), str(second.id)]
    assert steps == [[str(old.id)], ids]
    assert handled[1:] == [(ids[0], ids), (ids[1], ids)]
    assert await effect_counts(db) == {str(old.id): 1, ids[0]: 1, ids[1]: 1}


async def test_a_failing_batch_step_rolls_the_batch_back_and_one_by_one_applies_it(
    db: Database, kafka_broker: TansuBroker
) -> None:
    async def prepare(_session: AsyncSession, _batch: list[tuple[EventEnvelope, Any]]) -> None:
        raise RuntimeError("read ahead failed")

    consumer = make_consumer(db, kafka_broker, prepare=prepare)
    first, second = _envelope(), _envelope()
    batch = [_record(first, 0), _record(second, 1)]
    assert await consumer.apply_batch(batch) == 0  # the first event it claimed: one by one decides from there
    assert "read ahead failed" in consumer.batch_error
    assert await effect_counts(db) == {}
    for message in batch:
        await consumer.process(message)  # the one-by-one path has no batch step: handlers look up themselves
    assert await effect_counts(db) == {str(first.id): 1, str(second.id): 1}
    assert await consumer.stored_positions() == {(CADRES.name, 0): 2}


async def test_one_log_line_per_request_in_a_batch(db: Database, kafka_broker: TansuBroker, caplog: Any) -> None:
    consumer = make_consumer(db, kafka_broker)
    bulk = [_envelope("bulk-request") for _ in range(3)]
    single = _envelope("single-request")
    with caplog.at_level(logging.INFO, logger="servicekit.consumer"):
        assert await consumer.apply_batch([_record(e, n) for n, e in enumerate([*bulk, single])]) is None
    lines = [r for r in caplog.records if r.getMessage().startswith("applied")]
    assert [r.getMessage() for r in lines] == [f"applied {bulk[0].type} and 2 more", f"applied {single.type}"]
    fields = [r.fields for r in lines]  # type: ignore[attr-defined]
    assert [(f["event_id"], f["subject"], f["events"]) for f in fields] == [
        (str(bulk[0].id), bulk[0].subject, 3),
        (str(single.id), single.subject, 1),
    ]


async def test_a_batch_of_several_partitions_applies_them_in_order_and_moves_each_partition(
    db: Database, kafka_broker: TansuBroker
) -> None:
    consumer = make_consumer(db, kafka_broker)
    first, second, third = _envelope(), _envelope(), _envelope()
    batch = [
        record_of(first, CADRES.name, 4, "a", partition=0),
        record_of(second, CADRES.name, 7, "b", partition=1),
        record_of(third, CADRES.name, 5, "a", partition=0),
    ]
    assert await consumer.apply_batch(batch) is None
    assert await consumer.stored_positions() == {(CADRES.name, 0): 6, (CADRES.name, 1): 8}
    assert await effect_counts(db) == {str(first.id): 1, str(second.id): 1, str(third.id): 1}
    assert await consumer.apply_batch(batch) is None  # redelivered: nothing more
    assert await effect_counts(db) == {str(first.id): 1, str(second.id): 1, str(third.id): 1}
