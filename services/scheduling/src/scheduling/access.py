"""Where every scheduling query starts: what the caller's grants cover."""

import uuid

from sqlalchemy import ColumnElement, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from contracts.enums import Action
from contracts.scope import Principal, unit_covers
from scheduling.tables import ExamPlan, Invitation, RosterCadre
from servicekit.auth import scope_filter
from servicekit.errors import Forbidden, NotFound


def invitation_scope(principal: Principal, action: Action = Action.READ) -> ColumnElement[bool]:
    return scope_filter(principal, action, col(Invitation.managing_unit), col(Invitation.tier))


def invitations_in_scope(principal: Principal, action: Action = Action.READ) -> SelectOfScalar[Invitation]:
    """Every invitation query starts here: only invitations of cadres the caller's grants cover."""
    return select(Invitation).where(invitation_scope(principal, action))


def aggregate_scope(principal: Principal) -> ColumnElement[bool]:
    """Counts (coverage): what the caller may read, or may see as de-identified aggregates."""
    unit, tier = col(Invitation.managing_unit), col(Invitation.tier)
    return or_(scope_filter(principal, Action.READ, unit, tier), scope_filter(principal, Action.AGGREGATE, unit, tier))


def roster_in_scope(principal: Principal, action: Action = Action.READ) -> SelectOfScalar[RosterCadre]:
    return select(RosterCadre).where(scope_filter(principal, action, col(RosterCadre.managing_unit), col(RosterCadre.tier)))


def covers_board(principal: Principal, board_unit: str, action: Action) -> bool:
    """A board's plans, rules and sessions: visible to grants on the board's unit or above it."""
    return any(action in g.actions and unit_covers(g.unit_path, board_unit) for g in principal.grants)


async def cadre_in_scope(session: AsyncSession, principal: Principal, cadre_id: uuid.UUID, action: Action) -> RosterCadre:
    cadre = await session.scalar(roster_in_scope(principal, Action.READ).where(col(RosterCadre.cadre_id) == cadre_id))
    if cadre is None:
        raise NotFound("no such cadre")
    if action != Action.READ and not principal.may(action, cadre.managing_unit, cadre.tier):  # type: ignore[arg-type]
        raise Forbidden("the cadre is outside your write scope", code="out_of_scope")
    return cadre


async def plan_in_scope(
    session: AsyncSession, principal: Principal, plan_id: uuid.UUID, action: Action = Action.READ
) -> ExamPlan:
    plan = await session.get(ExamPlan, plan_id)
    if plan is None or not covers_board(principal, plan.board_unit, Action.READ):
        raise NotFound("no such plan")
    if action != Action.READ and not covers_board(principal, plan.board_unit, action):
        raise Forbidden("the plan's board is outside your write scope", code="out_of_scope")
    return plan


async def plans_visible(session: AsyncSession, principal: Principal) -> list[ExamPlan]:
    plans = await session.scalars(select(ExamPlan).order_by(col(ExamPlan.year).desc(), col(ExamPlan.created_at)))
    return [p for p in plans if covers_board(principal, p.board_unit, Action.READ)]
