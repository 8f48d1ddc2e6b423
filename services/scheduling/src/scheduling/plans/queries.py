"""Where every plan query starts: the plans of the boards the caller sees, and a plan's parts."""

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from sqlmodel import select as select_model
from sqlmodel.sql.expression import SelectOfScalar

from contracts.scope import Principal
from scheduling.access import Rows, boards_seen, require_board_admin
from scheduling.tables import ExamPlan, ExamRound, Invitation, PlanFacility, RoundGroup
from servicekit.errors import NotFound
from servicekit.scope import sees_board
from servicekit.sql import table_of


def plans_seen(principal: Principal) -> SelectOfScalar[ExamPlan]:
    return select_model(ExamPlan).where(boards_seen(principal, col(ExamPlan.board_unit)))


async def plan_in_scope(session: AsyncSession, principal: Principal, plan_id: uuid.UUID, *, administer: bool = False) -> ExamPlan:
    """A plan whose board the caller sees (404 otherwise); with `administer`, one the caller's board writes (403)."""
    plan = await session.get(ExamPlan, plan_id)
    if plan is None or not sees_board(principal, plan.board_unit):
        raise NotFound("no such plan")
    if administer:
        require_board_admin(principal, plan.board_unit, "the plan's board")
    return plan


def facilities_of(plan_id: uuid.UUID) -> SelectOfScalar[PlanFacility]:
    return select_model(PlanFacility).where(col(PlanFacility.plan_id) == plan_id).order_by(col(PlanFacility.code))


def rounds_of(plan_id: uuid.UUID) -> SelectOfScalar[ExamRound]:
    return select_model(ExamRound).where(col(ExamRound.plan_id) == plan_id).order_by(col(ExamRound.number))


def groups_of(plan_id: uuid.UUID) -> SelectOfScalar[RoundGroup]:
    return select_model(RoundGroup).where(col(RoundGroup.plan_id) == plan_id).order_by(col(RoundGroup.position))


def plan_invitations_count(plan_id: uuid.UUID) -> Rows:
    """The plan's own invitations (attempt 0), not the re-invitations."""
    invitations = table_of(Invitation)
    return select(func.count()).select_from(invitations).where(invitations.c.plan_id == plan_id, invitations.c.attempt == 0)


def last_booked_days(plan_id: uuid.UUID) -> Rows:
    """Per (round, facility): the last day booked so far."""
    invitations = table_of(Invitation)
    return (
        select(invitations.c.round_id, invitations.c.facility, func.max(invitations.c.appointment_date))
        .where(invitations.c.plan_id == plan_id, invitations.c.facility.is_not(None))
        .group_by(invitations.c.round_id, invitations.c.facility)
    )


def generated_plans_from(year: int) -> SelectOfScalar[ExamPlan]:
    """Plans already generated, of this year or later: the ones a cadre joining late is invited to."""
    return select_model(ExamPlan).where(col(ExamPlan.generated_at).is_not(None), col(ExamPlan.year) >= year)


def generated_plans_of(year: int) -> SelectOfScalar[ExamPlan]:
    return (
        select_model(ExamPlan)
        .where(col(ExamPlan.year) == year, col(ExamPlan.generated_at).is_not(None))
        .order_by(col(ExamPlan.created_at))
    )
