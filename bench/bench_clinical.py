"""HIS ingestion through the gateway, whole stack on this machine (issue #5).

On the embedded default (every service on SQLite) and then as production runs (every service and the gateway
on a PostgreSQL database of its own, in a throwaway cluster), each on a stack of its own started afresh: the
PostgreSQL phase does not inherit the SQLite phase's events in the embedded broker (whose fetches cost more
the more batches a partition holds: bench broker_history), so the two figures differ by the databases alone.
Each stack is first given the same history (HISTORY_BULKS bulks, applied everywhere; PostgreSQL analysed):
1. single exam-result POSTs (`POST /api/v1/clinical/his/records`) from CLIENTS concurrent clients for
   BENCH_CLINICAL_SECONDS (default 60): results/s, errors, p50/p99 latency, and the CPU each process of the
   stack spent per request (read from /proc: where the time goes on 2 shared cores);
2. the same posted straight to clinical with the internal token the gateway would make, for
   BENCH_CLINICAL_DIRECT_SECONDS (default 20): clinical's own rate without the gateway's work;
3. bulk: BENCH_CLINICAL_BULKS (default 10) bulks of 1,000 exam results through the gateway: results/s.
Baselines in the same run, the same rows (one clinical_record + one clinical_record_version row per
result) inserted directly: with asyncpg into PostgreSQL (the issue's physical limit), and with sqlite3
into a SQLite file with the stack's pragmas.

The load generator is one asyncio process of lean HTTP/1.1 clients (bench.load_client) on the same 2 cores as
the stack; the gateway's per-principal rate limit is off (bench.common.CAPACITY_ENV).
Goals (issue #14, item 1): the stack's CPU per single POSTed result <= 3.3 ms (600/s on 2 cores), and
>= 600 results/s with 0 errors and p99 <= 100 ms. The stack's CPU is every process but the load generator
(PostgreSQL's backends included); it is given as measured and net of what the stack spends idle (relay
and consumer polling, measured for IDLE_SECONDS just before), which weighs on each result when a loaded
machine lets only a few dozen through a second. Bulk goals: bench_clinical_bulk.
"""

import asyncio
import collections
import contextlib
import itertools
import json
import os
import sqlite3
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench import load_client
from bench.common import CAPACITY_ENV, record_goal, stack_directory
from bench.cpu import CpuMeter as CpuMeter  # also imported from here by bench_xml130
from bench.cpu import idle_cpu, stack_cpu_ms
from clinical import domain
from contracts.api.clinical import PeriodicExamIn
from contracts.roles import HIS_PERMISSIONS, his_client
from contracts.scope import Principal, PrincipalKind
from contracts.topics import CLINICAL_RECORDS
from devstack import demo
from devstack.config import SERVICES, StackConfig
from devstack.stack import Stack
from servicekit import migrations
from servicekit.auth import InternalTokenSigner
from servicekit.db import sqlite_file
from servicekit.embedded import PostgresCluster, asyncpg_dsn

SECONDS = float(os.environ.get("BENCH_CLINICAL_SECONDS", "60"))
DIRECT_SECONDS = float(os.environ.get("BENCH_CLINICAL_DIRECT_SECONDS", "20"))
CLIENTS = int(os.environ.get("BENCH_CLINICAL_CLIENTS", "32"))
BULKS = int(os.environ.get("BENCH_CLINICAL_BULKS", "10"))
BULK_SIZE = 1000
BASELINE_ROWS = max(BULKS * BULK_SIZE, 10_000)
IDLE_SECONDS = float(os.environ.get("BENCH_CLINICAL_IDLE_SECONDS", "5"))
GOAL_STACK_CPU_MS = 3.3
# Before a phase is measured its stack gets a history: HISTORY_BULKS bulks of BULK_SIZE exam results, applied by
# every consumer, then (on PostgreSQL) every database analysed. A deployment has history and statistics; a stack
# measured from empty does not: on PostgreSQL a statement prepared while its table was nearly empty kept a
# sequential-scan generic plan until autovacuum's first look a minute later (reporting's lookups by primary key
# scanned clinicalfact whole: PostgreSQL 0.81 ms per single POST in a 60 s run, 0.44 in the next phase).
HISTORY_BULKS = int(os.environ.get("BENCH_CLINICAL_HISTORY_BULKS", "10"))
CADRES = 100
CLASSIFICATION = {"system": "vn-moh-qd-1266-2020", "version": "2020", "code": "B1"}
HIS_CLIENT = "his-bvdk-lamdong"
# the principal the gateway makes of the demo HIS client (devstack.demo), for posting straight to clinical
HIS_PRINCIPAL = Principal(
    subject=f"client:{HIS_CLIENT}",
    kind=PrincipalKind.HIS,
    facility="68-BVDK",
    grants=his_client(demo.PROVINCE),
    permissions=HIS_PERMISSIONS,
)


def exam(national_id: str, external_id: str) -> dict[str, Any]:
    return {
        "kind": "periodic_exam",
        "external_id": external_id,
        "national_id": national_id,
        "occurred_on": "2026-03-01",
        "measurements": [
            {"code": "height", "value": 165, "unit": "cm"},
            {"code": "weight", "value": 62.5, "unit": "kg"},
            {"code": "bp_systolic", "value": 135, "unit": "mm[Hg]"},
            {"code": "bp_diastolic", "value": 85, "unit": "mm[Hg]"},
        ],
        "labs": [{"code": "glucose", "value": 6.1, "unit": "mmol/L", "reference_range": "3.9-6.4"}],
        "diagnoses": [{"code": "I10", "primary": True}, {"code": "E78.5"}],
        "classification": CLASSIFICATION,
        "conclusion": "Sức khỏe loại B1",
    }


def login(gateway: str, form: dict[str, str]) -> httpx.Client:
    client = httpx.Client(base_url=gateway, timeout=60)
    answer = client.post("/api/v1/auth/token", data=form)
    answer.raise_for_status()
    client.headers["authorization"] = f"Bearer {answer.json()['access_token']}"
    return client


def register_cadres(admin: httpx.Client) -> list[str]:
    admin.post("/api/v1/registry/units/import", json=demo.demo_units()).raise_for_status()
    national_ids = []
    provincial = [c for c in demo.demo_cadres() if c["managing_unit"] == "VN.68"]
    for index in range(CADRES):
        template = provincial[index % len(provincial)]
        cadre = template | {"national_id": f"{template['national_id'][:6]}{index:06d}"}  # keeps the birth-year digits
        answer = admin.post("/api/v1/registry/cadres", json=cadre)
        if answer.status_code != 201:
            raise RuntimeError(f"registering a cadre failed: {answer.status_code} {answer.text}")
        national_ids.append(cadre["national_id"])
    return national_ids


def wait_until_clinical_knows(his: httpx.Client, national_ids: list[str], timeout: float = 60) -> None:
    items = [exam(nid, f"probe-{i}") for i, nid in enumerate(national_ids)]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = his.post("/api/v1/clinical/his/records/bulk", json={"items": items, "validate_only": True}).json()
        if answer["counts"].get("created") == len(items):
            return
        time.sleep(0.5)
    raise RuntimeError("clinical did not learn the cadres from the registry's events in time")


def percentile(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100)[q - 1] * 1000 if len(samples) > 1 else float("nan")


async def single_posts(base: str, path: str, token: str, national_ids: list[str], seconds: float, prefix: str) -> dict[str, Any]:
    """CLIENTS callers on keep-alive connections (bench.load_client: httpx cost as much CPU as the stack)."""
    latencies: list[float] = []
    errors = 0
    error_kinds: collections.Counter[str] = collections.Counter()  # status code or exception: 429 means the limiter
    counter = itertools.count()
    started = time.monotonic()
    deadline = started + seconds

    async def client() -> None:
        nonlocal errors
        connection = load_client.Connection(base, {"authorization": f"Bearer {token}"})
        try:
            while time.monotonic() < deadline:
                n = next(counter)
                body = json.dumps(exam(national_ids[n % len(national_ids)], f"{prefix}-{n:07d}")).encode()
                t0 = time.perf_counter()
                try:
                    answer = await connection.post(path, body)
                    ok, kind = answer.status == 201, str(answer.status)
                except (TimeoutError, OSError, asyncio.IncompleteReadError, load_client.ProtocolError) as exc:
                    ok, kind = False, type(exc).__name__
                latencies.append(time.perf_counter() - t0)
                errors += not ok
                if not ok:
                    error_kinds[kind] += 1
        finally:
            await connection.close()

    await asyncio.gather(*[client() for _ in range(CLIENTS)])
    elapsed = time.monotonic() - started
    return {
        "requests": len(latencies),
        "errors": errors,
        "error_kinds": dict(error_kinds),
        "seconds": elapsed,
        "rate": (len(latencies) - errors) / elapsed,
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
    }


def bulk_posts(his: httpx.Client, national_ids: list[str], prefix: str, bulks: int = BULKS) -> dict[str, float]:
    stored = 0
    started = time.monotonic()
    for batch in range(bulks):
        items = [exam(national_ids[i % len(national_ids)], f"{prefix}-{batch:03d}-{i:04d}") for i in range(BULK_SIZE)]
        answer = his.post("/api/v1/clinical/his/records/bulk", json={"items": items})
        answer.raise_for_status()
        stored += answer.json()["counts"].get("created", 0)
    elapsed = time.monotonic() - started
    return {"results": stored, "seconds": elapsed, "rate": stored / elapsed}


def measured(meter: CpuMeter, run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    meter.start()
    figures = run()
    figures["cpu"] = meter.spent()
    return figures


def cpu_line(figures: dict[str, Any]) -> str:
    per = max(figures["requests"], 1)
    spent = sorted(figures["cpu"].items(), key=lambda kv: -kv[1])
    total = sum(figures["cpu"].values())
    parts = ", ".join(f"{name} {seconds / per * 1000:.2f}" for name, seconds in spent if seconds > 0)
    return f"      CPU ms per request: {parts}; all {total / per * 1000:.2f} ({total / figures['seconds']:.2f} cores busy)"


def measure_clinical(
    stack: Stack, his: httpx.Client, national_ids: list[str], database: str, internal_token: str, postgres: int | None = None
) -> dict[str, dict[str, Any]]:
    config = stack.config
    pids = {name: process.pid for name, process in stack.processes.items()}
    if stack.broker.process is not None:
        pids["broker"] = stack.broker.process.pid
    meter = CpuMeter(pids, postgres)
    token = his.headers["authorization"].split(" ", 1)[1]
    tag = database[:2].upper()
    idle = idle_cpu(meter, IDLE_SECONDS)
    print(f"[{database}] single POSTs through the gateway for {SECONDS:.0f} s ...", flush=True)
    via_gateway = measured(
        meter,
        lambda: asyncio.run(
            single_posts(config.gateway_url, "/api/v1/clinical/his/records", token, national_ids, SECONDS, f"{tag}G")
        ),
    )
    print(f"[{database}] single POSTs straight to clinical for {DIRECT_SECONDS:.0f} s ...", flush=True)
    direct = measured(
        meter,
        lambda: asyncio.run(
            single_posts(config.service_url("clinical"), "/his/records", internal_token, national_ids, DIRECT_SECONDS, f"{tag}D")
        ),
    )
    print(f"[{database}] {BULKS} bulks of {BULK_SIZE} through the gateway ...", flush=True)
    bulk = bulk_posts(his, national_ids, f"{tag}B")
    return {"gateway": via_gateway, "direct": direct, "bulk": bulk, "idle": idle}


def count_of(url: str, query: str) -> int:
    """The one number `query` answers, from a service's SQLite file (read-only) or PostgreSQL database."""
    if url.startswith("sqlite"):
        with contextlib.closing(sqlite3.connect(f"file:{sqlite_file(url)}?mode=ro", uri=True, timeout=30)) as connection:
            return int(connection.execute(query).fetchone()[0])

    async def count() -> int:
        connection = await asyncpg.connect(asyncpg_dsn(url))
        try:
            return int(await connection.fetchval(query))
        finally:
            await connection.close()

    return asyncio.run(count())


def stored_rows(url: str) -> int:
    """Clinical's records, all of them."""
    return count_of(url, "SELECT count(*) FROM clinical_record")


def database_url(stack: Stack, service: str) -> str:
    """Where `service` of this stack keeps its data: its PostgreSQL database if the stack was given one, else its
    SQLite file."""
    return stack.extra_env.get(f"{service.upper()}_DATABASE_URL") or stack.config.database_url(service)


def same_rows(count: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The rows one stored exam result makes, built as the service builds them."""
    item, _ = domain.normalise_record(PeriodicExamIn.model_validate(exam("068052000001", "x")), date(2026, 11, 1))
    body = domain.body_of(item)
    text = json.dumps(body, ensure_ascii=False)
    digest = domain.body_hash(body)
    now = datetime.now(UTC)
    heads, versions = [], []
    for n in range(count):
        record_id = uuid.uuid4()
        heads.append((record_id, "68-BVDK", f"R-{n:07d}", "periodic_exam", uuid.uuid4(), "VN.68", "provincial_2", 1, "current",
                      date(2026, 3, 1), None, text, digest, None, now, now))  # fmt: skip
        versions.append((record_id, 1, "created", text, digest, now, "client:his-bvdk-lamdong"))
    return heads, versions


HEAD_INSERT = (
    "INSERT INTO clinical_record (id, facility, external_id, kind, cadre_id, managing_unit, tier, version, status, occurred_on,"
    " ended_on, body, body_hash, withdrawn_reason, recorded_at, updated_at) VALUES ({})"
)
VERSION_INSERT = (
    "INSERT INTO clinical_record_version (record_id, version, change, body, body_hash, recorded_at, recorded_by) VALUES ({})"
)


async def asyncpg_baseline(count: int) -> dict[str, float]:
    cluster = PostgresCluster().start()
    try:
        migrations.upgrade("clinical", cluster.url())
        heads, versions = same_rows(count)
        connection = await asyncpg.connect(cluster.dsn())
        await connection.set_type_codec("jsonb", encoder=lambda v: v, decoder=json.loads, schema="pg_catalog")
        started = time.monotonic()
        for start in range(0, count, BULK_SIZE):
            async with connection.transaction():
                await connection.executemany(
                    HEAD_INSERT.format(", ".join(f"${i}" for i in range(1, 17))), heads[start : start + BULK_SIZE]
                )
                await connection.executemany(
                    VERSION_INSERT.format(", ".join(f"${i}" for i in range(1, 8))), versions[start : start + BULK_SIZE]
                )
        elapsed = time.monotonic() - started
        await connection.close()
        return {"results": count, "seconds": elapsed, "rate": count / elapsed}
    finally:
        cluster.stop()


def sqlite_baseline(count: int, directory: Path) -> dict[str, float]:
    path = directory / "baseline.db"
    migrations.upgrade("clinical", f"sqlite+aiosqlite:///{path}")
    heads, versions = same_rows(count)
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    as_text = [tuple(str(v) if isinstance(v, uuid.UUID | datetime | date) else v for v in row) for row in heads]
    version_text = [tuple(str(v) if isinstance(v, uuid.UUID | datetime) else v for v in row) for row in versions]
    started = time.monotonic()
    for start in range(0, count, BULK_SIZE):
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(HEAD_INSERT.format(", ".join("?" * 16)), as_text[start : start + BULK_SIZE])
        connection.executemany(VERSION_INSERT.format(", ".join("?" * 7)), version_text[start : start + BULK_SIZE])
        connection.execute("COMMIT")
    elapsed = time.monotonic() - started
    connection.close()
    return {"results": count, "seconds": elapsed, "rate": count / elapsed}


def error_kinds(single: dict[str, Any]) -> str:
    kinds = single.get("error_kinds") or {}
    return f" ({', '.join(f'{kind} x{count}' for kind, count in sorted(kinds.items()))})" if kinds else ""


def report(database: str, figures: dict[str, dict[str, Any]], pg: dict[str, float], stored: int) -> None:
    gateway, direct, bulk, idle = figures["gateway"], figures["direct"], figures["bulk"], figures["idle"]
    met = gateway["rate"] >= 600 and gateway["errors"] == 0 and gateway["p99"] <= 100
    idle_line = ", ".join(f"{name} {rate * 1000:.0f}" for name, rate in sorted(idle.items(), key=lambda kv: -kv[1]) if rate > 0)
    print(f"  [{database}] idle, CPU ms per second: {idle_line}")
    for label, single in (("through the gateway", gateway), ("straight to clinical", direct)):
        print(f"  [{database}] single POSTs {label}: {single['rate']:.0f} results/s, {single['requests']:.0f} requests,"
              f" {single['errors']:.0f} errors{error_kinds(single)}, p50 {single['p50']:.1f} ms, p99 {single['p99']:.1f} ms"
              f" over {single['seconds']:.1f} s; ratio to raw asyncpg {single['rate'] / pg['rate']:.3f}")  # fmt: skip
        print(cpu_line(single))
        print(f"      stack CPU per result: {stack_cpu_ms(single):.2f} ms, net of idle {stack_cpu_ms(single, idle):.2f} ms")
    print(f"  [{database}] bulk through the gateway: {bulk['rate']:.0f} results/s ({bulk['results']:.0f} results in"
          f" {bulk['seconds']:.1f} s, bulks of {BULK_SIZE}); ratio to raw asyncpg {bulk['rate'] / pg['rate']:.3f}")  # fmt: skip
    expected = gateway["requests"] - gateway["errors"] + direct["requests"] - direct["errors"] + bulk["results"]
    print(f"  [{database}] records stored in clinical's database by these runs: {stored} (accepted answers: {expected:.0f})")
    raw, net = stack_cpu_ms(gateway), stack_cpu_ms(gateway, idle)
    share = gateway["cpu"].get("gateway", 0.0) / max(gateway["requests"], 1) * 1000
    figure, goal = f"{raw:.2f} ms (net of idle {net:.2f}; gateway {share:.2f})", f"<= {GOAL_STACK_CPU_MS} ms"
    measure = f"single POST via gateway, stack CPU per result ({database})"
    record_goal("clinical", measure, goal, figure, met=raw <= GOAL_STACK_CPU_MS, ratio=f"{raw / GOAL_STACK_CPU_MS:.1f}x")
    figure, measure = (
        f"{gateway['rate']:.0f}/s, {gateway['errors']:.0f}, {gateway['p99']:.0f} ms",
        measure.replace("stack CPU per result", "rate / errors / p99"),
    )
    ratio = f"{gateway['rate'] / max(direct['rate'], 1e-9):.2f} of direct to clinical"
    record_goal("clinical", measure, ">= 600/s, 0, <= 100 ms", figure, met=met, ratio=ratio)
    stored_figure = f"{stored} of {expected:.0f}"
    record_goal("clinical", f"accepted results all stored ({database})", "all", stored_figure, met=stored == expected)


def main() -> None:
    figures: dict[str, dict[str, dict[str, Any]]] = {}
    stored: dict[str, int] = {}
    with stack_directory("bench-clinical-sqlite-") as directory:
        figures["SQLite"], stored["SQLite"] = measure_on(directory, "SQLite", None)
        lite = sqlite_baseline(BASELINE_ROWS, directory)
    cluster = PostgresCluster()
    try:
        cluster.start()
        with stack_directory("bench-clinical-postgresql-") as directory:
            figures["PostgreSQL"], stored["PostgreSQL"] = measure_on(directory, "PostgreSQL", cluster)
    finally:
        cluster.stop()
    report_all(figures, stored, lite)


@contextlib.contextmanager
def started_stack(
    directory: Path, database: str, cluster: PostgresCluster | None
) -> Iterator[tuple[Stack, httpx.Client, list[str]]]:
    """A stack of its own, started afresh in `directory`, on SQLite or with every service and the gateway on a
    database of its own in `cluster` (created and migrated here), the benches' cadres registered and known to
    clinical: (the stack, the demo HIS client signed in, their CCCDs)."""
    config = StackConfig.on_free_ports(directory)
    demo.ensure_demo_principals(directory / "gateway" / "principals.json")
    databases = {} if cluster is None else {name: cluster.create_database(name) for name in (*SERVICES, "gateway")}
    for name, url in databases.items():
        migrations.upgrade(name, url)
    on_cluster = {f"{name.upper()}_DATABASE_URL": url for name, url in databases.items()}
    stack = Stack(config, extra_env={**CAPACITY_ENV, **on_cluster})
    print(f"[{database}] whole stack (gateway + 4 services + Tansu) in {directory}", flush=True)
    stack.start(timeout=120)
    try:
        admin = login(config.gateway_url, {"grant_type": "password", "username": "admin", "password": demo.DEMO_USERS["admin"]})
        his_form = {"grant_type": "client_credentials", "client_id": HIS_CLIENT, "client_secret": demo.DEMO_CLIENTS[HIS_CLIENT]}
        his = login(config.gateway_url, his_form)
        national_ids = register_cadres(admin)
        wait_until_clinical_knows(his, national_ids)
        with_history(stack, his, national_ids, list(databases.values()))
        yield stack, his, national_ids
    finally:
        stack.stop()


def clinical_events_applied(stack: Stack) -> int:
    """Clinical events applied so far by scheduling and by reporting (both count: each applies every one)."""
    query = f"SELECT count(*) FROM processed_events WHERE topic = '{CLINICAL_RECORDS.name}'"
    return sum(count_of(database_url(stack, service), query) for service in ("scheduling", "reporting"))


def wait_until_applied(stack: Stack, target: int, timeout: float) -> float:
    """Seconds until scheduling and reporting have applied `target` clinical events in all, at 0.2 s resolution."""
    started = time.monotonic()
    while clinical_events_applied(stack) < target:
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"the consumers did not apply {target} clinical events within {timeout:.0f} s")
        time.sleep(0.2)
    return time.monotonic() - started


def with_history(stack: Stack, his: httpx.Client, national_ids: list[str], postgres_databases: list[str]) -> None:
    """HISTORY_BULKS bulks posted and applied by every consumer, then the PostgreSQL databases analysed."""
    before = clinical_events_applied(stack)
    posted = int(bulk_posts(his, national_ids, "HIST", HISTORY_BULKS)["results"])
    wait_until_applied(stack, before + 2 * posted, timeout=120)

    async def analyse(url: str) -> None:
        connection = await asyncpg.connect(asyncpg_dsn(url))
        try:
            await connection.execute("ANALYZE")
        finally:
            await connection.close()

    for url in postgres_databases:
        asyncio.run(analyse(url))
    print(f"  history: {posted} exam results applied by every consumer{'; databases analysed' if postgres_databases else ''}")


def measure_on(directory: Path, database: str, cluster: PostgresCluster | None) -> tuple[dict[str, dict[str, Any]], int]:
    """One phase on a stack of its own: on SQLite, or on `cluster`."""
    with started_stack(directory, database, cluster) as (stack, his, national_ids):
        signer = InternalTokenSigner((stack.config.keys_dir / "internal-private.pem").read_bytes(), ttl_seconds=3600)
        internal_token = signer.sign(HIS_PRINCIPAL)
        postmaster = None if cluster is None else cluster.postmaster_pid
        history = stored_rows(database_url(stack, "clinical"))  # stored before: the history
        figures = measure_clinical(stack, his, national_ids, database, internal_token, postmaster)
    return figures, stored_rows(database_url(stack, "clinical")) - history


def report_all(figures: dict[str, dict[str, dict[str, Any]]], stored: dict[str, int], lite: dict[str, float]) -> None:
    pg = asyncio.run(asyncpg_baseline(BASELINE_ROWS))
    print(f"baseline raw asyncpg executemany, PostgreSQL (fsync off): {pg['rate']:.0f} results/s ({pg['results']:.0f} x 2 rows)")
    print(f"baseline raw sqlite3 executemany, SQLite WAL: {lite['rate']:.0f} results/s ({lite['results']:.0f} x 2 rows)")
    for database, numbers in figures.items():
        report(database, numbers, pg, stored[database])
