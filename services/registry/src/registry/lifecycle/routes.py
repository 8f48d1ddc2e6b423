"""Lifecycle over HTTP: retirement, tier change, death, removal of one cadre."""

import uuid

from fastapi import Response

from contracts.api.registry import CadrePublic, Death, Removal, Retirement, TierChange
from registry.callers import CadreWriter
from registry.lifecycle import service
from registry.rules import RulesDep
from servicekit.audit import audit_subjects
from servicekit.idempotency import ServiceRouter
from servicekit.runtime import RuntimeDep, SessionDep

router = ServiceRouter(tags=["registry"])


@router.post("/cadres/{cadre_id}/retirement", response_model=CadrePublic)
async def retire(
    cadre_id: uuid.UUID,
    body: Retirement,
    caller: CadreWriter,
    session: SessionDep,
    runtime: RuntimeDep,
    rules: RulesDep,
    response: Response,
) -> CadrePublic:
    cadre = await service.retire(session, runtime.outbox, caller, cadre_id, body.effective_date, rules)
    audit_subjects(response, [cadre.id])
    return cadre


@router.post("/cadres/{cadre_id}/tier", response_model=CadrePublic)
async def change_tier(
    cadre_id: uuid.UUID,
    body: TierChange,
    caller: CadreWriter,
    session: SessionDep,
    runtime: RuntimeDep,
    rules: RulesDep,
    response: Response,
) -> CadrePublic:
    cadre = await service.change_tier(session, runtime.outbox, caller, cadre_id, body.tier, body.effective_date, rules)
    audit_subjects(response, [cadre.id])
    return cadre


@router.post("/cadres/{cadre_id}/death", response_model=CadrePublic)
async def record_death(
    cadre_id: uuid.UUID,
    body: Death,
    caller: CadreWriter,
    session: SessionDep,
    runtime: RuntimeDep,
    rules: RulesDep,
    response: Response,
) -> CadrePublic:
    cadre = await service.die(session, runtime.outbox, caller, cadre_id, body.effective_date, rules)
    audit_subjects(response, [cadre.id])
    return cadre


@router.post("/cadres/{cadre_id}/removal", response_model=CadrePublic)
async def remove(
    cadre_id: uuid.UUID,
    body: Removal,
    caller: CadreWriter,
    session: SessionDep,
    runtime: RuntimeDep,
    rules: RulesDep,
    response: Response,
) -> CadrePublic:
    cadre = await service.remove(session, runtime.outbox, caller, cadre_id, body.effective_date, body.reason, rules)
    audit_subjects(response, [cadre.id])
    return cadre
