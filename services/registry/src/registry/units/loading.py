"""Loading the whole country's units (units/national.py) into the registry, idempotently: the 63-province tree
(`legacy`), then the 1 July 2025 reorganisation onto the 34-province tree (`2025`) with every cadre managed by a
retired unit moved to its successor, or both (`all`).

A unit version is identified by (path, valid_from); one that is already there, or any version of the path that
holds on 30 June 2025 (the demo's hand-loaded Lâm Đồng districts), is left as it is. The 2025 reorganisation is
one `Reorganisation` row, found again by its date and reason on a later run, so a run that finds everything in
place writes nothing and publishes nothing.
"""

import uuid
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.api.units import NationalLoadResult, Retier, Stage
from contracts.enums import UnitLevel
from contracts.events.registry import UnitCreated, UnitSnapshot, UnitsReorganized
from contracts.scope import Principal
from registry.domain import DEFAULT_TIER_RULES, TierRule, may_reorganise
from registry.history import chunks
from registry.tables import Reorganisation, Unit, UnitSuccession
from registry.tiers.service import load_rules
from registry.units.national import (
    LEGACY_FROM,
    NATION_FROM,
    REFORM_DATE,
    REFORM_REASON,
    NationalUnits,
    Successor,
    UnitRecord,
    national_units,
)
from registry.units.national_moves import move_to_successors
from registry.units.planner import snapshot_of
from servicekit.errors import Forbidden, Refused, field_error
from servicekit.outbox import Outbox, RawEvent
from servicekit.sql import table_of

ACTOR = "system:national-units"
LAST_OLD_DAY = REFORM_DATE - timedelta(days=1)
UNIT_ROWS_PER_INSERT = 1000  # 9 columns: far below SQLite's limit of bound parameters


@dataclass
class _Version:
    id: int
    valid_from: date
    valid_to: date | None
    unit: UnitRecord


@dataclass
class _Counts:
    created: int = 0
    present: int = 0
    closed: int = 0
    successions: int = 0
    moved: int = 0
    retiered: int = 0
    events: int = 0
    reorganisation_id: uuid.UUID | None = None
    # per new province: what this run changed (for its UnitsReorganized event)
    retired: dict[str, list[UnitSnapshot]] = field(default_factory=lambda: defaultdict(list))
    created_units: dict[str, list[UnitSnapshot]] = field(default_factory=lambda: defaultdict(list))
    mapping: dict[str, dict[str, list[str]]] = field(default_factory=lambda: defaultdict(dict))
    moved_by_province: dict[str, int] = field(default_factory=lambda: defaultdict(int))


async def load_national(
    session: AsyncSession,
    outbox: Outbox,
    *,
    stage: Stage = "all",
    provinces: Collection[str] | None = None,
    retier: Mapping[str, Retier] | None = None,
    rules: Sequence[TierRule] | None = None,
    actor: str = ACTOR,
) -> NationalLoadResult:
    """One transaction: units, successions, moved cadres with their history, and every event, or nothing."""
    data = national_units()
    if provinces:
        try:
            data = data.for_provinces(provinces)
        except ValueError as exc:
            raise Refused("unknown province", errors=[field_error("provinces", str(exc))]) from exc
    retier = dict(retier or {})
    if unknown := sorted(set(retier) - {u.path for u in data.current if u.level == UnitLevel.PROVINCE}):
        raise Refused("unknown province", errors=[field_error("retier", f"not provinces of the 2025 map: {unknown}")])
    if rules is None:  # the rules in force (tiers feature); the seeded defaults if none were ever recorded
        rules = await load_rules(session) or DEFAULT_TIER_RULES
    counts = _Counts()
    versions = await _versions(session)
    reorganisation = await _national_reorganisation(session)
    if stage in ("legacy", "all"):
        await _load_legacy(session, outbox, data, versions, closed=reorganisation is not None, counts=counts)
    if stage in ("2025", "all"):
        if stage == "all":
            versions = await _versions(session)
        await _reorganise(session, outbox, data, versions, reorganisation, retier, rules, actor, counts)
    return NationalLoadResult(
        stage=stage,
        created=counts.created,
        already_present=counts.present,
        closed=counts.closed,
        successions=counts.successions,
        moved_cadres=counts.moved,
        retiered_cadres=counts.retiered,
        events=counts.events,
        reorganisation_id=counts.reorganisation_id,
    )


def check_may_reorganise(principal: Principal, provinces: Collection[str] | None) -> None:
    """Recording the reorganisation moves every cadre of the old provinces concerned: like any reorganisation, it
    takes a write grant for every tier on each of them (domain.may_reorganise)."""
    try:
        data = national_units() if not provinces else national_units().for_provinces(provinces)
    except ValueError:
        return  # an unknown province: load_national refuses it, naming the field
    outside = [p for p in sorted(data.new_province_of) if not may_reorganise(principal, p)]
    if outside:
        raise Forbidden(f"reorganising {outside[:5]} needs a write grant on them for every tier", code="out_of_scope")


async def _versions(session: AsyncSession) -> dict[str, list[_Version]]:
    found: dict[str, list[_Version]] = defaultdict(list)
    for row in await session.execute(select(table_of(Unit))):
        unit = UnitRecord(row.path, row.code, row.name, UnitLevel(row.level), row.parent_path, row.latitude, row.longitude)
        found[row.path].append(_Version(row.id, row.valid_from, row.valid_to, unit))
    return found


def _unknown_units(data: NationalUnits, versions: Mapping[str, list[_Version]]) -> list[UnitRecord]:
    """Open units below an old province that the data set does not know (a district merged before its date, a unit
    entered by hand): the district level ends for them too, and the new province succeeds them."""
    known = {u.path for u in (*data.legacy, *data.current)}
    return [
        v.unit
        for path, found in sorted(versions.items())
        if path not in known and path.count(".") >= 2 and _province(path) in data.new_province_of
        for v in found
        if v.valid_to is None and v.valid_from < REFORM_DATE
    ]


async def _national_reorganisation(session: AsyncSession) -> Reorganisation | None:
    found: Reorganisation | None = await session.scalar(
        select(Reorganisation).where(
            col(Reorganisation.effective_date) == REFORM_DATE, col(Reorganisation.reason) == REFORM_REASON
        )
    )
    return found


def _row(unit: UnitRecord, valid_from: date, valid_to: date | None) -> dict[str, Any]:
    return {
        "path": unit.path,
        "code": unit.code,
        "name": unit.name,
        "level": unit.level.value,
        "parent_path": unit.parent_path,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "latitude": unit.latitude,
        "longitude": unit.longitude,
    }


async def _insert_units(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    for part in chunks(rows, UNIT_ROWS_PER_INSERT):
        await session.execute(insert(table_of(Unit)), list(part))


async def _fill_coordinates(session: AsyncSession, fills: Sequence[tuple[int, UnitRecord]]) -> None:
    """Units loaded by hand before get the data set's coordinates (their other fields are theirs)."""
    if not fills:
        return
    units = table_of(Unit)
    statement = (
        update(units)
        .where(units.c.id == bindparam("unit_id"))
        .values(latitude=bindparam("lat"), longitude=bindparam("lon"))
        .execution_options(synchronize_session=False)
    )
    for part in chunks(fills, UNIT_ROWS_PER_INSERT):
        await session.execute(statement, [{"unit_id": i, "lat": u.latitude, "lon": u.longitude} for i, u in part])


async def _load_legacy(
    session: AsyncSession,
    outbox: Outbox,
    data: NationalUnits,
    versions: Mapping[str, list[_Version]],
    *,
    closed: bool,
    counts: _Counts,
) -> None:
    """The 63-province tree; open-ended unless the 2025 reorganisation is already recorded (then it ends there)."""
    rows: list[dict[str, Any]] = []
    fills: list[tuple[int, UnitRecord]] = []
    for unit in (data.nation, *data.legacy):
        start = NATION_FROM if unit is data.nation else LEGACY_FROM
        end = None if unit is data.nation or not closed else REFORM_DATE
        existing = versions.get(unit.path, [])
        held = [v for v in existing if v.valid_from <= LAST_OLD_DAY and (v.valid_to is None or v.valid_to > LAST_OLD_DAY)]
        if held or any(v.valid_from == start for v in existing):
            counts.present += 1
            if held and held[0].unit.latitude is None and unit.latitude is not None:
                fills.append((held[0].id, unit))
            continue
        rows.append(_row(unit, start, end))
    await _insert_units(session, rows)
    await _fill_coordinates(session, fills)
    counts.created += len(rows)
    if rows:
        sample = UnitCreated(unit=UnitSnapshot.model_validate(rows[0]))
        counts.events += await outbox.append_payloads(
            session,
            sample,
            (RawEvent(r["path"], {"unit": UnitSnapshot.model_validate(r).model_dump(mode="json")}, r["path"]) for r in rows),
        )


async def _reorganise(
    session: AsyncSession,
    outbox: Outbox,
    data: NationalUnits,
    versions: Mapping[str, list[_Version]],
    found: Reorganisation | None,
    retier: Mapping[str, Retier],
    rules: Sequence[TierRule],
    actor: str,
    counts: _Counts,
) -> None:
    """End the old units, begin the new ones, record who succeeds whom, move the cadres, announce per province."""
    reorganisation = found or Reorganisation(
        effective_date=REFORM_DATE,
        reason=REFORM_REASON,
        operations=[{"kind": "national", "source": "vietnam-provinces, vietnamadminunits (units/national.py)"}],
        recorded_by=actor,
    )
    unknown = _unknown_units(data, versions)
    data = data.with_successors(Successor(u.path, data.new_province_of[_province(u.path)], True) for u in unknown)
    plan = await move_to_successors(session, data, retier, rules, reorganisation.id, actor)  # refuses before writing
    if found is None:
        session.add(reorganisation)
        await session.flush()
    counts.reorganisation_id = reorganisation.id
    await _end_old_units(session, data, [*data.legacy, *unknown], versions, counts)
    await _begin_new_units(session, data, versions, counts)
    await _record_successions(session, data, reorganisation.id, counts)
    moved = await plan.apply(session, outbox)
    counts.moved, counts.retiered, counts.events = moved.cadres, moved.retiered, counts.events + moved.events
    for province, n in moved.by_new_province.items():
        counts.moved_by_province[province] += n
    reorganisation.moved_cadres += moved.cadres
    counts.events += await _announce(session, outbox, data, reorganisation, counts)


async def _end_old_units(
    session: AsyncSession,
    data: NationalUnits,
    old_units: Sequence[UnitRecord],
    versions: Mapping[str, list[_Version]],
    counts: _Counts,
) -> None:
    unchanged = data.unchanged_provinces()
    ending: list[int] = []
    for unit in dict.fromkeys(old_units):
        if unit.path in unchanged:
            continue
        for v in versions.get(unit.path, []):
            if v.valid_to is None and v.valid_from < REFORM_DATE:
                ending.append(v.id)
                new_province = data.new_province_of[_province(unit.path)]
                counts.retired[new_province].append(snapshot_of(v.unit, v.valid_from, REFORM_DATE))
    units = table_of(Unit)
    for part in chunks(ending):
        await session.execute(
            update(units)
            .where(units.c.id.in_(list(part)))
            .values(valid_to=REFORM_DATE)
            .execution_options(synchronize_session=False)
        )
    counts.closed += len(ending)


async def _begin_new_units(
    session: AsyncSession, data: NationalUnits, versions: Mapping[str, list[_Version]], counts: _Counts
) -> None:
    unchanged = data.unchanged_provinces()
    rows: list[dict[str, Any]] = []
    fills: list[tuple[int, UnitRecord]] = []
    for unit in data.current:
        existing = versions.get(unit.path, [])
        same_day = [v for v in existing if v.valid_from == REFORM_DATE]
        if unit.path in unchanged or same_day:
            counts.present += 1
            if same_day and same_day[0].unit.latitude is None and unit.latitude is not None:
                fills.append((same_day[0].id, unit))
            continue
        rows.append(_row(unit, REFORM_DATE, None))
        counts.created_units[_province(unit.path)].append(snapshot_of(unit, REFORM_DATE))
    await _insert_units(session, rows)
    await _fill_coordinates(session, fills)
    counts.created += len(rows)


async def _record_successions(session: AsyncSession, data: NationalUnits, reorganisation_id: uuid.UUID, counts: _Counts) -> None:
    succession = table_of(UnitSuccession)
    known = {
        (r.old_path, r.new_path)
        for r in await session.execute(
            select(succession.c.old_path, succession.c.new_path).where(succession.c.reorganisation_id == reorganisation_id)
        )
    }
    rows = [
        {
            "reorganisation_id": reorganisation_id,
            "effective_date": REFORM_DATE,
            "old_path": s.old_path,
            "new_path": s.new_path,
            "is_default": s.is_default,
        }
        for s in data.successors
        if (s.old_path, s.new_path) not in known
    ]
    for part in chunks(rows, UNIT_ROWS_PER_INSERT):
        await session.execute(insert(succession), list(part))
    for s in data.successors:
        if (s.old_path, s.new_path) not in known:
            mapping = counts.mapping[data.new_province_of[_province(s.old_path)]]
            mapping.setdefault(s.old_path, []).append(s.new_path)
    counts.successions += len(rows)


async def _announce(
    session: AsyncSession, outbox: Outbox, data: NationalUnits, reorganisation: Reorganisation, counts: _Counts
) -> int:
    """One event per province of the new map that this run changed (its units, successions or cadres)."""
    events = 0
    for province in sorted({u.path for u in data.current if u.level == UnitLevel.PROVINCE}):
        retired, created = counts.retired.get(province, []), counts.created_units.get(province, [])
        mapping, moved = counts.mapping.get(province, {}), counts.moved_by_province.get(province, 0)
        if not (retired or created or mapping or moved):
            continue
        event = UnitsReorganized(
            kind="merge" if len(data.sources_of(province)) > 1 else "dissolve",
            effective_date=REFORM_DATE,
            retired_units=retired,
            created_units=created,
            mapping=mapping,
            moved_cadres=moved,
            reorganisation_id=reorganisation.id,
            reason=reorganisation.reason,
        )
        await outbox.append(session, event, subject=province)
        events += 1
    return events


def _province(path: str) -> str:
    return ".".join(path.split(".")[:2])
