"""The map and the drill-down: a unit's periodic exam coverage and its children's, this period and the one
before, with their names and coordinates as the units stood on the day the figures hold (or today's units)."""

from collections import defaultdict
from collections.abc import Collection
from datetime import date

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.api.dashboard import CoverageTarget, DashboardMap, UnitCoverage, UnitCrumb
from contracts.api.reporting import CoverageSection, UnitBasis
from contracts.scope import Principal, unit_covers
from reporting.access import resolve_unit, visible_units
from reporting.dashboard import figures
from reporting.dashboard.targets import ancestors, band, change, previous_period
from reporting.domain import rate
from reporting.facts import Rows
from reporting.periods import check_period
from reporting.tables import UnitVersion
from servicekit import clock
from servicekit.scope import within_unit
from servicekit.suppression import aggregate_only

Tally = dict[str, tuple[int, int]]  # unit path -> (invited, examined)


def _overlapping(principal: Principal) -> ColumnElement[bool]:
    """Units within a grant of the caller or above one (the nation above a province's board): the units it may
    name, never a sibling's."""
    grants = visible_units(principal)
    above = {a for g in grants for a in ancestors(g)}
    return or_(*(within_unit(col(UnitVersion.path), g) for g in grants), col(UnitVersion.path).in_(sorted(above)))


def units_held(principal: Principal, day: date, parent: str | None, paths: Collection[str] = ()) -> Rows:
    """The versions in force on `day` of `parent`'s children and of `paths`, among the units the caller may name."""
    wanted: list[ColumnElement[bool]] = [col(UnitVersion.path).in_(sorted(paths))]
    if parent is not None:
        wanted.append(col(UnitVersion.parent_path) == parent)
    return (
        select(UnitVersion)
        .where(
            _overlapping(principal),
            or_(*wanted),
            col(UnitVersion.valid_from) <= day,
            or_(col(UnitVersion.valid_to).is_(None), col(UnitVersion.valid_to) > day),
        )
        .order_by(col(UnitVersion.path), col(UnitVersion.valid_from))
    )


def latest_versions(principal: Principal, paths: Collection[str]) -> Rows:
    """Any version of `paths` (a unit that no longer stood on the day: its rows still count somewhere)."""
    return (
        select(UnitVersion)
        .where(_overlapping(principal), col(UnitVersion.path).in_(sorted(paths)))
        .order_by(col(UnitVersion.path), col(UnitVersion.valid_from))
    )


def _tally(section: CoverageSection) -> Tally:
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in section.by_unit:
        if row.unit is not None:
            sums[row.unit][0] += row.invited or 0
            sums[row.unit][1] += row.examined or 0
    return {path: (n, e) for path, (n, e) in sums.items()}


def _coverage(
    version: UnitVersion, now: tuple[int, int], then: tuple[int, int], target: CoverageTarget, hide_below: int
) -> UnitCoverage:
    """One unit's figures; a cell of fewer invitations than `hide_below` is hidden (aggregate-only callers)."""
    shown_now = now if now[0] >= hide_below else None
    shown_then = then if then[0] >= hide_below else None
    current = rate(shown_now[1], shown_now[0]) if shown_now else None
    previous = rate(shown_then[1], shown_then[0]) if shown_then else None
    return UnitCoverage(
        path=version.path,
        name=version.name,
        level=version.level,
        latitude=version.latitude,
        longitude=version.longitude,
        invited=shown_now[0] if shown_now else None,
        examined=shown_now[1] if shown_now else None,
        rate=current,
        band=band(current, target),
        previous_invited=shown_then[0] if shown_then else None,
        previous_examined=shown_then[1] if shown_then else None,
        previous_rate=previous,
        change=change(current, previous),
    )


async def _versions(
    session: AsyncSession, principal: Principal, day: date, unit: str, keys: Collection[str]
) -> dict[str, UnitVersion]:
    """The unit, its ancestors and children on `day`, and any other unit the figures name (latest version)."""
    found: dict[str, UnitVersion] = {}
    for version in (await session.execute(units_held(principal, day, unit, [*ancestors(unit), *keys]))).scalars():
        found[version.path] = version
    missing = [p for p in [*ancestors(unit), *keys] if p not in found]
    if missing:
        for version in (await session.execute(latest_versions(principal, missing))).scalars():
            found[version.path] = version
    return found


async def coverage_map(
    session: AsyncSession,
    principal: Principal,
    unit: str,
    start: date,
    end: date,
    basis: UnitBasis,
    target: CoverageTarget,
    min_cell_size: int,
) -> DashboardMap:
    check_period(start, end)
    await resolve_unit(session, principal, unit)
    before_start, before_end = previous_period(start, end)
    now = await figures.coverage_section(session, principal, unit, start, end, basis)
    then = await figures.coverage_section(session, principal, unit, before_start, before_end, basis)
    tally_now, tally_then = _tally(now), _tally(then)
    day = clock.today() if basis is UnitBasis.TODAY else end
    keys = [k for k in {*tally_now, *tally_then} if k != unit and unit_covers(unit, k)]
    versions = await _versions(session, principal, day, unit, keys)
    only_aggregates = aggregate_only(principal, unit)
    hide_below = min_cell_size if only_aggregates else 0
    children = sorted(
        (v for p, v in versions.items() if p in keys or (v.parent_path == unit and p != unit)), key=lambda v: v.name
    )
    whole = (sum(n for n, _ in tally_now.values()), sum(e for _, e in tally_now.values()))
    whole_then = (sum(n for n, _ in tally_then.values()), sum(e for _, e in tally_then.values()))
    return DashboardMap(
        unit=_coverage(versions[unit], whole, whole_then, target, hide_below),
        trail=[UnitCrumb(path=p, name=versions[p].name, level=versions[p].level) for p in ancestors(unit) if p in versions],
        children=[
            _coverage(v, tally_now.get(v.path, (0, 0)), tally_then.get(v.path, (0, 0)), target, hide_below) for v in children
        ],
        period_start=start,
        period_end=end,
        previous_start=before_start,
        previous_end=before_end,
        target=target,
        aggregate_only=only_aggregates,
    )
