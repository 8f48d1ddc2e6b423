"""Lifecycle use cases: each checks the transition rules against the cadre's last change, then records the
new state from its effective date (period, history line, event)."""

import uuid
from dataclasses import replace
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.api.registry import CadrePublic
from contracts.enums import Action, CadreStatus, ManagementTier
from contracts.events.registry import CadreDied, CadreRemoved, CadreRetired, CadreTierChanged
from contracts.scope import Principal
from registry.access import writable_cadre
from registry.cards.service import reissue_if_needed
from registry.domain import Operation, transition_problems
from registry.history import Changes, commit_change, facts_of, periods_of
from registry.lifecycle.domain import LATE_OPERATIONS, Span, late_change_problems
from registry.mappers import cadre_public, cadre_snapshot
from registry.rules import Rules, refuse
from registry.tables import Cadre
from registry.tiers.service import check_tier_on
from registry.units.service import current_unit
from servicekit.errors import Forbidden
from servicekit.outbox import Outbox
from servicekit.scope import may


async def _checked(
    session: AsyncSession, principal: Principal, cadre_id: uuid.UUID, operation: Operation, effective: date, rules: Rules
) -> tuple[Cadre, bool]:
    """The cadre, and whether the change is late: dated before its last recorded change (a board learns of a
    retirement or death after a reorganisation moved the cadre), checked against the cadre's whole history."""
    cadre = await writable_cadre(session, principal, cadre_id)
    facts = await facts_of(session, cadre)
    late = operation in LATE_OPERATIONS and effective < facts.last_change
    if late:  # the later change it conflicts with, by name, before the rules of the cadre's current state
        spans = [Span(p.valid_from, CadreStatus(p.status)) for p in await periods_of(session, cadre.id)]
        refuse(late_change_problems(operation, spans, effective), f"a late {operation.value} conflicts with a later change")
        facts = replace(facts, last_change=effective)
    refuse(transition_problems(operation, facts, effective, today=rules.today, horizon_days=rules.horizon_days))
    return cadre, late


def _set_status(cadre: Cadre, status: CadreStatus, effective: date) -> Changes:
    changes: Changes = {"status": (cadre.status, status.value), "status_since": (cadre.status_since, effective)}
    cadre.status, cadre.status_since = status.value, effective
    return changes


async def retire(
    session: AsyncSession, outbox: Outbox, principal: Principal, cadre_id: uuid.UUID, effective: date, rules: Rules
) -> CadrePublic:
    cadre, late = await _checked(session, principal, cadre_id, Operation.RETIRE, effective, rules)
    changes = _set_status(cadre, CadreStatus.RETIRED, effective)
    event = CadreRetired(cadre=cadre_snapshot(cadre), effective_date=effective)
    return await commit_change(session, outbox, principal, cadre, Operation.RETIRE, changes, effective, event, late=late)


async def die(
    session: AsyncSession, outbox: Outbox, principal: Principal, cadre_id: uuid.UUID, effective: date, rules: Rules
) -> CadrePublic:
    cadre, late = await _checked(session, principal, cadre_id, Operation.DIE, effective, rules)
    changes = _set_status(cadre, CadreStatus.DECEASED, effective)
    event = CadreDied(cadre=cadre_snapshot(cadre), effective_date=effective)
    return await commit_change(session, outbox, principal, cadre, Operation.DIE, changes, effective, event, late=late)


async def remove(
    session: AsyncSession, outbox: Outbox, principal: Principal, cadre_id: uuid.UUID, effective: date, reason: str, rules: Rules
) -> CadrePublic:
    cadre, late = await _checked(session, principal, cadre_id, Operation.REMOVE, effective, rules)
    changes = _set_status(cadre, CadreStatus.REMOVED, effective)
    event = CadreRemoved(cadre=cadre_snapshot(cadre), effective_date=effective, reason=reason)
    return await commit_change(session, outbox, principal, cadre, Operation.REMOVE, changes, effective, event, reason, late=late)


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
    await check_tier_on(session, await current_unit(session, cadre.managing_unit), tier, effective)
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
