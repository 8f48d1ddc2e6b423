"""One event feed for every service's projections: events reach a service's real consumers without a broker.

Each event is wrapped in its envelope (`EventEnvelope.wrap`, as the outbox does), turned into the Kafka
record the relay would publish (CloudEvents binary mode), and applied by every consumer of its topic
through the consumer's own batch path: the same envelope and payload parsing, event-id deduplication,
position and effects in one transaction. A fed event that a handler refuses fails the test at once
(no retries, no dead letter): a feed's events are the test's own.
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeAlias

from aiokafka.structs import ConsumerRecord
from sqlalchemy import select

from contracts.enums import ManagementTier
from contracts.envelope import DomainEvent, EventEnvelope
from contracts.topics import topic_of
from servicekit.consumer import EventConsumer
from servicekit.db import Database
from servicekit.tables import KitTables

Record: TypeAlias = ConsumerRecord[bytes, bytes]


def kafka_record(
    topic: str,
    offset: int,
    key: str,
    value: bytes,
    headers: Iterable[tuple[str, bytes]],
    *,
    partition: int = 0,
    timestamp: int = 0,
) -> Record:
    """A record as a consumer fetches it from the broker."""
    return ConsumerRecord(
        topic=topic,
        partition=partition,
        offset=offset,
        timestamp=timestamp,
        timestamp_type=0,
        key=key.encode(),
        value=value,
        checksum=None,
        serialized_key_size=len(key),
        serialized_value_size=len(value),
        headers=tuple(headers),
    )


def record_of(envelope: EventEnvelope, topic: str, offset: int, key: str, partition: int = 0) -> Record:
    """The Kafka record of an envelope, as the relay publishes it."""
    timestamp = int(envelope.time.timestamp() * 1000)
    headers = envelope.to_kafka_headers()
    return kafka_record(topic, offset, key, envelope.payload_bytes(), headers, partition=partition, timestamp=timestamp)


async def outbox_records(db: Database, tables: KitTables, *, after: int = 0) -> list[tuple[int, Record]]:
    """(row id, record) of every outbox row after `after`, oldest first, as the relay would publish them."""
    table = tables.outbox
    async with db.read() as session:
        rows = (await session.execute(select(table).where(table.c.id > after).order_by(table.c.id))).all()
    return [
        (row.id, kafka_record(row.topic, row.id, row.key, row.payload, ((name, value.encode()) for name, value in row.headers)))
        for row in rows
    ]


class EventFeed:
    """Events handed to consumers as their broker would hand them (see the module's docstring).

    `consumers` are the service's real ones (its `projections.consumers(runtime)`); `sent` keeps every
    record sent, in order, for `redeliver_all`."""

    def __init__(self, consumers: Iterable[EventConsumer], *, source: str = "cadrecare/test") -> None:
        self.source = source
        self.consumers: dict[str, list[EventConsumer]] = defaultdict(list)
        for consumer in consumers:
            for topic in consumer.topics:
                self.consumers[topic].append(consumer)
        self.offsets: dict[str, int] = defaultdict(int)
        self.sent: list[Record] = []

    async def send(
        self,
        event: DomainEvent,
        *,
        subject: str | None = None,
        managing_unit: str | None = None,
        tier: ManagementTier | None = None,
        time: datetime | None = None,
        source: str | None = None,
        only: Sequence[EventConsumer] | None = None,
    ) -> EventEnvelope:
        """Publish one event on its topic (wrapped as the outbox wraps it) to every consumer of it, or of
        `only`; returns its envelope."""
        source, subject = source or self.source, subject or str(uuid.uuid4())
        envelope = EventEnvelope.wrap(event, source=source, subject=subject, managing_unit=managing_unit, tier=tier)
        if time is not None:
            envelope.time = time.astimezone(UTC)
        topic = topic_of(type(event)).name
        record = record_of(envelope, topic, self.offsets[topic], envelope.subject)
        self.offsets[topic] += 1
        self.sent.append(record)
        await self.deliver(record, only=only)
        return envelope

    async def deliver(self, record: Record, *, only: Sequence[EventConsumer] | None = None) -> None:
        """One record to every consumer of its topic (or to those of `only` that consume it)."""
        for consumer in self.consumers.get(record.topic, []):
            if only is None or consumer in only:
                await apply(consumer, record)

    async def redeliver_all(self) -> None:
        """Every record again, as a broker would after a consumer lost its position: nothing may change."""
        for record in list(self.sent):
            await self.deliver(record)


async def apply(consumer: EventConsumer, record: Record) -> None:
    """A record through the consumer's batch path; a record it could not apply fails loudly."""
    failed_at = await consumer.apply_batch([record])
    if failed_at is not None:
        raise AssertionError(f"consumer {consumer.name} could not apply {describe(record)}: {consumer.batch_error}")


def describe(record: Record) -> str:
    headers: dict[str, Any] = {name: value.decode() for name, value in record.headers}
    return f"{headers.get('ce_type')} {headers.get('ce_id')} ({record.topic}:{record.offset})"
