"""The follow-ups' routes: what clinical records ask a board to follow up (a re-exam appointment), and its close."""

import uuid
from datetime import date
from typing import Annotated

from fastapi import Query, Response

from contracts.api.common import Page
from contracts.api.scheduling import FollowUpCancel, FollowUpDone, FollowUpPublic, FollowUpStatus
from scheduling.access import Reader, Writer
from scheduling.follow_ups import service
from servicekit.audit import audit_subjects
from servicekit.idempotency import ServiceRouter
from servicekit.pagination import PageDep
from servicekit.runtime import SessionDep

router = ServiceRouter(tags=["scheduling: follow-ups"])

StatusFilter = Annotated[
    FollowUpStatus | None,
    Query(description="open: to do, due today or later or undated; overdue: to do, past its due date; done; cancelled"),
]
DueBefore = Annotated[date | None, Query(description="due strictly before this date")]
DueAfter = Annotated[date | None, Query(description="due strictly after this date")]


@router.get("/follow-ups", response_model=Page[FollowUpPublic])
async def list_follow_ups(
    caller: Reader,
    session: SessionDep,
    response: Response,
    page: PageDep,
    status: StatusFilter = None,
    due_before: DueBefore = None,
    due_after: DueAfter = None,
    unit: str | None = None,
    cadre_id: uuid.UUID | None = None,
) -> Page[FollowUpPublic]:
    """Follow-ups of the cadres in scope, soonest due first: `overdue` when open past its due date (Vietnam's today)."""
    found = await service.list_follow_ups(
        session, caller, page, status=status, due_before=due_before, due_after=due_after, unit=unit, cadre_id=cadre_id
    )
    audit_subjects(response, (f.cadre_id for f in found.items))
    return found


@router.get("/follow-ups/{follow_up_id}", response_model=FollowUpPublic)
async def get_follow_up(follow_up_id: uuid.UUID, caller: Reader, session: SessionDep, response: Response) -> FollowUpPublic:
    found = await service.get_follow_up(session, caller, follow_up_id)
    audit_subjects(response, [found.cadre_id])
    return found


@router.post("/follow-ups/{follow_up_id}/done", response_model=FollowUpPublic)
async def follow_up_done(
    follow_up_id: uuid.UUID, body: FollowUpDone, caller: Writer, session: SessionDep, response: Response
) -> FollowUpPublic:
    """The follow-up took place: an open or overdue one becomes done, on `done_on` (default today)."""
    changed = await service.mark_done(session, caller, follow_up_id, body)
    audit_subjects(response, [changed.cadre_id])
    return changed


@router.post("/follow-ups/{follow_up_id}/cancel", response_model=FollowUpPublic)
async def cancel_follow_up(
    follow_up_id: uuid.UUID, body: FollowUpCancel, caller: Writer, session: SessionDep, response: Response
) -> FollowUpPublic:
    """An open or overdue follow-up that will not take place, with the reason."""
    changed = await service.cancel(session, caller, follow_up_id, body)
    audit_subjects(response, [changed.cadre_id])
    return changed
