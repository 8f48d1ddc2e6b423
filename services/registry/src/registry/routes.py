"""Thin HTTP layer for cadres: parse, call the use case, shape the response."""

import uuid
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import Query, Request, Response, status

from contracts.api.common import Page
from contracts.api.registry import (
    BulkTransfer,
    BulkTransferResult,
    CadreChange,
    CadreCount,
    CadreCreate,
    CadrePublic,
    CadreUpdate,
    CardIssue,
    CardLookup,
    CardPublic,
    Death,
    DuplicateGroup,
    ImportReport,
    Removal,
    Retirement,
    TierChange,
    Transfer,
)
from contracts.enums import CadreStatus, ManagementTier
from registry import cards, imports, lifecycle, service
from registry.service import Rules, Search
from registry.settings import RegistrySettings
from registry.spreadsheet import XLSX_TYPE
from servicekit.audit import audit_subjects
from servicekit.auth import CallerDep, require_permission
from servicekit.idempotency import ServiceRouter
from servicekit.runtime import Runtime, RuntimeDep, SessionDep

router = ServiceRouter(tags=["registry"])

MAX_PAGE = 200
READ, WRITE = "registry.cadres.read", "registry.cadres.write"


def rules(runtime: Runtime) -> Rules:
    settings = runtime.settings
    horizon = settings.future_horizon_days if isinstance(settings, RegistrySettings) else 30
    return Rules(today=datetime.now(UTC).date(), horizon_days=horizon)


def audited(response: Response, cadre: CadrePublic) -> CadrePublic:
    audit_subjects(response, [cadre.id])
    return cadre


@router.post("/cadres", status_code=status.HTTP_201_CREATED, response_model=CadrePublic)
async def register_cadre(
    body: CadreCreate, caller: CallerDep, session: SessionDep, runtime: RuntimeDep, response: Response
) -> CadrePublic:
    require_permission(caller, WRITE)
    return audited(response, await service.register_cadre(session, runtime.outbox, caller, body, rules(runtime)))


@router.get("/cadres", response_model=Page[CadrePublic])
async def list_cadres(
    caller: CallerDep,
    session: SessionDep,
    response: Response,
    q: Annotated[str | None, Query(description="name (with or without diacritics) or CCCD", max_length=100)] = None,
    national_id: Annotated[str | None, Query(pattern=r"^\d{12}$")] = None,
    card_number: Annotated[str | None, Query(max_length=30)] = None,
    unit: str | None = None,
    tier: ManagementTier | None = None,
    status: CadreStatus | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> Page[CadrePublic]:
    require_permission(caller, READ)
    search = Search(q=q, national_id=national_id, card_number=card_number, unit=unit, tier=tier, status=status)
    items, total = await service.list_cadres(session, caller, search, offset=offset, limit=limit)
    audit_subjects(response, (item.id for item in items))
    return Page[CadrePublic](items=items, total=total, offset=offset, limit=limit)


@router.post(
    "/cadres/import",
    response_model=ImportReport,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def import_cadres(
    request: Request,
    caller: CallerDep,
    session: SessionDep,
    runtime: RuntimeDep,
    dry_run: bool = True,
    skip_invalid: bool = False,
) -> ImportReport:
    """A board's list, one row per cadre (CSV in UTF-8, or XLSX). `dry_run` (the default) changes nothing."""
    require_permission(caller, WRITE)
    content = await request.body()
    content_type = request.headers.get("content-type", "text/csv")
    return await imports.import_cadres(
        session, runtime.outbox, caller, content, content_type, dry_run=dry_run, skip_invalid=skip_invalid, rules=rules(runtime)
    )


@router.get("/cadres/{cadre_id}", response_model=CadrePublic)
async def get_cadre(cadre_id: uuid.UUID, caller: CallerDep, session: SessionDep, response: Response) -> CadrePublic:
    require_permission(caller, READ)
    return audited(response, await service.get_cadre(session, caller, cadre_id))


@router.patch("/cadres/{cadre_id}", response_model=CadrePublic)
async def update_cadre(
    cadre_id: uuid.UUID, body: CadreUpdate, caller: CallerDep, session: SessionDep, runtime: RuntimeDep, response: Response
) -> CadrePublic:
    require_permission(caller, WRITE)
    return audited(response, await service.update_cadre(session, runtime.outbox, caller, cadre_id, body))


@router.get("/cadres/{cadre_id}/history", response_model=list[CadreChange])
async def cadre_history(cadre_id: uuid.UUID, caller: CallerDep, session: SessionDep, response: Response) -> list[CadreChange]:
    require_permission(caller, READ)
    history = await service.cadre_history(session, caller, cadre_id)
    audit_subjects(response, [cadre_id])
    return history


@router.post("/cadres/{cadre_id}/retirement", response_model=CadrePublic)
async def retire(
    cadre_id: uuid.UUID, body: Retirement, caller: CallerDep, session: SessionDep, runtime: RuntimeDep, response: Response
) -> CadrePublic:
    require_permission(caller, WRITE)
    return audited(
        response, await lifecycle.retire(session, runtime.outbox, caller, cadre_id, body.effective_date, rules(runtime))
    )


@router.post("/cadres/{cadre_id}/tier", response_model=CadrePublic)
async def change_tier(
    cadre_id: uuid.UUID, body: TierChange, caller: CallerDep, session: SessionDep, runtime: RuntimeDep, response: Response
) -> CadrePublic:
    require_permission(caller, WRITE)
    cadre = await lifecycle.change_tier(session, runtime.outbox, caller, cadre_id, body.tier, body.effective_date, rules(runtime))
    return audited(response, cadre)


@router.post("/cadres/{cadre_id}/death", response_model=CadrePublic)
async def record_death(
    cadre_id: uuid.UUID, body: Death, caller: CallerDep, session: SessionDep, runtime: RuntimeDep, response: Response
) -> CadrePublic:
    require_permission(caller, WRITE)
    return audited(response, await lifecycle.die(session, runtime.outbox, caller, cadre_id, body.effective_date, rules(runtime)))


@router.post("/cadres/{cadre_id}/removal", response_model=CadrePublic)
async def remove(
    cadre_id: uuid.UUID, body: Removal, caller: CallerDep, session: SessionDep, runtime: RuntimeDep, response: Response
) -> CadrePublic:
    require_permission(caller, WRITE)
    cadre = await lifecycle.remove(session, runtime.outbox, caller, cadre_id, body.effective_date, body.reason, rules(runtime))
    return audited(response, cadre)


@router.post("/cadres/{cadre_id}/transfer", response_model=CadrePublic)
async def transfer(
    cadre_id: uuid.UUID, body: Transfer, caller: CallerDep, session: SessionDep, runtime: RuntimeDep, response: Response
) -> CadrePublic:
    require_permission(caller, WRITE)
    return audited(response, await lifecycle.transfer(session, runtime.outbox, caller, cadre_id, body, rules(runtime)))


@router.post("/transfers", response_model=BulkTransferResult)
async def bulk_transfer(body: BulkTransfer, caller: CallerDep, session: SessionDep, runtime: RuntimeDep) -> BulkTransferResult:
    """Every cadre the filter selects moves to `to_unit`, atomically: one refused cadre refuses them all."""
    require_permission(caller, WRITE)
    return await lifecycle.bulk_transfer(session, runtime.outbox, caller, body, rules(runtime))


@router.post("/cadres/{cadre_id}/cards", status_code=status.HTTP_201_CREATED, response_model=CardPublic)
async def issue_card(
    cadre_id: uuid.UUID, body: CardIssue, caller: CallerDep, session: SessionDep, runtime: RuntimeDep, response: Response
) -> CardPublic:
    """Issue a card; a card the cadre already holds is invalidated (kept, pointing at its replacement)."""
    require_permission(caller, WRITE)
    card = await cards.issue_card(session, runtime.outbox, caller, cadre_id, body.reason)
    audit_subjects(response, [cadre_id])
    return card


@router.get("/cadres/{cadre_id}/cards", response_model=list[CardPublic])
async def cards_of(cadre_id: uuid.UUID, caller: CallerDep, session: SessionDep, response: Response) -> list[CardPublic]:
    require_permission(caller, READ)
    found = await cards.cards_of(session, caller, cadre_id)
    audit_subjects(response, [cadre_id])
    return found


@router.get("/cards/{number}", response_model=CardLookup)
async def lookup_card(number: str, caller: CallerDep, session: SessionDep, response: Response) -> CardLookup:
    require_permission(caller, "registry.cards.lookup")
    card = await cards.lookup_card(session, caller, number)
    audit_subjects(response, [card.cadre_id])
    return card


@router.get("/cadre-duplicates", response_model=list[DuplicateGroup])
async def likely_duplicates(
    caller: CallerDep,
    session: SessionDep,
    response: Response,
    unit: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> list[DuplicateGroup]:
    """Groups of cadres with the same name (diacritics ignored) and date of birth."""
    require_permission(caller, READ)
    groups = await service.likely_duplicates(session, caller, unit, limit)
    audit_subjects(response, [c.id for g in groups for c in g.cadres])
    return groups


@router.get("/cadre-counts", response_model=list[CadreCount])
async def count_cadres(
    unit: str,
    caller: CallerDep,
    session: SessionDep,
    on: Annotated[date | None, Query(description="as of this date (from the history); today if absent")] = None,
    mapped: Annotated[bool, Query(description="with `on`: units followed through later reorganisations")] = False,
) -> list[CadreCount]:
    require_permission(caller, READ)
    return await service.count_cadres(session, caller, unit, on, mapped)
