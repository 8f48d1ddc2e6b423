"""The foundation's faults, through real processes: broker outage, poison message, a consumer killed mid-stream."""

import asyncio
import signal
import time

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from contracts.topics import CADRES
from devstack.stack import Stack
from tests.e2e.helpers import eventually, new_cadre, reported_total

pytestmark = [pytest.mark.e2e, pytest.mark.own_stack]
UNIT = "VN.68.676"  # Lâm Hà: a district no other test of this module writes to


def test_broker_down_for_ten_seconds_loses_nothing(stack: Stack, admin: httpx.Client) -> None:
    before = reported_total(admin, UNIT)
    stack.broker.stop()
    posted = 0
    started = time.monotonic()
    while time.monotonic() - started < 10:
        answer = admin.post("/api/v1/registry/cadres", json=new_cadre(unit=UNIT))
        assert answer.status_code == 201, answer.text  # the registry accepts while the broker is away
        posted += 1
        time.sleep(0.5)
    stack.broker.start()
    assert posted >= 15
    assert eventually(lambda: reported_total(admin, UNIT) == before + posted, timeout=60)


def test_poison_message_goes_to_the_dead_letter_topic_and_the_partition_moves_on(stack: Stack, admin: httpx.Client) -> None:
    async def send_poison() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=stack.config.kafka_bootstrap)
        await producer.start()
        try:
            for partition in range(3):
                await producer.send_and_wait(CADRES.name, b"\x00not an event", partition=partition, headers=[("ce_type", b"?")])
        finally:
            await producer.stop()

    async def dead_letters() -> list[bytes]:
        consumer = AIOKafkaConsumer(
            CADRES.dead_letter, bootstrap_servers=stack.config.kafka_bootstrap, auto_offset_reset="earliest"
        )
        await consumer.start()
        try:
            batches = await consumer.getmany(timeout_ms=3000)
            return [dict(m.headers).get("dlq_consumer", b"") for messages in batches.values() for m in messages]
        finally:
            await consumer.stop()

    before = reported_total(admin, UNIT)
    asyncio.run(send_poison())
    for _ in range(5):
        assert admin.post("/api/v1/registry/cadres", json=new_cadre(unit=UNIT)).status_code == 201
    assert eventually(lambda: reported_total(admin, UNIT) == before + 5, timeout=30)
    wanted = {b"reporting-cadres", b"scheduling-cadres"}  # each consumer dead-letters on its own time

    def both_dead_lettered() -> set[bytes] | None:
        found = set(asyncio.run(dead_letters()))
        return found if found >= wanted else None

    assert eventually(both_dead_lettered, timeout=30) >= wanted


def test_reporting_killed_mid_stream_applies_every_event_exactly_once(stack: Stack, admin: httpx.Client) -> None:
    before = reported_total(admin, UNIT)
    for _ in range(60):
        assert admin.post("/api/v1/registry/cadres", json=new_cadre(unit=UNIT)).status_code == 201
    stack.stop_process("reporting", sig=signal.SIGKILL)  # no shutdown: whatever was in flight is cut
    for _ in range(20):
        assert admin.post("/api/v1/registry/cadres", json=new_cadre(unit=UNIT)).status_code == 201
    stack.start_service("reporting")
    stack.wait_ready(60)
    assert eventually(lambda: reported_total(admin, UNIT) == before + 80, timeout=60)
    time.sleep(1)  # nothing more arrives later: the count stays exact, not doubled
    assert reported_total(admin, UNIT) == before + 80
