"""Cadres over HTTP: register, search, read, correct, history, likely duplicates, counts."""

import uuid
from datetime import date
from typing import Annotated

from fastapi import Query, Response, status

from contracts.api.common import Page
from contracts.api.registry import CadreChange, CadreCount, CadreCreate, CadrePublic, CadreUpdate, DuplicateGroup
from contracts.enums import CadreStatus, ManagementTier
from registry.cadres import counts, service
from registry.cadres.queries import Search
from registry.callers import CadreReader, CadreWriter
from registry.rules import RulesDep
from servicekit.audit import audit_subjects
from servicekit.idempotency import ServiceRouter
from servicekit.pagination import DEFAULT_PAGE_SIZE, Limit, PageDep
from servicekit.runtime import RuntimeDep, SessionDep

router = ServiceRouter(tags=["registry"])


@router.post("/cadres", status_code=status.HTTP_201_CREATED, response_model=CadrePublic)
async def register_cadre(
    body: CadreCreate, caller: CadreWriter, session: SessionDep, runtime: RuntimeDep, rules: RulesDep, response: Response
) -> CadrePublic:
    cadre = await service.register_cadre(session, runtime.outbox, caller, body, rules)
    audit_subjects(response, [cadre.id])
    return cadre


@router.get("/cadres", response_model=Page[CadrePublic])
async def list_cadres(
    caller: CadreReader,
    session: SessionDep,
    response: Response,
    page: PageDep,
    q: Annotated[str | None, Query(description="name (with or without diacritics) or CCCD", max_length=100)] = None,
    national_id: Annotated[str | None, Query(pattern=r"^\d{12}$")] = None,
    card_number: Annotated[str | None, Query(max_length=30)] = None,
    unit: str | None = None,
    tier: ManagementTier | None = None,
    status: CadreStatus | None = None,
) -> Page[CadrePublic]:
    search = Search(q=q, national_id=national_id, card_number=card_number, unit=unit, tier=tier, status=status)
    found = await service.list_cadres(session, caller, search, page)
    audit_subjects(response, (item.id for item in found.items))
    return found


@router.get("/cadres/{cadre_id}", response_model=CadrePublic)
async def get_cadre(cadre_id: uuid.UUID, caller: CadreReader, session: SessionDep, response: Response) -> CadrePublic:
    cadre = await service.get_cadre(session, caller, cadre_id)
    audit_subjects(response, [cadre.id])
    return cadre


@router.patch("/cadres/{cadre_id}", response_model=CadrePublic)
async def update_cadre(
    cadre_id: uuid.UUID, body: CadreUpdate, caller: CadreWriter, session: SessionDep, runtime: RuntimeDep, response: Response
) -> CadrePublic:
    cadre = await service.update_cadre(session, runtime.outbox, caller, cadre_id, body)
    audit_subjects(response, [cadre.id])
    return cadre


@router.get("/cadres/{cadre_id}/history", response_model=list[CadreChange])
async def cadre_history(cadre_id: uuid.UUID, caller: CadreReader, session: SessionDep, response: Response) -> list[CadreChange]:
    history = await service.cadre_history(session, caller, cadre_id)
    audit_subjects(response, [cadre_id])
    return history


@router.get("/cadre-duplicates", response_model=list[DuplicateGroup])
async def likely_duplicates(
    caller: CadreReader, session: SessionDep, response: Response, unit: str | None = None, limit: Limit = DEFAULT_PAGE_SIZE
) -> list[DuplicateGroup]:
    """Groups of cadres with the same name (diacritics ignored) and date of birth."""
    groups = await service.likely_duplicates(session, caller, unit, limit)
    audit_subjects(response, [c.id for g in groups for c in g.cadres])
    return groups


@router.get("/cadre-counts", response_model=list[CadreCount])
async def count_cadres(
    unit: str,
    caller: CadreReader,
    session: SessionDep,
    runtime: RuntimeDep,
    on: Annotated[date | None, Query(description="as of this date (from the history); today if absent")] = None,
    mapped: Annotated[bool, Query(description="with `on`: units followed through later reorganisations")] = False,
) -> list[CadreCount]:
    """Cadres by managing unit, tier and status; small counts suppressed for a caller who may only aggregate."""
    return await counts.count_cadres(session, caller, unit, on, mapped, runtime.settings.min_cell_size)
