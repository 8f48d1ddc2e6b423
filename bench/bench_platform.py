"""The foundation's figures: event lag (registry commit -> applied in reporting), resident memory of
the whole embedded stack (SQLite, Tansu), and time from launch to every /readyz green.

Lag is read from the databases themselves: the registry's outbox row time (written in the transaction that
commits the cadre, so lag is counted from a little before the commit) against the reporting consumer's
processed_events time for the same event id (written in the transaction that applies it). The relay's share
is the row's sent_at (the whole relay batch acknowledged by the broker, then marked): the rest is the broker
and the consumer. Goals (issue #14, item 4): lag p99 <= 500 ms at 500 events/s and at the highest rate of
single POSTs reached (cadres posted one per request by SINGLE_CLIENTS callers). The 500 events/s come as
boards import their lists, paced: a list of LOADED_RATE * PACE_SECONDS cadres every PACE_SECONDS (a list of
500 once a second measures the wait behind its own batch, not the pipeline). Stack CPU per event is read
from /proc over each phase. The cadres are provincial (VN.68): since 1 July 2025 no board manages the
district tier.
"""

import asyncio
import json
import os
import sqlite3
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench import load_client
from bench.common import CAPACITY_ENV, percentile, record_goal
from bench.cpu import CpuMeter
from contracts.topics import CADRES
from devstack import demo
from devstack.config import StackConfig
from devstack.stack import Stack

IDLE_EVENTS = 60
LOADED_RATE = int(os.environ.get("BENCH_LAG_RATE", "500"))  # events per second
LOADED_SECONDS = int(os.environ.get("BENCH_LAG_SECONDS", "15"))
PACE_SECONDS = 0.1  # one list of LOADED_RATE * PACE_SECONDS cadres imported this often
SINGLE_CLIENTS = 16  # single POSTs as fast as they go: this many callers, each posting again once answered
GOAL_LAG_P99_MS = 500
CSV_FIELDS = ("full_name", "date_of_birth", "sex", "national_id", "tier", "managing_unit", "status")


_serial = iter(range(10**6))


def cadre() -> dict[str, object]:
    return {
        "full_name": "Phạm Văn Đo",
        "date_of_birth": "1961-02-03",
        "sex": "male",
        "national_id": f"068061{next(_serial):06d}",
        "tier": "provincial_2",
        "managing_unit": "VN.68",
        "status": "retired",
    }


async def post_as_fast_as_they_go(client: httpx.AsyncClient, seconds: float) -> int:
    """SINGLE_CLIENTS callers posting one cadre each, again as soon as answered, for `seconds`: the highest
    rate the stack reaches (asking a fixed rate above it would only queue requests in the client). They post
    with bench.load_client: httpx's own CPU, on the same two cores, bounded the rate it measured."""
    deadline = time.monotonic() + seconds
    sent = 0
    base, headers = str(client.base_url), {"authorization": client.headers["authorization"]}

    async def caller() -> None:
        nonlocal sent
        connection = load_client.Connection(base, headers)
        try:
            while time.monotonic() < deadline:
                answer = await connection.post("/api/v1/registry/cadres", json.dumps(cadre()).encode())
                assert answer.status == 201, answer.body[:500]
                sent += 1
        finally:
            await connection.close()

    await asyncio.gather(*(caller() for _ in range(SINGLE_CLIENTS)))
    return sent


@dataclass(frozen=True)
class Lag:
    """One event's lag in ms: outbox row written -> applied in reporting, and the relay's share of it."""

    total: float
    relay: float  # written -> marked sent (after the broker acknowledged the relay's whole batch)


def lags(data_dir: Path, since: datetime, kind: str = "") -> list[Lag]:
    """Per event of the registry's cadre topic (whose type contains `kind`): commit to applied in reporting."""
    with closing(sqlite3.connect(data_dir / "registry.db")) as registry:
        rows = registry.execute("SELECT event_id, created_at, sent_at, headers FROM outbox WHERE topic = ?", (CADRES.name,))
        committed = {event_id: (created, sent) for event_id, created, sent, headers in rows if kind in headers}
    with closing(sqlite3.connect(data_dir / "reporting.db")) as reporting:
        applied = dict(
            reporting.execute("SELECT event_id, processed_at FROM processed_events WHERE consumer = 'reporting-cadres'")
        )
    result = []
    for event_id, (created, sent) in committed.items():
        created_at = _utc(created)
        if event_id in applied and sent is not None and created_at >= since:
            total = (_utc(applied[event_id]) - created_at).total_seconds() * 1000
            result.append(Lag(total, (_utc(sent) - created_at).total_seconds() * 1000))
    return result


def _utc(stored: str) -> datetime:
    """SQLite keeps the aware UTC datetimes as naive ISO strings."""
    value = datetime.fromisoformat(stored)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def wait_applied(data_dir: Path, expected: int, since: datetime, timeout: float = 60, kind: str = "") -> list[Lag]:
    deadline = time.monotonic() + timeout
    while True:
        measured = lags(data_dir, since, kind)
        if len(measured) >= expected or time.monotonic() > deadline:
            return measured
        time.sleep(0.2)


def resident_memory_mb(stack: Stack) -> float:
    pids = [p.pid for p in stack.processes.values()]
    if stack.broker.process is not None:
        pids.append(stack.broker.process.pid)
    total_kb = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total_kb += int(line.split()[1])
    return total_kb / 1024


def report(label: str, values: list[Lag], expected: int, goal: str | None = None, *, extra: str = "", ok: bool = True) -> None:
    """Prints the lag figures; `goal` names the measure when it is one of the issue's goals (`ok`: the load
    it names was reached)."""
    if not values:
        print(f"  {label}: 0/{expected} events applied")
        if goal:
            record_goal("platform", goal, f"p99 <= {GOAL_LAG_P99_MS} ms", "no event applied", met=False)
        return
    totals = [lag.total for lag in values]
    p50, p99 = percentile(totals, 50), percentile(totals, 99)
    relay = percentile([lag.relay for lag in values], 99)
    print(
        f"  {label}: {len(values)}/{expected} events, lag p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {max(totals):.0f} ms;"
        f" written -> sent by the relay p99 {relay:.0f} ms (goal p99 <= {GOAL_LAG_P99_MS} ms){extra}"
    )
    if goal:
        met = ok and p99 <= GOAL_LAG_P99_MS and len(values) >= expected and len(values) >= 50
        figure = f"p99 {p99:.0f} ms ({len(values)}/{expected} events)"
        ratio = f"p50 {p50:.0f} ms; relay p99 {relay:.0f} ms"
        record_goal("platform", goal, f"p99 <= {GOAL_LAG_P99_MS} ms", figure, met=met, ratio=ratio)


def cpu_per_event(meter: CpuMeter, events: int) -> str:
    """The stack's CPU per event over a phase (load generator excluded), and each process's part."""
    spent = {name: seconds * 1000 / max(events, 1) for name, seconds in meter.spent().items() if name != "load generator"}
    parts = ", ".join(f"{name} {ms:.2f}" for name, ms in sorted(spent.items(), key=lambda item: -item[1]))
    return f"; stack CPU {sum(spent.values()):.2f} ms/event ({parts})"


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="cadrecare-bench-") as scratch:
        data_dir = Path(scratch)
        demo.ensure_demo_principals(data_dir / "gateway" / "principals.json")
        stack = Stack(StackConfig.on_free_ports(data_dir), extra_env=CAPACITY_ENV)
        started = time.monotonic()
        try:  # start inside: what a failed start-up had spawned is stopped too
            stack.start(timeout=120)
            first_start = time.monotonic() - started
            asyncio.run(exercise(stack, data_dir))
            memory = resident_memory_mb(stack)
            record_goal(
                "platform",
                "RSS of the embedded stack after this bench's load",
                "<= 1024 MiB",
                f"{memory:.0f} MiB",
                met=memory <= 1024,
                ratio="1,000,000 events: see bench memory",
            )
        finally:
            stack.stop()
        restarted = Stack(stack.config, extra_env=CAPACITY_ENV)
        started = time.monotonic()
        try:
            restarted.start(timeout=120)
            second_start = time.monotonic() - started
        finally:
            restarted.stop()
        print(
            f"  launch to every /readyz green: first start {first_start:.1f} s (with migrations), "
            f"second start {second_start:.1f} s (goal <= 20 s)"
        )
        record_goal(
            "platform",
            "launch to every /readyz green (second start)",
            "<= 20 s",
            f"{second_start:.1f} s",
            met=second_start <= 20,
            ratio=f"first start {first_start:.1f} s with migrations",
        )


def meter_of(stack: Stack) -> CpuMeter:
    pids = {name: process.pid for name, process in stack.processes.items()}
    if stack.broker.process is not None:
        pids["broker"] = stack.broker.process.pid
    return CpuMeter(pids)


async def exercise(stack: Stack, data_dir: Path) -> None:
    async with httpx.AsyncClient(
        base_url=stack.config.gateway_url, timeout=30, limits=httpx.Limits(max_connections=32)
    ) as client:
        token = (
            await client.post(
                "/api/v1/auth/token", data={"grant_type": "password", "username": "admin", "password": demo.DEMO_USERS["admin"]}
            )
        ).json()["access_token"]
        client.headers["authorization"] = f"Bearer {token}"
        (await client.post("/api/v1/registry/units/import", json=demo.demo_units())).raise_for_status()
        since = datetime.now().astimezone()
        for _ in range(IDLE_EVENTS):
            (await client.post("/api/v1/registry/cadres", json=cadre())).raise_for_status()
            await asyncio.sleep(0.25)
        report("idle (one cadre every 250 ms)", wait_applied(data_dir, IDLE_EVENTS, since), IDLE_EVENTS)
        await asyncio.sleep(1)
        meter = meter_of(stack)
        meter.start()
        since = datetime.now().astimezone()
        started = time.monotonic()
        sent = await post_as_fast_as_they_go(client, LOADED_SECONDS)
        achieved = sent / (time.monotonic() - started)
        measured = wait_applied(data_dir, sent, since)
        report(
            f"single POSTs as fast as they go ({achieved:.0f} cadres/s reached by {SINGLE_CLIENTS} callers)",
            measured,
            sent,
            goal=f"event lag at the highest single-POST rate ({achieved:.0f}/s)",
            extra=cpu_per_event(meter, sent),
        )
        await asyncio.sleep(1)
        await import_load(client, data_dir, meter_of(stack))


async def import_load(client: httpx.AsyncClient, data_dir: Path, meter: CpuMeter) -> None:
    """LOADED_RATE events/s for LOADED_SECONDS: a list of LOADED_RATE * PACE_SECONDS cadres every PACE_SECONDS."""
    per_list = max(1, round(LOADED_RATE * PACE_SECONDS))
    meter.start()
    since = datetime.now().astimezone()
    started = time.monotonic()
    imported = 0
    for tick in range(round(LOADED_SECONDS / PACE_SECONDS)):
        rows = [",".join(str(c[name]) for name in CSV_FIELDS) for c in (cadre() for _ in range(per_list))]
        answer = await client.post(
            "/api/v1/registry/cadres/import",
            params={"dry_run": "false"},
            content="\n".join([",".join(CSV_FIELDS), *rows]).encode(),
            headers={"content-type": "text/csv"},
        )
        assert answer.status_code == 200, answer.text[:500]
        imported += answer.json()["imported"]
        await asyncio.sleep(max(0.0, started + (tick + 1) * PACE_SECONDS - time.monotonic()))
    rate = imported / (time.monotonic() - started)
    measured = wait_applied(data_dir, imported, since, kind="registered")
    report(
        f"loaded ({rate:.0f} events/s for {LOADED_SECONDS} s: a list of {per_list} cadres imported every"
        f" {PACE_SECONDS * 1000:.0f} ms)",
        measured,
        imported,
        goal=f"event lag at {LOADED_RATE} events/s ({rate:.0f}/s reached)",
        extra=cpu_per_event(meter, imported),
        ok=rate >= 0.95 * LOADED_RATE,
    )
