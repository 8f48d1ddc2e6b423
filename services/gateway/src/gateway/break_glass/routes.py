"""`/api/v1/gateway/break-glass`: staff break the glass; the record's board reviews what was opened."""

import uuid
from typing import Annotated

from fastapi import Depends, Request, status

from contracts.api.common import Page
from contracts.api.gateway import BreakGlassCreate, BreakGlassRecord
from contracts.permissions import Permission
from gateway.break_glass import service
from gateway.context import API_PREFIX, Caller, CallerDep, GatewayDep, permitted, request_target
from servicekit.idempotency import ServiceRouter
from servicekit.pagination import PageDep

router = ServiceRouter(prefix=f"{API_PREFIX}/gateway", tags=["gateway"])
GlassBreaker = Annotated[Caller, Depends(permitted(Permission.GATEWAY_BREAK_GLASS_REQUEST))]
GlassReviewer = Annotated[Caller, Depends(permitted(Permission.GATEWAY_BREAK_GLASS_REVIEW))]


@router.post("/break-glass", response_model=BreakGlassRecord, status_code=status.HTTP_201_CREATED)
async def break_the_glass(
    body: BreakGlassCreate, request: Request, caller: GlassBreaker, gateway: GatewayDep
) -> BreakGlassRecord:
    """Time-boxed read access to one record outside your scope; the reason is recorded and the record's board sees it."""
    return await service.open_glass(gateway, caller, body, request_target(request))


@router.get("/break-glass/mine", response_model=list[BreakGlassRecord])
async def my_break_glass(caller: CallerDep, gateway: GatewayDep) -> list[BreakGlassRecord]:
    return await service.mine(gateway, caller)


@router.get("/break-glass", response_model=Page[BreakGlassRecord])
async def break_glass_report(
    caller: GlassReviewer, gateway: GatewayDep, page: PageDep, unit: str | None = None
) -> Page[BreakGlassRecord]:
    """For a board: every break-the-glass access opened on records it manages, newest first."""
    return await service.board_report(gateway, caller, unit, page)


@router.post("/break-glass/{glass_id}/acknowledge", response_model=BreakGlassRecord)
async def acknowledge_break_glass(glass_id: uuid.UUID, caller: GlassReviewer, gateway: GatewayDep) -> BreakGlassRecord:
    return await service.acknowledge(gateway, caller, glass_id)
