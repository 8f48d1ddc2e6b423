from fastapi import APIRouter
from sqlalchemy import func
from sqlmodel import col, select

from contracts.api.scheduling import RosterSummary
from contracts.enums import Action
from scheduling.tables import RosterCadre
from servicekit.auth import CallerDep, require_permission, scope_filter
from servicekit.runtime import SessionDep

router = APIRouter(tags=["scheduling"])


@router.get("/roster/summary", response_model=RosterSummary)
async def roster_summary(caller: CallerDep, session: SessionDep) -> RosterSummary:
    """How many cadres scheduling knows of in the caller's scope (its read model of the registry)."""
    require_permission(caller, "scheduling.read")
    in_scope = scope_filter(caller, Action.READ, col(RosterCadre.managing_unit), col(RosterCadre.tier))
    total = await session.scalar(select(func.count()).select_from(RosterCadre).where(in_scope)) or 0
    return RosterSummary(cadres=total)
