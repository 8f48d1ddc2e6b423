"""Use cases of invitations by hand: reading them, their lifecycle, re-invitations, clearing a flag."""

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from sqlmodel.sql.expression import SelectOfScalar

from contracts.api.common import Page
from contracts.api.scheduling import InvitationPublic, InvitationStatus, InvitationTransition, Reinvite
from contracts.enums import Action, CadreStatus, ManagementTier
from contracts.events.scheduling import InvitationIssued, InvitationStatusChanged
from contracts.scope import Principal
from scheduling.domain import HOME, REINVITABLE, check_transition, first_free_day
from scheduling.invitations.queries import (
    booked_per_day,
    facility_of_plan,
    invitations_in_scope,
    last_attempt,
    page_order,
    with_names,
)
from scheduling.tables import ExamRound, Invitation, InvitationChange
from servicekit import clock
from servicekit.errors import Conflict, NotFound, Refused, field_error
from servicekit.outbox import Outbox
from servicekit.pagination import PageParams, page_of, paginate
from servicekit.scope import may

S = InvitationStatus


def public(invitation: Invitation, full_name: str | None, address: str | None) -> InvitationPublic:
    return InvitationPublic(
        id=invitation.id,
        plan_id=invitation.plan_id,
        round_id=invitation.round_id,
        round_number=invitation.round_number,
        cadre_id=invitation.cadre_id,
        full_name=full_name or "",
        managing_unit=invitation.managing_unit,
        tier=ManagementTier(invitation.tier),
        cadre_status=CadreStatus(invitation.cadre_status),
        facility=invitation.facility,
        at_home=invitation.at_home,
        appointment_date=invitation.appointment_date,
        status=S(invitation.status),
        reason=invitation.reason,
        status_since=invitation.status_since,
        attempt=invitation.attempt,
        previous_invitation_id=invitation.previous_invitation_id,
        flag=invitation.flag,
        residence_address=address,
    )


async def _named(session: AsyncSession, invitation_ids: list[uuid.UUID]) -> list[InvitationPublic]:
    return [public(inv, name, address) for inv, name, address in await session.execute(with_names(invitation_ids))]


async def list_invitations(
    session: AsyncSession, query: SelectOfScalar[Invitation], params: PageParams
) -> Page[InvitationPublic]:
    ids = await paginate(session, page_order(query), params, lambda row: row[0].id)
    return page_of(await _named(session, ids.items), ids.total, params)


async def _invitation(session: AsyncSession, principal: Principal, invitation_id: uuid.UUID, action: Action) -> Invitation:
    found = await session.scalar(invitations_in_scope(principal).where(col(Invitation.id) == invitation_id))
    if found is None:
        raise NotFound("no such invitation")
    if action != Action.READ and not may(principal, action, found.managing_unit, ManagementTier(found.tier)):
        raise NotFound("no such invitation")  # readable but not writable: refused without a hint
    return found


async def get_invitation(session: AsyncSession, principal: Principal, invitation_id: uuid.UUID) -> InvitationPublic:
    found = await _invitation(session, principal, invitation_id, Action.READ)
    return (await _named(session, [found.id]))[0]


async def set_status(
    session: AsyncSession,
    outbox: Outbox,
    invitation: Invitation,
    target: InvitationStatus,
    *,
    actor: str,
    reason: str | None = None,
    effective: date | None = None,
) -> None:
    """Record a state change with its history row and event (the transition is checked by the caller)."""
    previous = invitation.status
    effective = effective or clock.today()
    invitation.status = target.value
    invitation.reason = reason
    invitation.status_since = effective
    invitation.updated_at = clock.now()
    session.add(invitation)
    session.add(
        InvitationChange(
            invitation_id=invitation.id,
            plan_id=invitation.plan_id,
            previous_status=previous,
            status=target.value,
            reason=reason,
            effective_date=effective,
            actor=actor,
        )
    )
    await outbox.append(
        session,
        InvitationStatusChanged(
            invitation_id=invitation.id,
            plan_id=invitation.plan_id,
            round_id=invitation.round_id,
            cadre_id=invitation.cadre_id,
            previous_status=previous,
            status=target.value,
            reason=reason,
            effective_date=effective,
        ),
        subject=str(invitation.id),
        managing_unit=invitation.managing_unit,
        tier=ManagementTier(invitation.tier),
    )


async def transition(
    session: AsyncSession, outbox: Outbox, principal: Principal, invitation_id: uuid.UUID, data: InvitationTransition
) -> InvitationPublic:
    invitation = await _invitation(session, principal, invitation_id, Action.WRITE)
    check_transition(S(invitation.status), data.status, data.reason)
    reason = data.reason.value if data.reason else None
    if data.note:
        reason = f"{reason}: {data.note}" if reason else data.note
    await set_status(
        session, outbox, invitation, data.status, actor=principal.subject, reason=reason, effective=data.effective_date
    )
    await session.flush()
    return await get_invitation(session, principal, invitation_id)


def _capacity_exceeded(field: str, message: str) -> Refused:
    return Refused("capacity exceeded", errors=[field_error(field, f"capacity exceeded: {message}")], code="capacity_exceeded")


async def _target_round(session: AsyncSession, original: Invitation, data: Reinvite) -> ExamRound:
    """The invitation's round, or a later round of the same plan."""
    current = await session.get(ExamRound, original.round_id)
    assert current is not None
    if data.round_id is None or data.round_id == original.round_id:
        return current
    found = await session.get(ExamRound, data.round_id)
    if found is None or found.plan_id != original.plan_id:
        raise Refused("no such round in this plan", errors=[field_error("round_id", "not a round of the invitation's plan")])
    if found.number < current.number:
        raise Refused(
            "re-invite to a later round", errors=[field_error("round_id", "the round is earlier than the invitation's")]
        )
    return found


async def _facility_day(session: AsyncSession, original: Invitation, round_: ExamRound, data: Reinvite) -> tuple[str, date]:
    """A facility of the plan and a day it has a free slot on: the one asked for, else the first from today."""
    code = data.facility or original.facility
    if code is None:
        raise Refused("a facility is needed", errors=[field_error("facility", "required (the original was at home)")])
    facility = await session.scalar(facility_of_plan(original.plan_id, code))
    if facility is None:
        raise Refused("unknown facility", errors=[field_error("facility", f"no facility {code!r} in this plan")])
    booked = {day: count for day, count in await session.execute(booked_per_day(round_.id, code))}
    if data.appointment_date is not None:
        if booked.get(data.appointment_date, 0) >= facility.daily_capacity:
            raise _capacity_exceeded("appointment_date", f"{code} is full on {data.appointment_date.isoformat()}")
        return code, data.appointment_date
    free = first_free_day(round_.starts_on, round_.ends_on, facility.daily_capacity, booked, clock.today())
    if free is None:
        raise _capacity_exceeded("facility", f"no free day at {code} in round {round_.number}")
    return code, free


async def reinvite(
    session: AsyncSession, outbox: Outbox, principal: Principal, invitation_id: uuid.UUID, data: Reinvite
) -> InvitationPublic:
    """A deferred or no-show cadre invited again: in a later round, at a (local) facility, or at home."""
    original = await _invitation(session, principal, invitation_id, Action.WRITE)
    if S(original.status) not in REINVITABLE or original.superseded_on is not None:
        already = " and already re-invited" if original.superseded_on else ""
        raise Refused(
            "transition not allowed: only a deferred or no-show invitation can be re-invited",
            errors=[field_error("status", f"the invitation is {original.status!r}{already}")],
            code="transition_not_allowed",
        )
    round_ = await _target_round(session, original, data)
    facility_code: str | None = None
    if data.at_home:
        if data.facility:
            raise Refused("at home or at a facility", errors=[field_error("facility", "give no facility for an exam at home")])
        appointment = data.appointment_date or max(round_.starts_on, clock.today())
    else:
        facility_code, appointment = await _facility_day(session, original, round_, data)
    if not round_.starts_on <= appointment <= round_.ends_on:
        raise Refused("outside the round", errors=[field_error("appointment_date", "the day is outside the round's dates")])
    attempts = await session.scalar(last_attempt(round_.id, original.cadre_id))
    today = clock.today()
    fresh = Invitation(
        plan_id=original.plan_id,
        round_id=round_.id,
        round_number=round_.number,
        group_id=original.group_id,
        cadre_id=original.cadre_id,
        managing_unit=original.managing_unit,
        tier=original.tier,
        cadre_status=original.cadre_status,
        facility=facility_code,
        at_home=data.at_home,
        appointment_date=appointment,
        status=S.INVITED.value,
        status_since=today,
        issued_on=today,
        attempt=attempts + 1 if attempts is not None else 1,  # attempt 0 is the plan's own invitation
        previous_invitation_id=original.id,
    )
    original.superseded_on = today
    session.add_all([original, fresh])
    await session.flush()
    await _issued(session, outbox, fresh)
    return await get_invitation(session, principal, fresh.id)


async def _issued(session: AsyncSession, outbox: Outbox, invitation: Invitation) -> None:
    await outbox.append(
        session,
        InvitationIssued(
            invitation_id=invitation.id,
            plan_id=invitation.plan_id,
            round_id=invitation.round_id,
            cadre_id=invitation.cadre_id,
            tier=ManagementTier(invitation.tier),
            managing_unit=invitation.managing_unit,
            facility=invitation.facility or HOME,
            appointment_date=invitation.appointment_date,
            attempt=invitation.attempt,
            at_home=invitation.at_home,
            previous_invitation_id=invitation.previous_invitation_id,
        ),
        subject=str(invitation.id),
        managing_unit=invitation.managing_unit,
        tier=ManagementTier(invitation.tier),
    )


async def clear_flag(session: AsyncSession, principal: Principal, invitation_id: uuid.UUID) -> InvitationPublic:
    invitation = await _invitation(session, principal, invitation_id, Action.WRITE)
    if invitation.flag is None:
        raise Conflict("the invitation is not flagged", code="not_flagged")
    invitation.flag = None
    session.add(invitation)
    await session.flush()
    return await get_invitation(session, principal, invitation_id)
