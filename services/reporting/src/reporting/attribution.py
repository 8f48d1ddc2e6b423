"""Which unit every dated row counts under, kept on the rows themselves (run inside the before-commit step of
`reporting.pending`, on the synchronous session of `run_sync`).

A row is attributed on its own date (a record's `occurred_on`, an invitation's appointment, a trip's start) to
the unit its cadre was managed by that day (`CadreInterval`), with the tier it had then; and that unit followed
through the reorganisations since onto today's (`UnitSuccessor`). The figures then depend only on the cadre's
dated history and the units' successions, never on the order the events arrived in: when a cadre's history
changes its rows are attributed again; when a reorganisation is recorded the rows of the units it maps (and of
the units mapped onto those) are mapped again, set-wise, one UPDATE per read model and province.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Table, bindparam, case, or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from reporting.domain import Interval, Succession, Successors, interval_on, province_of, today_of
from reporting.tables import (
    CadreInterval,
    ClinicalFact,
    ConvalescenceRegistrationFact,
    DiagnosisFact,
    InvitationFact,
    UnitSuccessor,
)
from servicekit.sql import chunked, table_of


@dataclass(frozen=True)
class Dated:
    """A read model whose rows are attributed: its key columns and the column of the row's own date."""

    model: Any
    keys: tuple[str, ...]
    day: str


DATED = (
    Dated(ClinicalFact, ("record_id",), "occurred_on"),
    Dated(DiagnosisFact, ("record_id", "chronic_group"), "occurred_on"),
    Dated(InvitationFact, ("invitation_id",), "appointment_date"),
    Dated(ConvalescenceRegistrationFact, ("registration_id",), "trip_starts_on"),
)
ATTRIBUTES = ("managing_unit", "province", "tier", "today_unit", "today_province")


# --- loading ------------------------------------------------------------------------------------------


def successors_of(session: Session, paths: Iterable[str]) -> dict[str, list[Succession]]:
    """The successions of `paths` and of every unit they lead to (a few rounds of one SELECT each)."""
    found: dict[str, list[Succession]] = defaultdict(list)
    asked: set[str] = set()
    frontier = {p for p in paths if p}
    while frontier:
        asked |= frontier
        nxt: set[str] = set()
        for part in chunked(sorted(frontier)):
            for row in session.execute(select(UnitSuccessor).where(col(UnitSuccessor.old_path).in_(part))).scalars():
                found[row.old_path].append(Succession(row.old_path, row.new_path, row.effective_on))
                nxt.add(row.new_path)
        frontier = nxt - asked
    return found


def predecessors_of(session: Session, paths: Iterable[str]) -> set[str]:
    """`paths` and every unit that leads to one of them through recorded successions."""
    found = set(paths)
    frontier = set(found)
    while frontier:
        nxt: set[str] = set()
        for part in chunked(sorted(frontier)):
            nxt.update(
                session.execute(select(col(UnitSuccessor.old_path)).where(col(UnitSuccessor.new_path).in_(part))).scalars()
            )
        frontier = nxt - found
        found |= frontier
    return found


def intervals_of_cadres(session: Session, cadre_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[Interval]]:
    found: dict[uuid.UUID, list[Interval]] = defaultdict(list)
    names = ("cadre_id", "managing_unit", "tier", "status", "valid_from", "valid_to")
    columns = [table_of(CadreInterval).c[name] for name in names]  # not entities: an ORM object per row cost more
    for part in chunked(sorted(set(cadre_ids), key=str)):
        for r in session.execute(select(*columns).where(col(CadreInterval.cadre_id).in_(part))):
            found[r.cadre_id].append(Interval(r.managing_unit, r.tier, r.status, r.valid_from, r.valid_to))
    return found


# --- deciding -----------------------------------------------------------------------------------------


def mapped_today(unit: str, intervals: Sequence[Interval], successors: Successors) -> str:
    """`unit` onto today's units; at a split, the part the cadre went to (its unit on the split's date)."""

    def unit_on(day: date) -> str | None:
        held = interval_on(day, intervals)
        return held.managing_unit if held is not None else None

    return today_of(unit, successors, unit_on) or unit


def attributed(
    day: date | None, unit: str | None, tier: str | None, intervals: Sequence[Interval], successors: Successors
) -> dict[str, Any]:
    """The attribution columns of a row dated `day` whose cadre has `intervals`; `unit` and `tier` (the
    envelope's scope keys, or what the row holds) stand when the cadre's history says nothing of that day."""
    held = interval_on(day, intervals)
    if held is not None:
        unit, tier = held.managing_unit, held.tier
    if unit is None:
        return {"managing_unit": None, "province": None, "tier": tier, "today_unit": None, "today_province": None}
    today = mapped_today(unit, intervals, successors)
    return {
        "managing_unit": unit,
        "province": province_of(unit),
        "tier": tier,
        "today_unit": today,
        "today_province": province_of(today),
    }


def attribute_rows(session: Session, rows: Sequence[dict[str, Any]], day: str) -> None:
    """New rows (dicts with `cadre_id`, `day`, and the envelope's unit and tier), attributed in place."""
    if not rows:
        return
    intervals = intervals_of_cadres(session, {r["cadre_id"] for r in rows})
    successors = successors_of(session, {u for r in rows for u in _units(r, intervals.get(r["cadre_id"], []))})
    for row in rows:
        row.update(attributed(row[day], row["managing_unit"], row["tier"], intervals.get(row["cadre_id"], []), successors))


def _units(row: dict[str, Any], intervals: Sequence[Interval]) -> set[str]:
    return {i.managing_unit for i in intervals} | ({row["managing_unit"]} if row.get("managing_unit") else set())


# --- writing ------------------------------------------------------------------------------------------


def _update_by_key(session: Session, table: Table, keys: Sequence[str], changed: list[dict[str, Any]]) -> None:
    """One executemany UPDATE of the attribution columns, by primary key."""
    if not changed:
        return
    statement = (
        table.update()
        .where(*(table.c[k] == bindparam(f"k_{k}") for k in keys))
        .values({a: bindparam(f"v_{a}") for a in ATTRIBUTES})
    )
    params = [{**{f"k_{k}": r[k] for k in keys}, **{f"v_{a}": r[a] for a in ATTRIBUTES}} for r in changed]
    session.execute(statement, params)


def reattribute_cadres(session: Session, cadre_ids: Sequence[uuid.UUID]) -> None:
    """Every dated row of these cadres attributed again from their (just recomputed) history; only the rows
    whose attribution changes are written."""
    if not cadre_ids:
        return
    intervals = intervals_of_cadres(session, cadre_ids)
    stored: dict[Dated, list[Any]] = {}
    for dated in DATED:
        table = table_of(dated.model)
        columns = [table.c[k] for k in (*dated.keys, "cadre_id", dated.day, *ATTRIBUTES)]
        stored[dated] = [
            row
            for part in chunked(cadre_ids)
            for row in session.execute(select(*columns).where(table.c.cadre_id.in_(part))).mappings()
        ]
    units = {i.managing_unit for found in intervals.values() for i in found}
    units |= {row["managing_unit"] for rows in stored.values() for row in rows if row["managing_unit"]}
    successors = successors_of(session, units)
    for dated, rows in stored.items():
        changed: list[dict[str, Any]] = []
        for row in rows:
            history = intervals.get(row["cadre_id"], [])
            now = attributed(row[dated.day], row["managing_unit"], row["tier"], history, successors)
            if any(now[a] != row[a] for a in ATTRIBUTES):
                changed.append({**{k: row[k] for k in dated.keys}, **now})
        _update_by_key(session, table_of(dated.model), dated.keys, changed)


def remap_units(session: Session, old_paths: Iterable[str]) -> None:
    """After a reorganisation: `today_unit` of every row whose unit leads through it. One UPDATE per read model
    and old province (which the province indexes find), mapping each unit with a CASE, touching only rows that
    change; rows of a unit whose way leads through a split are decided per cadre (the part it went to)."""
    affected = predecessors_of(session, old_paths)
    successors = successors_of(session, affected)
    by_province: dict[str, dict[str, str]] = defaultdict(dict)
    split: list[str] = []
    for path in sorted(affected):
        target = today_of(path, successors)
        if target is None:
            split.append(path)
        else:
            by_province[province_of(path)][path] = target
    for model in [CadreInterval, *(d.model for d in DATED)]:
        table = table_of(model)
        for province, mapping in by_province.items():
            for part in chunked(sorted(mapping)):
                targets = {path: mapping[path] for path in part}
                today = case(targets, value=table.c.managing_unit)
                session.execute(
                    table.update()
                    .where(
                        table.c.province == province,
                        table.c.managing_unit.in_(part),
                        or_(table.c.today_unit.is_(None), table.c.today_unit != today),
                    )
                    .values(
                        today_unit=today,
                        today_province=case({p: province_of(t) for p, t in targets.items()}, value=table.c.managing_unit),
                    )
                )
    if split:
        _remap_split(session, split, successors)


def _remap_split(session: Session, paths: Sequence[str], successors: Successors) -> None:
    """Rows of units split since: each cadre's part, from its history (intervals by id, dated rows by key)."""
    keyed: list[tuple[Table, tuple[str, ...]]] = [(table_of(CadreInterval), ("id",))]
    keyed += [(table_of(d.model), d.keys) for d in DATED]
    found: list[tuple[Table, tuple[str, ...], list[Any]]] = []
    for table, keys in keyed:
        columns = [*(table.c[k] for k in keys), table.c.cadre_id, table.c.managing_unit]
        rows = [r for part in chunked(paths) for r in session.execute(select(*columns).where(table.c.managing_unit.in_(part)))]
        found.append((table, keys, rows))
    intervals = intervals_of_cadres(session, {r.cadre_id for _t, _k, rows in found for r in rows})
    for table, keys, rows in found:
        params = []
        for r in rows:
            today = mapped_today(r.managing_unit, intervals.get(r.cadre_id, []), successors)
            params.append(
                {**{f"k_{k}": getattr(r, k) for k in keys}, "v_today_unit": today, "v_today_province": province_of(today)}
            )
        if params:
            session.execute(
                table.update()
                .where(*(table.c[k] == bindparam(f"k_{k}") for k in keys))
                .values(today_unit=bindparam("v_today_unit"), today_province=bindparam("v_today_province")),
                params,
            )
