"""HIS bulk ingestion through the gateway, whole stack on this machine (issue #14, item 2).

Bulks of BULK_SIZE (500) exam results posted one after the other through the gateway, BENCH_BULK_RESULTS
results in all (default 20,000), on the embedded default (SQLite) and then with every service on PostgreSQL (a
throwaway cluster), each on a stack of its own started afresh (bench_clinical.started_stack). Measured:
results/s answered, and the CPU every process of the stack spent per result (read from /proc) until the
consumers have applied every event (the stack idle again): the work a result causes in scheduling and
reporting counts too.

Baseline in the same run: the same rows (one clinical_record + one clinical_record_version row per result)
inserted straight with asyncpg executemany, 1,000 rows a transaction (bench_clinical.asyncpg_baseline).

On SQLite, also the storage floor (`bench.storage_floor`): the CPU plain sqlite3 spends writing again the rows
the bulks added to each service's database, with the same schemas and indexes; the stack's CPU is reported as a
multiple of it.

Goals: stack CPU per bulk result <= 0.2 ms (so >= 10,000 results/s on this machine), and a rate >= 0.4 of
raw asyncpg executemany.
"""

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench import bench_clinical as clinical
from bench import storage_floor
from bench.common import record_goal, stack_directory
from bench.cpu import CpuMeter
from devstack.config import SERVICES
from devstack.stack import Stack
from servicekit.db import sqlite_file
from servicekit.embedded import PostgresCluster

BULK_SIZE = 500
RESULTS = int(os.environ.get("BENCH_BULK_RESULTS", "20000"))
SETTLE_TIMEOUT = 120.0
STACK_PROCESSES = ("gateway", "registry", "scheduling", "clinical", "reporting", "broker", "postgres")


def stack_cpu(spent: dict[str, float]) -> float:
    return sum(seconds for name, seconds in spent.items() if name in STACK_PROCESSES)


def post_bulks(his: httpx.Client, national_ids: list[str], prefix: str) -> dict[str, Any]:
    stored = 0
    latencies: list[float] = []
    started = time.monotonic()
    for batch in range(RESULTS // BULK_SIZE):
        items = [clinical.exam(national_ids[i % len(national_ids)], f"{prefix}-{batch:04d}-{i:04d}") for i in range(BULK_SIZE)]
        t0 = time.perf_counter()
        answer = his.post("/api/v1/clinical/his/records/bulk", json={"items": items})
        latencies.append(time.perf_counter() - t0)
        answer.raise_for_status()
        stored += answer.json()["counts"].get("created", 0)
    return {"results": stored, "seconds": time.monotonic() - started, "latencies": latencies}


def measure(stack: Stack, his: httpx.Client, national_ids: list[str], database: str, postgres: int | None) -> dict[str, Any]:
    pids = {name: process.pid for name, process in stack.processes.items()}
    if stack.broker.process is not None:
        pids["broker"] = stack.broker.process.pid
    meter = CpuMeter(pids, postgres)
    before = clinical.clinical_events_applied(stack)
    print(f"[{database}] {RESULTS // BULK_SIZE} bulks of {BULK_SIZE} through the gateway ...", flush=True)
    snapshots = snapshot_databases(stack) if postgres is None else {}
    profilers = profile(pids, database)
    try:
        meter.start()
        figures = post_bulks(his, national_ids, f"{database[:2].upper()}K")
        figures["settled"] = clinical.wait_until_applied(stack, before + 2 * figures["results"], SETTLE_TIMEOUT)
        figures["cpu"] = meter.spent()
    finally:
        for profiler in profilers:
            profiler.send_signal(signal.SIGINT)  # py-spy writes its profile on SIGINT
        for profiler in profilers:
            try:
                profiler.wait(60)
            except subprocess.TimeoutExpired:
                profiler.kill()
                profiler.wait()
    if snapshots:
        figures["floor"] = storage_floors(stack, snapshots)
    return figures


def snapshot_databases(stack: Stack) -> dict[str, Path]:
    """Every service's SQLite database as the bulks find it (in the stack's directory)."""
    copies = {}
    for service in SERVICES:
        copies[service] = stack.config.data_dir / f"floor-before-{service}.db"
        storage_floor.snapshot(sqlite_path(stack, service), copies[service])
    return copies


def storage_floors(stack: Stack, snapshots: dict[str, Path]) -> dict[str, storage_floor.Floor]:
    """Each service's storage floor for the rows the bulks added (measured in this process, after the bulks)."""
    floors = {}
    for service, before in snapshots.items():
        after = before.with_name(f"floor-after-{service}.db")
        storage_floor.snapshot(sqlite_path(stack, service), after)
        floors[service] = storage_floor.replay(before, storage_floor.rows_added(before, after), RESULTS // BULK_SIZE)
    return floors


def sqlite_path(stack: Stack, service: str) -> Path:
    return Path(sqlite_file(clinical.database_url(stack, service)))


def profile(pids: dict[str, int], database: str) -> list[subprocess.Popen[bytes]]:
    """With BENCH_BULK_PROFILE=<directory>: py-spy samples every service while the bulks run (raw stacks)."""
    directory = os.environ.get("BENCH_BULK_PROFILE")
    if not directory:
        return []
    spy = str(Path(sys.executable).parent / "py-spy")
    started: list[subprocess.Popen[bytes]] = []
    try:
        for name in ("gateway", "clinical", "scheduling", "reporting"):
            out = Path(directory) / f"{database}-{name}.txt"
            command = [spy, "record", "-p", str(pids[name]), "-o", str(out), "-f", "raw", "-r", "200", "--nonblocking"]
            started.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    except BaseException:
        for profiler in started:  # the ones already sampling stop with the failure
            profiler.kill()
            profiler.wait()
        raise
    return started


def report(database: str, figures: dict[str, Any], baseline: dict[str, float]) -> None:
    results = max(figures["results"], 1)
    rate = figures["results"] / figures["seconds"]
    cpu = {name: seconds for name, seconds in figures["cpu"].items() if seconds > 0}
    per = ", ".join(f"{name} {seconds / results * 1000:.3f}" for name, seconds in sorted(cpu.items(), key=lambda kv: -kv[1]))
    total = stack_cpu(cpu) / results * 1000
    samples = figures["latencies"]  # a percentile only from >= 50 bulks
    p50 = f"; bulk p50 {clinical.percentile(samples, 50):.0f} ms over {len(samples)} bulks" if len(samples) >= 50 else ""
    print(f"  [{database}] {figures['results']} results in {figures['seconds']:.1f} s: {rate:.0f} results/s answered,"
          f" consumers done {figures['settled']:.1f} s after the last bulk{p50}")  # fmt: skip
    print(f"      CPU ms per result: {per}; stack {total:.3f}")
    floor = report_floor(figures.get("floor"), results)
    record_goal(
        "clinical_bulk",
        f"bulk stack CPU per result, on {database}",
        "<= 0.2 ms",
        f"{total:.3f} ms",
        met=total <= 0.2,
        ratio=f"{total / floor:.1f} x the storage floor {floor:.3f} ms" if floor else "",
    )
    ratio = rate / baseline["rate"]
    record_goal(
        "clinical_bulk",
        f"bulk results/s through the gateway, on {database}",
        ">= 10,000/s and >= 0.4 of raw asyncpg",
        f"{rate:.0f}/s",
        met=rate >= 10_000 and ratio >= 0.4,
        ratio=f"{ratio:.3f} of asyncpg executemany {baseline['rate']:.0f}/s",
    )


def report_floor(floors: dict[str, storage_floor.Floor] | None, results: int) -> float:
    """Print the storage floor per service and its costliest tables; the stack's floor in ms per result."""
    if not floors:
        return 0.0
    for service, floor in floors.items():
        if not floor.rows:
            continue
        costliest = ", ".join(
            f"{table} {seconds / results * 1000:.3f} ({floor.rows[table] / results:g} rows)"
            if table in floor.rows
            else f"{table} {seconds / results * 1000:.3f}"
            for table, seconds in floor.costliest(4)
        )
        print(f"      storage floor, {service}: {floor.total / results * 1000:.3f} ms per result ({costliest})")
    total = sum(floor.total for floor in floors.values()) / results * 1000
    print(f"      storage floor of the stack (plain sqlite3, same schemas and indexes): {total:.3f} ms per result")
    return total


def main() -> None:
    figures: dict[str, dict[str, Any]] = {}
    with stack_directory("bench-clinical-bulk-sqlite-") as directory:
        figures["SQLite"] = measure_on(directory, "SQLite", None)
    if os.environ.get("BENCH_BULK_SQLITE_ONLY") != "1":
        cluster = PostgresCluster()
        try:
            cluster.start()
            with stack_directory("bench-clinical-bulk-postgresql-") as directory:
                figures["PostgreSQL"] = measure_on(directory, "PostgreSQL", cluster)
        finally:
            cluster.stop()
    baseline = asyncio.run(clinical.asyncpg_baseline(max(RESULTS, 10_000)))
    print(f"baseline raw asyncpg executemany, PostgreSQL (fsync off): {baseline['rate']:.0f} results/s")
    for database, numbers in figures.items():
        report(database, numbers, baseline)


def measure_on(directory: Path, database: str, cluster: PostgresCluster | None) -> dict[str, Any]:
    """One phase on a stack of its own, as in bench clinical: the PostgreSQL phase inherits no events or facts."""
    with clinical.started_stack(directory, database, cluster) as (stack, his, national_ids):
        postmaster = None if cluster is None else cluster.postmaster_pid
        return measure(stack, his, national_ids, database, postmaster)
