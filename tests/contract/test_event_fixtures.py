"""Every consumer parses every producer's events: the committed example of each event type and version
(contracts.examples, one Kafka message each) is handed to every consumer of its topic, built as its
service builds it, on a real migrated database, and must be applied there through the consumer's own path
(envelope from the headers, typed payload, handler, event id and position in one transaction).

A consumer also keeps its promises about shapes it was not written for: a field it does not know is
ignored (producers add optional fields within a version), and a message missing a field it requires is
not retried but dead-lettered with the reason, on a real broker.
"""

import asyncio
import copy
import importlib
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from pydantic import ValidationError
from sqlalchemy import select

from contracts import examples
from contracts.envelope import DomainEvent, EventEnvelope
from contracts.events import ALL_EVENTS, EVENT_TYPES, clinical
from contracts.topics import ALL_TOPICS
from servicekit import migrations
from servicekit.consumer import EventConsumer
from servicekit.embedded import TansuBroker
from servicekit.runtime import Runtime, build_runtime
from servicekit.testing.events import Record, kafka_record

CONSUMING_SERVICES = ("scheduling", "clinical", "reporting", "gateway")
Message = dict[str, Any]


def topic_of_example(name: str) -> str:
    event = next(e for e in ALL_EVENTS if examples.name_of(e) == name)
    return next(topic.name for topic in ALL_TOPICS if event in topic.events)


def record_of(message: Message, topic: str, offset: int) -> Record:
    key = str(message["headers"]["ce_subject"])
    return kafka_record(topic, offset, key, examples.payload_of(message), examples.headers_of(message))


def unparsed(messages: dict[str, Message], parse: Callable[[EventEnvelope], DomainEvent]) -> list[str]:
    """The messages a consumer's parsing refuses, with why (empty: it parses every one)."""
    problems = []
    for name, message in messages.items():
        try:
            parse(EventEnvelope.from_kafka(examples.headers_of(message), examples.payload_of(message)))
        except ValueError as exc:
            problems.append(f"{name}: {exc}")
    return problems


@dataclass
class Service:
    name: str
    runtime: Runtime[Any]
    consumers: list[EventConsumer]

    async def outcome(self, consumer: EventConsumer, event_id: str) -> str | None:
        table = self.runtime.tables.processed_events
        async with self.runtime.db.read() as session:
            found = await session.scalar(
                select(table.c.outcome).where(table.c.consumer == consumer.name, table.c.event_id == event_id)
            )
        return None if found is None else str(found)


def build_service(name: str, tmp_path: Path, bootstrap: str = "127.0.0.1:9") -> Service:
    """The service's consumers as its app wires them, on a migrated SQLite database of its own."""
    url = f"sqlite+aiosqlite:///{tmp_path / f'{name}.db'}"
    migrations.upgrade(name, url)
    settings_module = importlib.import_module(f"{name}.settings")
    settings_class = next(v for k, v in vars(settings_module).items() if k.endswith("Settings") and k != "ServiceSettings")
    settings = settings_class(data_dir=tmp_path, database_url=url, kafka_bootstrap=bootstrap, log_json=False)
    projections = importlib.import_module(f"{name}.projections")
    if name == "gateway":  # its consumer follows reorganisations with the gateway's grant store
        from gateway.app import build_gateway

        gateway = build_gateway(settings)
        return Service(name, gateway.runtime, list(projections.consumers(gateway.runtime, gateway.grants)))
    runtime = build_runtime(settings, importlib.import_module(f"{name}.tables").metadata)
    return Service(name, runtime, list(projections.consumers(runtime)))


@pytest.fixture(params=CONSUMING_SERVICES)
async def service(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Service]:
    built = build_service(request.param, tmp_path)
    yield built
    await built.runtime.db.dispose()


def test_every_event_type_has_a_committed_example_that_is_current() -> None:
    committed, current = examples.committed_examples(), examples.current_examples()
    assert sorted(current) == sorted(examples.name_of(event) for event in ALL_EVENTS)
    stale = sorted(name for name in set(current) | set(committed) if committed.get(name) != current.get(name))
    assert not stale, f"examples differ from {examples.EXAMPLES_DIR}: {stale}; run `make contracts`"


def test_every_committed_example_parses_as_its_own_type() -> None:
    for name, message in examples.committed_examples().items():
        envelope, event = examples.parse_message(message)
        assert examples.name_of(type(event)) == name and envelope.type == type(event).event_type


async def test_every_consumer_applies_every_example_of_the_topics_it_reads(service: Service) -> None:
    committed = examples.committed_examples()  # in story order: registry, scheduling, clinical, reporting
    assert service.consumers, f"{service.name} consumes nothing"
    for consumer in service.consumers:
        handled = [name for name in committed if topic_of_example(name) in consumer.topics]
        assert handled, f"{consumer.name} reads no topic with an example"
        for offset, name in enumerate(handled):
            failed_at = await consumer.apply_batch([record_of(committed[name], topic_of_example(name), offset)])
            assert failed_at is None, f"{consumer.name} could not apply {name}: {consumer.batch_error}"
            if handles(consumer, committed[name]):
                assert await service.outcome(consumer, committed[name]["headers"]["ce_id"]) == "applied", (consumer.name, name)


async def test_a_field_a_consumer_does_not_know_is_ignored(service: Service) -> None:
    for consumer in service.consumers:
        for offset, (name, message) in enumerate(examples.committed_examples().items()):
            topic = topic_of_example(name)
            if topic not in consumer.topics:
                continue
            later = copy.deepcopy(message)
            later["payload"]["added_in_a_later_release"] = {"any": ["shape"]}
            later["headers"]["ce_id"] = f"{message['headers']['ce_id'][:-4]}ffff"
            failed_at = await consumer.apply_batch([record_of(later, topic, offset)])
            assert failed_at is None, f"{consumer.name} refused {name} with an unknown field: {consumer.batch_error}"


def handles(consumer: EventConsumer, message: Message) -> bool:
    return (message["headers"]["ce_type"], int(message["headers"]["ce_schemaversion"])) in consumer.handlers


def first_required_field(message: Message) -> str:
    model = EVENT_TYPES[(message["headers"]["ce_type"], int(message["headers"]["ce_schemaversion"]))]
    return next(name for name, field in model.model_fields.items() if field.is_required())


async def test_a_message_missing_a_required_field_is_dead_lettered_at_once(tmp_path: Path, kafka_broker: TansuBroker) -> None:
    committed = examples.committed_examples()
    for name in CONSUMING_SERVICES:
        built = build_service(name, tmp_path / name, kafka_broker.bootstrap)
        try:
            for consumer in built.consumers:
                consumer.retry_backoff = 30.0  # a retry would show as a timeout
                example = next(n for n in committed if handles(consumer, committed[n]))
                broken = copy.deepcopy(committed[example])
                missing = first_required_field(broken)
                del broken["payload"][missing]
                broken["headers"]["ce_id"] = f"{broken['headers']['ce_id'][:-4]}dead"
                record = record_of(broken, topic_of_example(example), 0)
                assert await consumer.apply_batch([record]) == 0
                started = time.monotonic()
                await consumer.process(record, attempts_made=0)
                assert time.monotonic() - started < 15, "retried: a message no retry can fix waited for one"
                assert await built.outcome(consumer, broken["headers"]["ce_id"]) == "dead_lettered"
                errors = await dead_letter_errors(kafka_broker.bootstrap, f"{record.topic}.dlq", consumer.name)
                assert any("invalid payload" in error and missing in error for error in errors), errors
        finally:
            await built.runtime.broker.close()
            await built.runtime.db.dispose()


async def dead_letter_errors(bootstrap: str, topic: str, consumer_name: str) -> list[str]:
    reader = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False)
    await reader.start()
    errors: list[str] = []
    try:
        deadline = time.monotonic() + 20
        while not errors and time.monotonic() < deadline:
            batches = await reader.getmany(timeout_ms=1000)
            errors = [
                dict(message.headers)["dlq_error"].decode()
                for messages in batches.values()
                for message in messages
                if dict(message.headers).get("dlq_consumer") == consumer_name.encode()
            ]
            await asyncio.sleep(0)
    finally:
        await reader.stop()
    return errors


def test_a_consumer_requiring_a_field_its_producer_does_not_send_fails_the_contract() -> None:
    """The check above can fail: a consumer whose model of a record requires a field that clinical's
    events do not carry refuses every committed clinical example."""

    class StricterSummary(clinical.RecordSummary):
        ward: str

    class StricterRecorded(clinical.ClinicalRecordRecorded):
        record: StricterSummary

    def strict_parse(envelope: EventEnvelope) -> DomainEvent:
        return StricterRecorded.model_validate(envelope.data)

    recorded = {n: m for n, m in examples.committed_examples().items() if n == examples.name_of(clinical.ClinicalRecordRecorded)}
    problems = unparsed(recorded, strict_parse)
    assert len(problems) == 1 and "ward" in problems[0]
    assert unparsed(recorded, lambda envelope: clinical.ClinicalRecordRecorded.model_validate(envelope.data)) == []


def test_the_examples_are_not_rewritten_over_a_committed_one_the_models_no_longer_parse(tmp_path: Path) -> None:
    assert examples.write(tmp_path) == []
    committed = tmp_path / f"{examples.name_of(clinical.ClinicalRecordRecorded)}.json"
    before = examples.committed_examples(tmp_path)
    shape = before[committed.name.removesuffix(".json")]
    shape["payload"]["record"]["kind"] = "a kind no model knows"
    committed.write_text(json.dumps(shape))
    problems = examples.write(tmp_path)
    assert len(problems) == 1 and "no longer parses" in problems[0]
    with pytest.raises(ValidationError):
        clinical.ClinicalRecordRecorded.model_validate(shape["payload"])
