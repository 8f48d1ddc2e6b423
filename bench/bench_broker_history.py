"""The embedded broker's CPU per event against the history it holds (issue 14, items 1, 4 and 5).

The embedded stack keeps every event in Tansu's memory (a rebuild replays the topics from offset 0). This bench
fills one topic per step with BENCH_BROKER_HISTORY events (default 1,000, 50,000 and 200,000; compressed
batches of ~500-byte JSON events, as the relays send them), then reads the broker's CPU (/proc) while a producer sends
ROUNDS events one at a time, first alone, then each followed by a consumer's fetch at the tail (the consumers'
fetch_max_wait_ms), and while that consumer waits at the tail with nothing sent (CPU ms per second). Ratios are
against the smallest history, in the same run.

Production runs Apache Kafka, whose fetch finds an offset in a segment index whatever the log's length; the
figures here are the embedded broker's, and explain why a stack's broker CPU per event grows over a long run.
"""

import asyncio
import os
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.cpu import cpu_seconds
from servicekit.broker import COMPRESSION
from servicekit.embedded import TansuBroker

HISTORY = [int(n) for n in os.environ.get("BENCH_BROKER_HISTORY", "1000,50000,200000").split(",")]
ROUNDS = int(os.environ.get("BENCH_BROKER_ROUNDS", "300"))
IDLE_SECONDS = 3.0
PARTITIONS = 4
EVENT = b'{"type": "clinical.record_recorded", "payload": {"kind": "exam", "note": "%s"}, "n": %d}'


def event(number: int) -> bytes:
    return EVENT % (b"x" * 400, number)


async def fill(producer: AIOKafkaProducer, topic: str, count: int) -> None:
    pending = []
    for number in range(count):
        pending.append(await producer.send(topic, event(number), key=str(number % 100).encode()))
        if len(pending) >= 5000:
            await asyncio.gather(*pending)
            pending.clear()
    await asyncio.gather(*pending)


async def at_history(broker: TansuBroker, history: int) -> dict[str, float]:
    """With `history` events in the topic, the broker's CPU: ms per event sent alone, ms per event sent then
    fetched, and ms per second while a consumer waits at the tail with nothing sent."""
    assert broker.process is not None
    pid = broker.process.pid
    topic = f"history-{history}"
    admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, compression_type=COMPRESSION, linger_ms=1, acks="all")
    consumer = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap, fetch_max_wait_ms=100, enable_auto_commit=False)
    await producer.start()
    await consumer.start()
    try:
        await fill(producer, topic, max(history, 1))
        await consumer.topics()
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or {0})]
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)

        before = cpu_seconds(pid)
        for number in range(ROUNDS):
            await producer.send_and_wait(topic, event(number), key=str(number % 100).encode())
        sent = cpu_seconds(pid) - before

        await consumer.seek_to_end(*partitions)
        before, fetched = cpu_seconds(pid), 0
        for number in range(ROUNDS):
            await producer.send_and_wait(topic, event(number), key=str(number % 100).encode())
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                got = await consumer.getmany(timeout_ms=500)
                if got:
                    fetched += sum(len(records) for records in got.values())
                    break
        both = cpu_seconds(pid) - before

        await consumer.seek_to_end(*partitions)
        before, started = cpu_seconds(pid), time.monotonic()
        while time.monotonic() - started < IDLE_SECONDS:  # nothing sent: the consumer's fetches wait and end empty
            await consumer.getmany(timeout_ms=200)
        idle = (cpu_seconds(pid) - before) / (time.monotonic() - started)
    finally:
        await consumer.stop()
        await producer.stop()
    return {"send": sent / ROUNDS * 1000, "send_fetch": both / ROUNDS * 1000, "fetched": fetched, "idle": idle * 1000}


def main() -> None:
    broker = TansuBroker().start()
    figures: dict[int, dict[str, float]] = {}
    try:
        for history in HISTORY:
            print(f"filling a topic with {history} events, then {ROUNDS} events sent one at a time ...", flush=True)
            figures[history] = asyncio.run(at_history(broker, history))
    finally:
        broker.stop()
    base = figures[HISTORY[0]]
    print("broker CPU: ms per event sent; ms per event sent and fetched; ms per second with a consumer idle at the tail")
    print(f"{'history':>9}  {'send':>6}  {'ratio':>5}  {'send+fetch':>10}  {'ratio':>5}  {'idle':>6}  {'ratio':>5}  fetched")
    for history, f in figures.items():
        print(
            f"{history:>9}  {f['send']:>6.2f}  {f['send'] / base['send']:>5.2f}  "
            f"{f['send_fetch']:>10.2f}  {f['send_fetch'] / base['send_fetch']:>5.2f}  "
            f"{f['idle']:>6.1f}  {f['idle'] / max(base['idle'], 1e-9):>5.2f}  {f['fetched']:.0f}"
        )
