"""`/api/v1/gateway/audit`: the audit trail, for auditors within their scope."""

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from contracts.api.common import Page
from contracts.api.gateway import AuditPurge, AuditRecord, AuditVerification
from contracts.permissions import Permission
from gateway.audit import service
from gateway.context import API_PREFIX, Caller, GatewayDep, permitted, request_target
from servicekit.idempotency import ServiceRouter
from servicekit.pagination import PageDep

router = ServiceRouter(prefix=f"{API_PREFIX}/gateway", tags=["gateway"])
Auditor = Annotated[Caller, Depends(permitted(Permission.AUDIT_READ))]
AuditPurger = Annotated[Caller, Depends(permitted(Permission.AUDIT_PURGE))]


@router.get("/audit", response_model=Page[AuditRecord])
async def audit_records(
    request: Request,
    caller: Auditor,
    gateway: GatewayDep,
    page: PageDep,
    cadre_id: uuid.UUID | None = None,
    actor: str | None = None,
    outcome: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Page[AuditRecord]:
    """The audit trail within the auditor's scope: records about cadres its unit manages, or by its unit's people."""
    return await service.records(
        gateway,
        caller,
        request_target(request),
        page,
        cadre_id=cadre_id,
        actor=actor,
        outcome=outcome,
        since=since,
        until=until,
    )


@router.get("/audit/verify", response_model=AuditVerification)
async def verify_audit(caller: Auditor, gateway: GatewayDep) -> AuditVerification:
    """Walk the whole hash chain: any altered, removed or reordered record is found."""
    return await service.verify(gateway)


@router.post("/audit/purge", response_model=AuditPurge)
async def purge_audit(request: Request, caller: AuditPurger, gateway: GatewayDep) -> AuditPurge:
    """Apply the retention period now (it also runs by itself every few hours)."""
    return await service.purge(gateway, caller, request_target(request))
