"""Feeding events to the projections without a broker, through the same idempotent consumer kit.

Each event becomes the Kafka record the relay would publish (CloudEvents binary mode), and the
consumer that owns its topic processes it: event-id deduplication, position and effects in one
transaction. Used by tests and benchmarks, and to load archived events (e.g. an outbox export).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime

from aiokafka.structs import ConsumerRecord

from contracts.enums import ManagementTier
from contracts.envelope import DomainEvent, EventEnvelope
from contracts.topics import topic_of
from reporting.projections import build_consumers
from servicekit.broker import Broker
from servicekit.consumer import EventConsumer
from servicekit.db import Database


def record_of(envelope: EventEnvelope, topic: str, offset: int, key: str) -> ConsumerRecord[bytes, bytes]:
    value = envelope.payload_bytes()
    return ConsumerRecord(
        topic=topic,
        partition=0,
        offset=offset,
        timestamp=int(envelope.time.timestamp() * 1000),
        timestamp_type=0,
        key=key.encode(),
        value=value,
        checksum=None,
        serialized_key_size=len(key),
        serialized_value_size=len(value),
        headers=tuple(envelope.to_kafka_headers()),
    )


class EventFeed:
    def __init__(self, db: Database) -> None:
        # The broker is only reached to dead-letter a poison message; a fed event never is one.
        self.consumers: dict[str, EventConsumer] = {}
        for consumer in build_consumers(db, Broker("127.0.0.1:9"), max_attempts=1):
            for topic in consumer.topics:
                self.consumers[topic] = consumer
        self.offsets: dict[str, int] = defaultdict(int)
        self.sent: list[ConsumerRecord[bytes, bytes]] = []

    async def send(
        self,
        event: DomainEvent,
        *,
        subject: str | None = None,
        managing_unit: str | None = None,
        tier: ManagementTier | None = None,
        time: datetime | None = None,
    ) -> EventEnvelope:
        topic = topic_of(type(event)).name
        envelope = EventEnvelope.wrap(
            event, source="cadrecare/test", subject=subject or str(uuid.uuid4()), managing_unit=managing_unit, tier=tier
        )
        if time is not None:
            envelope.time = time.astimezone(UTC)
        record = record_of(envelope, topic, self.offsets[topic], envelope.subject)
        self.offsets[topic] += 1
        self.sent.append(record)
        await self.consumers[topic].process(record)
        return envelope

    async def redeliver_all(self) -> None:
        """Every record again, as a broker would after a consumer lost its position: nothing may change."""
        for record in list(self.sent):
            await self.consumers[record.topic].process(record)
