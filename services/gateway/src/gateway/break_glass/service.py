"""Break-the-glass use cases: staff open a time-boxed read of one record outside their scope (audited,
refusals too, after the transaction commits); the record's board lists and acknowledges what was opened."""

import uuid

from contracts.api.common import Page
from contracts.api.gateway import BreakGlassCreate, BreakGlassRecord
from gateway.context import Caller, Gateway
from servicekit.errors import DomainError
from servicekit.pagination import PageParams

REQUEST = "gateway:break_glass.request"


async def open_glass(gateway: Gateway, caller: Caller, body: BreakGlassCreate, target: str) -> BreakGlassRecord:
    subjects = [str(body.cadre_id)]
    try:
        async with gateway.runtime.db.transaction() as session:
            opened = await gateway.break_glass.request(session, caller.principal, body)
    except DomainError as refused:
        await gateway.audit.append(
            caller.entry(REQUEST, "POST", target, refused.status_code, subjects=subjects, detail=body.reason)
        )
        raise
    entry = caller.entry(REQUEST, "POST", target, 201, subjects=subjects, break_glass_id=str(opened.id), detail=body.reason)
    await gateway.audit.append(entry)
    return opened


async def mine(gateway: Gateway, caller: Caller) -> list[BreakGlassRecord]:
    async with gateway.runtime.db.transaction() as session:
        return await gateway.break_glass.mine(session, caller.principal)


async def board_report(gateway: Gateway, caller: Caller, unit: str | None, page: PageParams) -> Page[BreakGlassRecord]:
    async with gateway.runtime.db.transaction() as session:
        return await gateway.break_glass.for_board(session, caller.principal, unit=unit, page=page)


async def acknowledge(gateway: Gateway, caller: Caller, glass_id: uuid.UUID) -> BreakGlassRecord:
    async with gateway.runtime.db.transaction() as session:
        return await gateway.break_glass.acknowledge(session, caller.principal, glass_id)
