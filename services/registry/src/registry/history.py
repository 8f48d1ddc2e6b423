"""What every change to a cadre writes beside the state: history lines, effective-dated periods (for as-of
counts) and events, for one cadre or for thousands at once (imports, transfers, reorganisations)."""

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, or_, update
from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from contracts.api.registry import CadrePublic
from contracts.enums import CadreStatus, ManagementTier
from contracts.envelope import DomainEvent
from contracts.scope import Principal
from registry.domain import CadreFacts, Operation
from registry.mappers import cadre_public
from registry.tables import Cadre, CadreChange, CadrePeriod
from servicekit import clock
from servicekit.outbox import Outbox, OutgoingEvent
from servicekit.sql import table_of

CHUNK = 5000  # parameters per statement stay far below PostgreSQL's 32767

Changes = dict[str, tuple[Any, Any]]  # field -> (old value, new value)


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def text_of(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)[:500]


def change_rows(
    cadre_id: uuid.UUID,
    actor: str,
    operation: Operation,
    changes: Changes,
    *,
    effective: date | None = None,
    reason: str | None = None,
    at: datetime | None = None,
) -> list[dict[str, Any]]:
    at = at or clock.now()
    return [
        {
            "cadre_id": cadre_id,
            "changed_at": at,
            "changed_by": actor,
            "operation": operation.value,
            "field": name,
            "old_value": text_of(old),
            "new_value": text_of(new),
            "effective_date": effective,
            "reason": reason,
        }
        for name, (old, new) in changes.items()
    ]


async def record_changes(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    for part in chunks(rows):
        await session.execute(insert(table_of(CadreChange)), list(part))


async def open_periods(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """rows: cadre_id, valid_from, tier, status, managing_unit (valid_to open)."""
    for part in chunks(rows):
        await session.execute(insert(table_of(CadrePeriod)), [{**r, "valid_to": None} for r in part])


async def current_period(session: AsyncSession, cadre_id: uuid.UUID) -> CadrePeriod | None:
    return await session.scalar(
        select(CadrePeriod).where(col(CadrePeriod.cadre_id) == cadre_id, col(CadrePeriod.valid_to).is_(None))
    )


async def facts_of(session: AsyncSession, cadre: Cadre) -> CadreFacts:
    """What the lifecycle rules judge a change by; the last change is the start of the open period."""
    period = await current_period(session, cadre.id)
    return CadreFacts(
        status=CadreStatus(cadre.status),
        date_of_birth=cadre.date_of_birth,
        last_change=period.valid_from if period else cadre.status_since,
        tier=ManagementTier(cadre.tier),
    )


async def change_period(session: AsyncSession, cadre: Cadre, effective: date) -> None:
    """The cadre's tier/status/unit (already set on `cadre`) hold from `effective` on: close the open period there."""
    period = await current_period(session, cadre.id)
    values = {"tier": cadre.tier, "status": cadre.status, "managing_unit": cadre.managing_unit}
    if period is not None and period.valid_from == effective:
        for name, value in values.items():
            setattr(period, name, value)
        return
    if period is not None:
        period.valid_to = effective
    session.add(
        CadrePeriod(
            cadre_id=cadre.id, valid_from=effective, tier=cadre.tier, status=cadre.status, managing_unit=cadre.managing_unit
        )
    )


async def periods_of(session: AsyncSession, cadre_id: uuid.UUID) -> list[CadrePeriod]:
    return list(
        await session.scalars(
            select(CadrePeriod).where(col(CadrePeriod.cadre_id) == cadre_id).order_by(col(CadrePeriod.valid_from))
        )
    )


async def restate_status(session: AsyncSession, cadre: Cadre, effective: date) -> None:
    """A status (already set on `cadre`) dated before later changes of unit or tier: the period holding on
    `effective` is split there, and from then on every period takes the status, keeping its unit and tier (a
    reorganisation's move stays where it was)."""
    for period in await periods_of(session, cadre.id):
        if period.valid_to is not None and period.valid_to <= effective:
            continue
        if period.valid_from < effective:
            session.add(
                CadrePeriod(
                    cadre_id=cadre.id,
                    valid_from=effective,
                    valid_to=period.valid_to,
                    tier=period.tier,
                    status=cadre.status,
                    managing_unit=period.managing_unit,
                )
            )
            period.valid_to = effective
        else:
            period.status = cadre.status


async def commit_change(
    session: AsyncSession,
    outbox: Outbox,
    principal: Principal,
    cadre: Cadre,
    operation: Operation,
    changes: Changes,
    effective: date,
    event: DomainEvent,
    reason: str | None = None,
    *,
    late: bool = False,
) -> CadrePublic:
    """An effective-dated change of one cadre (already set on `cadre`): its period, history lines and event.
    `late`: a status dated before the cadre's last recorded change (restate_status)."""
    cadre.updated_at = clock.now()
    if late:
        await restate_status(session, cadre, effective)
    else:
        await change_period(session, cadre, effective)
    await record_changes(
        session, change_rows(cadre.id, principal.subject, operation, changes, effective=effective, reason=reason)
    )
    await session.flush()
    await outbox.append(session, event, subject=str(cadre.id), managing_unit=cadre.managing_unit, tier=ManagementTier(cadre.tier))
    return cadre_public(cadre)


async def move_periods(session: AsyncSession, moves: dict[uuid.UUID, str], effective: date) -> None:
    """Bulk: from `effective` on, each cadre is managed by its new unit (periods starting later are rewritten)."""
    periods = table_of(CadrePeriod)
    to_close: list[int] = []
    rewrite: dict[str, list[int]] = {}
    new_rows: list[dict[str, Any]] = []
    for part in chunks(list(moves), 2000):
        rows = await session.execute(
            sa_select(
                periods.c.id, periods.c.cadre_id, periods.c.valid_from, periods.c.valid_to, periods.c.tier, periods.c.status
            ).where(periods.c.cadre_id.in_(list(part)), or_(periods.c.valid_to.is_(None), periods.c.valid_to > effective))
        )
        for row in rows:
            target = moves[row.cadre_id]
            if row.valid_from >= effective:
                rewrite.setdefault(target, []).append(row.id)
                continue
            to_close.append(row.id)
            new_rows.append(
                {
                    "cadre_id": row.cadre_id,
                    "valid_from": effective,
                    "valid_to": row.valid_to,
                    "tier": row.tier,
                    "status": row.status,
                    "managing_unit": target,
                }
            )
    for part in chunks(to_close):
        await session.execute(update(periods).where(periods.c.id.in_(list(part))).values(valid_to=effective))
    for target, ids in rewrite.items():
        for part in chunks(ids):
            await session.execute(update(periods).where(periods.c.id.in_(list(part))).values(managing_unit=target))
    for part in chunks(new_rows, 2000):
        await session.execute(insert(periods), list(part))


async def move_cadres(session: AsyncSession, moves: dict[uuid.UUID, str], now: datetime) -> None:
    """Bulk update of the managing unit (grouped by target: one statement per target and chunk)."""
    by_target: dict[str, list[uuid.UUID]] = {}
    for cadre_id, target in moves.items():
        by_target.setdefault(target, []).append(cadre_id)
    cadres = table_of(Cadre)
    for target, ids in by_target.items():
        for part in chunks(ids):
            await session.execute(
                update(cadres)
                .where(cadres.c.id.in_(list(part)))
                .values(managing_unit=target, updated_at=now)
                .execution_options(synchronize_session=False)
            )


async def append_events(session: AsyncSession, outbox: Outbox, events: Sequence[OutgoingEvent]) -> None:
    """Many events in few statements, in the same transaction as the changes."""
    await outbox.append_many(session, events)
