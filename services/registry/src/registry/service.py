"""Cadre use cases: register, read, search, correct, history, duplicates, counts (now and as of a date)."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, false, func, or_, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from contracts.api.registry import CadreChange as CadreChangeOut
from contracts.api.registry import CadreCount, CadreCreate, CadrePublic, CadreUpdate, DuplicateGroup
from contracts.enums import Action, CadreStatus, ManagementTier, UnitLevel
from contracts.events.registry import CadreRegistered, CadreUpdated
from contracts.scope import Principal
from registry.domain import (
    CARD_FIELDS,
    Operation,
    Problem,
    fold_name,
    name_fields,
    name_key,
    national_id_problems,
    registration_problems,
    tier_allowed,
)
from registry.history import append_events, change_rows, open_periods, public, record_changes, snapshot
from registry.tables import Cadre, CadreChange, CadrePeriod, Card, Unit, UnitSuccession
from servicekit.auth import scope_filter, within_unit
from servicekit.errors import Conflict, Forbidden, NotFound, Refused, field_error
from servicekit.outbox import Outbox, OutgoingEvent


@dataclass(frozen=True)
class Rules:
    today: date
    horizon_days: int


def refuse(problems: Sequence[Problem], detail: str = "the request breaks a rule", prefix: Sequence[str | int] = ()) -> None:
    if problems:
        raise Refused(detail, errors=[field_error([*prefix, name], reason) for name, reason in problems])


def _common_unit(paths: Sequence[str]) -> str | None:
    if not paths:
        return None
    parts = [p.split(".") for p in paths]
    common: list[str] = []
    for segments in zip(*parts, strict=False):
        if len(set(segments)) != 1:
            break
        common.append(segments[0])
    return ".".join(common) or None


def prefix_hint(unit_column: Any, unit: str | None) -> ColumnElement[bool]:
    """`column LIKE 'VN.68%'`: implied by `within_unit(column, 'VN.68')`, but one index range on PostgreSQL
    (varchar_pattern_ops), so counts under a unit become index-only scans instead of a BitmapOr over the heap."""
    if not unit:
        return true()
    return cast(ColumnElement[bool], unit_column.like(_escape_like(unit) + "%", escape="\\"))


def in_scope(principal: Principal, action: Action = Action.READ) -> ColumnElement[bool]:
    grants = [g.unit_path for g in principal.grants if action in g.actions]
    return and_(
        scope_filter(principal, action, col(Cadre.managing_unit), col(Cadre.tier)),
        prefix_hint(col(Cadre.managing_unit), _common_unit(grants)),
    )


def cadres_in_scope(principal: Principal, action: Action = Action.READ) -> SelectOfScalar[Cadre]:
    """Every cadre query starts here: only what the caller's grants cover."""
    return select(Cadre).where(in_scope(principal, action))


async def cadre_for_write(session: AsyncSession, principal: Principal, cadre_id: uuid.UUID) -> Cadre:
    """A cadre the caller may change; 404 if they cannot even see it, 403 if they may only read it."""
    cadre = await session.scalar(cadres_in_scope(principal).where(col(Cadre.id) == cadre_id).with_for_update())
    if cadre is None:
        raise NotFound("no such cadre")
    if not principal.may(Action.WRITE, cadre.managing_unit, ManagementTier(cadre.tier)):
        raise Forbidden("you may read this cadre but not change it", code="out_of_scope")
    return cadre


async def current_unit(session: AsyncSession, path: str, loc: str = "managing_unit") -> Unit:
    unit = await session.scalar(select(Unit).where(col(Unit.path) == path, col(Unit.valid_to).is_(None)))
    if unit is None:
        raise Refused("unknown managing unit", errors=[field_error(loc, f"no current unit {path!r}")])
    return unit


def check_tier(unit: Unit, tier: ManagementTier, loc: str = "tier") -> None:
    if not tier_allowed(UnitLevel(unit.level), tier):
        raise Refused(
            "tier not allowed for that unit level",
            errors=[field_error(loc, f"a {unit.level} board does not manage tier {tier.value!r}")],
        )


async def duplicate_pointer(session: AsyncSession, principal: Principal, national_id: str) -> str | None:
    """None if the CCCD is free; else a sentence naming the record if the caller may see it."""
    existing = await session.scalar(select(Cadre.id).where(col(Cadre.national_id) == national_id))
    if existing is None:
        return None
    visible = await session.scalar(cadres_in_scope(principal).where(col(Cadre.id) == existing))
    pointer = f" (existing record {existing})" if visible is not None else ""
    return f"a cadre with this national ID is already registered{pointer}"


async def register_cadre(
    session: AsyncSession, outbox: Outbox, principal: Principal, data: CadreCreate, rules: Rules
) -> CadrePublic:
    unit = await current_unit(session, data.managing_unit)
    check_tier(unit, data.tier)
    status_since = data.status_since or rules.today
    refuse(national_id_problems(data.national_id, data.date_of_birth, data.sex), "invalid national ID")
    refuse(
        registration_problems(data.status, status_since, data.date_of_birth, today=rules.today, horizon_days=rules.horizon_days)
    )
    if not principal.may(Action.WRITE, data.managing_unit, data.tier):
        raise Forbidden("the managing unit and tier are outside your scope", code="out_of_scope")
    duplicate = await duplicate_pointer(session, principal, data.national_id)
    if duplicate is not None:
        raise Conflict(duplicate, code="duplicate_national_id")
    cadre = Cadre(**data.model_dump(exclude={"status_since"}), **name_fields(data.full_name), status_since=status_since)
    session.add(cadre)
    await session.flush()
    await after_registration(session, outbox, principal, [cadre])
    return public(cadre)


async def after_registration(session: AsyncSession, outbox: Outbox, principal: Principal, cadres: Sequence[Cadre]) -> None:
    """History, first period and event of newly registered cadres (one or an import's thousands)."""

    now = datetime.now(UTC)
    await open_periods(
        session,
        [
            {"cadre_id": c.id, "valid_from": c.status_since, "tier": c.tier, "status": c.status, "managing_unit": c.managing_unit}
            for c in cadres
        ],
    )
    rows = []
    for c in cadres:  # one line: the registered values are in the event and the first period
        rows += change_rows(
            c.id, principal.subject, Operation.REGISTER, {"record": (None, "registered")}, effective=c.status_since, at=now
        )
    await record_changes(session, rows)
    await append_events(
        session,
        outbox,
        [OutgoingEvent(CadreRegistered(cadre=snapshot(c)), str(c.id), c.managing_unit, ManagementTier(c.tier)) for c in cadres],
    )


async def get_cadre(session: AsyncSession, principal: Principal, cadre_id: uuid.UUID) -> CadrePublic:
    cadre = await session.scalar(cadres_in_scope(principal).where(col(Cadre.id) == cadre_id))
    if cadre is None:
        raise NotFound("no such cadre")  # also when it exists outside the caller's scope
    return public(cadre)


@dataclass(frozen=True)
class Search:
    q: str | None = None
    national_id: str | None = None
    card_number: str | None = None
    unit: str | None = None
    tier: ManagementTier | None = None
    status: CadreStatus | None = None


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def list_cadres(
    session: AsyncSession, principal: Principal, search: Search, *, offset: int, limit: int
) -> tuple[list[CadrePublic], int]:
    unit = col(Cadre.managing_unit)
    conditions: list[ColumnElement[bool]] = [in_scope(principal)]
    if search.unit:
        conditions += [within_unit(unit, search.unit), prefix_hint(unit, search.unit)]
    if search.tier:
        conditions.append(col(Cadre.tier) == search.tier.value)
    if search.status:
        conditions.append(col(Cadre.status) == search.status.value)
    if search.national_id:
        conditions.append(col(Cadre.national_id) == search.national_id)
    if search.card_number:  # the current card, or an older one of the same cadre
        holder = await session.scalar(select(Card.cadre_id).where(col(Card.number) == search.card_number))
        conditions.append(col(Cadre.id) == holder if holder else false())
    folded = fold_name(search.q or "")
    if folded.isdigit():  # a CCCD typed in the search box
        conditions.append(col(Cadre.national_id) == folded.zfill(12))
    elif folded:
        # Names that start with the words typed, or whose given name does ('duc', 'duc nguyen'): two index ranges.
        # Only when none does, names that contain them anywhere ('van duc'): a trigram index on PostgreSQL.
        pattern = _escape_like(folded)
        starts = or_(
            col(Cadre.name_folded).like(f"{pattern}%", escape="\\"), col(Cadre.name_key).like(f"{pattern}%", escape="\\")
        )
        total = await session.scalar(select(func.count()).select_from(Cadre).where(*conditions, starts)) or 0
        conditions.append(starts if total else col(Cadre.name_folded).like(f"%{pattern}%", escape="\\"))
    total = await session.scalar(select(func.count()).select_from(Cadre).where(*conditions)) or 0
    # Deferred join: the page's ids come from the index (scope columns, name, id) alone; then only those rows are read.
    page = list(
        await session.scalars(
            select(col(Cadre.id)).where(*conditions).order_by(col(Cadre.name_folded), col(Cadre.id)).offset(offset).limit(limit)
        )
    )
    rows = {c.id: c for c in await session.scalars(select(Cadre).where(col(Cadre.id).in_(page)))} if page else {}
    return [public(rows[cadre_id]) for cadre_id in page], total


async def update_cadre(
    session: AsyncSession, outbox: Outbox, principal: Principal, cadre_id: uuid.UUID, data: CadreUpdate
) -> CadrePublic:
    from registry.cards import reissue_if_needed

    cadre = await cadre_for_write(session, principal, cadre_id)
    if cadre.status in (CadreStatus.DECEASED, CadreStatus.REMOVED):
        raise Refused("no change after death or removal", errors=[field_error("status", f"the cadre is {cadre.status}")])
    wanted: dict[str, Any] = data.model_dump(exclude_unset=True, mode="json")
    for name in ("full_name", "date_of_birth", "sex", "national_id"):
        if name in wanted and wanted[name] is None:
            raise Refused("a required field cannot be emptied", errors=[field_error(name, "may not be null")])
    current: dict[str, Any] = public(cadre).model_dump(mode="json")
    changes = {name: (current[name], value) for name, value in wanted.items() if current[name] != value}
    if not changes:
        return public(cadre)
    merged = CadrePublic.model_validate({**current, **wanted})
    if {"national_id", "date_of_birth", "sex"} & changes.keys():
        refuse(national_id_problems(merged.national_id, merged.date_of_birth, merged.sex), "invalid national ID")
    if "national_id" in changes:
        duplicate = await duplicate_pointer(session, principal, merged.national_id)
        if duplicate is not None:
            raise Conflict(duplicate, code="duplicate_national_id")
    for name in changes:
        setattr(cadre, name, getattr(merged, name))
    if "full_name" in changes:
        cadre.name_folded, cadre.name_key = fold_name(merged.full_name), name_key(merged.full_name)
    cadre.updated_at = datetime.now(UTC)
    await record_changes(session, change_rows(cadre.id, principal.subject, Operation.UPDATE, changes))
    await session.flush()
    await outbox.append(
        session,
        CadreUpdated(cadre=snapshot(cadre), changed_fields=sorted(changes)),
        subject=str(cadre.id),
        managing_unit=cadre.managing_unit,
        tier=ManagementTier(cadre.tier),
    )
    if CARD_FIELDS & changes.keys():
        await reissue_if_needed(session, outbox, principal, cadre, "details on the card changed")
    return public(cadre)


async def cadre_history(session: AsyncSession, principal: Principal, cadre_id: uuid.UUID) -> list[CadreChangeOut]:
    await get_cadre(session, principal, cadre_id)  # 404 outside scope
    rows = await session.scalars(select(CadreChange).where(col(CadreChange.cadre_id) == cadre_id).order_by(col(CadreChange.id)))
    return [CadreChangeOut.model_validate(r, from_attributes=True) for r in rows]


async def likely_duplicates(session: AsyncSession, principal: Principal, unit: str | None, limit: int) -> list[DuplicateGroup]:
    """Cadres (in scope) sharing a folded name and a date of birth."""
    base = cadres_in_scope(principal)
    if unit:
        base = base.where(within_unit(col(Cadre.managing_unit), unit))
    sub = base.subquery()
    keys = (
        await session.execute(
            select(sub.c.name_folded, sub.c.date_of_birth)
            .group_by(sub.c.name_folded, sub.c.date_of_birth)
            .having(func.count() > 1)
            .order_by(sub.c.name_folded, sub.c.date_of_birth)
            .limit(limit)
        )
    ).all()
    groups = []
    for name, born in keys:
        members = await session.scalars(
            base.where(col(Cadre.name_folded) == name, col(Cadre.date_of_birth) == born).order_by(col(Cadre.created_at))
        )
        groups.append(DuplicateGroup(name_folded=name, date_of_birth=born, cadres=[public(c) for c in members]))
    return groups


def counting_scope(principal: Principal, unit_column: Any, tier_column: Any) -> ColumnElement[bool]:
    """Counts are aggregates: a READ or an AGGREGATE grant covers them."""
    return or_(
        scope_filter(principal, Action.READ, unit_column, tier_column),
        scope_filter(principal, Action.AGGREGATE, unit_column, tier_column),
    )


async def count_cadres(
    session: AsyncSession, principal: Principal, unit: str, on: date | None = None, mapped: bool = False
) -> list[CadreCount]:
    """By managing unit, tier and status: now (from the cadres) or as of `on` (from the periods)."""
    if on is None:
        unit_column, tier, status = col(Cadre.managing_unit), col(Cadre.tier), col(Cadre.status)
        rows = await session.execute(
            select(unit_column, tier, status, func.count())
            .where(counting_scope(principal, unit_column, tier), within_unit(unit_column, unit), prefix_hint(unit_column, unit))
            .group_by(unit_column, tier, status)
            .order_by(unit_column, tier, status)
        )
        return [CadreCount(managing_unit=u, tier=ManagementTier(t), status=CadreStatus(s), count=n) for u, t, s, n in rows]
    unit_column, tier, status = col(CadrePeriod.managing_unit), col(CadrePeriod.tier), col(CadrePeriod.status)
    held = (col(CadrePeriod.valid_from) <= on, or_(col(CadrePeriod.valid_to).is_(None), col(CadrePeriod.valid_to) > on))
    if not mapped:
        rows = await session.execute(
            select(unit_column, tier, status, func.count())
            .where(
                *held,
                counting_scope(principal, unit_column, tier),
                within_unit(unit_column, unit),
                prefix_hint(unit_column, unit),
            )
            .group_by(unit_column, tier, status)
            .order_by(unit_column, tier, status)
        )
        return [CadreCount(managing_unit=u, tier=ManagementTier(t), status=CadreStatus(s), count=n) for u, t, s, n in rows]
    return await _mapped_counts(session, principal, held, unit, on)


async def _mapped_counts(
    session: AsyncSession, principal: Principal, held: tuple[ColumnElement[bool], ...], unit: str, on: date
) -> list[CadreCount]:
    """As of `on`, each unit followed through the reorganisations since onto today's unit (a split unit's cadres
    each to the part they were given). Scope applies to today's unit: the board that manages it now sees its past."""
    successions = list(
        await session.scalars(
            select(UnitSuccession).where(col(UnitSuccession.effective_date) > on).order_by(col(UnitSuccession.id))
        )
    )
    unit_column, tier, status = col(CadrePeriod.managing_unit), col(CadrePeriod.tier), col(CadrePeriod.status)
    grouped = await session.execute(
        select(unit_column, tier, status, func.count()).where(*held).group_by(unit_column, tier, status)
    )
    totals: dict[tuple[str, str, str], int] = {}
    ambiguous: set[str] = set()

    def add(target: str | None, t: str, s: str, n: int) -> None:
        if target is None or not (target == unit or target.startswith(unit + ".")):
            return
        if principal.may(Action.READ, target, ManagementTier(t)) or principal.may(Action.AGGREGATE, target, ManagementTier(t)):
            totals[(target, t, s)] = totals.get((target, t, s), 0) + n

    for path, t, s, n in grouped:
        target = _follow(successions, path)
        if target is None:
            ambiguous.add(path)
        add(target, t, s, n)
    if ambiguous:
        per_cadre = await session.execute(
            select(unit_column, tier, status, col(CadrePeriod.cadre_id)).where(*held, unit_column.in_(sorted(ambiguous)))
        )
        for path, t, s, cadre_id in per_cadre.all():
            add(await _unit_after_split(session, cadre_id, path, successions), t, s, 1)
    return [
        CadreCount(managing_unit=u, tier=ManagementTier(t), status=CadreStatus(s), count=n)
        for (u, t, s), n in sorted(totals.items())
    ]


def _successors(successions: Sequence[UnitSuccession], path: str) -> list[str]:
    return [s.new_path for s in successions if s.old_path == path]


def _follow(successions: Sequence[UnitSuccession], path: str) -> str | None:
    """Follow single successors in order; None where a unit was split (ambiguous by unit)."""
    current = path
    for succession in successions:
        if succession.old_path != current:
            continue
        nexts = _successors(successions, current)
        if len(set(nexts)) > 1:
            return None
        current = succession.new_path
    return current


async def _unit_after_split(
    session: AsyncSession, cadre_id: uuid.UUID, path: str, successions: Sequence[UnitSuccession]
) -> str | None:
    split = next((s for s in successions if s.old_path == path), None)
    if split is None:
        return path
    after = await session.scalar(
        select(CadrePeriod.managing_unit).where(
            col(CadrePeriod.cadre_id) == cadre_id,
            col(CadrePeriod.valid_from) <= split.effective_date,
            or_(col(CadrePeriod.valid_to).is_(None), col(CadrePeriod.valid_to) > split.effective_date),
        )
    )
    return _follow([s for s in successions if s.effective_date > split.effective_date], after) if after else None
