"""Reporting at national scale on PostgreSQL: dashboard query latency (province and national), a province's
six-monthly report, the national roll-up, projection lag while ingesting 500 events/s, and rebuild speed.

Read models are bulk-loaded (COPY) with synthetic national data: 300,000 cadres in 63 provinces (about
ten districts each) with five years of intervals, invitations and clinical records. Sizes can be changed
with BENCH_REPORTING_CADRES / BENCH_REPORTING_RECORDS / BENCH_REPORTING_INVITATIONS. Baseline in the
same run: the foundation's one-table count (`/cadre-counts` query) on the same data.

Lag: events are produced to a real (embedded Tansu) broker at a fixed rate while the consumer runs;
lag = processed_events.processed_at (written in the consumer's transaction) - the producer's send time.
Rebuild: the loaded national history is published as the events it stands for (`bench.reporting_history`:
units, plans, cadres registered and retired, invitations and their outcome, records) to the embedded broker,
which keeps it in memory, and `reporting.rebuild` empties the read models (the bulk-loaded rows and their
pre-aggregates too) and replays every topic: the time is measured at that scale, not extrapolated
(BENCH_REPORTING_REBUILD=0 leaves it out; BENCH_REPORTING_QUERIES=0 the query figures).
National figures read the pre-aggregates kept by the projections (`reporting.preaggregates`), filled here
after the bulk load as the projections would have kept them.
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
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import text

from bench.common import percentile, record_goal
from bench.cpu import CpuMeter
from bench.reporting_data import CADRES, PROVINCES, RECORDS, Loaded, load, province
from bench.reporting_history import publish
from contracts.api.reporting import ReportKind, UnitBasis
from contracts.enums import Action, CadreStatus, EncounterKind, ManagementTier, Sex
from contracts.envelope import EventEnvelope
from contracts.events.clinical import ClinicalRecordRecorded, RecordSummary
from contracts.events.registry import CadreRegistered, CadreSnapshot
from contracts.scope import Grant, Principal, PrincipalKind
from contracts.topics import topic_of
from reporting.board_reports import service as reports
from reporting.dashboard import service
from reporting.preaggregates import refill
from reporting.projections import build_consumers
from reporting.rebuild.service import end_offsets, rebuild
from reporting.rollup import service as rollup
from servicekit import migrations
from servicekit.app import settle_garbage_collector
from servicekit.broker import Broker
from servicekit.db import Database
from servicekit.embedded import PostgresCluster, TansuBroker

LAG_RATE, LAG_SECONDS = 500, 10
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


QUERIES = os.environ.get("BENCH_REPORTING_QUERIES", "1") != "0"  # 0: the lag and rebuild figures only
REBUILD = os.environ.get("BENCH_REPORTING_REBUILD", "1") != "0"  # 0: the query and lag figures only
SAMPLES = int(os.environ.get("BENCH_REPORTING_SAMPLES", 50))  # percentiles from at least 50 samples


async def measured(db: Database, meter: CpuMeter, work: Callable[[Any], Awaitable[Any]], runs: int) -> tuple[list[float], float]:
    """(milliseconds of each run, CPU milliseconds per run of this process and PostgreSQL's backends)."""
    meter.start()
    times = await timed(db, work, runs)
    return times, sum(meter.spent().values()) * 1000 / runs


async def queries(db: Database, meter: CpuMeter) -> None:
    start, end = date(2023, 1, 1), date(2023, 6, 30)
    rng = random.Random(7)
    baseline, base_cpu = await measured(
        db, meter, lambda s: service.cadre_counts(s, ADMIN, province(rng.randrange(PROVINCES)), 10), SAMPLES
    )
    show("baseline: /cadre-counts (one table, province)", baseline)
    provincial, _ = await measured(
        db, meter, lambda s: service.dashboard(s, ADMIN, province(rng.randrange(PROVINCES)), start, end, 10), 20
    )
    show("province dashboard /summary", provincial, "p95 <= 100 ms")
    national, national_cpu = await measured(db, meter, lambda s: service.dashboard(s, ADMIN, "VN", start, end, 10), SAMPLES)
    show("national dashboard /summary", national, "p95 <= 300 ms")
    report = await timed(
        db, lambda s: reports.board_report(s, ADMIN, province(rng.randrange(PROVINCES)), ReportKind.SIX_MONTHLY, start, end), 8
    )
    show("province six-monthly report (JSON)", report, "<= 1 s")
    roll, roll_cpu = await measured(db, meter, lambda s: rollup.rollup(s, ADMIN, start, end, UnitBasis.AS_THEN, 10), SAMPLES)
    show("national roll-up by province", roll, "p95 <= 300 ms")
    base = percentile(baseline, 95)
    for measure, times, cpu in (("national dashboard p95", national, national_cpu), ("national roll-up p95", roll, roll_cpu)):
        p95 = percentile(times, 95)
        record_goal(
            "reporting",
            f"{measure} ({CADRES:,} cadres, {RECORDS:,} records, PostgreSQL)",
            "<= 300 ms",
            f"{p95:.0f} ms (CPU {cpu:.0f} ms/request)",
            met=p95 <= 300,
            ratio=f"{p95 / base:.1f}x baseline p95 {base:.1f} ms; CPU {cpu / base_cpu:.1f}x baseline {base_cpu:.1f} ms/request",
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


async def lag_and_rebuild(db: Database, pg: asyncpg.Connection, bootstrap: str, loaded: Loaded) -> None:
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
    if REBUILD:
        await rebuild_at_scale(db, broker, loaded)
    await broker.close()


async def rebuild_at_scale(db: Database, broker: Broker, loaded: Loaded) -> None:
    """The whole national history published as events (plus the lag run's), then replayed into emptied read
    models by `reporting.rebuild`: measured, not extrapolated."""
    events, seconds = await publish(broker, loaded)
    print(f"published the national history: {events:,} events in {seconds:.0f}s ({events / seconds:.0f}/s)", flush=True)
    # What the bench holds (the loaded country, ~2 GiB of objects) out of the collector's sight, as the rebuild's own
    # process holds none of it (`python -m reporting.rebuild` settles its collector the same way): else each full
    # collection during the replay walks it again, a cost of the bench, not of the rebuild
    settle_garbage_collector()
    async with db.transaction() as session:  # the cluster's postmaster: its backends' CPU is PostgreSQL's share
        backend = int(await session.scalar(text("SELECT pg_backend_pid()")) or 0)
    stat = await asyncio.to_thread(Path(f"/proc/{backend}/stat").read_text)
    meter = CpuMeter({}, postgres=int(stat.rsplit(")", 1)[1].split()[1]))
    meter.start()
    load_before = os.getloadavg()[0]
    result = await rebuild(db, broker, timeout=float(os.environ.get("BENCH_REPORTING_REBUILD_TIMEOUT", 3600)))
    spent = meter.spent()
    per_event = {name: seconds * 1e6 / result.events_applied for name, seconds in spent.items()}
    rate = result.events_applied / result.seconds
    print(
        f"rebuild: {result.events_applied:,} events in {result.seconds:.1f}s ({rate:.0f}/s); CPU us/event: consumer "
        f"{per_event.get('load generator', 0):.0f}, PostgreSQL {per_event.get('postgres', 0):.0f}; "
        f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after",
        flush=True,
    )
    cpu = spent.get("load generator", 0.0)
    record_goal(
        "reporting",
        f"rebuild from the event history ({result.events_applied:,} events: {CADRES:,} cadres, {RECORDS:,} records)",
        "<= 10 min",
        f"{result.seconds / 60:.1f} min measured ({rate:.0f} events/s; "
        f"consumer CPU {cpu * 1e6 / result.events_applied:.0f} us/event)",
        met=result.seconds <= 600,
        ratio=f"{result.seconds / 600:.2f}x the 10 min goal",
    )


async def run() -> None:
    cluster = PostgresCluster().start()
    kafka = TansuBroker().start()
    try:
        url = cluster.create_database("reporting")
        await asyncio.to_thread(migrations.upgrade, "reporting", url)
        pg = await asyncpg.connect(cluster.dsn("reporting"))
        started = time.monotonic()
        loaded = await load(pg, random.Random(2023))
        db = Database(url)
        async with db.transaction() as session:  # the pre-aggregates, as the projections would have kept them
            await session.run_sync(lambda sync: refill(sync))
        for table in ("recordmonthcount", "invitationmonthcount", "headcounttotal", "headcountstep"):
            await pg.execute(f"VACUUM ANALYZE {table}")
        print(
            f"loaded {loaded.sizes} in {time.monotonic() - started:.0f}s (PostgreSQL 15, fsync off, this 2-core machine)",
            flush=True,
        )
        postmaster = cluster.postmaster_pid
        try:
            if QUERIES:
                await queries(db, CpuMeter({}, postgres=postmaster))
            await lag_and_rebuild(db, pg, kafka.bootstrap, loaded)
        finally:
            await db.dispose()
            await pg.close()
    finally:
        kafka.stop()
        cluster.stop()


def main() -> None:
    asyncio.run(run())
