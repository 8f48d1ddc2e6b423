"""The headcount pre-aggregates (`reporting.headcounts`) equal what the facts give, on SQLite and PostgreSQL:
their rows equal a recount from the intervals and diagnoses after every story of `test_preaggregates` (the
API tests' world, late, amended, withdrawn and back-dated records, a reorganisation before and after the
records); the dashboard's cadre and chronic-condition sections and the roll-up's cadres read from them equal
those counted from the facts alone, on many days and units, on both bases; migration 0008 fills them."""

import asyncio
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import Any

from alembic import command
from reporting_testkit import ADMIN, Bare, World, record, snapshot
from sqlalchemy import and_, case, func, select
from sqlmodel import col
from test_attribution_reorganisation import order_a, order_b, story
from test_preaggregates import UNITS, assert_kept_as_counted, late_amended_withdrawn_and_transferred

from contracts.api.reporting import UnitBasis
from contracts.enums import CadreStatus, EncounterKind, ManagementTier
from contracts.events.registry import CadreRegistered
from contracts.scope import Principal
from reporting.access import in_scope
from reporting.dashboard import figures
from reporting.domain import COUNTED_STATUSES, chronic_groups, comorbidity_bucket
from reporting.facts import Rows, attributed_to, holds_on
from reporting.headcounts.store import cadres_touched, refill
from reporting.rollup import queries as rollup
from reporting.tables import CadreInterval, DiagnosisFact, HeadcountStep, HeadcountTotal
from servicekit import migrations
from servicekit.db import Database
from servicekit.scope import NATION

DAYS = [
    date(2000, 1, 1),
    date(2018, 12, 31),
    date(2022, 12, 31),
    date(2023, 3, 1),
    date(2023, 6, 30),
    date(2024, 2, 29),
    date(2025, 6, 30),
    date(2025, 7, 1),
    date(2025, 12, 31),
    date(2031, 1, 1),
]


# --- the facts' own counts (what the pre-aggregates replaced) ---------------------------------------------


def _intervals_in_scope(principal: Principal, unit: str, basis: UnitBasis) -> Any:
    unit_column, province_column = attributed_to(CadreInterval, basis)
    return in_scope(principal, unit, unit_column, col(CadreInterval.tier), province_column)


def cadres_from_facts(unit: str, day: date, basis: UnitBasis) -> Rows:
    tier, status = col(CadreInterval.tier), col(CadreInterval.status)
    return (
        select(tier, status, func.count())
        .where(_intervals_in_scope(ADMIN, unit, basis), holds_on(day), status.in_(COUNTED_STATUSES))
        .group_by(tier, status)
    )


def chronic_pairs_from_facts(unit: str, day: date, basis: UnitBasis) -> Rows:
    """(cadre, group) of the cadres under care on `day` with a diagnosis of the group by then."""
    diagnosis = DiagnosisFact
    joined = and_(
        col(CadreInterval.cadre_id) == col(diagnosis.cadre_id),
        _intervals_in_scope(ADMIN, unit, basis),
        holds_on(day),
        col(CadreInterval.status).in_(COUNTED_STATUSES),
    )
    return (
        select(col(diagnosis.cadre_id), col(diagnosis.chronic_group))
        .join(CadreInterval, joined)
        .where(col(diagnosis.occurred_on) <= day)
        .distinct()
    )


def province_cadres_from_facts(day: date, basis: UnitBasis) -> Rows:
    interval = CadreInterval
    province = attributed_to(interval, basis)[1]
    scope = in_scope(ADMIN, NATION, attributed_to(interval, basis)[0], col(interval.tier))
    held = case((holds_on(day), 1), else_=0)
    return (
        select(province, col(interval.tier), col(interval.status), func.sum(held))
        .where(scope, col(interval.status).in_(COUNTED_STATUSES))
        .group_by(province, col(interval.tier), col(interval.status))
    )


# --- the checks ---------------------------------------------------------------------------------------------


async def assert_headcounts_exact(db: Database) -> None:
    await assert_kept_as_counted(db, (HeadcountTotal, HeadcountStep), lambda sync: refill(sync))


def _nonzero(rows: Sequence[tuple[Any, ...]]) -> dict[tuple[str, ...], int]:
    return {tuple(str(v) for v in key): int(n) for *key, n in rows if n}


async def assert_figures_equal(db: Database) -> None:
    async with db.transaction() as session:
        for basis in UnitBasis:
            for day in DAYS:
                for unit in UNITS:
                    rows = (await figures.cadre_rows_on(session, ADMIN, unit, [day], basis))[0]
                    expected = _nonzero(list(await session.execute(cadres_from_facts(unit, day, basis))))
                    assert {(r.tier.value, r.status.value): r.count for r in rows} == expected, (unit, day, basis)
                    pairs = list(await session.execute(chronic_pairs_from_facts(unit, day, basis)))
                    groups_of = Counter(cadre for cadre, _group in pairs)
                    section = await figures.chronic_section(session, ADMIN, unit, day, 100, basis)
                    assert {r.group: r.cadres for r in section.rows if r.cadres} == dict(Counter(g for _c, g in pairs))
                    buckets = Counter(comorbidity_bucket(n) for n in groups_of.values())
                    assert {r.conditions: r.cadres for r in section.comorbidity if r.cadres} == dict(buckets)
                by_province = _nonzero(
                    [(p, t, s, n) for p, t, s, _m, n in await session.execute(rollup.cadres(ADMIN, day, basis))]
                )
                assert by_province == _nonzero(list(await session.execute(province_cadres_from_facts(day, basis))))


async def assert_exact(db: Database) -> None:
    await assert_headcounts_exact(db)
    await assert_figures_equal(db)


async def test_the_worlds_headcounts_equal_the_facts(world: World) -> None:
    db = Database(world.database_url)
    try:
        await assert_exact(db)
    finally:
        await db.dispose()


async def test_late_amended_withdrawn_and_back_dated_records_keep_them_exact(world: World) -> None:
    await late_amended_withdrawn_and_transferred(world)
    db = Database(world.database_url)
    try:
        await assert_exact(db)
    finally:
        await db.dispose()


async def test_a_reorganisation_before_or_after_the_records_keeps_them_exact(reporting: Bare) -> None:
    await order_a(reporting.feed, story())
    await assert_exact(reporting.db)


async def test_records_after_a_reorganisation_keep_them_exact(reporting: Bare) -> None:
    await order_b(reporting.feed, story())
    await assert_exact(reporting.db)


async def test_the_migration_fills_them_from_the_facts_already_stored(world: World) -> None:
    """An installation upgraded with facts in place: migration 0008 counts them as the projections keep them."""
    await asyncio.to_thread(command.downgrade, migrations.alembic_config("reporting", world.database_url), "0007")
    await asyncio.to_thread(migrations.upgrade, "reporting", world.database_url)
    db = Database(world.database_url)
    try:
        await assert_headcounts_exact(db)
    finally:
        await db.dispose()


async def test_a_chronic_patients_repeated_diagnoses_count_again_only_when_they_change_a_first_diagnosis(
    reporting: Bare,
) -> None:
    """A periodic exam repeating a group known since earlier changes no step, and its cadre is not counted again;
    the same group back-dated, or a new group, is; the pre-aggregates stay exact either way."""
    cadre = snapshot("VN.68.672", ManagementTier.DISTRICT, CadreStatus.ACTIVE, date(2018, 1, 1))
    await reporting.feed.send(CadreRegistered(cadre=cadre), subject=str(cadre.id))
    await record(reporting.feed, cadre, EncounterKind.PERIODIC_EXAM, date(2024, 6, 3), diagnoses=["I10"])

    def touched_by(day: date, diagnoses: list[str]) -> Any:
        row = {"record_id": uuid.uuid4(), "cadre_id": cadre.id, "occurred_on": day, "withdrawn": False}
        groups = {row["record_id"]: chronic_groups(diagnoses)}
        return lambda sync: cadres_touched(sync, [], [row], groups, [])

    async with reporting.db.transaction() as session:
        assert await session.run_sync(touched_by(date(2025, 6, 2), ["I10"])) == []
        assert await session.run_sync(touched_by(date(2022, 6, 2), ["I10"])) == [cadre.id]
        assert await session.run_sync(touched_by(date(2025, 6, 2), ["I10", "E11"])) == [cadre.id]
    for day, diagnoses in ((date(2025, 6, 2), ["I10"]), (date(2022, 6, 2), ["I10"]), (date(2025, 6, 9), ["E11"])):
        await record(reporting.feed, cadre, EncounterKind.PERIODIC_EXAM, day, diagnoses=diagnoses)
        await assert_headcounts_exact(reporting.db)
