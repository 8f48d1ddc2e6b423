"""Moving every cadre managed by a unit the 2025 reorganisation retired to its successor, set-based (hundreds of
thousands at once): the managing unit and, for district-tier cadres, the tier; their periods, history lines and
events (national_events.py). On PostgreSQL a handful of statements over the plan in a temporary table write them
(national_bulk.py); elsewhere registry.history and the outbox do, in batches. Either way the rules are those of
registry.moves (a single reorganisation's moves): periods split on the date, one history line per changed field, a
tier change and a transfer event carrying the cadre after both, a new card for a re-tiered holder.

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

from sqlalchemy import RowMapping, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.api.units import Retier
from contracts.enums import ManagementTier, UnitLevel
from contracts.scope import Principal, PrincipalKind
from registry.domain import Operation, TierRule, province_of, tier_allowed
from registry.history import change_rows, chunks, move_periods, record_changes
from registry.moves import reissue_cards, retier_periods
from registry.tables import Cadre
from registry.units import national_bulk
from registry.units.national import REFORM_DATE, REFORM_REASON, NationalUnits, Successor
from registry.units.national_events import append_move_events, append_move_events_on_postgresql
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
        retiered = {c["id"]: self.tiers[c["id"]] for c in self.cadres if self.tiers[c["id"]] != c["tier"]}
        if dialect_name(session) == "postgresql":
            events = await self._apply_on_postgresql(session, outbox, now)
        else:
            await _set_units_and_tiers(session, self, now)
            await move_periods(session, self.units, REFORM_DATE)
            await retier_periods(session, retiered, REFORM_DATE)
            await record_changes(session, self._history(retiered, now))
            events = await append_move_events(session, outbox, self.cadres, self.units, self.tiers, self.reorganisation_id)
        await reissue_cards(session, outbox, self._principal(), await _card_holders(session, list(retiered)))
        by_province: dict[str, int] = defaultdict(int)
        for cadre_id in self.units:
            by_province[self.new_province[cadre_id]] += 1
        return Moved(len(self.units), len(retiered), events, dict(by_province))

    async def _apply_on_postgresql(self, session: AsyncSession, outbox: Outbox, now: datetime) -> int:
        """The same writes as a handful of statements over the plan copied into a temporary table."""
        await national_bulk.copy_moves(session, self.cadres, self.units, self.tiers)
        await national_bulk.move_cadres(session, now)
        await national_bulk.move_periods(session, REFORM_DATE)
        await national_bulk.record_changes(session, self.actor, REFORM_DATE, REFORM_REASON, now)
        return await append_move_events_on_postgresql(session, outbox, self.reorganisation_id)

    def _principal(self) -> Principal:
        """Who issues the new cards: only the subject is recorded (on the card and in the history)."""
        return Principal(subject=self.actor, kind=PrincipalKind.ADMIN)

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
    # PostgreSQL builds the events from the rows themselves (national_events): only what the plan needs is read
    columns = (
        [cadres.c.id, cadres.c.managing_unit, cadres.c.tier, cadres.c.residence_unit]
        if dialect_name(session) == "postgresql"
        else [cadres]
    )
    rows: list[RowMapping] = []
    for part in chunks(moving, PATHS_PER_QUERY):
        result = await session.execute(select(*columns).where(cadres.c.managing_unit.in_(list(part))))
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
    """The new unit and tier of every cadre, one prepared statement per cadre (SQLite runs in process: no round
    trips; history.move_cadres issues one statement per target unit, and here the tier changes with the unit)."""
    cadres = table_of(Cadre)
    statement = (
        update(cadres)
        .where(cadres.c.id == bindparam("cadre_id"))
        .values(managing_unit=bindparam("new_unit"), tier=bindparam("new_tier"), updated_at=now)
        .execution_options(synchronize_session=False)
    )
    moves = [(c, unit, plan.tiers[c]) for c, unit in plan.units.items()]
    for part in chunks(moves, ROWS_PER_EXECUTEMANY):
        await session.execute(statement, [{"cadre_id": c, "new_unit": u, "new_tier": t} for c, u, t in part])


async def _card_holders(session: AsyncSession, retiered: Sequence[uuid.UUID]) -> list[Cadre]:
    """The re-tiered cadres who hold a card (few), as ORM rows: their rows were rewritten in bulk, read them now."""
    holding = col(Cadre.card_number).is_not(None)
    if dialect_name(session) == "postgresql":  # the plan is in national_bulk's table: no list of ids to send
        return list(await session.scalars(select(Cadre).where(holding, col(Cadre.id).in_(national_bulk.retiered_ids()))))
    holders: list[Cadre] = []
    for part in chunks(retiered):
        holders += await session.scalars(select(Cadre).where(col(Cadre.id).in_(part), holding))
    return holders
