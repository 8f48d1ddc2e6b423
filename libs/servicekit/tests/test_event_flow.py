"""Outbox -> relay -> broker -> idempotent consumer, on SQLite and PostgreSQL, against a real broker."""

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord
from event_flow_support import KIT, append_events, effect_counts, make_consumer, registered, unsent, wait_until
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import EventEnvelope
from contracts.events.registry import CadreRegistered
from contracts.topics import CADRES
from servicekit.broker import Broker
from servicekit.consumer import EventConsumer
from servicekit.db import Database
from servicekit.embedded import TansuBroker
from servicekit.outbox import Outbox, OutboxRelay
from servicekit.testing.events import record_of


async def test_events_flow_once_and_redelivery_is_applied_once(db: Database, kafka_broker: TansuBroker) -> None:
    outbox = Outbox(KIT, source="test")
    broker = Broker(kafka_broker.bootstrap)
    relay = asyncio.create_task(OutboxRelay(db, outbox, broker, poll_seconds=0.05).run())
    consumer = make_consumer(db, kafka_broker)
    consuming = asyncio.create_task(consumer.run())
    try:
        ids = await append_events(db, outbox, 20)

        async def all_applied() -> bool:
            return set((await effect_counts(db)).keys()) == set(ids)

        await wait_until(all_applied)
        assert await unsent(db) == 0

        # deliver the first five again, byte for byte, as a broker redelivery would
        raw = AIOKafkaConsumer(bootstrap_servers=kafka_broker.bootstrap, auto_offset_reset="earliest", enable_auto_commit=False)
        await raw.start()
        await raw.topics()
        partitions = [TopicPartition(CADRES.name, p) for p in raw.partitions_for_topic(CADRES.name) or ()]
        raw.assign(partitions)
        batches = await raw.getmany(timeout_ms=2000, max_records=5)
        await raw.stop()
        replayed = [m for messages in batches.values() for m in messages][:5]
        assert replayed
        producer = await broker.producer()
        for message in replayed:
            await producer.send_and_wait(CADRES.name, message.value, key=message.key, headers=list(message.headers))
        ends = {tp.partition: offset for tp, offset in (await _end_offsets(kafka_broker, partitions)).items()}

        async def caught_up() -> bool:
            positions = await consumer.stored_positions()
            return all(positions.get((CADRES.name, p), 0) >= end for p, end in ends.items() if end)

        await wait_until(caught_up)
        counts = await effect_counts(db)
        assert counts == {event_id: 1 for event_id in ids}
    finally:
        relay.cancel()
        consuming.cancel()
        await asyncio.gather(relay, consuming, return_exceptions=True)
        await broker.close()


async def _end_offsets(kafka_broker: TansuBroker, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
    probe = AIOKafkaConsumer(bootstrap_servers=kafka_broker.bootstrap)
    await probe.start()
    try:
        return await probe.end_offsets(partitions)
    finally:
        await probe.stop()


async def test_poison_message_goes_to_dead_letter_and_partition_moves_on(db: Database, kafka_broker: TansuBroker) -> None:
    broker = Broker(kafka_broker.bootstrap)
    producer = await broker.producer()
    key = b"same-key"  # same key: same partition, so the good message waits behind the poison one
    await producer.send_and_wait(CADRES.name, b"{not json", key=key, headers=[("ce_type", b"garbage")])
    good = EventEnvelope.wrap(registered(), source="test", subject="x")
    await producer.send_and_wait(CADRES.name, good.payload_bytes(), key=key, headers=good.to_kafka_headers())
    consumer = make_consumer(db, kafka_broker)
    consuming = asyncio.create_task(consumer.run())
    try:

        async def good_applied() -> bool:
            return str(good.id) in await effect_counts(db)

        await wait_until(good_applied)
        dlq = AIOKafkaConsumer(CADRES.dead_letter, bootstrap_servers=kafka_broker.bootstrap, auto_offset_reset="earliest")
        await dlq.start()
        try:
            message = await asyncio.wait_for(dlq.getone(), 15)
        finally:
            await dlq.stop()
        assert message.value == b"{not json"
        headers = dict(message.headers)
        assert b"unparseable" in headers["dlq_error"]
        assert headers["dlq_consumer"] == b"test-consumer"
    finally:
        consuming.cancel()
        await asyncio.gather(consuming, return_exceptions=True)
        await broker.close()


async def test_a_handler_that_keeps_failing_dead_letters_after_retries(db: Database, kafka_broker: TansuBroker) -> None:
    attempts = 0

    async def failing(session: AsyncSession, envelope: EventEnvelope, event: CadreRegistered) -> None:
        nonlocal attempts
        attempts += 1
        raise RuntimeError("downstream rule broken")

    broker = Broker(kafka_broker.bootstrap)
    bad = EventEnvelope.wrap(registered(), source="test", subject="x")
    producer = await broker.producer()
    await producer.send_and_wait(CADRES.name, bad.payload_bytes(), key=b"k", headers=bad.to_kafka_headers())
    consumer = EventConsumer("failing", db, KIT, broker, {CadreRegistered: failing}, max_attempts=3, retry_backoff=0.01)
    consuming = asyncio.create_task(consumer.run())
    try:

        async def recorded() -> bool:
            async with db.transaction() as session:
                outcome = await session.scalar(
                    select(KIT.processed_events.c.outcome).where(KIT.processed_events.c.event_id == str(bad.id))
                )
            return outcome == "dead_lettered"

        await wait_until(recorded)
        assert attempts == 3
    finally:
        consuming.cancel()
        await asyncio.gather(consuming, return_exceptions=True)
        await broker.close()


class Crash(BaseException):
    """Stands for the process dying: not an Exception, so nothing inside the consumer catches it."""


async def test_crash_between_effects_and_commit_loses_and_doubles_nothing(db: Database, kafka_broker: TansuBroker) -> None:
    outbox = Outbox(KIT, source="test")
    broker = Broker(kafka_broker.bootstrap)
    ids = await append_events(db, outbox, 5)
    await OutboxRelay(db, outbox, broker).publish_pending()

    crashing = make_consumer(db, kafka_broker)

    async def crash(envelope: EventEnvelope) -> None:
        raise Crash

    crashing.before_commit = crash  # dies after applying its first batch's effects, before the commit
    with pytest.raises(Crash):
        await asyncio.wait_for(crashing.run(), 20)
    assert await effect_counts(db) == {}  # the effects were rolled back together with the position
    assert await crashing.stored_positions() == {}

    restarted = make_consumer(db, kafka_broker)
    consuming = asyncio.create_task(restarted.run())
    try:

        async def all_applied() -> bool:
            return len(await effect_counts(db)) == 5

        await wait_until(all_applied)
        assert await effect_counts(db) == {event_id: 1 for event_id in ids}
    finally:
        consuming.cancel()
        await asyncio.gather(consuming, return_exceptions=True)
        await broker.close()


async def test_relay_keeps_events_while_the_broker_is_down_and_delivers_them_after(db: Database) -> None:
    down = TansuBroker()  # a port with nothing behind it yet
    outbox = Outbox(KIT, source="test")
    broker = Broker(down.bootstrap)
    relay = asyncio.create_task(OutboxRelay(db, outbox, broker, poll_seconds=0.05).run())
    try:
        ids = await append_events(db, outbox, 10)
        await asyncio.sleep(1.5)  # the relay is failing and backing off meanwhile
        assert await unsent(db) == 10
        down.start()

        async def drained() -> bool:
            return await unsent(db) == 0

        await wait_until(drained, timeout=30)
        consumer = make_consumer(db, down)
        consuming = asyncio.create_task(consumer.run())

        async def all_applied() -> bool:
            return set((await effect_counts(db)).keys()) == set(ids)

        await wait_until(all_applied)
        consuming.cancel()
        await asyncio.gather(consuming, return_exceptions=True)
    finally:
        relay.cancel()
        await asyncio.gather(relay, return_exceptions=True)
        await broker.close()
        down.stop()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_producer_publishes_in_order_per_key(db: Database, kafka_broker: TansuBroker) -> None:
    outbox = Outbox(KIT, source="test")
    broker = Broker(kafka_broker.bootstrap)
    cadre_id = uuid.uuid4()
    sent = []
    for _ in range(30):
        async with db.transaction() as session:
            envelope = await outbox.append(session, registered(cadre_id), subject=str(cadre_id))
            sent.append(str(envelope.id))
    await OutboxRelay(db, outbox, broker, batch_size=7).publish_pending()
    while await OutboxRelay(db, outbox, broker, batch_size=7).publish_pending():
        pass
    reader = AIOKafkaConsumer(CADRES.name, bootstrap_servers=kafka_broker.bootstrap, auto_offset_reset="earliest")
    await reader.start()
    received: list[str] = []
    try:
        while len(received) < 30:
            message = await asyncio.wait_for(reader.getone(), 10)
            received.append(dict(message.headers)["ce_id"].decode())
    finally:
        await reader.stop()
        await broker.close()
    assert received == sent


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_relays_on_one_postgresql_database_publish_each_event_once(db: Database, kafka_broker: TansuBroker) -> None:
    outbox = Outbox(KIT, source="test")
    brokers = [Broker(kafka_broker.bootstrap), Broker(kafka_broker.bootstrap)]
    relays = [asyncio.create_task(OutboxRelay(db, outbox, b, poll_seconds=0.05).run()) for b in brokers]
    try:
        ids = await append_events(db, outbox, 40)

        async def drained() -> bool:
            return await unsent(db) == 0

        await wait_until(drained)
        reader = AIOKafkaConsumer(CADRES.name, bootstrap_servers=kafka_broker.bootstrap, auto_offset_reset="earliest")
        await reader.start()
        try:
            batches = await reader.getmany(timeout_ms=3000)
            published = [dict(m.headers)["ce_id"].decode() for messages in batches.values() for m in messages]
        finally:
            await reader.stop()
        assert sorted(published) == sorted(ids)
    finally:
        for relay in relays:
            relay.cancel()
        await asyncio.gather(*relays, return_exceptions=True)
        for b in brokers:
            await b.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_consumer_in_group_mode_applies_from_stored_positions(db: Database, kafka_broker: TansuBroker) -> None:
    outbox = Outbox(KIT, source="test")
    broker = Broker(kafka_broker.bootstrap, consumer_group_prefix="cadrecare-test-")
    ids = await append_events(db, outbox, 10)
    await OutboxRelay(db, outbox, broker).publish_pending()
    consumer = make_consumer(db, kafka_broker, group_id=None)
    consumer.broker = broker
    consumer.group_id = "cadrecare-test-test-consumer"
    consuming = asyncio.create_task(consumer.run())
    try:

        async def all_applied() -> bool:
            return set((await effect_counts(db)).keys()) == set(ids)

        await wait_until(all_applied, timeout=40)  # the first group join takes a few seconds
        assert await effect_counts(db) == {event_id: 1 for event_id in ids}
    finally:
        consuming.cancel()
        await asyncio.gather(consuming, return_exceptions=True)
        await broker.close()


def _record(envelope: EventEnvelope, offset: int) -> ConsumerRecord[bytes, bytes]:
    return record_of(envelope, CADRES.name, offset, "k")


async def test_a_batch_claims_its_events_at_once_and_applies_each_once(db: Database, kafka_broker: TansuBroker) -> None:
    consumer = make_consumer(db, kafka_broker)
    first, second = (EventEnvelope.wrap(registered(), source="test", subject="x") for _ in range(2))
    batch = [_record(first, 0), _record(second, 1), _record(first, 2)]  # the broker delivered `first` twice
    assert await consumer.apply_batch(batch) is None
    assert await effect_counts(db) == {str(first.id): 1, str(second.id): 1}
    assert await consumer.apply_batch([_record(second, 3)]) is None  # a later redelivery: nothing more
    assert await effect_counts(db) == {str(first.id): 1, str(second.id): 1}
    assert await consumer.stored_positions() == {(CADRES.name, 0): 4}
