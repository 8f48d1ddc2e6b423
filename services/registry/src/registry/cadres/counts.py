"""Cadres counted by managing unit, tier and status: now (from the cadres), as of a date (from the periods),
or as of a date with each unit followed through the reorganisations since onto today's unit."""

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


def _counts(rows: Iterable[tuple[str, str, str, int]]) -> list[CadreCount]:
    return [CadreCount(managing_unit=u, tier=ManagementTier(t), status=CadreStatus(s), count=n) for u, t, s, n in rows]


async def count_cadres(
    session: AsyncSession, principal: Principal, unit: str, on: date | None = None, mapped: bool = False
) -> list[CadreCount]:
    if on is None:
        return _counts(await session.execute(queries.counts_now(principal, unit)))
    if not mapped:
        return _counts(await session.execute(queries.counts_as_of(principal, unit, on)))
    return await mapped_counts(session, principal, unit, on)


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
