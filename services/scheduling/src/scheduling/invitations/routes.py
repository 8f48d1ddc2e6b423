"""The invitations' routes, with a plan's letters and undeliverable list."""

import uuid

from fastapi import Response, status

from contracts.api.common import Page
from contracts.api.scheduling import InvitationPublic, InvitationStatus, InvitationTransition, Reinvite
from scheduling.access import Reader, Writer
from scheduling.invitations import letters, service
from scheduling.invitations.queries import filtered
from scheduling.plans.queries import plan_in_scope
from servicekit.audit import audit_subjects
from servicekit.idempotency import ServiceRouter
from servicekit.pagination import Offset, PageDep, RoundFilter
from servicekit.runtime import RuntimeDep, SessionDep

router = ServiceRouter(tags=["scheduling"])

PDF = "application/pdf"


@router.get("/plans/{plan_id}/undeliverable", response_model=Page[InvitationPublic])
async def undeliverable(
    plan_id: uuid.UUID, caller: Reader, session: SessionDep, response: Response, page: PageDep
) -> Page[InvitationPublic]:
    """Open invitations that cannot be delivered: no residence address on file."""
    await plan_in_scope(session, caller, plan_id)
    found = await service.list_invitations(session, filtered(caller, plan_id=plan_id, undeliverable=True), page)
    audit_subjects(response, (i.cadre_id for i in found.items))
    return found


@router.get("/plans/{plan_id}/letters.pdf", response_class=Response, responses={200: {"content": {PDF: {}}}})
async def plan_letters(
    plan_id: uuid.UUID,
    caller: Reader,
    session: SessionDep,
    round: RoundFilter = None,
    unit: str | None = None,
    offset: Offset = 0,
) -> Response:
    """One PDF with a letter per open, deliverable invitation (at most 2000 per file: page with `offset`)."""
    plan = await plan_in_scope(session, caller, plan_id)
    batch = await letters.letters_for(session, caller, plan, round_number=round, unit=unit, offset=offset)
    response = Response(
        letters.render(batch),
        media_type=PDF,
        headers={"content-disposition": f'attachment; filename="giay-moi-{plan.year}-{plan_id}.pdf"'},
    )
    audit_subjects(response, (letter.cadre_id for letter in batch))
    return response


@router.get("/invitations", response_model=Page[InvitationPublic])
async def list_invitations(
    caller: Reader,
    session: SessionDep,
    response: Response,
    page: PageDep,
    plan_id: uuid.UUID | None = None,
    round: RoundFilter = None,
    status: InvitationStatus | None = None,
    unit: str | None = None,
    cadre_id: uuid.UUID | None = None,
    facility: str | None = None,
    flagged: bool | None = None,
) -> Page[InvitationPublic]:
    query = filtered(
        caller,
        plan_id=plan_id,
        round_number=round,
        status=status,
        unit=unit,
        cadre_id=cadre_id,
        facility=facility,
        flagged=flagged,
    )
    found = await service.list_invitations(session, query, page)
    audit_subjects(response, (i.cadre_id for i in found.items))
    return found


@router.get("/invitations/{invitation_id}", response_model=InvitationPublic)
async def get_invitation(invitation_id: uuid.UUID, caller: Reader, session: SessionDep, response: Response) -> InvitationPublic:
    found = await service.get_invitation(session, caller, invitation_id)
    audit_subjects(response, [found.cadre_id])
    return found


@router.post("/invitations/{invitation_id}/status", response_model=InvitationPublic)
async def change_status(
    invitation_id: uuid.UUID,
    body: InvitationTransition,
    caller: Writer,
    session: SessionDep,
    runtime: RuntimeDep,
    response: Response,
) -> InvitationPublic:
    """Confirm, set attended by hand, defer (with a reason), mark a no-show, or cancel."""
    changed = await service.transition(session, runtime.outbox, caller, invitation_id, body)
    audit_subjects(response, [changed.cadre_id])
    return changed


@router.post("/invitations/{invitation_id}/reinvite", status_code=status.HTTP_201_CREATED, response_model=InvitationPublic)
async def reinvite(
    invitation_id: uuid.UUID, body: Reinvite, caller: Writer, session: SessionDep, runtime: RuntimeDep, response: Response
) -> InvitationPublic:
    fresh = await service.reinvite(session, runtime.outbox, caller, invitation_id, body)
    audit_subjects(response, [fresh.cadre_id])
    return fresh


@router.post("/invitations/{invitation_id}/clear-flag", response_model=InvitationPublic)
async def clear_flag(invitation_id: uuid.UUID, caller: Writer, session: SessionDep, response: Response) -> InvitationPublic:
    """The board has dealt with a flagged invitation (e.g. of a cadre who moved to another board)."""
    cleared = await service.clear_flag(session, caller, invitation_id)
    audit_subjects(response, [cleared.cadre_id])
    return cleared


@router.get("/invitations/{invitation_id}/letter.pdf", response_class=Response, responses={200: {"content": {PDF: {}}}})
async def invitation_letter(invitation_id: uuid.UUID, caller: Reader, session: SessionDep) -> Response:
    found = await service.get_invitation(session, caller, invitation_id)
    plan = await plan_in_scope(session, caller, found.plan_id)
    batch = await letters.letters_for(session, caller, plan, invitation_id=invitation_id)
    response = Response(
        letters.render(batch),
        media_type=PDF,
        headers={"content-disposition": f'inline; filename="giay-moi-{invitation_id}.pdf"'},
    )
    audit_subjects(response, [found.cadre_id])
    return response
