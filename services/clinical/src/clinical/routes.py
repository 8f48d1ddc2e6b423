from fastapi import APIRouter
from sqlalchemy import func
from sqlmodel import col, select

from clinical.tables import PatientCadre
from contracts.api.clinical import PatientSummary
from contracts.enums import Action
from servicekit.auth import CallerDep, require_permission, scope_filter
from servicekit.runtime import SessionDep

router = APIRouter(tags=["clinical"])


@router.get("/patients/summary", response_model=PatientSummary)
async def patients_summary(caller: CallerDep, session: SessionDep) -> PatientSummary:
    """How many cadres clinical can match hospital records to, in the caller's scope."""
    require_permission(caller, "clinical.read")
    in_scope = scope_filter(caller, Action.READ, col(PatientCadre.managing_unit), col(PatientCadre.tier))
    total = await session.scalar(select(func.count()).select_from(PatientCadre).where(in_scope)) or 0
    return PatientSummary(cadres=total)
