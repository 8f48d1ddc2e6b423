"""Use cases of exam plans: a board's plan of rounds, groups and facilities, and its generation."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.api.scheduling import (
    ExamPlanCreate,
    ExamPlanPublic,
    FacilityIn,
    GenerationResult,
    RoundGroupPublic,
    RoundPublic,
    TransferPolicy,
)
from contracts.enums import Action, CadreStatus, ManagementTier
from contracts.events.scheduling import ExamPlanPublished, RoundSnapshot
from contracts.scope import Principal
from scheduling.access import require_board_admin
from scheduling.domain import plan_errors
from scheduling.plans import generation
from scheduling.plans.queries import facilities_of, groups_of, plan_in_scope, plans_seen, rounds_of
from scheduling.rules.service import rule_set_in_scope
from scheduling.tables import CadenceRuleSet, ExamPlan, ExamRound, PlanFacility, RoundGroup
from servicekit.errors import Forbidden, Refused, field_error
from servicekit.outbox import Outbox
from servicekit.scope import may


async def plan_public(session: AsyncSession, plan: ExamPlan) -> ExamPlanPublic:
    facilities = await session.scalars(facilities_of(plan.id))
    rounds = list(await session.scalars(rounds_of(plan.id)))
    groups = list(await session.scalars(groups_of(plan.id)))
    return ExamPlanPublic(
        id=plan.id,
        board_unit=plan.board_unit,
        year=plan.year,
        title=plan.title,
        plan_date=plan.plan_date,
        rule_set_id=plan.rule_set_id,
        rule_set_version=plan.rule_set_version,
        on_transfer=TransferPolicy(plan.on_transfer),
        created_at=plan.created_at,
        generated_at=plan.generated_at,
        facilities=[FacilityIn(code=f.code, name=f.name, address=f.address, daily_capacity=f.daily_capacity) for f in facilities],
        rounds=[
            RoundPublic(
                id=r.id,
                number=r.number,
                starts_on=r.starts_on,
                ends_on=r.ends_on,
                groups=[
                    RoundGroupPublic(
                        id=g.id,
                        tier=ManagementTier(g.tier),
                        status=CadreStatus(g.status) if g.status else None,
                        unit=g.unit,
                        facility=g.facility,
                    )
                    for g in groups
                    if g.round_id == r.id
                ],
            )
            for r in rounds
        ],
    )


async def _checked(session: AsyncSession, principal: Principal, data: ExamPlanCreate) -> CadenceRuleSet:
    """The plan's rule set, once the board is the caller's and the plan breaks no rule."""
    require_board_admin(principal, data.board_unit)
    errors = plan_errors(data)
    rule_set = await rule_set_in_scope(session, principal, data.rule_set_id)
    if rule_set is None:
        errors.append(field_error("rule_set_id", "no such rule set"))
    elif rule_set.year != data.year or rule_set.board_unit != data.board_unit:
        errors.append(field_error("rule_set_id", f"the rule set is for {rule_set.board_unit} {rule_set.year}"))
    if errors or rule_set is None:
        raise Refused("the plan breaks a rule", errors=errors)
    for r_index, round_ in enumerate(data.rounds):
        for g_index, group in enumerate(round_.groups):
            if not may(principal, Action.WRITE, group.unit or data.board_unit, group.tier):
                raise Forbidden(
                    f"rounds[{r_index}].groups[{g_index}]: tier {group.tier.value} of {group.unit or data.board_unit}"
                    " is outside your write scope",
                    code="out_of_scope",
                )
    return rule_set


async def _add_rounds(session: AsyncSession, plan: ExamPlan, data: ExamPlanCreate) -> list[RoundSnapshot]:
    snapshots: list[RoundSnapshot] = []
    position = 0
    for round_in in data.rounds:
        row = ExamRound(plan_id=plan.id, number=round_in.number, starts_on=round_in.starts_on, ends_on=round_in.ends_on)
        session.add(row)
        await session.flush()
        snapshots.append(RoundSnapshot(id=row.id, number=row.number, starts_on=row.starts_on, ends_on=row.ends_on))
        for group in round_in.groups:
            session.add(
                RoundGroup(
                    plan_id=plan.id,
                    round_id=row.id,
                    position=position,
                    tier=group.tier.value,
                    status=group.status.value if group.status else None,
                    unit=group.unit,
                    facility=group.facility,
                )
            )
            position += 1
    await session.flush()
    return snapshots


async def create_plan(session: AsyncSession, outbox: Outbox, principal: Principal, data: ExamPlanCreate) -> ExamPlanPublic:
    rule_set = await _checked(session, principal, data)
    plan = ExamPlan(
        board_unit=data.board_unit,
        year=data.year,
        title=data.title,
        plan_date=data.plan_date,
        rule_set_id=rule_set.id,
        rule_set_version=rule_set.version,
        on_transfer=data.on_transfer.value,
        created_by=principal.subject,
    )
    session.add(plan)
    await session.flush()
    for facility in data.facilities:
        session.add(PlanFacility(plan_id=plan.id, **facility.model_dump()))
    snapshots = await _add_rounds(session, plan, data)
    await outbox.append(
        session,
        ExamPlanPublished(
            plan_id=plan.id,
            board_unit=plan.board_unit,
            year=plan.year,
            title=plan.title,
            rounds=snapshots,
            plan_date=plan.plan_date,
            rule_set_version=plan.rule_set_version,
        ),
        subject=str(plan.id),
        managing_unit=plan.board_unit,
    )
    return await plan_public(session, plan)


async def list_plans(session: AsyncSession, principal: Principal, year: int | None) -> list[ExamPlanPublic]:
    query = plans_seen(principal).order_by(col(ExamPlan.year).desc(), col(ExamPlan.created_at))
    if year is not None:
        query = query.where(col(ExamPlan.year) == year)
    return [await plan_public(session, plan) for plan in await session.scalars(query)]


async def get_plan(session: AsyncSession, principal: Principal, plan_id: uuid.UUID) -> ExamPlanPublic:
    return await plan_public(session, await plan_in_scope(session, principal, plan_id))


async def generate_plan(session: AsyncSession, outbox: Outbox, principal: Principal, plan_id: uuid.UUID) -> GenerationResult:
    """Generating changes the board's plan: only the plan's own board runs it."""
    plan = await plan_in_scope(session, principal, plan_id, administer=True)
    return await generation.generate(session, outbox, plan)
