"""Resident memory of the embedded stack (`make run`: the Tansu broker and the five processes) as cadre events
pass through it: goal <= 1 GiB whatever the history (issue #14, item 5: after 1,000,000 events).

BENCH_MEMORY_EVENTS (default 200,000, about two minutes; the goal's 1,000,000 takes about an hour here; from
50,000 the services' warm-up, some 20 MiB, weighed on the fitted growth so much that the projection swung
around the goal from run to run: 1,023 and 1,040 MiB, against 821 MiB from 200,000) CadreRegistered events are
produced straight to the broker, in batches, with the client settings the services' outbox relays use
(servicekit.broker.Broker), as the registry would publish them after a bulk import. Four services consume that
topic (clinical, gateway, reporting, scheduling); the bench waits until each has applied every event, reading
their stored positions, and records VmRSS of every process at ten checkpoints. The growth per event, fitted over
the checkpoints, gives the projection to 1,000,000 when fewer were sent.
"""

import asyncio
import json
import os
import sqlite3
import tempfile
import time
import uuid
from contextlib import closing
from datetime import date
from pathlib import Path

from bench.common import record_goal
from contracts.enums import CadreStatus, ManagementTier, Sex
from contracts.envelope import EventEnvelope
from contracts.events.registry import CadreRegistered, CadreSnapshot
from contracts.topics import CADRES
from devstack import demo
from devstack.config import StackConfig
from devstack.stack import Stack
from servicekit.broker import COMPRESSION, Broker, Compression
from servicekit.embedded import TansuBroker

EVENTS = int(os.environ.get("BENCH_MEMORY_EVENTS", "200000"))
BROKER_EVENTS = int(os.environ.get("BENCH_MEMORY_BROKER_EVENTS", "1000000"))
BROKER_PLAIN_EVENTS = 100_000
GOAL_EVENTS = 1_000_000
GOAL_MIB = 1024.0
BATCH = 500
CHECKPOINTS = 10
CONSUMERS = ("clinical", "gateway", "reporting", "scheduling")  # the services whose databases keep a cadres position
UNITS = ("VN.68", "VN.68.672", "VN.68.675", "VN.68.677")


def rss_mib(stack: Stack) -> dict[str, float]:
    """VmRSS of each process of the stack, in MiB."""
    pids = {name: process.pid for name, process in stack.processes.items()}
    if stack.broker.process is not None:
        pids["broker"] = stack.broker.process.pid
    found = {}
    for name, pid in pids.items():
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                found[name] = int(line.split()[1]) / 1024
    return found


def applied(data_dir: Path) -> dict[str, int]:
    """Events of the cadres topic each consumer has moved past (its stored positions, summed over partitions)."""
    done = {}
    for service in CONSUMERS:
        with closing(sqlite3.connect(data_dir / f"{service}.db")) as db:
            row = db.execute("SELECT coalesce(sum(next_offset), 0) FROM consumer_positions WHERE topic = ?", (CADRES.name,))
            done[service] = int(row.fetchone()[0])
    return done


def template(unit: str) -> EventEnvelope:
    snapshot = CadreSnapshot(
        id=uuid.uuid4(),
        full_name="Nguyễn Văn Bench",
        date_of_birth=date(1950, 1, 1),
        sex=Sex.MALE,
        national_id="068050000000",
        tier=ManagementTier.DISTRICT if unit.count(".") == 2 else ManagementTier.PROVINCIAL_2,
        status=CadreStatus.RETIRED,
        status_since=date(2020, 1, 1),
        managing_unit=unit,
        position="Nguyên Phó Chủ tịch UBND huyện",
    )
    return EventEnvelope.wrap(
        CadreRegistered(cadre=snapshot), source="registry", subject=str(snapshot.id), managing_unit=unit, tier=snapshot.tier
    )


TEMPLATES = [template(unit) for unit in UNITS]
Message = tuple[bytes, bytes, list[tuple[str, bytes]]]


def message(serial: int) -> Message:
    """Value, key and headers of event `serial`: a template's with its own ids (a pydantic round per event would
    make the producer, not the stack, the bottleneck of a million)."""
    base = TEMPLATES[serial % len(TEMPLATES)]
    cadre_id, event_id = str(uuid.uuid4()), str(uuid.uuid4())
    born = date(1950 + serial % 15, 1 + serial % 12, 1 + serial % 28)
    cadre = {**base.data["cadre"], "id": cadre_id, "national_id": f"068{serial % 10**9:09d}", "date_of_birth": born.isoformat()}
    value = json.dumps({**base.data, "cadre": cadre}, ensure_ascii=False, separators=(",", ":")).encode()
    replaced = {"ce_id": event_id.encode(), "ce_subject": cadre_id.encode()}
    return value, cadre_id.encode(), [(name, replaced.get(name, raw)) for name, raw in base.to_kafka_headers()]


async def produce(bootstrap: str, first: int, count: int, compression: Compression | None = COMPRESSION) -> None:
    """`count` events, BATCH at a time, each batch acknowledged before the next (as a relay sends the rows it read)."""
    broker = Broker(bootstrap, client_id="bench-memory", compression=compression)
    try:
        producer = await broker.producer()
        for start in range(first, first + count, BATCH):
            batch = [message(serial) for serial in range(start, min(start + BATCH, first + count))]
            acks = [await producer.send(CADRES.name, value=value, key=key, headers=headers) for value, key, headers in batch]
            await asyncio.gather(*acks)
    finally:
        await broker.close()


def wait_applied(stack: Stack, expected: int, timeout: float) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while True:
        stack.check_alive()
        done = applied(stack.config.data_dir)
        if min(done.values()) >= expected or time.monotonic() > deadline:
            return done
        time.sleep(1)


def growth_per_event(points: list[tuple[int, float]]) -> float:
    """MiB per event, least squares over the checkpoints after the first (start-up allocations excluded)."""
    used = points[1:] if len(points) > 2 else points
    mean_x = sum(x for x, _ in used) / len(used)
    mean_y = sum(y for _, y in used) / len(used)
    spread = sum((x - mean_x) ** 2 for x, _ in used)
    return sum((x - mean_x) * (y - mean_y) for x, y in used) / spread if spread else 0.0


def run(stack: Stack) -> None:
    step = max(BATCH, EVENTS // CHECKPOINTS)
    sent = 0
    started = time.monotonic()
    points: list[tuple[int, float]] = []
    print(f"  {'events':>9} {'total MiB':>9}  per process MiB")
    while sent < EVENTS:
        count = min(step, EVENTS - sent)
        asyncio.run(produce(stack.config.kafka_bootstrap, sent, count))
        sent += count
        done = wait_applied(stack, sent, timeout=max(120.0, count / 20))
        if min(done.values()) < sent:
            raise RuntimeError(f"consumers still behind after {sent} events: {done}")
        memory = rss_mib(stack)
        points.append((sent, sum(memory.values())))
        print(f"  {sent:9d} {points[-1][1]:9.0f}  " + ", ".join(f"{n} {m:.0f}" for n, m in sorted(memory.items())), flush=True)
    elapsed = time.monotonic() - started
    total = points[-1][1]
    slope = growth_per_event(points)
    late = growth_per_event(points[len(points) // 2 - 1 :]) if len(points) >= 4 else slope
    projected = total + slope * (GOAL_EVENTS - sent)
    print(f"  {sent} events applied by all four consumers in {elapsed:.0f} s ({sent / elapsed:.0f}/s)")
    measured = sent >= GOAL_EVENTS
    figure = (
        f"{total:.0f} MiB after {sent:,} events"
        if measured
        else f"{projected:.0f} MiB projected ({total:.0f} MiB after {sent:,} events, +{slope * 1024 * 1024:.0f} B/event)"
    )
    record_goal(
        "memory",
        f"RSS of the embedded stack after {GOAL_EVENTS:,} events",
        f"<= {GOAL_MIB:.0f} MiB",
        figure,
        met=(total if measured else projected) <= GOAL_MIB,
        ratio=f"broker {rss_mib(stack).get('broker', 0.0):.0f} MiB of it; second half +{late * 1024 * 1024:.0f} B/event",
    )


def broker_alone(count: int, compression: Compression | None) -> float:
    """MiB the broker's resident memory grows by holding `count` events (a broker of its own, nothing consuming)."""
    broker = TansuBroker()
    try:
        broker.start()
        assert broker.process is not None
        before = _vm_rss_mib(broker.process.pid)
        asyncio.run(produce(broker.bootstrap, 0, count, compression))
        return _vm_rss_mib(broker.process.pid) - before
    finally:
        broker.stop()


def _vm_rss_mib(pid: int) -> float:
    line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def broker_figures() -> None:
    """The broker's share at the goal's count, produced straight to it, and plain batches in the same run."""
    plain = broker_alone(BROKER_PLAIN_EVENTS, None) / BROKER_PLAIN_EVENTS
    started = time.monotonic()
    grown = broker_alone(BROKER_EVENTS, COMPRESSION)
    print(f"  broker alone: {BROKER_EVENTS:,} {COMPRESSION} events in {time.monotonic() - started:.0f} s")
    per_event = grown / BROKER_EVENTS
    record_goal(
        "memory",
        f"broker RSS growth for {BROKER_EVENTS:,} events (relay batches of {BATCH})",
        "<= 256 MiB (a quarter of the stack's GiB)",
        f"{grown:.0f} MiB ({per_event * 1024 * 1024:.0f} B/event {COMPRESSION})",
        met=grown <= GOAL_MIB / 4,
        ratio=f"x{per_event / plain:.2f} of plain batches ({plain * 1024 * 1024:.0f} B/event)",
    )


def main() -> None:
    broker_figures()
    with tempfile.TemporaryDirectory(prefix="cadrecare-bench-memory-") as scratch:
        data_dir = Path(scratch)
        demo.ensure_demo_principals(data_dir / "gateway" / "principals.json")
        stack = Stack(StackConfig.on_free_ports(data_dir))
        try:
            stack.start(timeout=120)
            print(f"  after start: {sum(rss_mib(stack).values()):.0f} MiB")
            run(stack)
        finally:
            stack.stop()
