"""Cadres counted by managing unit, tier and status: now (from the cadres), as of a date (from the periods),
or as of a date with each unit followed through the reorganisations since onto today's unit. A caller who may
only aggregate some tier of the unit sees them suppressed (servicekit.suppression)."""

import uuid
from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.api.registry import CadreCount
from contracts.enums import Action, CadreStatus, ManagementTier
from contracts.scope import Principal, unit_covers
from registry.cadres import queries
from registry.tables import UnitSuccession
from servicekit.scope import may
from servicekit.suppression import (
    DEFAULT_MIN_CELL_SIZE,
    FigureSet,
    Key,
    add_marginals,
    aggregate_only,
    no_roll_up,
    units_up_to,
    zeroed,
)


def _counts(rows: Iterable[tuple[str, str, str, int]]) -> list[CadreCount]:
    return [CadreCount(managing_unit=u, tier=ManagementTier(t), status=CadreStatus(s), count=n) for u, t, s, n in rows]


async def count_cadres(
    session: AsyncSession,
    principal: Principal,
    unit: str,
    on: date | None = None,
    mapped: bool = False,
    min_cell_size: int = DEFAULT_MIN_CELL_SIZE,
) -> list[CadreCount]:
    if on is None:
        counted = _counts(await session.execute(queries.counts_now(principal, unit)))
    elif not mapped:
        counted = _counts(await session.execute(queries.counts_as_of(principal, unit, on)))
    else:
        counted = await mapped_counts(session, principal, unit, on)
    return suppressed_counts(counted, unit, min_cell_size) if aggregate_only(principal, unit) else counted


def suppressed_counts(counts: list[CadreCount], unit: str, min_cadres: int) -> list[CadreCount]:
    """The counts as an aggregate-only caller sees them. The list prints no total, but its sums by tier, by
    status and by the subtree of each unit are what the reader adds up, and what other outputs print."""
    shown = [c.model_copy(deep=True) for c in counts]
    figures = FigureSet()
    leaves: dict[Key, str] = {}
    for c in shown:
        key = (c.managing_unit, c.tier.value, c.status.value)
        leaves[key] = figures.count("=".join(key), c.count, zeroed(c, "count"))
    add_marginals(figures, leaves, (units_up_to(unit), no_roll_up, no_roll_up), lambda total: "sum:" + "=".join(total))
    figures.apply(min_cadres)
    return shown


async def mapped_counts(session: AsyncSession, principal: Principal, unit: str, on: date) -> list[CadreCount]:
    """As of `on`, each unit followed through the reorganisations since onto today's unit (a split unit's cadres
    each to the part they were given). Scope applies to today's unit: the board that manages it now sees its past."""
    successions = list(await session.scalars(queries.successions_after(on)))
    totals: dict[tuple[str, str, str], int] = {}
    ambiguous: set[str] = set()

    def add(target: str | None, tier: str, status: str, n: int) -> None:
        if target is None or not unit_covers(unit, target):
            return
        if may(principal, Action.READ, target, ManagementTier(tier)) or may(
            principal, Action.AGGREGATE, target, ManagementTier(tier)
        ):
            totals[(target, tier, status)] = totals.get((target, tier, status), 0) + n

    for path, tier, status, n in await session.execute(queries.all_counts_as_of(on)):
        target = _follow(successions, path)
        if target is None:
            ambiguous.add(path)
        add(target, tier, status, n)
    if ambiguous:
        for path, tier, status, cadre_id in await session.execute(queries.periods_as_of_in(on, ambiguous)):
            add(await _unit_after_split(session, cadre_id, path, successions), tier, status, 1)
    return _counts((u, t, s, n) for (u, t, s), n in sorted(totals.items()))


def _successors(successions: Sequence[UnitSuccession], path: str) -> list[str]:
    return [s.new_path for s in successions if s.old_path == path]


def _follow(successions: Sequence[UnitSuccession], path: str) -> str | None:
    """Follow single successors in order; None where a unit was split (ambiguous by unit)."""
    current = path
    for succession in successions:
        if succession.old_path != current:
            continue
        if len(set(_successors(successions, current))) > 1:
            return None
        current = succession.new_path
    return current


async def _unit_after_split(
    session: AsyncSession, cadre_id: uuid.UUID, path: str, successions: Sequence[UnitSuccession]
) -> str | None:
    split = next((s for s in successions if s.old_path == path), None)
    if split is None:
        return path
    after = await session.scalar(queries.unit_of_cadre_on(cadre_id, split.effective_date))
    return _follow([s for s in successions if s.effective_date > split.effective_date], after) if after else None
