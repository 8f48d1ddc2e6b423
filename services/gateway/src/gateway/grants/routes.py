"""`/api/v1/gateway/principals` and `/api/v1/gateway/grants`: for administrators."""

import uuid
from typing import Annotated

from fastapi import Depends, Request, status

from contracts.api.gateway import GrantCreate, GrantRecord, GrantRevoke, PrincipalSummary
from contracts.permissions import Permission
from gateway.context import API_PREFIX, Caller, GatewayDep, permitted, request_target
from gateway.grants import service
from servicekit.idempotency import ServiceRouter

router = ServiceRouter(prefix=f"{API_PREFIX}/gateway", tags=["gateway"])
GrantsReader = Annotated[Caller, Depends(permitted(Permission.GATEWAY_GRANTS_READ))]
GrantsWriter = Annotated[Caller, Depends(permitted(Permission.GATEWAY_GRANTS_WRITE))]


@router.get("/principals", response_model=list[PrincipalSummary])
async def list_principals(caller: GrantsReader, gateway: GatewayDep) -> list[PrincipalSummary]:
    """Every user and client that may sign in, with the grants in force now."""
    return await service.principals_overview(gateway)


@router.get("/grants", response_model=list[GrantRecord])
async def list_grants(
    caller: GrantsReader, gateway: GatewayDep, subject: str | None = None, history: bool = False
) -> list[GrantRecord]:
    """Grants in force, or (history=true) every grant ever given, revoked and remapped ones included."""
    return await service.grants_of(gateway, subject, history=history)


@router.post("/grants", response_model=GrantRecord, status_code=status.HTTP_201_CREATED)
async def assign_grant(body: GrantCreate, request: Request, caller: GrantsWriter, gateway: GatewayDep) -> GrantRecord:
    return await service.assign(gateway, caller, body, request_target(request))


@router.post("/grants/{grant_id}/revoke", response_model=GrantRecord)
async def revoke_grant(
    grant_id: uuid.UUID, body: GrantRevoke, request: Request, caller: GrantsWriter, gateway: GatewayDep
) -> GrantRecord:
    return await service.revoke(gateway, caller, grant_id, body, request_target(request))
