"""The national figures' pre-aggregates (`reporting.preaggregates`) equal what the facts give, on SQLite and
PostgreSQL: their rows equal the aggregates counted again from the facts after every story (the API tests'
world, a late record, an amendment that moves a record, a withdrawal, a cadre's transfer back-dated over its
records, a reorganisation entered before and after the records), and the figures the dashboard reads from them
(whole months) equal the figures counted from the facts alone, on both bases, for whole and partial months; and
migration 0005 fills them from the facts an installation already holds."""

import asyncio
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from alembic import command
from reporting_testkit import ADMIN, Bare, World, classified, record, snapshot
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from test_attribution_reorganisation import order_a, order_b, story

from contracts.api.reporting import UnitBasis
from contracts.enums import CadreStatus, EncounterKind, ManagementTier, ReferralKind
from contracts.events.clinical import ClinicalRecordAmended, ClinicalRecordWithdrawn, RecordSummary
from contracts.events.registry import CadreRegistered, CadreTransferred
from reporting.dashboard import figures, queries
from reporting.preaggregates import refill, split_period
from reporting.tables import InvitationMonthCount, RecordMonthCount, ReportingModel
from servicekit import migrations
from servicekit.db import Database

PERIODS = [
    (date(2023, 1, 1), date(2023, 6, 30)),  # whole months only
    (date(2023, 2, 10), date(2023, 5, 2)),  # partial months at both ends
    (date(2023, 4, 3), date(2023, 4, 20)),  # within one month
    (date(2025, 1, 1), date(2025, 6, 30)),
    (date(2025, 7, 1), date(2025, 12, 31)),
    (date(2025, 6, 15), date(2025, 9, 14)),
]
UNITS = ["VN", "VN.68", "VN.68.672", "VN.67"]


Recount = Callable[[Session], None]


async def stored(session: AsyncSession, models: Sequence[type[ReportingModel]]) -> list[list[tuple[Any, ...]]]:
    found = []
    for model in models:
        rows = (await session.execute(select(model))).scalars()
        found.append(sorted(tuple(r.model_dump().items()) for r in rows))
    return found


async def assert_kept_as_counted(db: Database, models: Sequence[type[ReportingModel]], recount: Recount) -> None:
    """The kept aggregates equal the aggregates counted again from the facts (in a transaction rolled back),
    and the first of them is not empty."""
    async with db.sessions() as session:
        kept = await stored(session, models)
        await session.run_sync(recount)
        counted = await stored(session, models)
        await session.rollback()
    assert kept == counted
    assert kept[0], "nothing counted: the story did not reach the aggregates"


async def assert_preaggregates_exact(db: Database) -> None:
    await assert_kept_as_counted(db, (RecordMonthCount, InvitationMonthCount), lambda sync: refill(sync))


Cells = dict[tuple[str, ...], tuple[int, ...]]


def summed(rows: Any) -> Cells:
    """Rows of (*key, *counts) as key -> counts, keys as text ('' for none), equal keys summed."""
    cells: Cells = {}
    for *key, n, e in rows:
        text = tuple("" if v is None else str(v) for v in key)
        held = cells.get(text, (0, 0))
        cells[text] = (held[0] + int(n), held[1] + int(e or 0))
    return cells


async def assert_figures_equal(db: Database) -> None:
    """Activity and coverage with whole months from the aggregates (as the dashboard reads them) equal the
    facts' own counts over the whole period, cell by cell; and the dashboard's sections agree."""
    async with db.transaction() as session:
        for unit in UNITS:
            for start, end in PERIODS:
                for basis in UnitBasis:
                    activity = await session.execute(queries.activity_cells(ADMIN, unit, start, end, basis))
                    expected = summed((m, k, r, n, 0) for m, k, r, n in activity)
                    cells = await figures.activity_cells(session, ADMIN, unit, start, end, basis)
                    assert summed((c.month, c.kind, c.referral_kind, c.records, 0) for c in cells) == expected
                    coverage = summed(await session.execute(queries.coverage_cells(ADMIN, unit, start, end, basis)))
                    parts = split_period(start, end)
                    rows = []
                    for a, b in parts.edges:
                        rows += list(await session.execute(queries.coverage_cells(ADMIN, unit, a, b, basis)))
                    if parts.months is not None:
                        rows += list(await session.execute(queries.coverage_month_cells(ADMIN, unit, parts.months, basis)))
                    assert summed(rows) == coverage, (unit, start, end, basis)
                    section = await figures.coverage_section(session, ADMIN, unit, start, end, basis)
                    totals = (sum(r.invited for r in section.by_plan), sum(r.examined for r in section.by_plan))
                    assert totals == (sum(v[0] for v in coverage.values()), sum(v[1] for v in coverage.values()))


def test_split_period_keeps_every_day_once() -> None:
    for start, end in [*PERIODS, (date(2023, 12, 15), date(2024, 1, 31)), (date(2024, 2, 1), date(2024, 2, 29))]:
        parts = split_period(start, end)
        days = {d for a, b in parts.edges for d in _days(a, b)}
        if parts.months is not None:
            first, last = parts.months
            days |= {d for d in _days(start, end) if first <= f"{d:%Y-%m}" <= last}
            assert not any(first <= f"{d:%Y-%m}" <= last for a, b in parts.edges for d in _days(a, b))
        assert days == set(_days(start, end))
    assert split_period(date(2023, 1, 1), date(2023, 6, 30)).edges == []
    assert split_period(date(2023, 4, 3), date(2023, 4, 20)).months is None


def _days(start: date, end: date) -> list[date]:
    return [date.fromordinal(o) for o in range(start.toordinal(), end.toordinal() + 1)]


async def test_the_worlds_preaggregates_equal_the_facts(world: World) -> None:
    db = Database(world.database_url)
    try:
        await assert_preaggregates_exact(db)
        await assert_figures_equal(db)
    finally:
        await db.dispose()


async def late_amended_withdrawn_and_transferred(world: World) -> tuple[RecordSummary, RecordSummary]:
    """A late record for a past month; an amendment moving a record to another month and kind; a withdrawal;
    a cadre transferred with a date before its records (they move to the new unit on the as-then basis).
    Returns the late record and the amended one."""
    feed, cadre = world.feed, world.p2[0]
    late = await record(feed, cadre, EncounterKind.REFERRAL, date(2023, 1, 20), referral_kind=ReferralKind.ABROAD)
    moved = await record(feed, cadre, EncounterKind.OUTPATIENT_VISIT, date(2023, 2, 14))
    amended = moved.model_copy(update={"version": 2, "occurred_on": date(2023, 5, 30), "kind": EncounterKind.ADMISSION})
    scope = {"subject": str(cadre.id), "managing_unit": cadre.managing_unit, "tier": cadre.tier}
    await feed.send(ClinicalRecordAmended(record=amended, previous_version=1), **scope)
    gone = await record(feed, cadre, EncounterKind.PERIODIC_EXAM, date(2023, 6, 2), classification=classified("A"))
    await feed.send(ClinicalRecordWithdrawn(record=gone, reason="nhầm người"), **scope)
    mover = snapshot("VN.68.672", ManagementTier.DISTRICT, CadreStatus.ACTIVE, date(2018, 1, 1))
    await feed.send(CadreRegistered(cadre=mover), subject=str(mover.id))
    for day in (date(2023, 2, 1), date(2023, 4, 15)):
        await record(feed, mover, EncounterKind.HOME_VISIT, day, at_home=True)
    transferred = mover.model_copy(update={"managing_unit": "VN.68.673"})
    await feed.send(
        CadreTransferred(
            cadre=transferred, previous_managing_unit="VN.68.672", effective_date=date(2023, 3, 1), reason="điều động"
        ),
        subject=str(mover.id),
    )
    return late, amended


async def test_late_amended_withdrawn_and_transferred_records_keep_them_exact(world: World) -> None:
    late, amended = await late_amended_withdrawn_and_transferred(world)
    db = Database(world.database_url)
    try:
        await assert_preaggregates_exact(db)
        await assert_figures_equal(db)
        async with db.transaction() as session:  # the late record counts in January, the amendment in May
            cells = await figures.activity_cells(session, ADMIN, "VN.68", date(2023, 1, 1), date(2023, 6, 30), UnitBasis.AS_THEN)
        assert ("2023-01", "referral", "abroad", 1) in [(c.month, c.kind, c.referral_kind, c.records) for c in cells]
        assert late.record_id != amended.record_id
    finally:
        await db.dispose()


async def test_a_reorganisation_before_or_after_the_records_keeps_them_exact(reporting: Bare) -> None:
    await order_a(reporting.feed, story())
    await assert_preaggregates_exact(reporting.db)
    await assert_figures_equal(reporting.db)


async def test_records_after_a_reorganisation_keep_them_exact(reporting: Bare) -> None:
    await order_b(reporting.feed, story())
    await assert_preaggregates_exact(reporting.db)
    await assert_figures_equal(reporting.db)


async def test_the_migration_fills_them_from_the_facts_already_stored(world: World) -> None:
    """An installation upgraded with facts in place: migration 0005 counts them as the projections keep them."""
    await asyncio.to_thread(command.downgrade, migrations.alembic_config("reporting", world.database_url), "0004")
    await asyncio.to_thread(migrations.upgrade, "reporting", world.database_url)
    db = Database(world.database_url)
    try:
        await assert_preaggregates_exact(db)
    finally:
        await db.dispose()
