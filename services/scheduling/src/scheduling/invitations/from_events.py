"""What events do to invitations: exam results (and their withdrawal), deaths and removals, cadres who become
eligible late, transfers. No caller: the system acts on every board's invitations."""

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.api.scheduling import InvitationStatus, TransferPolicy
from contracts.scope import unit_covers
from scheduling.domain import OPEN_STATUSES
from scheduling.invitations.queries import (
    attended_by_record,
    current_of_cadre,
    current_of_cadres,
    rounds_by_id,
    status_before_attended,
)
from scheduling.invitations.service import set_status
from scheduling.plans import generation
from scheduling.plans.queries import generated_plans_from, generated_plans_of
from scheduling.tables import ExamPlan, Invitation
from servicekit.outbox import Outbox

S = InvitationStatus
SYSTEM = "system:scheduling"


async def _current(session: AsyncSession, cadre_id: uuid.UUID, statuses: list[InvitationStatus]) -> list[Invitation]:
    return list(await session.scalars(current_of_cadre(cadre_id, statuses)))


async def _chosen(
    session: AsyncSession, candidates: list[Invitation], occurred_on: date, plan_id: uuid.UUID | None, round_id: uuid.UUID | None
) -> Invitation | None:
    """The invitation an exam answers: the round named, else one of the plan named whose round the exam fell in
    (else the plan's first), else one whose round the exam fell in."""
    if round_id is not None:
        named = next((c for c in candidates if c.round_id == round_id), None)
        if named is not None:
            return named
    pool = [c for c in candidates if plan_id is None or c.plan_id == plan_id]
    if not pool:
        return None
    rounds = {r.id: r for r in await session.scalars(rounds_by_id([c.round_id for c in pool]))}
    during = [c for c in pool if rounds[c.round_id].starts_on <= occurred_on <= rounds[c.round_id].ends_on]
    if during:
        return during[0]
    return pool[0] if plan_id is not None else None


EXAM_CANDIDATES = [S.INVITED, S.CONFIRMED, S.DEFERRED, S.NO_SHOW, S.ATTENDED]


async def exam_candidates(session: AsyncSession, cadre_ids: set[uuid.UUID]) -> dict[uuid.UUID, list[Invitation]]:
    """`record_exam`'s candidates of many cadres in one query (a batch of exam events), by cadre, in its order."""
    found: dict[uuid.UUID, list[Invitation]] = {cadre_id: [] for cadre_id in cadre_ids}
    for invitation in await session.scalars(current_of_cadres(sorted(cadre_ids), EXAM_CANDIDATES)):
        found[invitation.cadre_id].append(invitation)
    return found


async def record_exam(
    session: AsyncSession,
    outbox: Outbox,
    *,
    cadre_id: uuid.UUID,
    record_id: uuid.UUID,
    occurred_on: date,
    plan_id: uuid.UUID | None,
    round_id: uuid.UUID | None,
    read_ahead: list[Invitation] | None = None,
) -> Invitation | None:
    """An exam result arrived: the matching invitation is attended (by round, else plan, else the round's dates).

    `read_ahead`: the cadre's candidates read for the whole batch (`exam_candidates`), the same session's objects,
    so what earlier events of the batch changed shows; filtered again as the query would."""
    if read_ahead is None:
        candidates = await _current(session, cadre_id, EXAM_CANDIDATES)
    else:
        wanted = {s.value for s in EXAM_CANDIDATES}
        candidates = [c for c in read_ahead if c.status in wanted and c.superseded_on is None]
    if any(c.exam_record_id == record_id for c in candidates):
        return None  # already applied (an amendment of the same record)
    chosen = await _chosen(session, [c for c in candidates if c.status != S.ATTENDED.value], occurred_on, plan_id, round_id)
    if chosen is None:
        return None
    chosen.exam_record_id = record_id
    await set_status(session, outbox, chosen, S.ATTENDED, actor=SYSTEM, reason="exam result recorded", effective=occurred_on)
    return chosen


async def withdraw_exam(session: AsyncSession, outbox: Outbox, record_id: uuid.UUID) -> None:
    """A withdrawn exam result no longer counts: its invitation goes back to the state it had before."""
    invitation = await session.scalar(attended_by_record(record_id))
    if invitation is None or invitation.status != S.ATTENDED.value:
        return
    before = await session.scalar(status_before_attended(invitation.id))
    invitation.exam_record_id = None
    await set_status(session, outbox, invitation, S(before or S.INVITED.value), actor=SYSTEM, reason="exam result withdrawn")


async def cancel_open(session: AsyncSession, outbox: Outbox, cadre_id: uuid.UUID, reason: str, effective: date) -> int:
    """Deceased or removed: the cadre's open invitations are cancelled."""
    open_ones = await _current(session, cadre_id, sorted(OPEN_STATUSES))
    for invitation in open_ones:
        await set_status(session, outbox, invitation, S.CANCELLED, actor=SYSTEM, reason=reason, effective=effective)
    return len(open_ones)


async def invite_late_joiner(session: AsyncSession, outbox: Outbox, cadre_id: uuid.UUID, managing_unit: str, on: date) -> int:
    """A cadre who becomes eligible after a plan was generated: invited to that plan's rounds not yet started on `on`."""
    invited = 0
    for plan in await session.scalars(generated_plans_from(on.year)):
        if not unit_covers(plan.board_unit, managing_unit):
            continue
        result = await generation.generate(session, outbox, plan, cadre_ids=[cadre_id], as_of=on, rounds_after=on, skip_full=True)
        invited += result.invited
    return invited


async def transfer(session: AsyncSession, outbox: Outbox, cadre_id: uuid.UUID, new_unit: str, effective: date, on: date) -> None:
    """Open invitations follow the board's choice: moved to the new board's plan, or flagged for the old board to decide."""
    moved_to_new_board = False
    for invitation in await _current(session, cadre_id, sorted(OPEN_STATUSES)):
        plan = await session.get(ExamPlan, invitation.plan_id)
        assert plan is not None
        if unit_covers(plan.board_unit, new_unit):  # a move inside the same board: scope follows the managing body
            invitation.managing_unit = new_unit
            session.add(invitation)
            continue
        if plan.on_transfer == TransferPolicy.MOVE.value and await _plan_for(session, new_unit, plan.year) is not None:
            reason = f"transferred to {new_unit}"
            await set_status(session, outbox, invitation, S.CANCELLED, actor=SYSTEM, reason=reason, effective=effective)
            moved_to_new_board = True
            continue
        invitation.flag = f"transferred to {new_unit} on {effective.isoformat()}"
        session.add(invitation)
    if moved_to_new_board:
        await invite_late_joiner(session, outbox, cadre_id, new_unit, on)


async def _plan_for(session: AsyncSession, unit: str, year: int) -> ExamPlan | None:
    """The generated plan of the most local board covering the unit that year."""
    covering = [p for p in await session.scalars(generated_plans_of(year)) if unit_covers(p.board_unit, unit)]
    return max(covering, key=lambda p: len(p.board_unit)) if covering else None
