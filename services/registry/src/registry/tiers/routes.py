"""Tier rules over HTTP: list them, add a province's dated rule."""

from fastapi import status

from contracts.api.boards import TierRuleCreate, TierRulePublic
from registry.callers import UnitReader, UnitWriter
from registry.tiers import service
from servicekit.idempotency import ServiceRouter
from servicekit.runtime import SessionDep

router = ServiceRouter(tags=["registry"])


@router.get("/tiers/rules", response_model=list[TierRulePublic])
async def list_rules(caller: UnitReader, session: SessionDep, province: str | None = None) -> list[TierRulePublic]:
    """Every rule, or those that apply in one province (`province=VN.68`: the national ones and its own)."""
    return await service.list_rules(session, province)


@router.post("/tiers/rules", status_code=status.HTTP_201_CREATED, response_model=TierRulePublic)
async def add_rule(body: TierRuleCreate, caller: UnitWriter, session: SessionDep) -> TierRulePublic:
    """Allow a tier at a unit level in one province from a date (to a date)."""
    return await service.add_rule(session, caller, body)
