"""HIS ingestion through the gateway, whole stack on this machine (issue #5).

1. Single exam-result POSTs (`POST /api/v1/clinical/his/records`) from CLIENTS concurrent clients for
   BENCH_CLINICAL_SECONDS (default 60): results/s, errors, p50/p99 latency.
2. Bulk: BENCH_CLINICAL_BULKS (default 10) bulks of 1,000 exam results: results/s.
3. Baselines in the same run, the same rows (one clinical_record + one clinical_record_version row per
   result) inserted directly: with asyncpg into a throwaway PostgreSQL (the issue's physical limit), and
   with sqlite3 into a SQLite file with the stack's pragmas (the database the embedded stack really uses).

The stack is devstack.stack.Stack on free ports: every service on its own SQLite file, the Tansu broker,
the gateway in front; the load generator is one asyncio process of httpx clients on the same 2 cores.
Goals (issue #5): single >= 600 results/s with 0 errors and p99 <= 100 ms; bulk >= 10,000 results/s.
"""

import asyncio
import itertools
import json
import os
import socket
import sqlite3
import statistics
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from clinical import domain
from contracts.api.clinical import PeriodicExamIn
from devstack import demo
from devstack.config import SERVICES, StackConfig
from devstack.stack import Stack
from servicekit import migrations
from servicekit.embedded import PostgresCluster, free_port

SECONDS = float(os.environ.get("BENCH_CLINICAL_SECONDS", "60"))
CLIENTS = int(os.environ.get("BENCH_CLINICAL_CLIENTS", "32"))
BULKS = int(os.environ.get("BENCH_CLINICAL_BULKS", "10"))
BULK_SIZE = 1000
CADRES = 100
CLASSIFICATION = {"system": "vn-moh-qd-1266-2020", "version": "2020", "code": "B1"}


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


def consecutive_free_ports(count: int) -> int:
    for _ in range(100):
        base = free_port()
        sockets: list[socket.socket] = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no run of free ports")


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


async def single_posts(gateway: str, token: str, national_ids: list[str]) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    counter = itertools.count()
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(
        base_url=gateway, headers={"authorization": f"Bearer {token}"}, limits=limits, timeout=30
    ) as http:
        started = time.monotonic()
        deadline = started + SECONDS

        async def client() -> None:
            nonlocal errors
            while time.monotonic() < deadline:
                n = next(counter)
                body = exam(national_ids[n % len(national_ids)], f"S-{n:07d}")
                t0 = time.perf_counter()
                try:
                    answer = await http.post("/api/v1/clinical/his/records", json=body)
                    ok = answer.status_code == 201
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - t0)
                errors += not ok

        await asyncio.gather(*[client() for _ in range(CLIENTS)])
        elapsed = time.monotonic() - started
    return {
        "requests": len(latencies),
        "errors": errors,
        "seconds": elapsed,
        "rate": (len(latencies) - errors) / elapsed,
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
    }


def bulk_posts(his: httpx.Client, national_ids: list[str]) -> dict[str, float]:
    stored = 0
    started = time.monotonic()
    for batch in range(BULKS):
        items = [exam(national_ids[i % len(national_ids)], f"B-{batch:03d}-{i:04d}") for i in range(BULK_SIZE)]
        answer = his.post("/api/v1/clinical/his/records/bulk", json={"items": items})
        answer.raise_for_status()
        stored += answer.json()["counts"].get("created", 0)
    elapsed = time.monotonic() - started
    return {"results": stored, "seconds": elapsed, "rate": stored / elapsed}


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
        connection = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{cluster.port}/postgres")
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


def main() -> None:
    directory = Path(tempfile.mkdtemp(prefix="bench-clinical-"))
    config = StackConfig(
        data_dir=directory,
        gateway_port=free_port(),
        first_service_port=consecutive_free_ports(len(SERVICES)),
        kafka_port=free_port(),
        demo=False,
    )
    demo.ensure_demo_principals(directory / "gateway" / "principals.json")
    stack = Stack(config)
    print(f"whole stack (gateway + 4 services on SQLite + Tansu) in {directory}; {CLIENTS} clients, {SECONDS:.0f} s", flush=True)
    stack.start(timeout=120)
    try:
        admin = login(config.gateway_url, {"grant_type": "password", "username": "admin", "password": demo.DEMO_USERS["admin"]})
        his_form = {
            "grant_type": "client_credentials",
            "client_id": "his-bvdk-lamdong",
            "client_secret": demo.DEMO_CLIENTS["his-bvdk-lamdong"],
        }
        his = login(config.gateway_url, his_form)
        national_ids = register_cadres(admin)
        wait_until_clinical_knows(his, national_ids)
        token = his.headers["authorization"].split(" ", 1)[1]
        single = asyncio.run(single_posts(config.gateway_url, token, national_ids))
        bulk = bulk_posts(his, national_ids)
    finally:
        stack.stop()
    stored = (
        sqlite3.connect(config.database_url("clinical").split(":///", 1)[1])
        .execute("SELECT count(*) FROM clinical_record")
        .fetchone()[0]
    )
    count = max(BULKS * BULK_SIZE, 10_000)
    pg = asyncio.run(asyncpg_baseline(count))
    lite = sqlite_baseline(count, directory)

    goal_bulk = "met" if bulk["rate"] >= 10_000 else "NOT met"
    goal_single = "met" if single["rate"] >= 600 and single["errors"] == 0 and single["p99"] <= 100 else "NOT met"
    print(f"single POSTs via gateway (clinical on SQLite): {single['rate']:.0f} results/s, {single['requests']:.0f} requests,"
          f" {single['errors']:.0f} errors, p50 {single['p50']:.1f} ms, p99 {single['p99']:.1f} ms"
          f" over {single['seconds']:.1f} s  [goal >=600/s, 0 errors, p99 <=100 ms: {goal_single}]")  # fmt: skip
    print(f"bulk via gateway (clinical on SQLite): {bulk['rate']:.0f} results/s ({bulk['results']:.0f} results in"
          f" {bulk['seconds']:.1f} s, bulks of {BULK_SIZE})  [goal >=10,000/s: {goal_bulk}]")  # fmt: skip
    print(f"baseline raw asyncpg executemany, PostgreSQL (fsync off): {pg['rate']:.0f} results/s ({pg['results']:.0f} x 2 rows)")
    print(f"baseline raw sqlite3 executemany, SQLite WAL: {lite['rate']:.0f} results/s ({lite['results']:.0f} x 2 rows)")
    print(f"ratios to asyncpg: single {single['rate'] / pg['rate']:.3f}, bulk {bulk['rate'] / pg['rate']:.3f};"
          f" to sqlite3: single {single['rate'] / lite['rate']:.3f}, bulk {bulk['rate'] / lite['rate']:.3f}")  # fmt: skip
    expected = single["requests"] - single["errors"] + bulk["results"]
    print(f"records stored in clinical's database: {stored} (accepted answers: {expected:.0f})")
