"""Which cadres a caller reaches: the statement every cadre query of every feature starts from, and the
single cadre a use case reads or changes (404 when out of sight, 403 when visible but not writable)."""

import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from contracts.enums import Action, ManagementTier
from contracts.scope import Principal
from registry.tables import Cadre
from servicekit.errors import Forbidden, NotFound
from servicekit.scope import escape_like, may, scope_filter


def _common_unit(paths: Sequence[str]) -> str | None:
    if not paths:
        return None
    common: list[str] = []
    for segments in zip(*(p.split(".") for p in paths), strict=False):
        if len(set(segments)) != 1:
            break
        common.append(segments[0])
    return ".".join(common) or None


def prefix_hint(unit_column: Any, unit: str | None) -> ColumnElement[bool]:
    """`column LIKE 'VN.68%'` over the common part of several grants: implied by their scope filter, but one
    index range on PostgreSQL (varchar_pattern_ops), so counts become index-only scans instead of a BitmapOr."""
    if not unit:
        return true()
    return cast(ColumnElement[bool], unit_column.like(escape_like(unit) + "%", escape="\\"))


def in_scope(principal: Principal, action: Action = Action.READ) -> ColumnElement[bool]:
    """Cadres whose managing unit and tier a grant allowing `action` covers."""
    grants = [g.unit_path for g in principal.grants if action in g.actions]
    return and_(
        scope_filter(principal, action, col(Cadre.managing_unit), col(Cadre.tier)),
        prefix_hint(col(Cadre.managing_unit), _common_unit(grants)),
    )


def cadres_in_scope(principal: Principal, action: Action = Action.READ) -> SelectOfScalar[Cadre]:
    """Every cadre query starts here: only what the caller's grants cover."""
    return select(Cadre).where(in_scope(principal, action))


async def readable_cadre(session: AsyncSession, principal: Principal, cadre_id: uuid.UUID) -> Cadre:
    cadre = await session.scalar(cadres_in_scope(principal).where(col(Cadre.id) == cadre_id))
    if cadre is None:
        raise NotFound("no such cadre")  # also when it exists outside the caller's scope
    return cadre


async def writable_cadre(session: AsyncSession, principal: Principal, cadre_id: uuid.UUID) -> Cadre:
    """A cadre the caller may change, locked; 404 if they cannot even see it, 403 if they may only read it."""
    cadre = await session.scalar(cadres_in_scope(principal).where(col(Cadre.id) == cadre_id).with_for_update())
    if cadre is None:
        raise NotFound("no such cadre")
    if not may(principal, Action.WRITE, cadre.managing_unit, ManagementTier(cadre.tier)):
        raise Forbidden("you may read this cadre but not change it", code="out_of_scope")
    return cadre
