"""Proposal use cases. Each step is a permission of its own (propose / appraise / approve, checked by the
routes); the proposal's managing unit and tier must be inside the caller's write scope at every step."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.api.registry import Appraisal, CadreCreate, ProposalCreate, ProposalPublic
from contracts.enums import Action, ManagementTier
from contracts.scope import Principal
from registry.cadres.service import duplicate_pointer, register_cadre
from registry.domain import national_id_problems
from registry.proposals import queries
from registry.rules import Rules, refuse
from registry.tables import Proposal
from registry.tiers.service import check_tier_on
from registry.units.service import current_unit
from servicekit import clock
from servicekit.errors import Conflict, Forbidden, NotFound, Refused, field_error
from servicekit.outbox import Outbox
from servicekit.scope import may


def proposal_public(p: Proposal) -> ProposalPublic:
    return ProposalPublic.model_validate(p, from_attributes=True)


async def propose(session: AsyncSession, principal: Principal, body: ProposalCreate) -> ProposalPublic:
    await check_tier_on(session, await current_unit(session, body.managing_unit), body.tier, clock.today())
    refuse(national_id_problems(body.national_id, body.date_of_birth, body.sex), "invalid national ID")
    if not may(principal, Action.WRITE, body.managing_unit, body.tier):
        raise Forbidden("the managing unit and tier are outside your scope", code="out_of_scope")
    duplicate = await duplicate_pointer(session, principal, body.national_id)
    if duplicate is not None:
        raise Conflict(duplicate, code="duplicate_national_id")
    pending = await session.scalar(queries.open_proposal_for(body.national_id))
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
    return proposal_public(proposal)


async def list_proposals(session: AsyncSession, principal: Principal, status: str | None) -> list[ProposalPublic]:
    return [proposal_public(p) for p in await session.scalars(queries.listed(principal, status))]


async def _in_state(session: AsyncSession, principal: Principal, proposal_id: uuid.UUID, allowed: tuple[str, ...]) -> Proposal:
    proposal = await session.scalar(
        queries.proposals_in_scope(principal).where(col(Proposal.id) == proposal_id).with_for_update()
    )
    if proposal is None:
        raise NotFound("no such proposal")
    if proposal.status not in allowed:
        raise Refused("not allowed in this state", errors=[field_error("status", f"the proposal is {proposal.status}")])
    return proposal


async def appraise(session: AsyncSession, principal: Principal, proposal_id: uuid.UUID, body: Appraisal) -> ProposalPublic:
    proposal = await _in_state(session, principal, proposal_id, ("proposed",))
    proposal.status = "appraised"
    proposal.appraised_by, proposal.appraisal_recommend, proposal.appraisal_note = principal.subject, body.recommend, body.note
    return proposal_public(proposal)


async def approve(
    session: AsyncSession, outbox: Outbox, principal: Principal, proposal_id: uuid.UUID, reason: str, rules: Rules
) -> ProposalPublic:
    """Approval registers the cadre with every rule of a registration (a refused registration changes nothing)."""
    proposal = await _in_state(session, principal, proposal_id, ("appraised",))
    data = CadreCreate.model_validate(proposal.data)
    if not may(principal, Action.WRITE, data.managing_unit, ManagementTier(data.tier)):
        raise Forbidden("outside your scope", code="out_of_scope")
    cadre = await register_cadre(session, outbox, principal, data, rules)
    proposal.status, proposal.cadre_id = "approved", cadre.id
    proposal.decided_by, proposal.decided_at, proposal.decision_reason = principal.subject, clock.now(), reason
    return proposal_public(proposal)


async def reject(session: AsyncSession, principal: Principal, proposal_id: uuid.UUID, reason: str) -> ProposalPublic:
    proposal = await _in_state(session, principal, proposal_id, queries.OPEN)
    proposal.status = "rejected"
    proposal.decided_by, proposal.decided_at, proposal.decision_reason = principal.subject, clock.now(), reason
    return proposal_public(proposal)
