"""Registry at national scale on a throwaway PostgreSQL: list/search p95, as-of count p95, bulk transfer of 10,000,
CSV import of 10,000 rows. Requests go through the real app (FastAPI in-process, signed internal tokens).

Scale: BENCH_REGISTRY_CADRES (default 300000). Goals (issues #3 and #14): every list and search kind p95 <= 50 ms;
counts for a province p95 <= 100 ms; bulk transfer of 10,000 <= 10 s; CSV import of 10,000 rows <= 15 s. Each kind
is also given as CPU per request (this process: the app in process and its client; and the PostgreSQL backends).
Baselines in the same run: GET /healthz (the fixed cost of a request) and GET /cadres/{id} (a primary-key read with
token check and scope filter: the cheapest person-level request); ratios are against the latter. The machine is shared:
compare ratios between runs rather than absolute figures.
"""

import asyncio
import io
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI

from bench.common import record_goal, timed
from bench.cpu import CpuMeter
from contracts.enums import PROVINCIAL_TIERS, Action, ManagementTier
from contracts.scope import Grant, Principal, PrincipalKind
from devstack.demo import FAMILY, GIVEN_FEMALE, GIVEN_MALE, MIDDLE_FEMALE, MIDDLE_MALE, POSITIONS
from registry.app import create_app
from registry.domain import name_fields
from registry.settings import RegistrySettings
from servicekit import migrations
from servicekit.auth import InternalTokenSigner
from servicekit.embedded import PostgresCluster, asyncpg_dsn
from servicekit.keys import ensure_keypair

CADRES = int(os.environ.get("BENCH_REGISTRY_CADRES", "300000"))
PROVINCES = [f"{code:02d}" for code in range(1, 64)]  # 63 pre-2025 provinces (synthetic codes 01-63)
DISTRICTS_EACH = 10
PROVINCE_WEIGHTS = [3, 3] + [1] * 61  # the two big cities hold three times a province's share
SAMPLES = 200
RW = frozenset({Action.READ, Action.WRITE})
PERMISSIONS = frozenset({"registry.cadres.read", "registry.cadres.write", "registry.units.read", "registry.units.write"})
# Lâm Đồng 2023 (seed 003): 13 central, 54 group 1, 537 group 2, 776 group 3 at the province; district boards beside.
TIER_WEIGHTS = [
    (ManagementTier.CENTRAL, 13),
    (ManagementTier.PROVINCIAL_1, 54),
    (ManagementTier.PROVINCIAL_2, 537),
    (ManagementTier.PROVINCIAL_3, 776),
    (ManagementTier.DISTRICT, 900),
    (ManagementTier.TREATMENT_ONLY, 60),
]


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] * 1000


def units() -> list[tuple[str, str, str, str, str | None]]:
    rows: list[tuple[str, str, str, str, str | None]] = [("VN", "VN", "Việt Nam", "nation", None)]
    for p in PROVINCES:
        rows.append((f"VN.{p}", p, f"Tỉnh {p}", "province", "VN"))
        for d in range(DISTRICTS_EACH):
            code = f"{int(p) * 20 + d:03d}"
            rows.append((f"VN.{p}.{code}", code, f"Huyện {code}", "district", f"VN.{p}"))
    return rows


def synthetic_cadre(rng: random.Random, index: int, district_paths: dict[str, list[str]]) -> dict[str, Any]:
    tier = rng.choices([t for t, _ in TIER_WEIGHTS], [w for _, w in TIER_WEIGHTS])[0]
    province = rng.choices(PROVINCES, PROVINCE_WEIGHTS)[0]
    unit = rng.choice(district_paths[province]) if tier is ManagementTier.DISTRICT else f"VN.{province}"
    female = rng.random() < 0.2
    active = rng.random() < 0.35
    born = date(rng.randrange(1966, 1980) if active else rng.randrange(1930, 1965), rng.randrange(1, 13), rng.randrange(1, 29))
    middle, given = (MIDDLE_FEMALE, GIVEN_FEMALE) if female else (MIDDLE_MALE, GIVEN_MALE)
    name = f"{rng.choice(FAMILY)} {rng.choice(middle)} {rng.choice(given)}"
    digit = (0 if born.year < 2000 else 2) + (1 if female else 0)
    since = date(2015 + rng.randrange(0, 10), rng.randrange(1, 13), 1) if not active else date(2012, 1, 1)
    return {
        "id": uuid.UUID(int=rng.getrandbits(128), version=4),
        "full_name": name,
        **name_fields(name),
        "date_of_birth": born,
        "sex": "female" if female else "male",
        "national_id": f"{int(province):03d}{digit}{born.year % 100:02d}{index:06d}",
        "tier": tier.value,
        "status": "active" if active else "retired",
        "status_since": since,
        "managing_unit": unit,
        "residence_unit": unit if unit.count(".") == 2 else rng.choice(district_paths[province]),
        "position": rng.choice(POSITIONS),
        "phone": f"09{rng.randrange(10**8):08d}",
        "card_number": f"{province}-24-{index:08d}" if rng.random() < 0.5 else None,
    }


async def load(url: str) -> tuple[list[dict[str, Any]], float]:
    """COPY the synthetic registry in: units, cadres, periods (retirees keep their active years), cards."""
    rng = random.Random(2026)
    unit_rows = units()
    district_paths: dict[str, list[str]] = {}
    for path, _, _, level, parent in unit_rows:
        if level == "district" and parent:
            district_paths.setdefault(parent.split(".")[1], []).append(path)
    started = time.monotonic()
    cadres = [synthetic_cadre(rng, i, district_paths) for i in range(CADRES)]
    now = datetime.now(UTC)
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await conn.copy_records_to_table(
            "unit",
            records=[(p, c, n, lv, par, date(2004, 1, 1), None) for p, c, n, lv, par in unit_rows],
            columns=["path", "code", "name", "level", "parent_path", "valid_from", "valid_to"],
        )
        columns = [
            "id", "full_name", "name_folded", "name_key", "date_of_birth", "sex", "national_id", "tier", "status", "status_since",
            "managing_unit", "eligibility", "position", "residence_unit", "phone", "card_number", "created_at", "updated_at",
        ]  # fmt: skip
        await conn.copy_records_to_table(
            "cadre",
            records=[
                tuple("[]" if c == "eligibility" else now if c.endswith("_at") else row[c] for c in columns) for row in cadres
            ],
            columns=columns,
        )
        periods = []
        for row in cadres:
            if row["status"] == "retired" and rng.random() < 0.5:
                periods.append((row["id"], date(2010, 1, 1), row["status_since"], row["tier"], "active", row["managing_unit"]))
            periods.append((row["id"], row["status_since"], None, row["tier"], row["status"], row["managing_unit"]))
        await conn.copy_records_to_table(
            "cadre_period", records=periods, columns=["cadre_id", "valid_from", "valid_to", "tier", "status", "managing_unit"]
        )
        await conn.copy_records_to_table(
            "card",
            records=[(r["card_number"], r["id"], date(2024, 1, 1), "bench", True) for r in cadres if r["card_number"]],
            columns=["number", "cadre_id", "issued_on", "issued_by", "valid"],
        )
        await conn.execute("VACUUM ANALYZE")  # the steady state of a live database (autovacuum), not a fresh load
    finally:
        await conn.close()
    return cadres, time.monotonic() - started


Timings = dict[str, list[float]]


def import_csv(rng: random.Random, rows: int) -> bytes:
    out = io.StringIO()
    out.write("full_name,date_of_birth,sex,national_id,tier,managing_unit,status,status_since,phone\n")
    for i in range(rows):
        born = date(rng.randrange(1940, 1965), rng.randrange(1, 13), rng.randrange(1, 29))
        name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE_MALE)} {rng.choice(GIVEN_MALE)}"
        out.write(
            f"{name},{born.isoformat()},male,0950{born.year % 100:02d}{900000 + i:06d},provincial_3,VN.63,retired,2020-01-01,\n"
        )
    return out.getvalue().encode()


def principals() -> tuple[Principal, Principal]:
    """The administrator and Tỉnh 01's provincial board."""
    admin = Principal(
        subject="user:bench", kind=PrincipalKind.ADMIN, permissions=PERMISSIONS,
        grants=(Grant(unit_path="VN", tiers=frozenset(ManagementTier), actions=RW | {Action.AGGREGATE}),),
    )  # fmt: skip
    provincial = PROVINCIAL_TIERS | {ManagementTier.CENTRAL, ManagementTier.TREATMENT_ONLY}
    board = Principal(
        subject="user:board",
        kind=PrincipalKind.STAFF,
        permissions=PERMISSIONS,
        grants=(
            Grant(unit_path="VN.01", tiers=provincial, actions=RW),
            Grant(unit_path="VN.01", tiers=frozenset({ManagementTier.DISTRICT}), actions=frozenset({Action.READ})),
        ),
    )
    return admin, board


Headers = dict[str, str]
Cadres = list[dict[str, Any]]


LOOKUPS = (
    "baseline GET /healthz",
    "baseline GET /cadres/{id}",
    "list a province's page (board)",
    "list a province's page (admin, unit=)",
)
SEARCHES = (
    "search full name, no diacritics (nation)",
    "search full name, with diacritics (province)",
    "search given name (province)",
    "search middle+given, substring fallback (nation)",
    "search by CCCD",
    "search by card number",
    "search tier+status in a province",
    "as-of count, a province, random date",
    "count now, a province",
)


def _province(i: int) -> str:
    return f"VN.{PROVINCES[i % 63]}"


def _params(kind: str, i: int, sample: Cadres, carded: Cadres) -> dict[str, Any]:
    """The query of sample request `i` of a kind of list, search or count."""
    c = sample[i]
    choices: dict[str, Callable[[], dict[str, Any]]] = {
        "list a province's page (board)": lambda: {"offset": (i % 20) * 50},
        "list a province's page (admin, unit=)": lambda: {"unit": _province(i)},
        "search full name, no diacritics (nation)": lambda: {"q": c["name_folded"]},
        "search full name, with diacritics (province)": lambda: {"q": c["full_name"], "unit": c["managing_unit"]},
        "search given name (province)": lambda: {"q": c["full_name"].split()[-1], "unit": _province(i)},
        "search middle+given, substring fallback (nation)": lambda: {"q": " ".join(c["name_folded"].split()[1:])},
        "search by CCCD": lambda: {"q": c["national_id"]},
        "search by card number": lambda: {"card_number": carded[i % len(carded)]["card_number"]},
        "search tier+status in a province": lambda: {"unit": _province(i), "tier": "provincial_2", "status": "retired"},
        "as-of count, a province, random date": lambda: {
            "unit": _province(i),
            "on": date(2012 + i % 13, 1 + i % 12, 28).isoformat(),
        },
        "count now, a province": lambda: {"unit": _province(i)},
    }
    return choices[kind]()


async def one_kind(
    kind: str, http: httpx.AsyncClient, who: tuple[Headers, Headers], sample: Cadres, carded: Cadres
) -> list[float]:
    """SAMPLES requests of one kind, timed."""
    as_admin, as_board = who
    if kind == "baseline GET /healthz":
        return await timed(SAMPLES, lambda i: http.get("/healthz"))
    if kind == "baseline GET /cadres/{id}":
        return await timed(SAMPLES, lambda i: http.get(f"/cadres/{sample[i]['id']}", headers=as_admin))
    path = "/cadre-counts" if "count" in kind else "/cadres"
    headers = as_board if "(board)" in kind else as_admin
    return await timed(SAMPLES, lambda i: http.get(path, headers=headers, params=_params(kind, i, sample, carded)))


async def bulk_transfer(http: httpx.AsyncClient, as_admin: Headers, cadres: list[dict[str, Any]]) -> None:
    movers = [c["id"] for c in cadres if c["tier"] in ("provincial_2", "provincial_3") and c["managing_unit"] != "VN.02"][:10000]
    body = {
        "filter": {"ids": [str(m) for m in movers]},
        "to_unit": "VN.02",
        "effective_date": "2026-01-01",
        "reason": "bench: bulk transfer",
    }
    started = time.perf_counter()
    answer = await http.post("/transfers", headers=as_admin, json=body, timeout=300)
    elapsed = time.perf_counter() - started
    assert answer.status_code == 200 and answer.json()["moved"] == len(movers), answer.text[:500]
    record_goal("registry", f"bulk transfer of {len(movers):,} cadres", "<= 10 s", f"{elapsed:.2f} s", met=elapsed <= 10)


async def csv_import(http: httpx.AsyncClient, as_admin: Headers) -> None:
    content = import_csv(random.Random(11), 10000)
    started = time.perf_counter()
    dry = await http.post("/cadres/import", headers={**as_admin, "content-type": "text/csv"}, content=content, timeout=300)
    dry_elapsed = time.perf_counter() - started
    assert dry.status_code == 200 and dry.json()["valid_rows"] == 10000, dry.text[:500]
    started = time.perf_counter()
    done = await http.post(
        "/cadres/import",
        headers={**as_admin, "content-type": "text/csv"},
        content=content,
        params={"dry_run": False},
        timeout=300,
    )
    elapsed = time.perf_counter() - started
    assert done.status_code == 200 and done.json()["imported"] == 10000, done.text[:500]
    record_goal(
        "registry", "CSV import of 10,000 rows", "<= 15 s", f"{elapsed:.2f} s (dry run {dry_elapsed:.2f} s)", met=elapsed <= 15
    )


def signed_app(url: str, keys: tuple[bytes, Path], data_dir: Path) -> tuple[FastAPI, dict[str, str], dict[str, str]]:
    """The registry's app in process (no workers) on `url`, and the headers of an administrator and a board."""
    settings = RegistrySettings(database_url=url, data_dir=data_dir, internal_public_key_file=keys[1], log_level="WARNING")
    signer = InternalTokenSigner(keys[0], ttl_seconds=3600)
    admin, board = principals()
    as_admin = {"authorization": f"Bearer {signer.sign(admin)}"}
    as_board = {"authorization": f"Bearer {signer.sign(board)}"}
    return create_app(settings, run_workers=False), as_admin, as_board


class CpuPerRequest:
    """CPU of this process (the app in process and its client) and of the cluster's backends, per request of
    each measurement: the figure that stays put when other work shares the two cores and stretches latencies."""

    def __init__(self, postmaster: int) -> None:
        self.meter = CpuMeter({}, postgres=postmaster)
        self.spent: dict[str, tuple[float, float]] = {}

    async def run(self, name: str, timings: Awaitable[list[float]]) -> list[float]:
        self.meter.start()
        durations = await timings
        spent = self.meter.spent()
        per = 1000 / len(durations)
        self.spent[name] = (spent.get("load generator", 0.0) * per, spent.get("postgres", 0.0) * per)
        return durations


GOAL_MS = {"as-of count, a province, random date": 100.0, "count now, a province": 100.0}  # else 50 (issues #3, #14)


async def measure(url: str, keys: tuple[bytes, Path], data_dir: Path, cadres: list[dict[str, Any]], postmaster: int) -> None:
    app, as_admin, as_board = signed_app(url, keys, data_dir)
    rng = random.Random(7)
    sample = rng.sample(cadres, SAMPLES)
    with_cards = [c for c in cadres[:20000] if c["card_number"]]
    cpu = CpuPerRequest(postmaster)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://registry", timeout=120) as http:
        await http.get("/cadres", headers=as_admin, params={"limit": 1})  # warm-up
        results = {
            kind: await cpu.run(kind, one_kind(kind, http, (as_admin, as_board), sample, with_cards))
            for kind in (*LOOKUPS, *SEARCHES)
        }
        report(results, cpu.spent)
        await bulk_transfer(http, as_admin, cadres)
        await csv_import(http, as_admin)
    await app.state.runtime.db.dispose()


def report(results: Timings, spent: dict[str, tuple[float, float]]) -> None:
    base_name = "baseline GET /cadres/{id}"
    base, (base_app, base_pg) = p95(results[base_name]), spent[base_name]
    print(f"{'operation':52} {'p50 ms':>7} {'p95 ms':>7} {'/ base':>7} {'CPU app ms':>10} {'CPU pg ms':>9} {'CPU / base':>10}")
    for name, durations in results.items():
        app_ms, pg_ms = spent[name]
        cpu_ratio = (app_ms + pg_ms) / (base_app + base_pg)
        figure = p95(durations)
        print(
            f"{name:52} {statistics.median(durations) * 1000:7.1f} {figure:7.1f} {figure / base:7.1f} {app_ms:10.2f}"
            f" {pg_ms:9.2f} {cpu_ratio:10.1f}"
        )
        if name.startswith("baseline"):
            continue
        goal = GOAL_MS.get(name, 50.0)
        record_goal(
            "registry",
            f"{name} p95 at {CADRES:,} cadres",
            f"<= {goal:.0f} ms",
            f"{figure:.1f} ms (n={len(durations)}; CPU {app_ms:.1f} ms app + {pg_ms:.1f} ms PostgreSQL)",
            met=figure <= goal,
            ratio=f"p95 x{figure / base:.1f}, CPU x{cpu_ratio:.1f} of GET /cadres/{{id}}",
        )


def main() -> None:
    cluster = PostgresCluster()
    try:
        cluster.start()  # inside: a start that fails half-way (initdb done, server up or not) is cleaned up too
        with tempfile.TemporaryDirectory(prefix="bench-registry-") as scratch:
            data_dir = Path(scratch)
            private, public = data_dir / "keys" / "private.pem", data_dir / "keys" / "public.pem"
            ensure_keypair(private, public)
            url = cluster.create_database("registry")
            migrations.upgrade("registry", url)
            cadres, seconds = asyncio.run(load(url))
            print(f"PostgreSQL {cluster.port}: loaded {len(cadres)} cadres, {len(units())} units in {seconds:.1f} s")
            postmaster = cluster.postmaster_pid
            asyncio.run(measure(url, (private.read_bytes(), public), data_dir, cadres, postmaster))
    finally:
        cluster.stop()
