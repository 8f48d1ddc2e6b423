"""Thin HTTP layer for administrative units, their reorganisations, and proposed beneficiaries."""

import uuid
from datetime import UTC, date, datetime
from typing import Literal

from fastapi import status

from contracts.api.registry import (
    Appraisal,
    Decision,
    ProposalCreate,
    ProposalPublic,
    Reorganisation,
    ReorganisationResult,
    UnitPublic,
)
from registry import proposals, units
from registry.routes import rules
from servicekit.auth import CallerDep, require_permission
from servicekit.idempotency import ServiceRouter
from servicekit.runtime import RuntimeDep, SessionDep

router = ServiceRouter(tags=["registry"])


@router.post("/units/import", response_model=dict[str, int])
async def import_units(body: list[UnitPublic], caller: CallerDep, session: SessionDep, runtime: RuntimeDep) -> dict[str, int]:
    require_permission(caller, "registry.units.write")
    return {"created": await units.import_units(session, runtime.outbox, body)}


@router.get("/units", response_model=list[UnitPublic])
async def list_units(
    caller: CallerDep, session: SessionDep, under: str | None = None, on: date | None = None, all_versions: bool = False
) -> list[UnitPublic]:
    """Today's units by default; as they stood on `on`; or every version (`all_versions`)."""
    require_permission(caller, "registry.units.read")
    return await units.list_units(session, under, on, all_versions)


@router.post("/units/reorganisations", status_code=status.HTTP_201_CREATED, response_model=ReorganisationResult)
async def reorganise(body: Reorganisation, caller: CallerDep, session: SessionDep, runtime: RuntimeDep) -> ReorganisationResult:
    """Rename, merge, split, dissolve a level: units, every affected cadre and the events, in one transaction."""
    require_permission(caller, "registry.units.write")
    return await units.reorganise(session, runtime.outbox, caller, body, datetime.now(UTC).date())


@router.post("/proposals", status_code=status.HTTP_201_CREATED, response_model=ProposalPublic)
async def propose(body: ProposalCreate, caller: CallerDep, session: SessionDep) -> ProposalPublic:
    require_permission(caller, "registry.proposals.propose")
    return await proposals.propose(session, caller, body)


@router.get("/proposals", response_model=list[ProposalPublic])
async def list_proposals(
    caller: CallerDep, session: SessionDep, status: Literal["proposed", "appraised", "approved", "rejected"] | None = None
) -> list[ProposalPublic]:
    require_permission(caller, "registry.cadres.read")
    return await proposals.list_proposals(session, caller, status)


@router.post("/proposals/{proposal_id}/appraisal", response_model=ProposalPublic)
async def appraise(proposal_id: uuid.UUID, body: Appraisal, caller: CallerDep, session: SessionDep) -> ProposalPublic:
    require_permission(caller, "registry.proposals.appraise")
    return await proposals.appraise(session, caller, proposal_id, body)


@router.post("/proposals/{proposal_id}/approval", response_model=ProposalPublic)
async def approve(
    proposal_id: uuid.UUID, body: Decision, caller: CallerDep, session: SessionDep, runtime: RuntimeDep
) -> ProposalPublic:
    """Approval registers the cadre (every registration rule applies)."""
    require_permission(caller, "registry.proposals.approve")
    return await proposals.approve(session, runtime.outbox, caller, proposal_id, body.reason, rules(runtime))


@router.post("/proposals/{proposal_id}/rejection", response_model=ProposalPublic)
async def reject(proposal_id: uuid.UUID, body: Decision, caller: CallerDep, session: SessionDep) -> ProposalPublic:
    require_permission(caller, "registry.proposals.approve")
    return await proposals.reject(session, caller, proposal_id, body.reason)
