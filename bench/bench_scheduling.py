"""Scheduling at national scale on a throwaway PostgreSQL: generating a plan with slots for N cadres
(default 300,000; BENCH_SCHEDULING_CADRES to change), and coverage for one province by round and unit.

The roster is loaded with COPY as the registry's events would have left it (one history row per cadre);
the plan is created and generated through the service's HTTP API in process (ASGI, signed internal token),
so the figures include validation, the set-based INSERT ... SELECT, and one InvitationIssued outbox row
per invitation. Baseline in the same run: copying the roster table (CREATE TABLE AS) - what moving the
rows once costs on this machine. Then the recurring care: the overdue home visits of a province and the figures of
a convalescence trip, on the same roster.
"""

import asyncio
import os
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.common import record_goal
from contracts.enums import Action, ManagementTier
from contracts.scope import Grant, Principal, PrincipalKind
from scheduling.app import create_app
from scheduling.settings import SchedulingSettings
from servicekit import migrations
from servicekit.auth import InternalTokenSigner
from servicekit.embedded import PostgresCluster
from servicekit.keys import ensure_keypair

CADRES = int(os.environ.get("BENCH_SCHEDULING_CADRES", "300000"))
PROVINCES = 63
DISTRICTS = 10
YEAR = datetime.now(UTC).year + 1
COVERAGE_RUNS = 60
CARE_RUNS = 60  # percentiles from >= 50 samples
TIERS: list[tuple[str, float]] = [
    ("central", 0.01),
    ("provincial_1", 0.04),
    ("provincial_2", 0.20),
    ("provincial_3", 0.25),
    ("district", 0.45),
    ("treatment_only", 0.05),
]
ADMIN = Principal(
    subject="bench:admin",
    kind=PrincipalKind.ADMIN,
    permissions=frozenset({"scheduling.read", "scheduling.write"}),
    grants=(Grant(unit_path="VN", tiers=frozenset(ManagementTier), actions=frozenset({Action.READ, Action.WRITE})),),
)


def province(p: int) -> str:
    return f"VN.{p:02d}"


def roster_rows(n: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    rng = random.Random(6)
    tiers, weights = zip(*TIERS, strict=True)
    now = datetime.now(UTC)
    cadres, history = [], []
    for i in range(n):
        p = rng.randrange(1, PROVINCES + 1)
        tier = rng.choices(tiers, weights)[0]
        unit = f"{province(p)}.{p:02d}{rng.randrange(DISTRICTS)}" if tier == "district" else province(p)
        status = "deceased" if rng.random() < 0.01 else ("active" if rng.random() < 0.4 else "retired")
        cadre_id = uuid.UUID(int=rng.getrandbits(128))
        since = date(2015 + rng.randrange(8), 1 + rng.randrange(12), 1)
        address = None if rng.random() < 0.02 else f"{i} đường Trần Phú"
        cadres.append((cadre_id, f"Cán bộ {i:06d}", unit, tier, status, since, "male", address, "[]", now))
        history.append((cadre_id, since, unit, tier, status, now))
    return cadres, history


def plan_body(rule_set_id: str) -> dict[str, Any]:
    facilities = [{"code": "BV-THONGNHAT", "name": "Bệnh viện Thống Nhất", "daily_capacity": 200}]
    groups: list[dict[str, Any]] = [{"tier": "central", "facility": "BV-THONGNHAT"}]
    for p in range(1, PROVINCES + 1):
        code = f"{p:02d}-BVDK"
        facilities.append({"code": code, "name": f"Bệnh viện Đa khoa tỉnh {p:02d}", "daily_capacity": 400})
        groups += [
            {"tier": t, "unit": province(p), "facility": code}
            for t in ("provincial_1", "provincial_2", "provincial_3", "district")
        ]
    return {
        "board_unit": "VN",
        "year": YEAR,
        "title": f"Kế hoạch khám sức khỏe định kỳ toàn quốc năm {YEAR}",
        "plan_date": date(YEAR, 1, 5).isoformat(),
        "rule_set_id": rule_set_id,
        "facilities": facilities,
        "rounds": [
            {"number": 1, "starts_on": date(YEAR, 3, 1).isoformat(), "ends_on": date(YEAR, 4, 30).isoformat(), "groups": groups},
            {"number": 2, "starts_on": date(YEAR, 9, 1).isoformat(), "ends_on": date(YEAR, 10, 31).isoformat(), "groups": groups},
        ],
    }


ROSTER_COLUMNS = [
    "cadre_id",
    "full_name",
    "managing_unit",
    "tier",
    "status",
    "status_since",
    "sex",
    "residence_address",
    "eligibility",
    "updated_at",
]


async def load_roster(db: asyncpg.Connection) -> float:
    """The roster with COPY; returns the baseline: seconds to copy the roster table once."""
    started = time.perf_counter()
    cadres, history = roster_rows(CADRES)
    await db.copy_records_to_table("rostercadre", records=cadres, columns=ROSTER_COLUMNS)
    await db.copy_records_to_table(
        "rosterhistory", records=history, columns=["cadre_id", "valid_from", "managing_unit", "tier", "status", "recorded_at"]
    )
    await db.execute("ANALYZE")
    print(f"roster of {CADRES:,} cadres loaded with COPY in {time.perf_counter() - started:.1f}s")

    started = time.perf_counter()
    await db.execute("CREATE TABLE roster_copy AS SELECT * FROM rostercadre")
    baseline = time.perf_counter() - started
    await db.execute("DROP TABLE roster_copy")
    print(f"baseline: copying the roster table once (CREATE TABLE AS): {baseline:.2f}s")
    return baseline


async def generate(client: httpx.AsyncClient, headers: dict[str, str], db: asyncpg.Connection, baseline: float) -> str:
    """The national plan created and generated (then generated again); returns its id."""
    rules = await client.post(
        "/cadence-rules",
        headers=headers,
        json={
            "board_unit": "VN",
            "year": YEAR,
            "rules": [
                {"tier": t, "status": s, "exams_per_year": 1 if s == "active" else 2}
                for t, _w in TIERS
                if t != "treatment_only"
                for s in ("active", "retired")
            ],
        },
    )
    rules.raise_for_status()
    plan = await client.post("/plans", headers=headers, json=plan_body(rules.json()["id"]))
    plan.raise_for_status()
    plan_id: str = plan.json()["id"]

    started = time.perf_counter()
    generated = await client.post(f"/plans/{plan_id}/generate", headers=headers)
    generation = time.perf_counter() - started
    generated.raise_for_status()
    invited = generated.json()["invited"]
    outbox = await db.fetchval("SELECT count(*) FROM outbox")
    print(
        f"generate national plan: {invited:,} invitations (+{outbox - 1:,} InvitationIssued outbox rows) "
        f"for {CADRES:,} cadres in {generation:.2f}s  ({generation / baseline:.1f}x the baseline; goal <= 30 s)"
    )
    record_goal(
        "scheduling",
        f"generate a national plan for {CADRES:,} cadres",
        "<= 30 s",
        f"{generation:.2f} s",
        met=generation <= 30,
        ratio=f"x{generation / baseline:.1f} of copying the roster",
    )
    over = await db.fetchval(
        "SELECT count(*) FROM (SELECT i.round_id, i.facility, i.appointment_date, count(*) n FROM invitation i "
        "GROUP BY 1, 2, 3) d JOIN planfacility f ON f.code = d.facility AND d.n > f.daily_capacity"
    )
    print(f"  facility-days over capacity: {over}")

    started = time.perf_counter()
    again = await client.post(f"/plans/{plan_id}/generate", headers=headers)
    print(f"generate again (idempotent): {again.json()['invited']} new in {time.perf_counter() - started:.2f}s")
    return plan_id


async def examine_half(db: asyncpg.Connection) -> None:
    """Half of all invitations examined or deferred, on their appointment dates."""
    await db.execute(
        "INSERT INTO invitationchange"
        " (invitation_id, plan_id, previous_status, status, reason, effective_date, actor, recorded_at) "
        "SELECT id, plan_id, status, CASE WHEN random() < 0.8 THEN 'attended' ELSE 'deferred' END, NULL, "
        "appointment_date, 'bench', now() FROM invitation WHERE random() < 0.5"
    )
    await db.execute(
        "UPDATE invitation i SET status = c.status, status_since = c.effective_date"
        " FROM invitationchange c WHERE c.invitation_id = i.id"
    )
    await db.execute("ANALYZE")


async def coverage(client: httpx.AsyncClient, headers: dict[str, str], db: asyncpg.Connection, plan_id: str) -> None:
    unit = province(1)
    in_province = await db.fetchval(
        "SELECT count(*) FROM invitation WHERE managing_unit = $1 OR managing_unit LIKE $2", unit, unit + ".%"
    )
    for label, extra in (("now", {}), ("as of a date in round 1", {"as_of": date(YEAR, 4, 1).isoformat()})):
        timings = []
        for _ in range(COVERAGE_RUNS):
            started = time.perf_counter()
            answer = await client.get(
                "/coverage", headers=headers, params={"plan_id": plan_id, "unit": unit, "by": ["round", "unit"], **extra}
            )
            timings.append((time.perf_counter() - started) * 1000)
            answer.raise_for_status()
        timings.sort()
        p95 = timings[int(0.95 * len(timings)) - 1]
        print(
            f"coverage of province {unit} ({in_province:,} invitations) by round and unit, {label}: "
            f"p50 {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms over {COVERAGE_RUNS} calls (goal p95 <= 100 ms)"
        )
        record_goal(
            "scheduling",
            f"coverage of a province by round and unit, {label} p95",
            "<= 100 ms",
            f"{p95:.1f} ms (n={COVERAGE_RUNS})",
            met=p95 <= 100,
        )


async def run(cluster: PostgresCluster, keys: Path) -> None:
    url = cluster.create_database("bench_scheduling")
    migrations.upgrade("scheduling", url)
    db = await asyncpg.connect(cluster.dsn("bench_scheduling"))
    baseline = await load_roster(db)

    private, public = keys / "private.pem", keys / "public.pem"
    ensure_keypair(private, public)
    signer = InternalTokenSigner(private.read_bytes(), ttl_seconds=3600)
    headers = {"authorization": f"Bearer {signer.sign(ADMIN)}"}
    settings = SchedulingSettings(database_url=url, data_dir=keys, internal_public_key_file=public, log_level="WARNING")
    app = create_app(settings, run_workers=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://scheduling", timeout=600) as client:
        plan_id = await generate(client, headers, db, baseline)
        await examine_half(db)
        await coverage(client, headers, db, plan_id)
        await recurring_care(client, headers, db)
    await app.state.runtime.db.dispose()
    await db.close()


async def timed(client: httpx.AsyncClient, headers: dict[str, str], path: str, params: dict[str, Any]) -> tuple[float, float]:
    timings = []
    for _ in range(CARE_RUNS):
        started = time.perf_counter()
        answer = await client.get(path, headers=headers, params=params)
        timings.append((time.perf_counter() - started) * 1000)
        answer.raise_for_status()
    timings.sort()
    return statistics.median(timings), timings[int(0.95 * len(timings)) - 1]


async def recurring_care(client: httpx.AsyncClient, headers: dict[str, str], db: asyncpg.Connection) -> None:
    """Home visits for every central-tier and group-1 cadre of the nation; the overdue list of one province; the
    figures of a convalescence trip ("6 of 14 registered") with half its leaders gone on a trip the year before."""
    unit = province(1)
    await db.execute(
        "INSERT INTO homevisitschedule (id, cadre_id, every_months, visitor, starts_on, next_due_on, active, created_by,"
        " created_at) SELECT gen_random_uuid(), cadre_id, 3, 'bench', DATE '2025-01-01',"
        " CURRENT_DATE - 250 + (random() * 500)::int, true, 'bench', now() FROM rostercadre"
        " WHERE tier IN ('central', 'provincial_1') AND status IN ('active', 'retired')"
    )
    schedules = await db.fetchval("SELECT count(*) FROM homevisitschedule")
    rule = {"board_unit": unit, "valid_from": "2020-01-01", "tiers": ["central", "provincial_1"], "interval_years": 2}
    (await client.post("/convalescence/rules", headers=headers, json=rule)).raise_for_status()
    trips = []
    for starts in (date(YEAR - 1, 6, 1), date(YEAR, 6, 1)):
        body = {"board_unit": unit, "title": f"Nghỉ dưỡng {starts.year}", "destination": "Vũng Tàu", "quota": 500}
        trip = await client.post(
            "/convalescence/trips", headers=headers, json={**body, "starts_on": str(starts), "ends_on": str(starts)}
        )
        trip.raise_for_status()
        trips.append(trip.json())
    await db.execute(
        "INSERT INTO convalescenceregistration (id, trip_id, trip_starts_on, cadre_id, status, registered_on, created_by,"
        " updated_at) SELECT gen_random_uuid(), $1, $2, cadre_id, 'registered', CURRENT_DATE, 'bench', now()"
        " FROM rostercadre WHERE (managing_unit = $3 OR managing_unit LIKE $4) AND tier IN ('central', 'provincial_1')"
        " AND status = 'retired' AND random() < 0.5",
        uuid.UUID(trips[0]["id"]),
        date(YEAR - 1, 6, 1),
        unit,
        unit + ".%",
    )
    await db.execute("ANALYZE")
    p50, p95 = await timed(client, headers, "/home-visits/overdue", {"unit": unit, "limit": 100})
    print(f"overdue home visits of province {unit} (of {schedules:,} schedules nationally): p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    figures = (await client.get(f"/convalescence/trips/{trips[1]['id']}", headers=headers)).json()
    p50, p95 = await timed(client, headers, f"/convalescence/trips/{trips[1]['id']}", {})
    print(f"convalescence trip figures ({figures['summary']}, roster {CADRES:,}): p50 {p50:.1f} ms, p95 {p95:.1f} ms")


def main() -> None:
    print(f"scheduling bench: {CADRES:,} cadres, {PROVINCES} provinces, PostgreSQL (throwaway cluster), HTTP in process")
    cluster = PostgresCluster()
    try:
        cluster.start()  # inside: a start that fails half-way (initdb done, server up or not) is cleaned up too
        with tempfile.TemporaryDirectory() as keys:
            asyncio.run(asyncio.wait_for(run(cluster, Path(keys)), timeout=600))
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
