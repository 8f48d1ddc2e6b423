"""Units over HTTP: load a tree, list units as of a date, record a reorganisation."""

from datetime import date

from fastapi import status

from contracts.api.registry import Reorganisation, ReorganisationResult, UnitPublic
from registry.callers import UnitReader, UnitWriter
from registry.units import service
from servicekit.idempotency import ServiceRouter
from servicekit.runtime import RuntimeDep, SessionDep

router = ServiceRouter(tags=["registry"])


@router.post("/units/import", response_model=dict[str, int])
async def import_units(body: list[UnitPublic], caller: UnitWriter, session: SessionDep, runtime: RuntimeDep) -> dict[str, int]:
    return {"created": await service.import_units(session, runtime.outbox, body)}


@router.get("/units", response_model=list[UnitPublic])
async def list_units(
    caller: UnitReader, session: SessionDep, under: str | None = None, on: date | None = None, all_versions: bool = False
) -> list[UnitPublic]:
    """Today's units by default; as they stood on `on`; or every version (`all_versions`)."""
    return await service.list_units(session, under, on, all_versions)


@router.post("/units/reorganisations", status_code=status.HTTP_201_CREATED, response_model=ReorganisationResult)
async def reorganise(body: Reorganisation, caller: UnitWriter, session: SessionDep, runtime: RuntimeDep) -> ReorganisationResult:
    """Rename, merge, split, dissolve a level: units, every affected cadre and the events, in one transaction."""
    return await service.reorganise(session, runtime.outbox, caller, body)
