"""Moving every cadre managed by a unit the 2025 reorganisation retired to its successor, set-based (hundreds of
thousands at once): the managing unit and, for district-tier cadres, the tier; their periods, history lines and
events (national_events.py), written in bulk through registry.history and the outbox.

Where a cadre goes:
- one successor (a merged province, a commune merged whole): that one;
- several (a dissolved district, a split commune): the cadre's residence if it is one of them or succeeds into
  one of them, else the official default successor (a split commune's `isDefaultNewWard`; a district's seat
  commune, national.py);
- a district-tier cadre is re-tiered as the new province chose: `commune` (default; commune tier, at the commune
  chosen as above) or `provincial_3` (provincial group 3, at the new province);
- a unit the data set does not know (changed before its date, or entered by hand) is succeeded by the new
  province: its district-tier cadres go to the commune of their residence, or are refused (no commune to go to).
Every destination is checked against the tier rules on 1 July 2025 before anything is written.
"""

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, bindparam, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.api.units import Retier
from contracts.enums import ManagementTier, UnitLevel
from registry.domain import Operation, TierRule, province_of, tier_allowed
from registry.history import change_rows, chunks, move_periods, record_changes
from registry.tables import Cadre, CadrePeriod
from registry.units.national import REFORM_DATE, REFORM_REASON, NationalUnits, Successor
from registry.units.national_events import append_move_events
from servicekit import clock
from servicekit.errors import Refused, field_error
from servicekit.outbox import Outbox
from servicekit.sql import dialect_name, table_of

PATHS_PER_QUERY = 2000
REFUSALS_NAMED = 20
ROWS_PER_EXECUTEMANY = 10000


@dataclass
class Moved:
    cadres: int = 0
    retiered: int = 0
    events: int = 0
    by_new_province: dict[str, int] = field(default_factory=dict)


def _pick(successors: Sequence[Successor], residence: str | None, data: NationalUnits) -> str:
    """The residence if it is a successor (or succeeds into one), else the default successor (listed first)."""
    paths = [s.new_path for s in successors]
    if len(paths) > 1 and residence:
        for candidate in (residence, *(s.new_path for s in data.successors_of(residence))):
            if candidate in paths:
                return candidate
    return paths[0]


def _residence_commune(residence: str | None, province: str, data: NationalUnits) -> str | None:
    if not residence:
        return None
    if residence.startswith(province + ".") and residence.count(".") == 2:
        return residence
    successors = data.successors_of(residence)
    return successors[0].new_path if successors and successors[0].new_path.count(".") == 2 else None


def destination(cadre: Mapping[str, Any] | RowMapping, data: NationalUnits, retier: Mapping[str, Retier]) -> tuple[str, str]:
    """(new managing unit, new tier) of a cadre managed by a retired unit."""
    old, tier = str(cadre["managing_unit"]), str(cadre["tier"])
    successors = data.successors_of(old)
    new_province = data.new_province_of[".".join(old.split(".")[:2])]
    if tier == ManagementTier.DISTRICT and old != new_province:
        if retier.get(new_province, "commune") == "provincial_3":
            return new_province, ManagementTier.PROVINCIAL_3.value
        if old.count(".") >= 2:  # a district's or a commune's: to a commune of the new map
            target = _pick(successors, cadre["residence_unit"], data)
            if target == new_province:  # a unit the data set does not know: the commune of the residence, if any
                target = _residence_commune(cadre["residence_unit"], new_province, data) or target
            return target, ManagementTier.COMMUNE.value
    return _pick(successors, cadre["residence_unit"], data), tier


def _level(path: str) -> UnitLevel:
    return UnitLevel.PROVINCE if path.count(".") == 1 else UnitLevel.COMMUNE


@dataclass
class MovePlan:
    cadres: list[RowMapping]
    units: dict[uuid.UUID, str]
    tiers: dict[uuid.UUID, str]
    new_province: dict[uuid.UUID, str]
    reorganisation_id: uuid.UUID
    actor: str

    async def apply(self, session: AsyncSession, outbox: Outbox) -> Moved:
        if not self.units:
            return Moved()
        now = clock.now()
        await _set_units_and_tiers(session, self, now)
        await move_periods(session, self.units, REFORM_DATE)
        retiered = {c["id"]: self.tiers[c["id"]] for c in self.cadres if self.tiers[c["id"]] != c["tier"]}
        await _retier_periods(session, retiered)
        await record_changes(session, self._history(retiered, now))
        events = await append_move_events(session, outbox, self.cadres, self.units, self.tiers, self.reorganisation_id)
        by_province: dict[str, int] = defaultdict(int)
        for cadre_id in self.units:
            by_province[self.new_province[cadre_id]] += 1
        return Moved(len(self.units), len(retiered), events, dict(by_province))

    def _history(self, retiered: Mapping[uuid.UUID, str], now: datetime) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for cadre in self.cadres:
            changes: dict[str, tuple[Any, Any]] = {"managing_unit": (cadre["managing_unit"], self.units[cadre["id"]])}
            if cadre["id"] in retiered:
                changes["tier"] = (cadre["tier"], retiered[cadre["id"]])
            rows += change_rows(
                cadre["id"], self.actor, Operation.REORGANISE, changes, effective=REFORM_DATE, reason=REFORM_REASON, at=now
            )
        return rows


async def move_to_successors(
    session: AsyncSession,
    data: NationalUnits,
    retier: Mapping[str, Retier],
    rules: Sequence[TierRule],
    reorganisation_id: uuid.UUID,
    actor: str,
) -> MovePlan:
    """Where each cadre of a retired unit goes; refused (422 naming the cadres) if a tier would not be allowed."""
    moving = sorted({s.old_path for s in data.successors if s.new_path != s.old_path})
    cadres = table_of(Cadre)
    rows: list[RowMapping] = []
    for part in chunks(moving, PATHS_PER_QUERY):
        result = await session.execute(select(cadres).where(cadres.c.managing_unit.in_(list(part))))
        rows += list(result.mappings())
    units: dict[uuid.UUID, str] = {}
    tiers: dict[uuid.UUID, str] = {}
    provinces: dict[uuid.UUID, str] = {}
    refused: list[tuple[uuid.UUID, str]] = []
    for row in rows:
        unit, tier = destination(row, data, retier)
        if not tier_allowed(rules, _level(unit), ManagementTier(tier), province_of(unit), REFORM_DATE):
            refused.append((row["id"], f"tier {tier!r} is not allowed at {unit} ({_level(unit).value}) from {REFORM_DATE}"))
            continue
        units[row["id"]], tiers[row["id"]] = unit, tier
        provinces[row["id"]] = ".".join(unit.split(".")[:2])
    if refused:
        raise Refused(
            f"{len(refused)} cadres would be left with a tier their new unit may not manage; nothing was changed",
            errors=[field_error(["cadres", str(cadre_id)], reason) for cadre_id, reason in refused[:REFUSALS_NAMED]],
        )
    return MovePlan(rows, units, tiers, provinces, reorganisation_id, actor)


async def _set_units_and_tiers(session: AsyncSession, plan: MovePlan, now: datetime) -> None:
    """The new unit and tier of every cadre in a few statements (history.move_cadres issues one per target unit:
    here there are 3,321 targets, and the tier changes with the unit). PostgreSQL joins arrays of 10,000 moves;
    SQLite runs one prepared statement per cadre (in process: no round trips)."""
    moves = [(c, unit, plan.tiers[c]) for c, unit in plan.units.items()]
    if dialect_name(session) == "postgresql":
        for part in chunks(moves, ROWS_PER_EXECUTEMANY):
            ids, units, tiers = (list(column) for column in zip(*part, strict=True))
            await session.execute(PG_MOVE, {"ids": ids, "units": units, "tiers": tiers, "now": now})
        return
    cadres = table_of(Cadre)
    statement = (
        update(cadres)
        .where(cadres.c.id == bindparam("cadre_id"))
        .values(managing_unit=bindparam("new_unit"), tier=bindparam("new_tier"), updated_at=now)
        .execution_options(synchronize_session=False)
    )
    for part in chunks(moves, ROWS_PER_EXECUTEMANY):
        await session.execute(statement, [{"cadre_id": c, "new_unit": u, "new_tier": t} for c, u, t in part])


PG_MOVE = text(
    "UPDATE cadre SET managing_unit = m.unit, tier = m.tier, updated_at = :now"
    " FROM unnest(CAST(:ids AS uuid[]), CAST(:units AS text[]), CAST(:tiers AS text[])) AS m(id, unit, tier)"
    " WHERE cadre.id = m.id"
)


async def _retier_periods(session: AsyncSession, retiered: Mapping[uuid.UUID, str]) -> None:
    """The new tier on every period from the reorganisation on (move_periods split them there)."""
    by_tier: dict[str, list[uuid.UUID]] = defaultdict(list)
    for cadre_id, tier in retiered.items():
        by_tier[tier].append(cadre_id)
    periods = table_of(CadrePeriod)
    for tier, ids in by_tier.items():
        for part in chunks(ids):
            await session.execute(
                update(periods)
                .where(periods.c.cadre_id.in_(list(part)), periods.c.valid_from >= REFORM_DATE)
                .values(tier=tier)
                .execution_options(synchronize_session=False)
            )
