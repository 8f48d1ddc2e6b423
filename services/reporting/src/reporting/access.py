"""Who may see which figures, shared by every feature: the permission the routes need, the rows a
caller's counts rest on, and the units a caller may ask about.

Reporting only ever answers aggregates, so a READ grant lets its rows be counted as much as an
AGGREGATE grant does: the rows in scope are those of `scope_filter(..., Action.AGGREGATE, ...)` over
the caller's grants allowing either, narrowed to the unit asked for.
"""

from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Query
from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.api.reporting import UnitBasis
from contracts.enums import Action, ManagementTier
from contracts.permissions import Permission
from contracts.scope import Grant, Principal, unit_covers
from reporting.domain import province_of
from reporting.tables import UnitFact, UnitVersion
from servicekit.auth import permitted
from servicekit.errors import NotFound, field_error
from servicekit.scope import scope_filter

ReportingReader = Annotated[Principal, Depends(permitted(Permission.REPORTING_READ))]
UnitQuery = Annotated[str, Query(min_length=2, max_length=100, description="materialised unit path, e.g. VN.68")]
BasisQuery = Annotated[
    UnitBasis,
    Query(
        description="as_then: each row under its cadre's unit on the row's own date, the units as they stood then; "
        "today: those units mapped onto today's units through the reorganisations since"
    ),
]

COUNTING = frozenset({Action.READ, Action.AGGREGATE})
COUNT_ONLY = frozenset({Action.AGGREGATE})


def counting_grants(principal: Principal, unit: str) -> Principal:
    """The caller's READ and AGGREGATE grants as AGGREGATE grants within `unit`.

    Grants on the unit or above it become one grant on the unit with all their tiers; grants below
    it stay as they are; others are dropped. Every resulting grant lies within the unit, so the
    statement tests each row against the unit once (PostgreSQL answers it from the province index).
    """
    covering: set[ManagementTier] = set()
    below: list[Grant] = []
    for grant in principal.grants:
        if not grant.actions & COUNTING or not grant.tiers:
            continue
        if unit_covers(grant.unit_path, unit):
            covering |= grant.tiers
        elif unit_covers(unit, grant.unit_path):
            below.append(Grant(unit_path=grant.unit_path, tiers=grant.tiers, actions=COUNT_ONLY))
    on_unit = [Grant(unit_path=unit, tiers=frozenset(covering), actions=COUNT_ONLY)] if covering else []
    return principal.model_copy(update={"grants": (*on_unit, *below)})


def in_scope(
    principal: Principal, unit: str, unit_column: Any, tier_column: Any, province_column: Any | None = None
) -> ColumnElement[bool]:
    """Rows under `unit` whose (managing unit, tier) a READ or AGGREGATE grant of the caller covers."""
    clause = scope_filter(counting_grants(principal, unit), Action.AGGREGATE, unit_column, tier_column)
    if province_column is not None and "." in unit:
        clause = and_(clause, province_column == province_of(unit))
    return clause


def visible_units(principal: Principal) -> list[str]:
    """The units of the grants that let the caller count anything."""
    return [g.unit_path for g in principal.grants if g.actions & COUNTING]


async def name_in_period(session: AsyncSession, found: UnitFact, end: date, basis: UnitBasis) -> str:
    """The unit's name as it stood at the period's end (its latest version begun by then), or today's name
    when the figures are mapped onto today's units."""
    if basis is UnitBasis.TODAY:
        return found.name
    statement = (
        select(col(UnitVersion.name))
        .where(col(UnitVersion.path) == found.path, col(UnitVersion.valid_from) <= end)
        .order_by(col(UnitVersion.valid_from).desc())
        .limit(1)
    )
    return (await session.scalar(statement)) or found.name


async def resolve_unit(session: AsyncSession, principal: Principal, unit: str) -> UnitFact:
    """The unit asked for, if it is known and overlaps the caller's grants; otherwise 404 (nothing leaks)."""
    found = await session.get(UnitFact, unit)
    overlaps = any(unit_covers(g, unit) or unit_covers(unit, g) for g in visible_units(principal))
    if found is None or not overlaps:
        raise NotFound(f"unknown unit {unit!r}", errors=[field_error(["query", "unit"], f"no unit {unit!r} in your scope")])
    return found
