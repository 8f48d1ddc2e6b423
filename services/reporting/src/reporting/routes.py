from fastapi import APIRouter

from contracts.api.reporting import CadreCountReport
from reporting import service
from servicekit.auth import CallerDep, require_permission
from servicekit.runtime import SessionDep

router = APIRouter(tags=["reporting"])


@router.get("/cadre-counts", response_model=CadreCountReport)
async def cadre_counts(unit: str, caller: CallerDep, session: SessionDep) -> CadreCountReport:
    require_permission(caller, "reporting.read")
    return await service.cadre_counts(session, caller, unit)
