"""What every scheduling feature checks the same way: the permissions of its routes, which roster cadres a
caller's grants cover, one cadre looked up within them, and which boards' own records (cadence rules, plans,
clinic days, convalescence rules and trips) a caller sees or may write."""

import uuid
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import ColumnElement, false, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from contracts.enums import Action, ManagementTier
from contracts.permissions import Permission
from contracts.scope import Principal
from scheduling.tables import RosterCadre
from servicekit.auth import permitted
from servicekit.errors import Forbidden, NotFound
from servicekit.scope import administers_board, may, readable, within_unit

Reader = Annotated[Principal, Depends(permitted(Permission.SCHEDULING_READ))]
Writer = Annotated[Principal, Depends(permitted(Permission.SCHEDULING_WRITE))]

Rows = Select[*tuple[Any, ...]]  # a statement of several entities or columns


def reads_cadre(principal: Principal) -> ColumnElement[bool]:
    """The roster cadres whose managing unit and tier a grant allowing reads covers: home visits, bookings and
    registrations are in scope through their cadre (joined), so a transfer or a new tier needs no copy."""
    return readable(principal, col(RosterCadre.managing_unit), col(RosterCadre.tier))


def cadres_in_scope(principal: Principal) -> SelectOfScalar[RosterCadre]:
    """Every roster query starts here."""
    return select(RosterCadre).where(reads_cadre(principal))


def cadre_ids_in_scope(principal: Principal) -> SelectOfScalar[uuid.UUID]:
    return select(RosterCadre.cadre_id).where(reads_cadre(principal))


async def cadre_in_scope(session: AsyncSession, principal: Principal, cadre_id: uuid.UUID, action: Action) -> RosterCadre:
    """A cadre the caller reads (404 otherwise, nothing leaked); 403 if readable but `action` is not allowed on it."""
    cadre = await session.scalar(cadres_in_scope(principal).where(col(RosterCadre.cadre_id) == cadre_id))
    if cadre is None:
        raise NotFound("no such cadre")
    if action != Action.READ and not may(principal, action, cadre.managing_unit, ManagementTier(cadre.tier)):
        raise Forbidden("the cadre is outside your write scope", code="out_of_scope")
    return cadre


def boards_seen(principal: Principal, board_column: Any, action: Action = Action.READ) -> ColumnElement[bool]:
    """The SQL twin of servicekit.scope.sees_board: boards at or below a unit a grant allowing `action` covers."""
    clauses = [within_unit(board_column, grant.unit_path) for grant in principal.grants if action in grant.actions]
    return or_(*clauses) if clauses else false()


def require_board_admin(principal: Principal, board_unit: str, what: str = "the board") -> None:
    """A board's own records are written by that board (unit and a tier it manages), whatever the caller's role:
    a grant on a unit above is not enough (the central board does not write a district board's plans)."""
    if not administers_board(principal, board_unit):
        raise Forbidden(f"{what} is outside your write scope", code="out_of_scope")
