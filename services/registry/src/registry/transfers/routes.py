"""Transfers over HTTP: one cadre, or every cadre a filter selects."""

import uuid

from fastapi import Response

from contracts.api.registry import BulkTransfer, BulkTransferResult, CadrePublic, Transfer
from registry.callers import CadreWriter
from registry.rules import RulesDep
from registry.transfers import service
from servicekit.audit import audit_subjects
from servicekit.idempotency import ServiceRouter
from servicekit.runtime import RuntimeDep, SessionDep

router = ServiceRouter(tags=["registry"])


@router.post("/cadres/{cadre_id}/transfer", response_model=CadrePublic)
async def transfer(
    cadre_id: uuid.UUID,
    body: Transfer,
    caller: CadreWriter,
    session: SessionDep,
    runtime: RuntimeDep,
    rules: RulesDep,
    response: Response,
) -> CadrePublic:
    cadre = await service.transfer(session, runtime.outbox, caller, cadre_id, body, rules)
    audit_subjects(response, [cadre.id])
    return cadre


@router.post("/transfers", response_model=BulkTransferResult)
async def bulk_transfer(
    body: BulkTransfer, caller: CadreWriter, session: SessionDep, runtime: RuntimeDep, rules: RulesDep
) -> BulkTransferResult:
    """Every cadre the filter selects moves to `to_unit`, atomically: one refused cadre refuses them all."""
    return await service.bulk_transfer(session, runtime.outbox, caller, body, rules)
