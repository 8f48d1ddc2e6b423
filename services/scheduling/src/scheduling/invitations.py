"""Use cases of invitations: reading them, their lifecycle by hand, re-invitations, and the changes
that arrive as events (exam results, deaths and removals, transfers)."""

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from contracts.api.scheduling import (
    InvitationPublic,
    InvitationStatus,
    InvitationTransition,
    Reinvite,
    TransferPolicy,
)
from contracts.enums import Action, CadreStatus, ManagementTier
from contracts.events.scheduling import InvitationIssued, InvitationStatusChanged
from contracts.scope import Principal, unit_covers
from scheduling import generation
from scheduling.access import invitations_in_scope
from scheduling.domain import HOME, OPEN_STATUSES, REINVITABLE, check_transition, first_free_day
from scheduling.tables import ExamPlan, ExamRound, Invitation, InvitationChange, PlanFacility, RosterCadre
from servicekit.errors import Conflict, NotFound, Refused, field_error
from servicekit.outbox import Outbox

S = InvitationStatus
SYSTEM = "system:scheduling"


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


async def _with_names(session: AsyncSession, query: SelectOfScalar[Invitation]) -> list[InvitationPublic]:
    sub = query.subquery()
    rows = await session.execute(
        select(Invitation, RosterCadre.full_name, RosterCadre.residence_address)
        .join(sub, col(Invitation.id) == sub.c.id)
        .outerjoin(RosterCadre, col(RosterCadre.cadre_id) == col(Invitation.cadre_id))
        .order_by(col(Invitation.round_number), col(Invitation.managing_unit), col(RosterCadre.full_name), col(Invitation.id))
    )
    return [public(inv, name, address) for inv, name, address in rows]


def filtered(
    principal: Principal,
    *,
    plan_id: uuid.UUID | None = None,
    round_number: int | None = None,
    status: InvitationStatus | None = None,
    unit: str | None = None,
    cadre_id: uuid.UUID | None = None,
    flagged: bool | None = None,
    undeliverable: bool = False,
    facility: str | None = None,
) -> SelectOfScalar[Invitation]:
    query = invitations_in_scope(principal)
    if plan_id is not None:
        query = query.where(col(Invitation.plan_id) == plan_id)
    if round_number is not None:
        query = query.where(col(Invitation.round_number) == round_number)
    if status is not None:
        query = query.where(col(Invitation.status) == status.value)
    if unit:
        query = query.where((col(Invitation.managing_unit) == unit) | col(Invitation.managing_unit).startswith(unit + "."))
    if cadre_id is not None:
        query = query.where(col(Invitation.cadre_id) == cadre_id)
    if facility is not None:
        query = query.where(col(Invitation.facility) == facility)
    if flagged is not None:
        query = query.where(col(Invitation.flag).is_not(None) if flagged else col(Invitation.flag).is_(None))
    if undeliverable:
        no_address = select(RosterCadre.cadre_id).where(
            (col(RosterCadre.residence_address).is_(None)) | (func.trim(col(RosterCadre.residence_address)) == "")
        )
        query = query.where(
            col(Invitation.cadre_id).in_(no_address),
            col(Invitation.status).in_([s.value for s in OPEN_STATUSES]),
            col(Invitation.at_home).is_(False),
        )
    return query


async def list_invitations(
    session: AsyncSession, query: SelectOfScalar[Invitation], offset: int, limit: int
) -> tuple[list[InvitationPublic], int]:
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = (
        query.order_by(col(Invitation.round_number), col(Invitation.managing_unit), col(Invitation.id))
        .offset(offset)
        .limit(limit)
    )
    return await _with_names(session, page), total


async def _invitation(session: AsyncSession, principal: Principal, invitation_id: uuid.UUID, action: Action) -> Invitation:
    found = await session.scalar(invitations_in_scope(principal, Action.READ).where(col(Invitation.id) == invitation_id))
    if found is None:
        raise NotFound("no such invitation")
    if action != Action.READ and not principal.may(action, found.managing_unit, ManagementTier(found.tier)):
        raise NotFound("no such invitation")  # readable but not writable: refused without a hint
    return found


async def get_invitation(session: AsyncSession, principal: Principal, invitation_id: uuid.UUID) -> InvitationPublic:
    found = await _invitation(session, principal, invitation_id, Action.READ)
    return (await _with_names(session, select(Invitation).where(col(Invitation.id) == found.id)))[0]


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
    effective = effective or datetime.now(UTC).date()
    invitation.status = target.value
    invitation.reason = reason
    invitation.status_since = effective
    invitation.updated_at = datetime.now(UTC)
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


async def _booked(session: AsyncSession, round_id: uuid.UUID, facility: str) -> dict[date, int]:
    rows = await session.execute(
        select(col(Invitation.appointment_date), func.count())
        .where(
            col(Invitation.round_id) == round_id,
            col(Invitation.facility) == facility,
            col(Invitation.status) != S.CANCELLED.value,
        )
        .group_by(col(Invitation.appointment_date))
    )
    return {day: count for day, count in rows}


async def reinvite(
    session: AsyncSession, outbox: Outbox, principal: Principal, invitation_id: uuid.UUID, data: Reinvite
) -> InvitationPublic:
    """A deferred or no-show cadre invited again: in a later round, at a (local) facility, or at home."""
    original = await _invitation(session, principal, invitation_id, Action.WRITE)
    if S(original.status) not in REINVITABLE or original.superseded_on is not None:
        raise Refused(
            "transition not allowed: only a deferred or no-show invitation can be re-invited",
            errors=[
                field_error(
                    "status",
                    f"the invitation is {original.status!r}{' and already re-invited' if original.superseded_on else ''}",
                )
            ],
            code="transition_not_allowed",
        )
    current_round = await session.get(ExamRound, original.round_id)
    assert current_round is not None
    target_round = current_round
    if data.round_id is not None and data.round_id != original.round_id:
        found = await session.get(ExamRound, data.round_id)
        if found is None or found.plan_id != original.plan_id:
            raise Refused("no such round in this plan", errors=[field_error("round_id", "not a round of the invitation's plan")])
        if found.number < current_round.number:
            raise Refused(
                "re-invite to a later round", errors=[field_error("round_id", "the round is earlier than the invitation's")]
            )
        target_round = found
    facility_code: str | None = None
    if data.at_home:
        if data.facility:
            raise Refused("at home or at a facility", errors=[field_error("facility", "give no facility for an exam at home")])
        appointment = data.appointment_date or max(target_round.starts_on, datetime.now(UTC).date())
    else:
        facility_code = data.facility or original.facility
        if facility_code is None:
            raise Refused("a facility is needed", errors=[field_error("facility", "required (the original was at home)")])
        facility = await session.scalar(
            select(PlanFacility).where(col(PlanFacility.plan_id) == original.plan_id, col(PlanFacility.code) == facility_code)
        )
        if facility is None:
            raise Refused("unknown facility", errors=[field_error("facility", f"no facility {facility_code!r} in this plan")])
        booked = await _booked(session, target_round.id, facility_code)
        if data.appointment_date is not None:
            appointment = data.appointment_date
            if booked.get(appointment, 0) >= facility.daily_capacity:
                raise Refused(
                    "capacity exceeded",
                    errors=[
                        field_error(
                            "appointment_date", f"capacity exceeded: {facility_code} is full on {appointment.isoformat()}"
                        )
                    ],
                    code="capacity_exceeded",
                )
        else:
            free = first_free_day(
                target_round.starts_on, target_round.ends_on, facility.daily_capacity, booked, datetime.now(UTC).date()
            )
            if free is None:
                raise Refused(
                    "capacity exceeded",
                    errors=[
                        field_error(
                            "facility", f"capacity exceeded: no free day at {facility_code} in round {target_round.number}"
                        )
                    ],
                    code="capacity_exceeded",
                )
            appointment = free
    if not target_round.starts_on <= appointment <= target_round.ends_on:
        raise Refused("outside the round", errors=[field_error("appointment_date", "the day is outside the round's dates")])
    attempts = await session.scalar(
        select(func.max(Invitation.attempt)).where(
            col(Invitation.round_id) == target_round.id, col(Invitation.cadre_id) == original.cadre_id
        )
    )
    today = datetime.now(UTC).date()
    fresh = Invitation(
        plan_id=original.plan_id,
        round_id=target_round.id,
        round_number=target_round.number,
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


# ---- changes that arrive as events ----


async def _current_of_cadre(session: AsyncSession, cadre_id: uuid.UUID, statuses: Sequence[InvitationStatus]) -> list[Invitation]:
    return list(
        await session.scalars(
            select(Invitation)
            .where(
                col(Invitation.cadre_id) == cadre_id,
                col(Invitation.status).in_([s.value for s in statuses]),
                col(Invitation.superseded_on).is_(None),
            )
            .order_by(col(Invitation.appointment_date), col(Invitation.id))
        )
    )


async def record_exam(
    session: AsyncSession,
    outbox: Outbox,
    *,
    cadre_id: uuid.UUID,
    record_id: uuid.UUID,
    occurred_on: date,
    plan_id: uuid.UUID | None,
    round_id: uuid.UUID | None,
) -> Invitation | None:
    """An exam result arrived: the matching invitation is attended (by round, else plan, else the round's dates)."""
    candidates = await _current_of_cadre(session, cadre_id, [S.INVITED, S.CONFIRMED, S.DEFERRED, S.NO_SHOW, S.ATTENDED])
    if any(c.exam_record_id == record_id for c in candidates):
        return None  # already applied (an amendment of the same record)
    candidates = [c for c in candidates if c.status != S.ATTENDED.value]
    chosen: Invitation | None = None
    if round_id is not None:
        chosen = next((c for c in candidates if c.round_id == round_id), None)
    if chosen is None and candidates:
        pool = [c for c in candidates if plan_id is None or c.plan_id == plan_id]
        rounds = {
            r.id: r for r in await session.scalars(select(ExamRound).where(col(ExamRound.id).in_([c.round_id for c in pool])))
        }
        during = [c for c in pool if rounds[c.round_id].starts_on <= occurred_on <= rounds[c.round_id].ends_on]
        if during:
            chosen = during[0]
        elif plan_id is not None and pool:
            chosen = pool[0]
    if chosen is None:
        return None
    chosen.exam_record_id = record_id
    await set_status(session, outbox, chosen, S.ATTENDED, actor=SYSTEM, reason="exam result recorded", effective=occurred_on)
    return chosen


async def withdraw_exam(session: AsyncSession, outbox: Outbox, record_id: uuid.UUID) -> None:
    """A withdrawn exam result no longer counts: its invitation goes back to the state it had before."""
    invitation = await session.scalar(select(Invitation).where(col(Invitation.exam_record_id) == record_id))
    if invitation is None or invitation.status != S.ATTENDED.value:
        return
    before = await session.scalar(
        select(InvitationChange.previous_status)
        .where(col(InvitationChange.invitation_id) == invitation.id, col(InvitationChange.status) == S.ATTENDED.value)
        .order_by(col(InvitationChange.id).desc())
        .limit(1)
    )
    invitation.exam_record_id = None
    await set_status(session, outbox, invitation, S(before or S.INVITED.value), actor=SYSTEM, reason="exam result withdrawn")


async def cancel_open(session: AsyncSession, outbox: Outbox, cadre_id: uuid.UUID, reason: str, effective: date) -> int:
    """Deceased or removed: the cadre's open invitations are cancelled."""
    open_ones = await _current_of_cadre(session, cadre_id, sorted(OPEN_STATUSES))
    for invitation in open_ones:
        await set_status(session, outbox, invitation, S.CANCELLED, actor=SYSTEM, reason=reason, effective=effective)
    return len(open_ones)


async def invite_late_joiner(session: AsyncSession, outbox: Outbox, cadre_id: uuid.UUID, managing_unit: str, on: date) -> int:
    """A cadre who becomes eligible after a plan was generated: invited to that plan's rounds not yet started on `on`."""
    plans = await session.scalars(select(ExamPlan).where(col(ExamPlan.generated_at).is_not(None), col(ExamPlan.year) >= on.year))
    invited = 0
    for plan in plans:
        if not unit_covers(plan.board_unit, managing_unit):
            continue
        result = await generation.generate(session, outbox, plan, cadre_ids=[cadre_id], as_of=on, rounds_after=on, skip_full=True)
        invited += result.invited
    return invited


async def transfer(session: AsyncSession, outbox: Outbox, cadre_id: uuid.UUID, new_unit: str, effective: date, on: date) -> None:
    """Open invitations follow the board's choice: moved to the new board's plan, or flagged for the old board to decide."""
    open_ones = await _current_of_cadre(session, cadre_id, sorted(OPEN_STATUSES))
    moved_to_new_board = False
    for invitation in open_ones:
        plan = await session.get(ExamPlan, invitation.plan_id)
        assert plan is not None
        if unit_covers(plan.board_unit, new_unit):  # a move inside the same board: scope follows the managing body
            invitation.managing_unit = new_unit
            session.add(invitation)
            continue
        if plan.on_transfer == TransferPolicy.MOVE.value:
            target = await _plan_for(session, new_unit, plan.year)
            if target is not None:
                await set_status(
                    session,
                    outbox,
                    invitation,
                    S.CANCELLED,
                    actor=SYSTEM,
                    reason=f"transferred to {new_unit}",
                    effective=effective,
                )
                moved_to_new_board = True
                continue
        invitation.flag = f"transferred to {new_unit} on {effective.isoformat()}"
        session.add(invitation)
    if moved_to_new_board:
        await invite_late_joiner(session, outbox, cadre_id, new_unit, on)


async def _plan_for(session: AsyncSession, unit: str, year: int) -> ExamPlan | None:
    plans = await session.scalars(
        select(ExamPlan)
        .where(col(ExamPlan.year) == year, col(ExamPlan.generated_at).is_not(None))
        .order_by(col(ExamPlan.created_at))
    )
    covering = [p for p in plans if unit_covers(p.board_unit, unit)]
    return max(covering, key=lambda p: len(p.board_unit)) if covering else None


async def clear_flag(session: AsyncSession, principal: Principal, invitation_id: uuid.UUID) -> InvitationPublic:
    invitation = await _invitation(session, principal, invitation_id, Action.WRITE)
    if invitation.flag is None:
        raise Conflict("the invitation is not flagged", code="not_flagged")
    invitation.flag = None
    session.add(invitation)
    await session.flush()
    return await get_invitation(session, principal, invitation_id)
