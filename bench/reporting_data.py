"""bench_reporting's synthetic national read models, bulk-loaded (COPY) straight into reporting's tables:
300,000 cadres in 63 provinces (about ten districts each) with five years of intervals, invitations and
clinical records (sizes from BENCH_REPORTING_CADRES / BENCH_REPORTING_RECORDS / BENCH_REPORTING_INVITATIONS).
The random draws are made in one order from one seed, so a run loads the same data as the last."""

from __future__ import annotations

import os
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg

from contracts.enums import EncounterKind, ManagementTier, ReferralKind
from reporting.domain import chronic_groups, month_of

CADRES = int(os.environ.get("BENCH_REPORTING_CADRES", 300_000))
RECORDS = int(os.environ.get("BENCH_REPORTING_RECORDS", 1_000_000))
INVITATIONS = int(os.environ.get("BENCH_REPORTING_INVITATIONS", 300_000))
PROVINCES = 63
DISTRICTS = 10
YEARS = (2019, 2023)
TIERS = [
    ManagementTier.CENTRAL,
    ManagementTier.PROVINCIAL_1,
    ManagementTier.PROVINCIAL_2,
    ManagementTier.PROVINCIAL_3,
    ManagementTier.DISTRICT,
]
TIER_WEIGHTS = [1, 4, 38, 55, 30]
KINDS = [
    (EncounterKind.OUTPATIENT_VISIT, None, 70),
    (EncounterKind.ADMISSION, None, 5),
    (EncounterKind.REFERRAL, ReferralKind.HIGHER_LEVEL, 1),
    (EncounterKind.REFERRAL, ReferralKind.IN_PROVINCE, 1),
    (EncounterKind.HOME_VISIT, None, 2),
    (EncounterKind.PERIODIC_EXAM, None, 20),
    (EncounterKind.CONSULTATION, None, 1),
]
DIAGNOSES = ["I10", "I25", "E11", "J44", "C34", "K29", "M54", "N18", "I63"]
CADRE_COLUMNS = ["cadre_id", "managing_unit", "province", "tier", "status"]
INVITATION_COLUMNS = [
    "invitation_id",
    "plan_id",
    "round_id",
    "cadre_id",
    "tier",
    "managing_unit",
    "province",
    "facility",
    "appointment_date",
    "status",
    "status_on",
    "exam_recorded",
]
RECORD_COLUMNS = [
    "record_id",
    "version",
    "kind",
    "cadre_id",
    "facility",
    "occurred_on",
    "month",
    "ended_on",
    "plan_id",
    "round_id",
    "at_home",
    "classification",
    "referral_kind",
    "needs_follow_up",
    "withdrawn",
    "managing_unit",
    "province",
    "tier",
]
Rows = list[tuple[Any, ...]]


def province(i: int) -> str:
    return f"VN.{10 + i:02d}"


async def load_units(pg: asyncpg.Connection) -> None:
    units: Rows = [("VN", "VN", "Việt Nam", "nation", None, date(1976, 7, 2))]
    for p in range(PROVINCES):
        units.append((province(p), province(p)[3:], f"Tỉnh {p}", "province", "VN", date(1976, 7, 2)))
        units += [
            (f"{province(p)}.{d:03d}", f"{d:03d}", f"Huyện {p}-{d}", "district", province(p), date(1976, 7, 2))
            for d in range(DISTRICTS)
        ]
    await pg.copy_records_to_table(
        "unitfact", records=units, columns=["path", "code", "name", "level", "parent_path", "valid_from"]
    )


async def load_cadres(pg: asyncpg.Connection, rng: random.Random) -> tuple[Rows, Rows]:
    """The cadres now and their status intervals; a quarter of them retire within the five years."""
    now = datetime.now(UTC)
    cadres: Rows = []
    intervals: Rows = []
    for _ in range(CADRES):
        cid = uuid.UUID(int=rng.getrandbits(128))
        tier = rng.choices(TIERS, TIER_WEIGHTS)[0]
        p = rng.randrange(PROVINCES)
        unit = province(p) if tier is not ManagementTier.DISTRICT else f"{province(p)}.{rng.randrange(DISTRICTS):03d}"
        start = date(rng.randrange(2005, 2023), rng.randrange(1, 13), 1)
        if rng.random() < 0.25:  # retires within the five years
            retired_on = date(rng.randrange(YEARS[0], YEARS[1] + 1), rng.randrange(1, 13), 1)
            if retired_on > start:
                intervals.append((cid, unit, province(p), tier.value, "active", start, retired_on))
                intervals.append((cid, unit, province(p), tier.value, "retired", retired_on, None))
                cadres.append((cid, unit, province(p), tier.value, "retired", retired_on, now))
                continue
        status = "active" if rng.random() < 0.35 else "retired"
        intervals.append((cid, unit, province(p), tier.value, status, start, None))
        cadres.append((cid, unit, province(p), tier.value, status, start, now))
    await pg.copy_records_to_table("cadrefact", records=cadres, columns=[*CADRE_COLUMNS, "status_since", "updated_at"])
    await pg.copy_records_to_table("cadreinterval", records=intervals, columns=[*CADRE_COLUMNS, "valid_from", "valid_to"])
    return cadres, intervals


async def load_plans(pg: asyncpg.Connection) -> dict[tuple[str, int], tuple[uuid.UUID, uuid.UUID]]:
    """One plan of one round a province and year; returns (province, year) -> (plan id, round id)."""
    plans: Rows = []
    rounds: Rows = []
    for p in range(PROVINCES):
        for year in range(YEARS[0], YEARS[1] + 1):
            plan, rnd = uuid.uuid4(), uuid.uuid4()
            plans.append((plan, province(p), year, f"Kế hoạch {year}"))
            rounds.append((rnd, plan, 1, date(year, 3, 1), date(year, 6, 30)))
    await pg.copy_records_to_table("examplanfact", records=plans, columns=["plan_id", "board_unit", "year", "title"])
    await pg.copy_records_to_table(
        "examroundfact", records=rounds, columns=["round_id", "plan_id", "number", "starts_on", "ends_on"]
    )
    return {(plan[1], plan[2]): (plan[0], rnd[0]) for plan, rnd in zip(plans, rounds, strict=True)}


async def load_invitations(
    pg: asyncpg.Connection, rng: random.Random, cadres: Rows, round_of: dict[tuple[str, int], tuple[uuid.UUID, uuid.UUID]]
) -> Rows:
    invitations: Rows = []
    for _ in range(INVITATIONS):
        cid, unit, prov, tier, *_rest = rng.choice(cadres)
        year = rng.randrange(YEARS[0], YEARS[1] + 1)
        plan_id, round_id = round_of[(prov, year)]
        status = rng.choices(["attended", "no_show", "deferred", "cancelled"], [70, 15, 10, 5])[0]
        day = date(year, rng.randrange(3, 7), rng.randrange(1, 29))
        invitations.append((uuid.uuid4(), plan_id, round_id, cid, tier, unit, prov, "F", day, status, day, status == "attended"))
    await pg.copy_records_to_table("invitationfact", records=invitations, columns=INVITATION_COLUMNS)
    return invitations


async def load_records(
    pg: asyncpg.Connection, rng: random.Random, cadres: Rows, codes: dict[uuid.UUID, list[str]]
) -> tuple[Rows, Rows]:
    """Clinical records over the five years, and the chronic-condition groups of some of their diagnoses (the
    ICD-10 codes drawn are kept in `codes`, by record, for the events of `bench.reporting_history`)."""
    records: Rows = []
    diagnoses: Rows = []
    span = (date(YEARS[1], 12, 31) - date(YEARS[0], 1, 1)).days
    kinds, weights = [(k, r) for k, r, _ in KINDS], [w for *_, w in KINDS]
    for _ in range(RECORDS):
        cid, unit, prov, tier, *_rest = rng.choice(cadres)
        kind, referral = rng.choices(kinds, weights)[0]
        day = date(YEARS[0], 1, 1) + timedelta(days=rng.randrange(span))
        rid = uuid.UUID(int=rng.getrandbits(128))
        code = rng.choices(["A", "B1", "B2", "C", "D"], [22, 38, 28, 10, 2])[0] if kind is EncounterKind.PERIODIC_EXAM else None
        not_planned = (None, None, None, False)  # ended_on, plan_id, round_id, at_home
        referral_kind = referral.value if referral else None
        records.append(
            (rid, 1, kind.value, cid, "F", day, month_of(day), *not_planned, code, referral_kind, False, False, unit, prov, tier)
        )
        if rng.random() < 0.15:
            codes[rid] = rng.sample(DIAGNOSES, rng.randrange(1, 3))
            for group in chronic_groups(codes[rid]):
                diagnoses.append((rid, group, cid, day, unit, prov, tier))
    await pg.copy_records_to_table("clinicalfact", records=records, columns=RECORD_COLUMNS)
    await pg.copy_records_to_table(
        "diagnosisfact",
        records=diagnoses,
        columns=["record_id", "chronic_group", "cadre_id", "occurred_on", "managing_unit", "province", "tier"],
    )
    return records, diagnoses


ATTRIBUTED_TABLES = ("cadreinterval", "invitationfact", "clinicalfact", "diagnosisfact")


@dataclass
class Loaded:
    """What was loaded, kept to publish it as the events it stands for (`bench.reporting_history`)."""

    intervals: Rows
    plans: dict[tuple[str, int], tuple[uuid.UUID, uuid.UUID]]
    invitations: Rows
    records: Rows
    codes: dict[uuid.UUID, list[str]]
    sizes: dict[str, int]


async def load(pg: asyncpg.Connection, rng: random.Random) -> Loaded:
    await load_units(pg)
    cadres, intervals = await load_cadres(pg, rng)
    plans = await load_plans(pg)
    invitations = await load_invitations(pg, rng, cadres, plans)
    codes: dict[uuid.UUID, list[str]] = {}
    records, diagnoses = await load_records(pg, rng, cadres, codes)
    for table in ATTRIBUTED_TABLES:  # no reorganisation in this history: today's unit is the unit of the day
        await pg.execute(f"UPDATE {table} SET today_unit = managing_unit, today_province = province")
    # as autovacuum leaves a table in service: statistics, hint bits and the visibility map (index-only scans)
    await pg.execute("VACUUM ANALYZE")
    sizes = {
        "cadres": len(cadres),
        "intervals": len(intervals),
        "invitations": len(invitations),
        "records": len(records),
        "diagnoses": len(diagnoses),
    }
    return Loaded(intervals, plans, invitations, records, codes, sizes)
