"""Units over HTTP: load a tree (or the whole country), list units as of a date, record a reorganisation."""

from datetime import date

from fastapi import Response, status

from contracts.api.registry import Reorganisation, ReorganisationResult, UnitPublic
from contracts.api.units import NationalLoad, NationalLoadResult
from registry.callers import UnitReader, UnitWriter
from registry.units import loading, service
from servicekit.idempotency import ServiceRouter
from servicekit.runtime import RuntimeDep, SessionDep

router = ServiceRouter(tags=["registry"])


@router.post("/units/import", response_model=dict[str, int])
async def import_units(body: list[UnitPublic], caller: UnitWriter, session: SessionDep, runtime: RuntimeDep) -> dict[str, int]:
    return {"created": await service.import_units(session, runtime.outbox, body)}


@router.get("/units", response_model=list[UnitPublic])
async def list_units(
    caller: UnitReader, session: SessionDep, under: str | None = None, on: date | None = None, all_versions: bool = False
) -> Response:
    """Today's units by default; as they stood on `on`; or every version (`all_versions`)."""
    units = await service.list_units(session, under, on, all_versions)
    # validated once, in service.list_units: the country is 3,356 units today and 14,000 versions in all
    return Response(service.UNIT_LIST.dump_json(units), media_type="application/json")


@router.post("/units/reorganisations", status_code=status.HTTP_201_CREATED, response_model=ReorganisationResult)
async def reorganise(body: Reorganisation, caller: UnitWriter, session: SessionDep, runtime: RuntimeDep) -> ReorganisationResult:
    """Rename, merge, split, dissolve a level: units, every affected cadre and the events, in one transaction."""
    return await service.reorganise(session, runtime.outbox, caller, body)


@router.post("/units/national", response_model=NationalLoadResult)
async def load_national(body: NationalLoad, caller: UnitWriter, session: SessionDep, runtime: RuntimeDep) -> NationalLoadResult:
    """The whole country from the kept packages: the 63-province tree (`legacy`), the 1 July 2025 reorganisation onto
    the 34-province tree with every cadre of a retired unit moved (`2025`), or both (`all`). Idempotent."""
    if body.stage != "legacy":
        loading.check_may_reorganise(caller, body.provinces)
    return await loading.load_national(
        session, runtime.outbox, stage=body.stage, provinces=body.provinces, retier=body.retier, actor=caller.subject
    )
