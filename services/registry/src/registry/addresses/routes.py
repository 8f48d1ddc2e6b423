"""Addresses over HTTP: the list to settle, the settlement, the bulk reading."""

import uuid

from fastapi import Response

from contracts.api.addresses import AddressBulkResolve, AddressBulkResult, AddressReading, AddressSettlement
from contracts.api.common import Page
from registry.addresses import service
from registry.callers import CadreReader, CadreWriter
from servicekit.audit import audit_subjects
from servicekit.idempotency import ServiceRouter
from servicekit.pagination import PageDep
from servicekit.runtime import RuntimeDep, SessionDep

router = ServiceRouter(tags=["registry"])


@router.get("/addresses/unresolved", response_model=Page[AddressReading])
async def unresolved_addresses(
    caller: CadreReader, session: SessionDep, response: Response, page: PageDep, unit: str | None = None
) -> Page[AddressReading]:
    """Residence addresses that map to no commune of today, or to several: the board chooses (settle)."""
    found = await service.open_readings(session, caller, unit, page)
    audit_subjects(response, (item.cadre_id for item in found.items))
    return found


@router.post("/addresses/{cadre_id}/settle", response_model=AddressReading)
async def settle_address(
    cadre_id: uuid.UUID,
    body: AddressSettlement,
    caller: CadreWriter,
    session: SessionDep,
    runtime: RuntimeDep,
    response: Response,
) -> AddressReading:
    """The board's choice of today's commune for a cadre's residence."""
    reading = await service.settle(session, runtime.outbox, caller, cadre_id, body.commune)
    audit_subjects(response, [cadre_id])
    return reading


@router.post("/addresses/resolve", response_model=AddressBulkResult)
async def resolve_addresses(
    body: AddressBulkResolve, caller: CadreWriter, session: SessionDep, runtime: RuntimeDep
) -> AddressBulkResult:
    """Read every residence address of the cadres you may change to today's commune (after a reorganisation,
    or for a registry loaded before addresses were read)."""
    return await service.resolve_all(session, runtime.outbox, caller, body)
