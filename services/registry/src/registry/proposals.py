"""Proposed beneficiaries: proposed -> appraised -> approved (the cadre is registered) or rejected with a reason.

Each step is a permission of its own (registry.proposals.propose / appraise / approve); the proposal's
managing unit and tier must be inside the caller's write scope at every step.
"""

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from contracts.api.registry import Appraisal, CadreCreate, ProposalCreate, ProposalPublic
from contracts.enums import Action, ManagementTier
from contracts.scope import Principal
from registry.domain import national_id_problems
from registry.service import Rules, check_tier, current_unit, duplicate_pointer, refuse, register_cadre
from registry.tables import Proposal
from servicekit.auth import scope_filter
from servicekit.errors import Conflict, Forbidden, NotFound, Refused, field_error
from servicekit.outbox import Outbox

OPEN = ("proposed", "appraised")


def _public(p: Proposal) -> ProposalPublic:
    return ProposalPublic.model_validate(p, from_attributes=True)


async def propose(session: AsyncSession, principal: Principal, body: ProposalCreate) -> ProposalPublic:
    check_tier(await current_unit(session, body.managing_unit), body.tier)
    refuse(national_id_problems(body.national_id, body.date_of_birth, body.sex), "invalid national ID")
    if not principal.may(Action.WRITE, body.managing_unit, body.tier):
        raise Forbidden("the managing unit and tier are outside your scope", code="out_of_scope")
    duplicate = await duplicate_pointer(session, principal, body.national_id)
    if duplicate is not None:
        raise Conflict(duplicate, code="duplicate_national_id")
    pending = await session.scalar(
        select(Proposal.id).where(col(Proposal.national_id) == body.national_id, col(Proposal.status).in_(OPEN))
    )
    if pending is not None:
        raise Conflict(f"an open proposal for this national ID exists ({pending})", code="duplicate_proposal")
    proposal = Proposal(
        status="proposed",
        data=CadreCreate.model_validate(body.model_dump(exclude={"justification"})).model_dump(mode="json"),
        full_name=body.full_name,
        national_id=body.national_id,
        tier=body.tier.value,
        managing_unit=body.managing_unit,
        justification=body.justification,
        proposed_by=principal.subject,
    )
    session.add(proposal)
    await session.flush()
    return _public(proposal)


def _in_scope(principal: Principal) -> SelectOfScalar[Proposal]:
    return select(Proposal).where(scope_filter(principal, Action.WRITE, col(Proposal.managing_unit), col(Proposal.tier)))


async def list_proposals(session: AsyncSession, principal: Principal, status: str | None) -> list[ProposalPublic]:
    query = _in_scope(principal)
    if status:
        query = query.where(col(Proposal.status) == status)
    return [_public(p) for p in await session.scalars(query.order_by(col(Proposal.proposed_at)))]


async def _open(session: AsyncSession, principal: Principal, proposal_id: uuid.UUID, allowed: tuple[str, ...]) -> Proposal:
    proposal = await session.scalar(_in_scope(principal).where(col(Proposal.id) == proposal_id).with_for_update())
    if proposal is None:
        raise NotFound("no such proposal")
    if proposal.status not in allowed:
        raise Refused("not allowed in this state", errors=[field_error("status", f"the proposal is {proposal.status}")])
    return proposal


async def appraise(session: AsyncSession, principal: Principal, proposal_id: uuid.UUID, body: Appraisal) -> ProposalPublic:
    proposal = await _open(session, principal, proposal_id, ("proposed",))
    proposal.status = "appraised"
    proposal.appraised_by, proposal.appraisal_recommend, proposal.appraisal_note = principal.subject, body.recommend, body.note
    return _public(proposal)


async def approve(
    session: AsyncSession, outbox: Outbox, principal: Principal, proposal_id: uuid.UUID, reason: str, rules: Rules
) -> ProposalPublic:
    """Approval registers the cadre with every rule of a registration (a refused registration changes nothing)."""
    proposal = await _open(session, principal, proposal_id, ("appraised",))
    data = CadreCreate.model_validate(proposal.data)
    if not principal.may(Action.WRITE, data.managing_unit, ManagementTier(data.tier)):
        raise Forbidden("outside your scope", code="out_of_scope")
    cadre = await register_cadre(session, outbox, principal, data, rules)
    proposal.status, proposal.cadre_id = "approved", cadre.id
    proposal.decided_by, proposal.decided_at, proposal.decision_reason = principal.subject, datetime.now(UTC), reason
    return _public(proposal)


async def reject(session: AsyncSession, principal: Principal, proposal_id: uuid.UUID, reason: str) -> ProposalPublic:
    proposal = await _open(session, principal, proposal_id, OPEN)
    proposal.status = "rejected"
    proposal.decided_by, proposal.decided_at, proposal.decision_reason = principal.subject, datetime.now(UTC), reason
    return _public(proposal)
