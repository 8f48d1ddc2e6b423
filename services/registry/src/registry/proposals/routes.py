"""Proposals over HTTP: propose, list, appraise, approve, reject."""

import uuid
from typing import Literal

from fastapi import status

from contracts.api.registry import Appraisal, Decision, ProposalCreate, ProposalPublic
from registry.callers import Appraiser, Approver, CadreReader, Proposer
from registry.proposals import service
from registry.rules import RulesDep
from servicekit.idempotency import ServiceRouter
from servicekit.runtime import RuntimeDep, SessionDep

router = ServiceRouter(tags=["registry"])


@router.post("/proposals", status_code=status.HTTP_201_CREATED, response_model=ProposalPublic)
async def propose(body: ProposalCreate, caller: Proposer, session: SessionDep) -> ProposalPublic:
    return await service.propose(session, caller, body)


@router.get("/proposals", response_model=list[ProposalPublic])
async def list_proposals(
    caller: CadreReader, session: SessionDep, status: Literal["proposed", "appraised", "approved", "rejected"] | None = None
) -> list[ProposalPublic]:
    return await service.list_proposals(session, caller, status)


@router.post("/proposals/{proposal_id}/appraisal", response_model=ProposalPublic)
async def appraise(proposal_id: uuid.UUID, body: Appraisal, caller: Appraiser, session: SessionDep) -> ProposalPublic:
    return await service.appraise(session, caller, proposal_id, body)


@router.post("/proposals/{proposal_id}/approval", response_model=ProposalPublic)
async def approve(
    proposal_id: uuid.UUID, body: Decision, caller: Approver, session: SessionDep, runtime: RuntimeDep, rules: RulesDep
) -> ProposalPublic:
    """Approval registers the cadre (every registration rule applies)."""
    return await service.approve(session, runtime.outbox, caller, proposal_id, body.reason, rules)


@router.post("/proposals/{proposal_id}/rejection", response_model=ProposalPublic)
async def reject(proposal_id: uuid.UUID, body: Decision, caller: Approver, session: SessionDep) -> ProposalPublic:
    return await service.reject(session, caller, proposal_id, body.reason)
