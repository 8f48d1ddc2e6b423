"""Lifecycle use cases: each checks the transition rules against the cadre's last change, then records the
new state from its effective date (period, history line, event)."""

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.api.registry import CadrePublic
from contracts.enums import Action, CadreStatus, ManagementTier
from contracts.events.registry import CadreDied, CadreRemoved, CadreRetired, CadreTierChanged
from contracts.scope import Principal
from registry.access import writable_cadre
from registry.cards.service import reissue_if_needed
from registry.domain import Operation, transition_problems
from registry.history import Changes, commit_change, facts_of
from registry.mappers import cadre_public, cadre_snapshot
from registry.rules import Rules, refuse
from registry.tables import Cadre
from registry.units.service import check_tier, current_unit
from servicekit.errors import Forbidden
from servicekit.outbox import Outbox
from servicekit.scope import may


async def _checked(
    session: AsyncSession, principal: Principal, cadre_id: uuid.UUID, operation: Operation, effective: date, rules: Rules
) -> Cadre:
    cadre = await writable_cadre(session, principal, cadre_id)
    facts = await facts_of(session, cadre)
    refuse(transition_problems(operation, facts, effective, today=rules.today, horizon_days=rules.horizon_days))
    return cadre


def _set_status(cadre: Cadre, status: CadreStatus, effective: date) -> Changes:
    changes: Changes = {"status": (cadre.status, status.value), "status_since": (cadre.status_since, effective)}
    cadre.status, cadre.status_since = status.value, effective
    return changes


async def retire(
    session: AsyncSession, outbox: Outbox, principal: Principal, cadre_id: uuid.UUID, effective: date, rules: Rules
) -> CadrePublic:
    cadre = await _checked(session, principal, cadre_id, Operation.RETIRE, effective, rules)
    changes = _set_status(cadre, CadreStatus.RETIRED, effective)
    event = CadreRetired(cadre=cadre_snapshot(cadre), effective_date=effective)
    return await commit_change(session, outbox, principal, cadre, Operation.RETIRE, changes, effective, event)


async def die(
    session: AsyncSession, outbox: Outbox, principal: Principal, cadre_id: uuid.UUID, effective: date, rules: Rules
) -> CadrePublic:
    cadre = await _checked(session, principal, cadre_id, Operation.DIE, effective, rules)
    changes = _set_status(cadre, CadreStatus.DECEASED, effective)
    event = CadreDied(cadre=cadre_snapshot(cadre), effective_date=effective)
    return await commit_change(session, outbox, principal, cadre, Operation.DIE, changes, effective, event)


async def remove(
    session: AsyncSession, outbox: Outbox, principal: Principal, cadre_id: uuid.UUID, effective: date, reason: str, rules: Rules
) -> CadrePublic:
    cadre = await _checked(session, principal, cadre_id, Operation.REMOVE, effective, rules)
    changes = _set_status(cadre, CadreStatus.REMOVED, effective)
    event = CadreRemoved(cadre=cadre_snapshot(cadre), effective_date=effective, reason=reason)
    return await commit_change(session, outbox, principal, cadre, Operation.REMOVE, changes, effective, event, reason)


async def change_tier(
    session: AsyncSession,
    outbox: Outbox,
    principal: Principal,
    cadre_id: uuid.UUID,
    tier: ManagementTier,
    effective: date,
    rules: Rules,
) -> CadrePublic:
    cadre = await writable_cadre(session, principal, cadre_id)
    facts = await facts_of(session, cadre)
    refuse(
        transition_problems(
            Operation.CHANGE_TIER, facts, effective, today=rules.today, horizon_days=rules.horizon_days, new_tier=tier
        )
    )
    check_tier(await current_unit(session, cadre.managing_unit), tier)
    if not may(principal, Action.WRITE, cadre.managing_unit, tier):
        raise Forbidden("the new tier is outside your scope", code="out_of_scope")
    previous = ManagementTier(cadre.tier)
    cadre.tier = tier.value
    event = CadreTierChanged(cadre=cadre_snapshot(cadre), previous_tier=previous, effective_date=effective)
    changes: Changes = {"tier": (previous.value, tier.value)}
    result = await commit_change(session, outbox, principal, cadre, Operation.CHANGE_TIER, changes, effective, event)
    if await reissue_if_needed(session, outbox, principal, cadre, "tier changed"):
        result = cadre_public(cadre)
    return result
