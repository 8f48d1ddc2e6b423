"""Use cases of the follow-ups a board sees: the list (open, overdue, done, cancelled), one follow-up, and
marking one done or cancelled. The follow-ups themselves come from clinical's records (from_events)."""

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.api.common import Page
from contracts.api.scheduling import FollowUpCancel, FollowUpDone, FollowUpPublic, FollowUpStatus
from contracts.enums import Action, EncounterKind, ManagementTier
from contracts.scope import Principal
from scheduling.domain import follow_up_close_refusal, follow_up_days_overdue, follow_up_status
from scheduling.follow_ups.queries import filtered, follow_ups_in_scope
from scheduling.tables import FollowUp, RosterCadre
from servicekit import clock
from servicekit.errors import Forbidden, NotFound, Refused
from servicekit.pagination import PageParams, paginate
from servicekit.scope import may

F = FollowUpStatus


def public(row: FollowUp, cadre: RosterCadre, today: date) -> FollowUpPublic:
    state = F(row.state)
    return FollowUpPublic(
        id=row.id,
        cadre_id=row.cadre_id,
        full_name=cadre.full_name,
        managing_unit=cadre.managing_unit,
        tier=ManagementTier(cadre.tier),
        facility=row.facility,
        due_on=row.due_on,
        note=row.note,
        note_withheld=row.note_withheld,
        status=follow_up_status(state, row.due_on, today),
        days_overdue=follow_up_days_overdue(state, row.due_on, today),
        record_id=row.record_id,
        record_version=row.record_version,
        record_kind=EncounterKind(row.record_kind),
        record_external_id=row.record_external_id,
        record_occurred_on=row.record_occurred_on,
        position=row.position,
        closed_on=row.closed_on,
        closed_by=row.closed_by,
        closed_note=row.closed_note,
    )


async def list_follow_ups(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    *,
    status: FollowUpStatus | None,
    due_before: date | None,
    due_after: date | None,
    unit: str | None,
    cadre_id: uuid.UUID | None,
) -> Page[FollowUpPublic]:
    today = clock.today()
    query = filtered(
        principal, today=today, status=status, due_before=due_before, due_after=due_after, unit=unit, cadre_id=cadre_id
    )
    return await paginate(session, query, page, lambda row: public(row[0], row[1], today))


async def _follow_up(
    session: AsyncSession, principal: Principal, follow_up_id: uuid.UUID, action: Action
) -> tuple[FollowUp, RosterCadre]:
    row = (await session.execute(follow_ups_in_scope(principal).where(col(FollowUp.id) == follow_up_id))).first()
    if row is None:
        raise NotFound("no such follow-up")
    follow_up, cadre = row
    if action != Action.READ and not may(principal, action, cadre.managing_unit, ManagementTier(cadre.tier)):
        raise Forbidden("the cadre is outside your write scope", code="out_of_scope")
    return follow_up, cadre


async def get_follow_up(session: AsyncSession, principal: Principal, follow_up_id: uuid.UUID) -> FollowUpPublic:
    follow_up, cadre = await _follow_up(session, principal, follow_up_id, Action.READ)
    return public(follow_up, cadre, clock.today())


async def _close(
    session: AsyncSession, principal: Principal, follow_up_id: uuid.UUID, state: FollowUpStatus, on: date | None, note: str | None
) -> FollowUpPublic:
    follow_up, cadre = await _follow_up(session, principal, follow_up_id, Action.WRITE)
    today = clock.today()
    refusal = follow_up_close_refusal(F(follow_up.state), on, follow_up.record_occurred_on, today)
    if refusal is not None:
        raise Refused(refusal.msg, errors=[refusal], code=refusal.type)
    follow_up.state, follow_up.closed_on = state.value, on or today
    follow_up.closed_by, follow_up.closed_note, follow_up.updated_at = principal.subject, note, clock.now()
    session.add(follow_up)
    await session.flush()
    return public(follow_up, cadre, today)


async def mark_done(session: AsyncSession, principal: Principal, follow_up_id: uuid.UUID, data: FollowUpDone) -> FollowUpPublic:
    """The re-exam took place (or the follow-up was otherwise done), on `done_on` (default today)."""
    return await _close(session, principal, follow_up_id, F.DONE, data.done_on or clock.today(), data.note)


async def cancel(session: AsyncSession, principal: Principal, follow_up_id: uuid.UUID, data: FollowUpCancel) -> FollowUpPublic:
    return await _close(session, principal, follow_up_id, F.CANCELLED, None, data.reason)
