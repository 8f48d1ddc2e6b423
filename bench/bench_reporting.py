"""Reporting at national scale on PostgreSQL: dashboard query latency (province and national), a province's
six-monthly report, the national roll-up, projection lag while ingesting 500 events/s, and rebuild speed.

Read models are bulk-loaded (COPY) with synthetic national data: 300,000 cadres in 63 provinces (about
ten districts each) with five years of intervals, invitations and clinical records. Sizes can be changed
with BENCH_REPORTING_CADRES / BENCH_REPORTING_RECORDS / BENCH_REPORTING_INVITATIONS. Baseline in the
same run: the foundation's one-table count (`/cadre-counts` query) on the same data.

Lag: events are produced to a real (embedded Tansu) broker at a fixed rate while the consumer runs;
lag = processed_events.processed_at (written in the consumer's transaction) - the producer's send time.
Rebuild: the replayed history here is the lag run's events plus BENCH_REPORTING_REBUILD_EXTRA more (50,000
in all by default; the bulk-loaded rows are not events), replayed into emptied read models (the bulk-loaded
rows are emptied too); the rate it gives is what a full rebuild would run at, and the report states the
extrapolation to the national history as such.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import asyncpg

from bench.common import percentile
from bench.reporting_data import CADRES, INVITATIONS, PROVINCES, RECORDS, load, province
from contracts.api.reporting import ReportKind, UnitBasis
from contracts.enums import Action, CadreStatus, EncounterKind, ManagementTier, Sex
from contracts.envelope import EventEnvelope
from contracts.events.clinical import ClinicalRecordRecorded, RecordSummary
from contracts.events.registry import CadreRegistered, CadreSnapshot
from contracts.scope import Grant, Principal, PrincipalKind
from contracts.topics import topic_of
from reporting.board_reports import service as reports
from reporting.dashboard import service
from reporting.projections import build_consumers
from reporting.rebuild.service import end_offsets, rebuild
from reporting.rollup import service as rollup
from servicekit import migrations
from servicekit.broker import Broker
from servicekit.db import Database
from servicekit.embedded import PostgresCluster, TansuBroker

LAG_RATE, LAG_SECONDS = 500, 10
REBUILD_EXTRA = int(os.environ.get("BENCH_REPORTING_REBUILD_EXTRA", 45_000))
ADMIN = Principal(
    subject="bench",
    kind=PrincipalKind.ADMIN,
    permissions=frozenset({"reporting.read"}),
    grants=(Grant(unit_path="VN", tiers=frozenset(ManagementTier), actions=frozenset({Action.READ, Action.AGGREGATE})),),
)


async def timed(db: Database, work: Callable[[Any], Awaitable[Any]], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        async with db.transaction() as session:
            started = time.perf_counter()
            await work(session)
            times.append((time.perf_counter() - started) * 1000)
    return times


def show(name: str, times: list[float], target: str = "") -> None:
    print(
        f"{name:<44} n={len(times):<3} p50={statistics.median(times):8.1f} ms  p95={percentile(times, 95):8.1f} ms"
        + (f"   (target {target})" if target else ""),
        flush=True,
    )


async def queries(db: Database) -> None:
    start, end = date(2023, 1, 1), date(2023, 6, 30)
    rng = random.Random(7)
    baseline = await timed(db, lambda s: service.cadre_counts(s, ADMIN, province(rng.randrange(PROVINCES)), 10), 20)
    show("baseline: /cadre-counts (one table, province)", baseline)
    provincial = await timed(db, lambda s: service.dashboard(s, ADMIN, province(rng.randrange(PROVINCES)), start, end, 10), 20)
    show("province dashboard /summary", provincial, "p95 <= 100 ms")
    national = await timed(db, lambda s: service.dashboard(s, ADMIN, "VN", start, end, 10), 4)
    show("national dashboard /summary", national, "p95 <= 300 ms")
    report = await timed(
        db, lambda s: reports.board_report(s, ADMIN, province(rng.randrange(PROVINCES)), ReportKind.SIX_MONTHLY, start, end), 8
    )
    show("province six-monthly report (JSON)", report, "<= 1 s")
    roll = await timed(db, lambda s: rollup.rollup(s, ADMIN, start, end, UnitBasis.AS_THEN, 10), 3)
    show("national roll-up by province", roll)
    print(
        f"ratios to baseline p95: province {percentile(provincial, 95) / percentile(baseline, 95):.1f}x, "
        f"national {percentile(national, 95) / percentile(baseline, 95):.1f}x",
        flush=True,
    )


def event_stream(rng: random.Random, count: int) -> list[tuple[Any, str, str, ManagementTier]]:
    """New cadres and their records, as the registry and clinical would publish them (1 cadre : 4 records)."""
    events: list[tuple[Any, str, str, ManagementTier]] = []
    cadre: CadreSnapshot | None = None
    while len(events) < count:
        if cadre is None or rng.random() < 0.2:
            tier = rng.choice([ManagementTier.PROVINCIAL_2, ManagementTier.PROVINCIAL_3])
            unit = province(rng.randrange(PROVINCES))
            cadre = CadreSnapshot(
                id=uuid.uuid4(),
                full_name="x",
                date_of_birth=date(1960, 1, 1),
                sex=Sex.MALE,
                national_id="000000000000",
                tier=tier,
                status=CadreStatus.RETIRED,
                status_since=date(2020, 1, 1),
                managing_unit=unit,
            )
            events.append((CadreRegistered(cadre=cadre), str(cadre.id), unit, tier))
            continue
        summary = RecordSummary(
            record_id=uuid.uuid4(),
            version=1,
            kind=EncounterKind.OUTPATIENT_VISIT,
            cadre_id=cadre.id,
            facility="F",
            external_id="x",
            occurred_on=date(2023, 5, 1),
            diagnoses=["I10"],
        )
        events.append((ClinicalRecordRecorded(record=summary), str(cadre.id), cadre.managing_unit, cadre.tier))
    return events


async def lag_and_rebuild(db: Database, pg: asyncpg.Connection, bootstrap: str) -> None:
    broker = Broker(bootstrap, client_id="bench-reporting")
    consumers = build_consumers(db, broker)
    producer = await broker.producer()
    await end_offsets(broker, consumers[0].topics)
    tasks = [asyncio.create_task(c.run()) for c in consumers]
    events = event_stream(random.Random(11), LAG_RATE * LAG_SECONDS)
    sent_at: dict[str, float] = {}
    started = time.monotonic()
    for i, (event, key, unit, tier) in enumerate(events):
        due = started + i / LAG_RATE
        if (pause := due - time.monotonic()) > 0:
            await asyncio.sleep(pause)
        envelope = EventEnvelope.wrap(event, source="bench", subject=key, managing_unit=unit, tier=tier)
        sent_at[str(envelope.id)] = time.time()
        await producer.send(
            topic_of(type(event)).name, value=envelope.payload_bytes(), key=key.encode(), headers=envelope.to_kafka_headers()
        )
    produced_in = time.monotonic() - started
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        done = await pg.fetchval("SELECT count(*) FROM processed_events")
        if done >= len(events):
            break
        await asyncio.sleep(0.5)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    rows = await pg.fetch("SELECT event_id, processed_at FROM processed_events")
    lags = [(row["processed_at"].timestamp() - sent_at[row["event_id"]]) * 1000 for row in rows if row["event_id"] in sent_at]
    print(
        f"projection lag at {len(events) / produced_in:.0f} events/s for {produced_in:.1f}s: applied {len(lags)}/{len(events)}, "
        f"p50={percentile(lags, 50):.0f} ms p99={percentile(lags, 99):.0f} ms max={max(lags):.0f} ms   (target p99 <= 1000 ms)",
        flush=True,
    )
    # more history to replay than the lag run's 5,000 events, so that start-up does not dominate the rate
    extra = event_stream(random.Random(12), REBUILD_EXTRA)
    acks = []
    for event, key, unit, tier in extra:
        envelope = EventEnvelope.wrap(event, source="bench", subject=key, managing_unit=unit, tier=tier)
        acks.append(
            await producer.send(
                topic_of(type(event)).name, value=envelope.payload_bytes(), key=key.encode(), headers=envelope.to_kafka_headers()
            )
        )
    for ack in acks:
        await ack
    result = await rebuild(db, broker, timeout=600)
    rate = result.events_applied / result.seconds
    national_events = CADRES + RECORDS + 2 * INVITATIONS
    print(
        f"rebuild: {result.events_applied} events replayed into emptied read models in {result.seconds:.1f}s "
        f"= {rate:.0f} events/s; at that rate the national history of this run ({national_events:,} events) "
        f"would take ~{national_events / rate / 60:.0f} min "
        "(extrapolated, not measured; target <= 10 min)",
        flush=True,
    )
    await broker.close()


async def run() -> None:
    cluster = PostgresCluster().start()
    kafka = TansuBroker().start()
    try:
        admin = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{cluster.port}/postgres")
        await admin.execute('CREATE DATABASE "reporting"')
        await admin.close()
        url = cluster.url("reporting")
        await asyncio.to_thread(migrations.upgrade, "reporting", url)
        pg = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{cluster.port}/reporting")
        started = time.monotonic()
        sizes = await load(pg, random.Random(2023))
        print(f"loaded {sizes} in {time.monotonic() - started:.0f}s (PostgreSQL 15, fsync off, this 2-core machine)", flush=True)
        db = Database(url)
        try:
            await queries(db)
            await lag_and_rebuild(db, pg, kafka.bootstrap)
        finally:
            await db.dispose()
            await pg.close()
    finally:
        kafka.stop()
        cluster.stop()


def main() -> None:
    asyncio.run(run())
