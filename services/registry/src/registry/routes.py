"""Thin HTTP layer: parse, call the use case, shape the response."""

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from contracts.api.common import Page
from contracts.api.registry import CadreCount, CadreCreate, CadrePublic, UnitPublic
from registry import service
from servicekit.audit import audit_subjects
from servicekit.auth import CallerDep, require_permission
from servicekit.runtime import RuntimeDep, SessionDep

router = APIRouter(tags=["registry"])

MAX_PAGE = 200


@router.post("/cadres", status_code=status.HTTP_201_CREATED, response_model=CadrePublic)
async def register_cadre(body: CadreCreate, caller: CallerDep, session: SessionDep, runtime: RuntimeDep) -> CadrePublic:
    require_permission(caller, "registry.cadres.write")
    return await service.register_cadre(session, runtime.outbox, caller, body)


@router.get("/cadres", response_model=Page[CadrePublic])
async def list_cadres(
    caller: CallerDep,
    session: SessionDep,
    response: Response,
    unit: str | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> Page[CadrePublic]:
    require_permission(caller, "registry.cadres.read")
    items, total = await service.list_cadres(session, caller, unit=unit, offset=offset, limit=limit)
    audit_subjects(response, (item.id for item in items))
    return Page[CadrePublic](items=items, total=total, offset=offset, limit=limit)


@router.get("/cadres/{cadre_id}", response_model=CadrePublic)
async def get_cadre(cadre_id: uuid.UUID, caller: CallerDep, session: SessionDep, response: Response) -> CadrePublic:
    require_permission(caller, "registry.cadres.read")
    cadre = await service.get_cadre(session, caller, cadre_id)
    audit_subjects(response, [cadre.id])
    return cadre


@router.get("/cadre-counts", response_model=list[CadreCount])
async def count_cadres(unit: str, caller: CallerDep, session: SessionDep) -> list[CadreCount]:
    require_permission(caller, "registry.cadres.read")
    return await service.count_cadres(session, caller, unit)


@router.post("/units/import", response_model=dict[str, int])
async def import_units(body: list[UnitPublic], caller: CallerDep, session: SessionDep, runtime: RuntimeDep) -> dict[str, int]:
    require_permission(caller, "registry.units.write")
    return {"created": await service.import_units(session, runtime.outbox, body)}


@router.get("/units", response_model=list[UnitPublic])
async def list_units(
    caller: CallerDep, session: SessionDep, under: str | None = None, on: date | None = None
) -> list[UnitPublic]:
    require_permission(caller, "registry.units.read")
    return await service.list_units(session, under, on)
