"""Use cases of cadence rules (versioned data) and exam plans (rounds, groups, facilities)."""

import uuid

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from contracts.api.scheduling import (
    CadenceRule,
    CadenceRuleSetCreate,
    CadenceRuleSetPublic,
    ExamPlanCreate,
    ExamPlanPublic,
    FacilityIn,
    RoundGroupPublic,
    RoundPublic,
    TransferPolicy,
)
from contracts.enums import Action, CadreStatus, ManagementTier
from contracts.events.scheduling import ExamPlanPublished, RoundSnapshot
from contracts.scope import Principal
from scheduling.access import covers_board, plan_in_scope
from scheduling.domain import plan_errors, rule_errors
from scheduling.tables import CadenceRuleRow, CadenceRuleSet, ExamPlan, ExamRound, PlanFacility, RoundGroup
from servicekit.errors import Forbidden, NotFound, Refused, field_error
from servicekit.outbox import Outbox


async def _rule_set_public(session: AsyncSession, rule_set: CadenceRuleSet) -> CadenceRuleSetPublic:
    rows = await session.scalars(
        select(CadenceRuleRow)
        .where(col(CadenceRuleRow.rule_set_id) == rule_set.id)
        .order_by(col(CadenceRuleRow.tier), col(CadenceRuleRow.status))
    )
    return CadenceRuleSetPublic(
        id=rule_set.id,
        board_unit=rule_set.board_unit,
        year=rule_set.year,
        version=rule_set.version,
        note=rule_set.note,
        created_at=rule_set.created_at,
        created_by=rule_set.created_by,
        rules=[
            CadenceRule(tier=ManagementTier(r.tier), status=CadreStatus(r.status), exams_per_year=r.exams_per_year) for r in rows
        ],
    )


async def create_rule_set(session: AsyncSession, principal: Principal, data: CadenceRuleSetCreate) -> CadenceRuleSetPublic:
    """A new version of a board's rules for a year; earlier versions (and the plans made with them) stay as they were."""
    if not covers_board(principal, data.board_unit, Action.WRITE):
        raise Forbidden("the board is outside your write scope", code="out_of_scope")
    errors = rule_errors(data.rules)
    if errors:
        raise Refused("invalid cadence rules", errors=errors)
    latest = await session.scalar(
        select(func.max(CadenceRuleSet.version)).where(
            col(CadenceRuleSet.board_unit) == data.board_unit, col(CadenceRuleSet.year) == data.year
        )
    )
    rule_set = CadenceRuleSet(
        board_unit=data.board_unit, year=data.year, version=(latest or 0) + 1, note=data.note, created_by=principal.subject
    )
    session.add(rule_set)
    await session.flush()
    for rule in data.rules:
        session.add(
            CadenceRuleRow(
                rule_set_id=rule_set.id, tier=rule.tier.value, status=rule.status.value, exams_per_year=rule.exams_per_year
            )
        )
    await session.flush()
    return await _rule_set_public(session, rule_set)


async def list_rule_sets(
    session: AsyncSession, principal: Principal, board_unit: str | None, year: int | None
) -> list[CadenceRuleSetPublic]:
    query = select(CadenceRuleSet).order_by(col(CadenceRuleSet.board_unit), col(CadenceRuleSet.year), col(CadenceRuleSet.version))
    if board_unit:
        query = query.where(col(CadenceRuleSet.board_unit) == board_unit)
    if year:
        query = query.where(col(CadenceRuleSet.year) == year)
    return [
        await _rule_set_public(session, rs)
        for rs in await session.scalars(query)
        if covers_board(principal, rs.board_unit, Action.READ)
    ]


async def get_rule_set(session: AsyncSession, principal: Principal, rule_set_id: uuid.UUID) -> CadenceRuleSetPublic:
    rule_set = await session.get(CadenceRuleSet, rule_set_id)
    if rule_set is None or not covers_board(principal, rule_set.board_unit, Action.READ):
        raise NotFound("no such rule set")
    return await _rule_set_public(session, rule_set)


async def plan_public(session: AsyncSession, plan: ExamPlan) -> ExamPlanPublic:
    facilities = await session.scalars(
        select(PlanFacility).where(col(PlanFacility.plan_id) == plan.id).order_by(col(PlanFacility.code))
    )
    rounds = list(
        await session.scalars(select(ExamRound).where(col(ExamRound.plan_id) == plan.id).order_by(col(ExamRound.number)))
    )
    groups = list(
        await session.scalars(select(RoundGroup).where(col(RoundGroup.plan_id) == plan.id).order_by(col(RoundGroup.position)))
    )
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


async def create_plan(session: AsyncSession, outbox: Outbox, principal: Principal, data: ExamPlanCreate) -> ExamPlanPublic:
    errors = plan_errors(data)
    rule_set = await session.get(CadenceRuleSet, data.rule_set_id)
    if rule_set is None or not covers_board(principal, rule_set.board_unit, Action.READ):
        errors.append(field_error("rule_set_id", "no such rule set"))
    elif rule_set.year != data.year or rule_set.board_unit != data.board_unit:
        errors.append(field_error("rule_set_id", f"the rule set is for {rule_set.board_unit} {rule_set.year}"))
    if errors:
        raise Refused("the plan breaks a rule", errors=errors)
    assert rule_set is not None
    for r_index, round_ in enumerate(data.rounds):
        for g_index, group in enumerate(round_.groups):
            if not principal.may(Action.WRITE, group.unit or data.board_unit, group.tier):
                raise Forbidden(
                    f"rounds[{r_index}].groups[{g_index}]: tier {group.tier.value} of {group.unit or data.board_unit}"
                    " is outside your write scope",
                    code="out_of_scope",
                )
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


async def get_plan(session: AsyncSession, principal: Principal, plan_id: uuid.UUID) -> ExamPlanPublic:
    return await plan_public(session, await plan_in_scope(session, principal, plan_id))
