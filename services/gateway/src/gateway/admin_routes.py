"""`/api/v1/gateway/*`: grants (administrators), break the glass (staff; reviewed by the record's board),
the audit trail (auditors, within their scope). Every change and every audit query is itself audited.

Handlers open their transaction explicitly and write the audit record after it commits: on SQLite a
second writer would wait for the first.
"""

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query, Request, status

from contracts.api.common import Page
from contracts.api.gateway import (
    AuditPurge,
    AuditRecord,
    AuditVerification,
    BreakGlassCreate,
    BreakGlassRecord,
    GrantCreate,
    GrantRecord,
    GrantRevoke,
    PrincipalSummary,
)
from gateway.context import Caller, CallerDep, GatewayDep, permitted
from servicekit.errors import DomainError
from servicekit.idempotency import ServiceRouter

router = ServiceRouter(prefix="/gateway", tags=["gateway"])
GrantsReader = Annotated[Caller, Depends(permitted("gateway.grants.read"))]
GrantsWriter = Annotated[Caller, Depends(permitted("gateway.grants.write"))]
GlassBreaker = Annotated[Caller, Depends(permitted("gateway.break_glass.request"))]
GlassReviewer = Annotated[Caller, Depends(permitted("gateway.break_glass.review"))]
Auditor = Annotated[Caller, Depends(permitted("audit.read"))]
AuditPurger = Annotated[Caller, Depends(permitted("audit.purge"))]
Offset = Annotated[int, Query(ge=0)]
Limit = Annotated[int, Query(ge=1, le=200)]


def _path(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


@router.get("/principals", response_model=list[PrincipalSummary])
async def list_principals(caller: GrantsReader, gateway: GatewayDep) -> list[PrincipalSummary]:
    """Every user and client that may sign in, with the grants in force now."""
    async with gateway.runtime.db.transaction() as session:
        grants = await gateway.grants.listing(session, subject=None, history=False)
    by_subject: dict[str, list[GrantRecord]] = {}
    for grant in grants:
        by_subject.setdefault(grant.subject, []).append(grant)
    return [
        PrincipalSummary(
            subject=p.subject,
            kind=p.kind.value,
            display_name=p.display_name,
            permissions=sorted(p.permissions),
            grants=by_subject.get(p.subject, []),
        )
        for p in gateway.directory.principals()
    ]


@router.get("/grants", response_model=list[GrantRecord])
async def list_grants(
    caller: GrantsReader, gateway: GatewayDep, subject: str | None = None, history: bool = False
) -> list[GrantRecord]:
    """Grants in force, or (history=true) every grant ever given, revoked and remapped ones included."""
    if subject is not None:
        await gateway.grants.resolve(subject)  # a principal's initial grants are recorded on first sight
    async with gateway.runtime.db.transaction() as session:
        return await gateway.grants.listing(session, subject=subject, history=history)


@router.post("/grants", response_model=GrantRecord, status_code=status.HTTP_201_CREATED)
async def assign_grant(body: GrantCreate, request: Request, caller: GrantsWriter, gateway: GatewayDep) -> GrantRecord:
    try:
        async with gateway.runtime.db.transaction() as session:
            grant = await gateway.grants.assign(session, caller.principal, body)
    except DomainError as refused:
        await gateway.audit.append(
            caller.entry("gateway:grant.assign", "POST", _path(request), refused.status_code, detail=refused.detail)
        )
        raise
    detail = f"{grant.subject}: {grant.unit_path} {','.join(grant.tiers)} {','.join(grant.actions)}; {grant.reason}"
    await gateway.audit.append(caller.entry("gateway:grant.assign", "POST", _path(request), 201, detail=detail[:2000]))
    return grant


@router.post("/grants/{grant_id}/revoke", response_model=GrantRecord)
async def revoke_grant(
    grant_id: uuid.UUID, body: GrantRevoke, request: Request, caller: GrantsWriter, gateway: GatewayDep
) -> GrantRecord:
    async with gateway.runtime.db.transaction() as session:
        grant = await gateway.grants.revoke(session, caller.principal, grant_id, body.reason)
    detail = f"{grant.subject}: {grant.unit_path}; {body.reason}"
    await gateway.audit.append(caller.entry("gateway:grant.revoke", "POST", _path(request), 200, detail=detail[:2000]))
    return grant


@router.post("/break-glass", response_model=BreakGlassRecord, status_code=status.HTTP_201_CREATED)
async def break_the_glass(
    body: BreakGlassCreate, request: Request, caller: GlassBreaker, gateway: GatewayDep
) -> BreakGlassRecord:
    """Time-boxed read access to one record outside your scope; the reason is recorded and the record's board sees it."""
    operation = "gateway:break_glass.request"
    try:
        async with gateway.runtime.db.transaction() as session:
            opened = await gateway.break_glass.request(session, caller.principal, body)
    except DomainError as refused:
        entry = caller.entry(
            operation, "POST", _path(request), refused.status_code, subjects=[str(body.cadre_id)], detail=body.reason
        )
        await gateway.audit.append(entry)
        raise
    entry = caller.entry(
        operation, "POST", _path(request), 201, subjects=[str(body.cadre_id)], break_glass_id=str(opened.id), detail=body.reason
    )
    await gateway.audit.append(entry)
    return opened


@router.get("/break-glass/mine", response_model=list[BreakGlassRecord])
async def my_break_glass(caller: CallerDep, gateway: GatewayDep) -> list[BreakGlassRecord]:
    async with gateway.runtime.db.transaction() as session:
        return await gateway.break_glass.mine(session, caller.principal)


@router.get("/break-glass", response_model=Page[BreakGlassRecord])
async def break_glass_report(
    caller: GlassReviewer, gateway: GatewayDep, unit: str | None = None, offset: Offset = 0, limit: Limit = 50
) -> Page[BreakGlassRecord]:
    """For a board: every break-the-glass access opened on records it manages, newest first."""
    async with gateway.runtime.db.transaction() as session:
        return await gateway.break_glass.for_board(session, caller.principal, unit=unit, offset=offset, limit=limit)


@router.post("/break-glass/{glass_id}/acknowledge", response_model=BreakGlassRecord)
async def acknowledge_break_glass(glass_id: uuid.UUID, caller: GlassReviewer, gateway: GatewayDep) -> BreakGlassRecord:
    async with gateway.runtime.db.transaction() as session:
        return await gateway.break_glass.acknowledge(session, caller.principal, glass_id)


@router.get("/audit", response_model=Page[AuditRecord])
async def audit_records(
    request: Request,
    caller: Auditor,
    gateway: GatewayDep,
    cadre_id: uuid.UUID | None = None,
    actor: str | None = None,
    outcome: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[AuditRecord]:
    """The audit trail within the auditor's scope: records about cadres its unit manages, or by its unit's people."""
    await gateway.audit.settled()
    async with gateway.runtime.db.transaction() as session:
        page = await gateway.audit.query(
            session,
            caller.principal,
            cadre_id=cadre_id,
            actor=actor,
            outcome=outcome,
            since=since,
            until=until,
            offset=offset,
            limit=limit,
        )
    named = sorted({s for item in page.items for s in item.subjects})
    await gateway.audit.append(caller.entry("gateway:audit.query", "GET", _path(request), 200, subjects=named))
    return page


@router.get("/audit/verify", response_model=AuditVerification)
async def verify_audit(caller: Auditor, gateway: GatewayDep) -> AuditVerification:
    """Walk the whole hash chain: any altered, removed or reordered record is found."""
    return await gateway.audit.verify()


@router.post("/audit/purge", response_model=AuditPurge)
async def purge_audit(request: Request, caller: AuditPurger, gateway: GatewayDep) -> AuditPurge:
    """Apply the retention period now (it also runs by itself every few hours)."""
    purged = await gateway.audit.purge_expired()
    await gateway.audit.append(
        caller.entry("gateway:audit.purge", "POST", _path(request), 200, detail=f"{purged.purged} records")
    )
    return purged
