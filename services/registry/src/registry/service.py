"""Registry use cases: take a session and the caller, check the rules, change state, append events."""

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from contracts.api.registry import CadreCount, CadreCreate, CadrePublic, UnitPublic
from contracts.enums import Action, CadreStatus, ManagementTier, UnitLevel
from contracts.events.registry import CadreRegistered, CadreSnapshot, UnitCreated, UnitSnapshot
from contracts.scope import Principal
from registry.domain import fold_name, tier_allowed
from registry.tables import Cadre, Unit
from servicekit.auth import scope_filter, within_unit
from servicekit.errors import Conflict, Forbidden, NotFound, Refused, field_error
from servicekit.outbox import Outbox


def cadres_in_scope(principal: Principal, action: Action = Action.READ) -> SelectOfScalar[Cadre]:
    """Every cadre query starts here: only what the caller's grants cover."""
    return select(Cadre).where(scope_filter(principal, action, col(Cadre.managing_unit), col(Cadre.tier)))


def snapshot(cadre: Cadre) -> CadreSnapshot:
    return CadreSnapshot.model_validate(cadre, from_attributes=True)


def public(cadre: Cadre) -> CadrePublic:
    return CadrePublic.model_validate(cadre, from_attributes=True)


async def register_cadre(session: AsyncSession, outbox: Outbox, principal: Principal, data: CadreCreate) -> CadrePublic:
    unit = await session.get(Unit, data.managing_unit)
    if unit is None:
        raise Refused("unknown managing unit", errors=[field_error("managing_unit", f"no unit {data.managing_unit!r}")])
    if not tier_allowed(UnitLevel(unit.level), data.tier):
        raise Refused(
            "tier not allowed for that unit level",
            errors=[field_error("tier", f"a {unit.level} board does not manage tier {data.tier.value!r}")],
        )
    if not principal.may(Action.WRITE, data.managing_unit, data.tier):
        raise Forbidden("the managing unit and tier are outside your scope", code="out_of_scope")
    existing = await session.scalar(select(Cadre.id).where(col(Cadre.national_id) == data.national_id))
    if existing is not None:
        visible = await session.scalar(cadres_in_scope(principal).where(col(Cadre.id) == existing))
        pointer = f" (existing record {existing})" if visible is not None else ""
        raise Conflict(f"a cadre with this national ID is already registered{pointer}", code="duplicate_national_id")
    cadre = Cadre(
        **data.model_dump(exclude={"status_since"}),
        name_folded=fold_name(data.full_name),
        status_since=data.status_since or datetime.now(UTC).date(),
    )
    session.add(cadre)
    await session.flush()
    await outbox.append(
        session,
        CadreRegistered(cadre=snapshot(cadre)),
        subject=str(cadre.id),
        managing_unit=cadre.managing_unit,
        tier=ManagementTier(cadre.tier),
    )
    return public(cadre)


async def get_cadre(session: AsyncSession, principal: Principal, cadre_id: uuid.UUID) -> CadrePublic:
    cadre = await session.scalar(cadres_in_scope(principal).where(col(Cadre.id) == cadre_id))
    if cadre is None:
        raise NotFound("no such cadre")  # also when it exists outside the caller's scope
    return public(cadre)


async def list_cadres(
    session: AsyncSession, principal: Principal, *, unit: str | None, offset: int, limit: int
) -> tuple[list[CadrePublic], int]:
    query = cadres_in_scope(principal)
    if unit:
        query = query.where(within_unit(col(Cadre.managing_unit), unit))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(query.order_by(col(Cadre.name_folded), col(Cadre.id)).offset(offset).limit(limit))
    return [public(c) for c in rows], total


async def count_cadres(session: AsyncSession, principal: Principal, unit: str) -> list[CadreCount]:
    unit_column, tier, status = col(Cadre.managing_unit), col(Cadre.tier), col(Cadre.status)
    rows = await session.execute(
        select(unit_column, tier, status, func.count())
        .where(scope_filter(principal, Action.READ, unit_column, tier), within_unit(unit_column, unit))
        .group_by(unit_column, tier, status)
        .order_by(unit_column, tier, status)
    )
    return [CadreCount(managing_unit=u, tier=ManagementTier(t), status=CadreStatus(s), count=n) for u, t, s, n in rows]


async def import_units(session: AsyncSession, outbox: Outbox, units: Sequence[UnitPublic]) -> int:
    """Load a tree of units (parents first); existing paths are left as they are."""
    known = set(await session.scalars(select(col(Unit.path))))
    created = 0
    for index, item in enumerate(units):
        if item.path in known:
            continue
        if item.parent_path is not None and item.parent_path not in known:
            raise Refused("unknown parent unit", errors=[field_error([index, "parent_path"], f"no unit {item.parent_path!r}")])
        level = UnitLevel(item.level)
        unit = Unit(**item.model_dump(exclude={"level"}), level=level.value)
        session.add(unit)
        known.add(item.path)
        created += 1
        await outbox.append(session, UnitCreated(unit=UnitSnapshot.model_validate(unit, from_attributes=True)), subject=item.path)
    return created


async def list_units(session: AsyncSession, under: str | None, on: date | None) -> list[UnitPublic]:
    query = select(Unit).order_by(col(Unit.path))
    if under:
        query = query.where(within_unit(col(Unit.path), under))
    if on:
        query = query.where(col(Unit.valid_from) <= on, col(Unit.valid_to).is_(None) | (col(Unit.valid_to) > on))
    return [UnitPublic.model_validate(u, from_attributes=True) for u in await session.scalars(query)]
