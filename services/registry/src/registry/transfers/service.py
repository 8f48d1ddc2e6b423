"""Transfer use cases: one cadre, or a bulk transfer by filter that moves every selected cadre or none."""

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.api.registry import BulkTransfer, BulkTransferResult, CadreFilter, CadrePublic, Transfer
from contracts.enums import Action, CadreStatus, ManagementTier
from contracts.events.registry import CadreTransferred
from contracts.scope import Principal
from registry.access import writable_cadre
from registry.domain import CadreFacts, Operation, transition_problems
from registry.history import (
    Changes,
    append_events,
    change_rows,
    chunks,
    commit_change,
    facts_of,
    move_cadres,
    move_periods,
    record_changes,
)
from registry.mappers import cadre_snapshot
from registry.rules import Rules, refuse
from registry.tables import Cadre, Unit
from registry.tiers.service import check_tier_on, load_rules, tier_refusal
from registry.transfers import queries
from registry.units.service import current_unit
from servicekit import clock
from servicekit.errors import Forbidden, Refused, field_error
from servicekit.outbox import Outbox, OutgoingEvent
from servicekit.scope import may


async def transfer(
    session: AsyncSession, outbox: Outbox, principal: Principal, cadre_id: uuid.UUID, body: Transfer, rules: Rules
) -> CadrePublic:
    cadre = await writable_cadre(session, principal, cadre_id)
    facts = await facts_of(session, cadre)
    refuse(
        transition_problems(Operation.TRANSFER, facts, body.effective_date, today=rules.today, horizon_days=rules.horizon_days)
    )
    if body.to_unit == cadre.managing_unit:
        raise Refused("nothing to transfer", errors=[field_error("to_unit", "the cadre is already managed there")])
    target = await current_unit(session, body.to_unit, "to_unit")
    await check_tier_on(session, target, ManagementTier(cadre.tier), body.effective_date, loc="to_unit")
    if not may(principal, Action.WRITE, body.to_unit, ManagementTier(cadre.tier)):
        raise Forbidden("the target unit is outside your scope", code="out_of_scope")
    previous = cadre.managing_unit
    cadre.managing_unit = body.to_unit
    event = CadreTransferred(
        cadre=cadre_snapshot(cadre), previous_managing_unit=previous, effective_date=body.effective_date, reason=body.reason
    )
    changes: Changes = {"managing_unit": (previous, body.to_unit)}
    return await commit_change(
        session, outbox, principal, cadre, Operation.TRANSFER, changes, body.effective_date, event, body.reason
    )


async def bulk_transfer(
    session: AsyncSession, outbox: Outbox, principal: Principal, body: BulkTransfer, rules: Rules
) -> BulkTransferResult:
    """All selected cadres move, or none: every one is checked before anything changes."""
    where = body.filter
    if not any((where.unit, where.residence_unit, where.tier, where.status, where.ids)):
        raise Refused("a bulk transfer needs a filter", errors=[field_error("filter", "give at least one condition")])
    target = await current_unit(session, body.to_unit, "to_unit")
    cadres = await _selected_for_writing(session, principal, where)
    problems = await _problems(session, principal, cadres, target, body, rules)
    if problems:
        raise Refused(
            f"{len(problems)} problems; nothing was transferred",
            errors=[field_error("filter", p) for p in problems[:100]],
        )
    await _move(session, outbox, principal, cadres, body)
    return BulkTransferResult(moved=len(cadres), to_unit=body.to_unit, effective_date=body.effective_date)


async def _selected_for_writing(session: AsyncSession, principal: Principal, where: CadreFilter) -> list[Cadre]:
    """What the caller may see but not change would silently stay behind: refuse instead."""
    readable = await session.scalar(queries.count_selected(principal, where, Action.READ)) or 0
    cadres = list(await session.scalars(queries.selected(principal, where).with_for_update()))
    if readable != len(cadres):
        raise Forbidden(f"{readable - len(cadres)} of the selected cadres are outside your write scope", code="out_of_scope")
    if not cadres:
        raise Refused("no cadre matches the filter", errors=[field_error("filter", "selects no cadre")])
    return cadres


async def _problems(
    session: AsyncSession, principal: Principal, cadres: Sequence[Cadre], target: Unit, body: BulkTransfer, rules: Rules
) -> list[str]:
    """Every cadre's reasons not to move, as 'id: field: reason'."""
    last_change: dict[uuid.UUID, date] = {}
    for part in chunks([c.id for c in cadres]):
        last_change.update(dict((await session.execute(queries.open_period_starts(part))).all()))
    problems: list[str] = []
    tier_rules = await load_rules(session)
    for cadre in cadres:
        tier = ManagementTier(cadre.tier)
        facts = CadreFacts(CadreStatus(cadre.status), cadre.date_of_birth, last_change.get(cadre.id, cadre.status_since), tier)
        found = transition_problems(
            Operation.TRANSFER, facts, body.effective_date, today=rules.today, horizon_days=rules.horizon_days
        )
        if cadre.managing_unit == body.to_unit:
            found.append(("to_unit", "already managed there"))
        if refusal := tier_refusal(tier_rules, target, tier, body.effective_date):
            found.append(("to_unit", refusal))
        if not may(principal, Action.WRITE, body.to_unit, tier):
            found.append(("to_unit", "outside your write scope"))
        problems += [f"{cadre.id}: {name}: {reason}" for name, reason in found]
    return problems


async def _move(session: AsyncSession, outbox: Outbox, principal: Principal, cadres: Sequence[Cadre], body: BulkTransfer) -> None:
    now, effective = clock.now(), body.effective_date
    moves = {c.id: body.to_unit for c in cadres}
    previous = {c.id: c.managing_unit for c in cadres}
    await move_cadres(session, moves, now)
    await move_periods(session, moves, effective)
    history_rows = []
    for c in cadres:
        history_rows += change_rows(
            c.id,
            principal.subject,
            Operation.TRANSFER,
            {"managing_unit": (previous[c.id], body.to_unit)},
            effective=effective,
            reason=body.reason,
            at=now,
        )
    await record_changes(session, history_rows)
    events = []
    for c in cadres:
        after = cadre_snapshot(c).model_copy(update={"managing_unit": body.to_unit})  # the table is updated already
        event = CadreTransferred(cadre=after, previous_managing_unit=previous[c.id], effective_date=effective, reason=body.reason)
        events.append(OutgoingEvent(event, str(c.id), body.to_unit, ManagementTier(c.tier)))
    await append_events(session, outbox, events)
