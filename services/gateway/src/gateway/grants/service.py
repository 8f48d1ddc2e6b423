"""Grant use cases for administrators: who may sign in with which grants, and handing grants out and back.
Every change, and every refusal of one, is audited after its transaction has committed (on SQLite the
audit writer would otherwise wait for the request's own write lock)."""

import uuid

from contracts.api.gateway import GrantCreate, GrantRecord, GrantRevoke, PrincipalSummary
from gateway.context import Caller, Gateway
from servicekit.errors import DomainError

ASSIGN = "gateway:grant.assign"
REVOKE = "gateway:grant.revoke"
DETAIL_LIMIT = 2000


async def principals_overview(gateway: Gateway) -> list[PrincipalSummary]:
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
        for p in await gateway.identities.active_principals()
    ]


async def grants_of(gateway: Gateway, subject: str | None, *, history: bool) -> list[GrantRecord]:
    if subject is not None:
        await gateway.grants.resolve(subject)  # a principal's initial grants are recorded on first sight
    async with gateway.runtime.db.transaction() as session:
        return await gateway.grants.listing(session, subject=subject, history=history)


async def assign(gateway: Gateway, caller: Caller, body: GrantCreate, target: str) -> GrantRecord:
    try:
        async with gateway.runtime.db.transaction() as session:
            grant = await gateway.grants.assign(session, caller.principal, body)
    except DomainError as refused:
        await gateway.audit.append(caller.entry(ASSIGN, "POST", target, refused.status_code, detail=refused.detail))
        raise
    flag = " +central-tier health records" if grant.central_tier_health_records else ""
    detail = f"{grant.subject}: {grant.unit_path} {','.join(grant.tiers)} {','.join(grant.actions)}{flag}; {grant.reason}"
    await gateway.audit.append(caller.entry(ASSIGN, "POST", target, 201, detail=detail[:DETAIL_LIMIT]))
    return grant


async def revoke(gateway: Gateway, caller: Caller, grant_id: uuid.UUID, body: GrantRevoke, target: str) -> GrantRecord:
    async with gateway.runtime.db.transaction() as session:
        grant = await gateway.grants.revoke(session, caller.principal, grant_id, body.reason)
    detail = f"{grant.subject}: {grant.unit_path}; {body.reason}"
    await gateway.audit.append(caller.entry(REVOKE, "POST", target, 200, detail=detail[:DETAIL_LIMIT]))
    return grant
