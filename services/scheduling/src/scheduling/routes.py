"""Thin HTTP layer: parse, call the use case, shape the response."""

import uuid
from datetime import date
from typing import Annotated

from fastapi import Query, Response, status
from sqlalchemy import func
from sqlmodel import col, select

from contracts.api.common import Page
from contracts.api.scheduling import (
    CadenceRuleSetCreate,
    CadenceRuleSetPublic,
    CoverageDimension,
    CoverageReport,
    ExamPlanCreate,
    ExamPlanPublic,
    GenerationResult,
    InvitationPublic,
    InvitationStatus,
    InvitationTransition,
    Reinvite,
    RosterSummary,
)
from contracts.enums import Action
from scheduling import coverage, generation, invitations, letters, plans
from scheduling.access import plan_in_scope, plans_visible
from scheduling.tables import RosterCadre
from servicekit.audit import audit_subjects
from servicekit.auth import CallerDep, require_permission, scope_filter
from servicekit.idempotency import ServiceRouter
from servicekit.runtime import RuntimeDep, SessionDep

router = ServiceRouter(tags=["scheduling"])

MAX_PAGE = 500
PDF = "application/pdf"


@router.get("/roster/summary", response_model=RosterSummary)
async def roster_summary(caller: CallerDep, session: SessionDep) -> RosterSummary:
    """How many cadres scheduling knows of in the caller's scope (its read model of the registry)."""
    require_permission(caller, "scheduling.read")
    in_scope = scope_filter(caller, Action.READ, col(RosterCadre.managing_unit), col(RosterCadre.tier))
    total = await session.scalar(select(func.count()).select_from(RosterCadre).where(in_scope)) or 0
    return RosterSummary(cadres=total)


# ---- cadence rules ----


@router.post("/cadence-rules", status_code=status.HTTP_201_CREATED, response_model=CadenceRuleSetPublic)
async def create_rule_set(body: CadenceRuleSetCreate, caller: CallerDep, session: SessionDep) -> CadenceRuleSetPublic:
    """A new version of a board's cadence rules for a year (plans keep the version they were made with)."""
    require_permission(caller, "scheduling.write")
    return await plans.create_rule_set(session, caller, body)


@router.get("/cadence-rules", response_model=list[CadenceRuleSetPublic])
async def list_rule_sets(
    caller: CallerDep, session: SessionDep, board_unit: str | None = None, year: int | None = None
) -> list[CadenceRuleSetPublic]:
    require_permission(caller, "scheduling.read")
    return await plans.list_rule_sets(session, caller, board_unit, year)


@router.get("/cadence-rules/{rule_set_id}", response_model=CadenceRuleSetPublic)
async def get_rule_set(rule_set_id: uuid.UUID, caller: CallerDep, session: SessionDep) -> CadenceRuleSetPublic:
    require_permission(caller, "scheduling.read")
    return await plans.get_rule_set(session, caller, rule_set_id)


# ---- plans ----


@router.post("/plans", status_code=status.HTTP_201_CREATED, response_model=ExamPlanPublic)
async def create_plan(body: ExamPlanCreate, caller: CallerDep, session: SessionDep, runtime: RuntimeDep) -> ExamPlanPublic:
    require_permission(caller, "scheduling.write")
    return await plans.create_plan(session, runtime.outbox, caller, body)


@router.get("/plans", response_model=list[ExamPlanPublic])
async def list_plans(caller: CallerDep, session: SessionDep, year: int | None = None) -> list[ExamPlanPublic]:
    require_permission(caller, "scheduling.read")
    return [await plans.plan_public(session, p) for p in await plans_visible(session, caller) if year is None or p.year == year]


@router.get("/plans/{plan_id}", response_model=ExamPlanPublic)
async def get_plan(plan_id: uuid.UUID, caller: CallerDep, session: SessionDep) -> ExamPlanPublic:
    require_permission(caller, "scheduling.read")
    return await plans.get_plan(session, caller, plan_id)


@router.post("/plans/{plan_id}/generate", response_model=GenerationResult)
async def generate_plan(plan_id: uuid.UUID, caller: CallerDep, session: SessionDep, runtime: RuntimeDep) -> GenerationResult:
    """Invite every eligible cadre (roster as of the plan date) with a slot; running it again adds only what is missing."""
    require_permission(caller, "scheduling.write")
    plan = await plan_in_scope(session, caller, plan_id, Action.WRITE)
    return await generation.generate(session, runtime.outbox, plan)


@router.get("/plans/{plan_id}/undeliverable", response_model=Page[InvitationPublic])
async def undeliverable(
    plan_id: uuid.UUID,
    caller: CallerDep,
    session: SessionDep,
    response: Response,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> Page[InvitationPublic]:
    """Open invitations that cannot be delivered: no residence address on file."""
    require_permission(caller, "scheduling.read")
    await plan_in_scope(session, caller, plan_id)
    query = invitations.filtered(caller, plan_id=plan_id, undeliverable=True)
    items, total = await invitations.list_invitations(session, query, offset, limit)
    audit_subjects(response, (i.cadre_id for i in items))
    return Page[InvitationPublic](items=items, total=total, offset=offset, limit=limit)


@router.get("/plans/{plan_id}/letters.pdf", response_class=Response, responses={200: {"content": {PDF: {}}}})
async def plan_letters(
    plan_id: uuid.UUID,
    caller: CallerDep,
    session: SessionDep,
    round: Annotated[int | None, Query(ge=1)] = None,
    unit: str | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """One PDF with a letter per open, deliverable invitation (at most 2000 per file: page with `offset`)."""
    require_permission(caller, "scheduling.read")
    plan = await plan_in_scope(session, caller, plan_id)
    batch = await letters.letters_for(session, caller, plan, round_number=round, unit=unit, offset=offset)
    response = Response(
        letters.render(batch),
        media_type=PDF,
        headers={"content-disposition": f'attachment; filename="giay-moi-{plan.year}-{plan_id}.pdf"'},
    )
    audit_subjects(response, (letter.cadre_id for letter in batch))
    return response


# ---- invitations ----


@router.get("/invitations", response_model=Page[InvitationPublic])
async def list_invitations(
    caller: CallerDep,
    session: SessionDep,
    response: Response,
    plan_id: uuid.UUID | None = None,
    round: Annotated[int | None, Query(ge=1)] = None,
    status: InvitationStatus | None = None,
    unit: str | None = None,
    cadre_id: uuid.UUID | None = None,
    facility: str | None = None,
    flagged: bool | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> Page[InvitationPublic]:
    require_permission(caller, "scheduling.read")
    query = invitations.filtered(
        caller,
        plan_id=plan_id,
        round_number=round,
        status=status,
        unit=unit,
        cadre_id=cadre_id,
        facility=facility,
        flagged=flagged,
    )
    items, total = await invitations.list_invitations(session, query, offset, limit)
    audit_subjects(response, (i.cadre_id for i in items))
    return Page[InvitationPublic](items=items, total=total, offset=offset, limit=limit)


@router.get("/invitations/{invitation_id}", response_model=InvitationPublic)
async def get_invitation(
    invitation_id: uuid.UUID, caller: CallerDep, session: SessionDep, response: Response
) -> InvitationPublic:
    require_permission(caller, "scheduling.read")
    found = await invitations.get_invitation(session, caller, invitation_id)
    audit_subjects(response, [found.cadre_id])
    return found


@router.post("/invitations/{invitation_id}/status", response_model=InvitationPublic)
async def change_status(
    invitation_id: uuid.UUID,
    body: InvitationTransition,
    caller: CallerDep,
    session: SessionDep,
    runtime: RuntimeDep,
    response: Response,
) -> InvitationPublic:
    """Confirm, set attended by hand, defer (with a reason), mark a no-show, or cancel."""
    require_permission(caller, "scheduling.write")
    changed = await invitations.transition(session, runtime.outbox, caller, invitation_id, body)
    audit_subjects(response, [changed.cadre_id])
    return changed


@router.post("/invitations/{invitation_id}/reinvite", status_code=status.HTTP_201_CREATED, response_model=InvitationPublic)
async def reinvite(
    invitation_id: uuid.UUID, body: Reinvite, caller: CallerDep, session: SessionDep, runtime: RuntimeDep, response: Response
) -> InvitationPublic:
    require_permission(caller, "scheduling.write")
    fresh = await invitations.reinvite(session, runtime.outbox, caller, invitation_id, body)
    audit_subjects(response, [fresh.cadre_id])
    return fresh


@router.post("/invitations/{invitation_id}/clear-flag", response_model=InvitationPublic)
async def clear_flag(invitation_id: uuid.UUID, caller: CallerDep, session: SessionDep, response: Response) -> InvitationPublic:
    """The board has dealt with a flagged invitation (e.g. of a cadre who moved to another board)."""
    require_permission(caller, "scheduling.write")
    cleared = await invitations.clear_flag(session, caller, invitation_id)
    audit_subjects(response, [cleared.cadre_id])
    return cleared


@router.get("/invitations/{invitation_id}/letter.pdf", response_class=Response, responses={200: {"content": {PDF: {}}}})
async def invitation_letter(invitation_id: uuid.UUID, caller: CallerDep, session: SessionDep) -> Response:
    require_permission(caller, "scheduling.read")
    found = await invitations.get_invitation(session, caller, invitation_id)
    plan = await plan_in_scope(session, caller, found.plan_id)
    batch = await letters.letters_for(session, caller, plan, invitation_id=invitation_id)
    response = Response(
        letters.render(batch),
        media_type=PDF,
        headers={"content-disposition": f'inline; filename="giay-moi-{invitation_id}.pdf"'},
    )
    audit_subjects(response, [found.cadre_id])
    return response


# ---- coverage ----


@router.get("/coverage", response_model=CoverageReport)
async def get_coverage(
    caller: CallerDep,
    session: SessionDep,
    plan_id: uuid.UUID | None = None,
    year: int | None = None,
    unit: str | None = None,
    round: Annotated[int | None, Query(ge=1)] = None,
    by: Annotated[list[CoverageDimension] | None, Query()] = None,
    as_of: date | None = None,
) -> CoverageReport:
    """Invited, attended, deferred, no-show and the rate, grouped by the dimensions asked (e.g. by=round&by=unit)."""
    require_permission(caller, "scheduling.read")
    return await coverage.coverage(
        session, caller, plan_id=plan_id, year=year, unit=unit, round_number=round, by=by or [], as_of=as_of
    )
