"""Lifecycle operations (retirement, tier change, death, removal) and transfers, one cadre or in bulk."""

import uuid
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, func, select
from sqlmodel.sql.expression import SelectOfScalar

from contracts.api.registry import BulkTransfer, BulkTransferResult, CadreFilter, CadrePublic, Transfer
from contracts.enums import Action, CadreStatus, ManagementTier, UnitLevel
from contracts.envelope import DomainEvent
from contracts.events.registry import CadreDied, CadreRemoved, CadreRetired, CadreTierChanged, CadreTransferred
from contracts.scope import Principal
from registry.domain import CadreFacts, Operation, tier_allowed, transition_problems
from registry.history import (
    append_events,
    change_period,
    change_rows,
    current_period,
    move_cadres,
    move_periods,
    public,
    record_changes,
    snapshot,
)
from registry.service import Rules, cadre_for_write, cadres_in_scope, check_tier, current_unit, refuse
from registry.tables import Cadre, CadrePeriod
from servicekit.auth import within_unit
from servicekit.errors import Forbidden, Refused, field_error
from servicekit.outbox import Outbox, OutgoingEvent


async def _facts(session: AsyncSession, cadre: Cadre) -> CadreFacts:
    period = await current_period(session, cadre.id)
    return CadreFacts(
        status=CadreStatus(cadre.status),
        date_of_birth=cadre.date_of_birth,
        last_change=period.valid_from if period else cadre.status_since,
        tier=ManagementTier(cadre.tier),
    )


async def _commit_change(
    session: AsyncSession,
    outbox: Outbox,
    principal: Principal,
    cadre: Cadre,
    operation: Operation,
    changes: dict[str, tuple[object, object]],
    effective: date,
    event: DomainEvent,
    reason: str | None = None,
) -> CadrePublic:
    cadre.updated_at = datetime.now(UTC)
    await change_period(session, cadre, effective)
    await record_changes(
        session, change_rows(cadre.id, principal.subject, operation, changes, effective=effective, reason=reason)
    )
    await session.flush()
    await outbox.append(session, event, subject=str(cadre.id), managing_unit=cadre.managing_unit, tier=ManagementTier(cadre.tier))
    return public(cadre)


def _set_status(cadre: Cadre, status: CadreStatus, effective: date) -> dict[str, tuple[object, object]]:
    changes: dict[str, tuple[object, object]] = {
        "status": (cadre.status, status.value),
        "status_since": (cadre.status_since, effective),
    }
    cadre.status, cadre.status_since = status.value, effective
    return changes


async def retire(
    session: AsyncSession, outbox: Outbox, principal: Principal, cadre_id: uuid.UUID, effective: date, rules: Rules
) -> CadrePublic:
    cadre = await cadre_for_write(session, principal, cadre_id)
    refuse(
        transition_problems(
            Operation.RETIRE, await _facts(session, cadre), effective, today=rules.today, horizon_days=rules.horizon_days
        )
    )
    changes = _set_status(cadre, CadreStatus.RETIRED, effective)
    return await _commit_change(
        session,
        outbox,
        principal,
        cadre,
        Operation.RETIRE,
        changes,
        effective,
        CadreRetired(cadre=snapshot(cadre), effective_date=effective),
    )


async def die(
    session: AsyncSession, outbox: Outbox, principal: Principal, cadre_id: uuid.UUID, effective: date, rules: Rules
) -> CadrePublic:
    cadre = await cadre_for_write(session, principal, cadre_id)
    refuse(
        transition_problems(
            Operation.DIE, await _facts(session, cadre), effective, today=rules.today, horizon_days=rules.horizon_days
        )
    )
    changes = _set_status(cadre, CadreStatus.DECEASED, effective)
    return await _commit_change(
        session,
        outbox,
        principal,
        cadre,
        Operation.DIE,
        changes,
        effective,
        CadreDied(cadre=snapshot(cadre), effective_date=effective),
    )


async def remove(
    session: AsyncSession, outbox: Outbox, principal: Principal, cadre_id: uuid.UUID, effective: date, reason: str, rules: Rules
) -> CadrePublic:
    cadre = await cadre_for_write(session, principal, cadre_id)
    refuse(
        transition_problems(
            Operation.REMOVE, await _facts(session, cadre), effective, today=rules.today, horizon_days=rules.horizon_days
        )
    )
    changes = _set_status(cadre, CadreStatus.REMOVED, effective)
    event = CadreRemoved(cadre=snapshot(cadre), effective_date=effective, reason=reason)
    return await _commit_change(session, outbox, principal, cadre, Operation.REMOVE, changes, effective, event, reason)


async def change_tier(
    session: AsyncSession,
    outbox: Outbox,
    principal: Principal,
    cadre_id: uuid.UUID,
    tier: ManagementTier,
    effective: date,
    rules: Rules,
) -> CadrePublic:
    from registry.cards import reissue_if_needed

    cadre = await cadre_for_write(session, principal, cadre_id)
    facts = await _facts(session, cadre)
    refuse(
        transition_problems(
            Operation.CHANGE_TIER, facts, effective, today=rules.today, horizon_days=rules.horizon_days, new_tier=tier
        )
    )
    check_tier(await current_unit(session, cadre.managing_unit), tier)
    if not principal.may(Action.WRITE, cadre.managing_unit, tier):
        raise Forbidden("the new tier is outside your scope", code="out_of_scope")
    previous = ManagementTier(cadre.tier)
    cadre.tier = tier.value
    event = CadreTierChanged(cadre=snapshot(cadre), previous_tier=previous, effective_date=effective)
    result = await _commit_change(
        session, outbox, principal, cadre, Operation.CHANGE_TIER, {"tier": (previous.value, tier.value)}, effective, event
    )
    if await reissue_if_needed(session, outbox, principal, cadre, "tier changed"):
        result = public(cadre)
    return result


async def transfer(
    session: AsyncSession, outbox: Outbox, principal: Principal, cadre_id: uuid.UUID, body: Transfer, rules: Rules
) -> CadrePublic:
    cadre = await cadre_for_write(session, principal, cadre_id)
    refuse(
        transition_problems(
            Operation.TRANSFER,
            await _facts(session, cadre),
            body.effective_date,
            today=rules.today,
            horizon_days=rules.horizon_days,
        )
    )
    if body.to_unit == cadre.managing_unit:
        raise Refused("nothing to transfer", errors=[field_error("to_unit", "the cadre is already managed there")])
    check_tier(await current_unit(session, body.to_unit, "to_unit"), ManagementTier(cadre.tier))
    if not principal.may(Action.WRITE, body.to_unit, ManagementTier(cadre.tier)):
        raise Forbidden("the target unit is outside your scope", code="out_of_scope")
    previous = cadre.managing_unit
    cadre.managing_unit = body.to_unit
    event = CadreTransferred(
        cadre=snapshot(cadre), previous_managing_unit=previous, effective_date=body.effective_date, reason=body.reason
    )
    changes: dict[str, tuple[object, object]] = {"managing_unit": (previous, body.to_unit)}
    return await _commit_change(
        session, outbox, principal, cadre, Operation.TRANSFER, changes, body.effective_date, event, body.reason
    )


def _filtered(principal: Principal, where: CadreFilter, action: Action = Action.WRITE) -> SelectOfScalar[Cadre]:
    query = cadres_in_scope(principal, action)
    if where.unit:
        query = query.where(within_unit(col(Cadre.managing_unit), where.unit))
    if where.residence_unit:
        query = query.where(within_unit(col(Cadre.residence_unit), where.residence_unit))
    if where.tier:
        query = query.where(col(Cadre.tier) == where.tier.value)
    if where.status:
        query = query.where(col(Cadre.status) == where.status.value)
    if where.ids:
        query = query.where(col(Cadre.id).in_(where.ids))
    return query


async def bulk_transfer(
    session: AsyncSession, outbox: Outbox, principal: Principal, body: BulkTransfer, rules: Rules
) -> BulkTransferResult:
    """All selected cadres move, or none: every one is checked before anything changes."""
    where = body.filter
    if not any((where.unit, where.residence_unit, where.tier, where.status, where.ids)):
        raise Refused("a bulk transfer needs a filter", errors=[field_error("filter", "give at least one condition")])
    target = await current_unit(session, body.to_unit, "to_unit")
    effective = body.effective_date
    # What the caller may see but not change would silently stay behind: refuse instead.
    readable = await session.scalar(select(func.count()).select_from(_filtered(principal, where, Action.READ).subquery())) or 0
    cadres = list(await session.scalars(_filtered(principal, where).with_for_update()))
    if readable != len(cadres):
        raise Forbidden(f"{readable - len(cadres)} of the selected cadres are outside your write scope", code="out_of_scope")
    if not cadres:
        raise Refused("no cadre matches the filter", errors=[field_error("filter", "selects no cadre")])
    problems: list[str] = []
    ids = [c.id for c in cadres]
    last_change: dict[uuid.UUID, date] = {}
    for part in range(0, len(ids), 5000):
        rows = await session.execute(
            select(col(CadrePeriod.cadre_id), col(CadrePeriod.valid_from)).where(
                col(CadrePeriod.cadre_id).in_(ids[part : part + 5000]), col(CadrePeriod.valid_to).is_(None)
            )
        )
        last_change.update({cadre_id: start for cadre_id, start in rows})
    for cadre in cadres:
        facts = CadreFacts(
            CadreStatus(cadre.status),
            cadre.date_of_birth,
            last_change.get(cadre.id, cadre.status_since),
            ManagementTier(cadre.tier),
        )
        found = transition_problems(Operation.TRANSFER, facts, effective, today=rules.today, horizon_days=rules.horizon_days)
        if cadre.managing_unit == body.to_unit:
            found.append(("to_unit", "already managed there"))
        if not tier_allowed(UnitLevel(target.level), ManagementTier(cadre.tier)):
            found.append(("to_unit", f"a {target.level} board does not manage tier {cadre.tier}"))
        if not principal.may(Action.WRITE, body.to_unit, ManagementTier(cadre.tier)):
            found.append(("to_unit", "outside your write scope"))
        problems += [f"{cadre.id}: {name}: {reason}" for name, reason in found]
    if problems:
        raise Refused(
            f"{len(problems)} problems; nothing was transferred",
            errors=[field_error("filter", p) for p in problems[:100]],
        )
    now = datetime.now(UTC)
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
        after = snapshot(c).model_copy(update={"managing_unit": body.to_unit})  # the table is updated already
        event = CadreTransferred(cadre=after, previous_managing_unit=previous[c.id], effective_date=effective, reason=body.reason)
        events.append(OutgoingEvent(event, str(c.id), body.to_unit, ManagementTier(c.tier)))
    await append_events(session, outbox, events)
    return BulkTransferResult(moved=len(cadres), to_unit=body.to_unit, effective_date=effective)
