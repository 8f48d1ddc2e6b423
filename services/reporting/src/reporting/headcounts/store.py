"""Keeping the headcount pre-aggregates (`HeadcountTotal`, `HeadcountStep`) exact, in the transaction that
writes the facts they count (called by `reporting.preaggregates` around `reporting.pending.write`).

Before the batch is written, the steps of every cadre whose history or diagnoses it may change are worked out
from the stored facts; after, again; the difference is added. A reorganisation changes the units many intervals
map onto today: the provinces it reaches are counted again from the facts instead.
"""

from __future__ import annotations

import functools
import uuid
from collections import Counter, defaultdict
from collections.abc import Collection, Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Select, bindparam, delete, exists, select, union_all
from sqlalchemy.orm import Session
from sqlmodel import col

from reporting.counters import add_counts
from reporting.headcounts.steps import Held, Steps, difference, first_diagnosed, rolled_up, steps_of
from reporting.tables import CadreInterval, DiagnosisFact, HeadcountStep, HeadcountTotal
from servicekit.sql import IN_LIST, chunked, table_of

KEY_COLUMNS = ("province", "managing_unit", "tier", "status", "today_unit", "today_province")
TOTAL_KEYS = (*KEY_COLUMNS, "measure")
STEP_KEYS = (*KEY_COLUMNS, "measure", "grain", "starts_on")


def cadres_touched(
    session: Session,
    cadre_histories: Collection[uuid.UUID],
    records: Sequence[dict[str, Any]],
    groups: Mapping[uuid.UUID, Sequence[str]],
    stored: Collection[uuid.UUID],
) -> list[uuid.UUID]:
    """The cadres whose steps a batch may change: those whose history it rewrites, those a new record gives a
    chronic group they had not been diagnosed with by its date, and those whose stored diagnoses it may replace or
    withdraw (of the `stored` records: an amendment may move a record to another cadre). A chronic patient's
    periodic exam repeats groups known since earlier: the steps follow each group's first diagnosis only, so it
    changes none and is not counted again."""
    touched = set(cadre_histories)
    stored_ids = set(stored)
    diagnosed: dict[uuid.UUID, list[tuple[str, date]]] = defaultdict(list)
    for row in records:
        named = groups.get(row["record_id"], ())
        if named and row["record_id"] in stored_ids:
            touched.add(row["cadre_id"])  # an amended record's groups or date may change: counted again
        elif named and not row["withdrawn"]:
            diagnosed[row["cadre_id"]].extend((group, row["occurred_on"]) for group in named)
    new_firsts = {cadre_id: first_diagnosed(pairs) for cadre_id, pairs in diagnosed.items() if pairs and cadre_id not in touched}
    known = _diagnosed_by_then(session, new_firsts)
    for cadre_id, firsts in new_firsts.items():
        if any((cadre_id, group) not in known for group in firsts):
            touched.add(cadre_id)
    for part in chunked(sorted(stored, key=str)):
        touched.update(
            session.execute(select(col(DiagnosisFact.cadre_id)).where(col(DiagnosisFact.record_id).in_(part))).scalars()
        )
    return sorted(touched, key=str)


ASKED_COLUMNS = ("cadre_id", "chronic_group", "day")
ASKED_ROWS = (8, 32, 128, IN_LIST // len(ASKED_COLUMNS))  # statements built (and compiled) once per size


def _diagnosed_by_then(session: Session, firsts: Mapping[uuid.UUID, Mapping[str, date]]) -> set[tuple[uuid.UUID, str]]:
    """The (cadre, group) pairs of `firsts` with a stored diagnosis on or before the pair's day.

    One existence test per pair, which the (cadre_id, occurred_on, chronic_group) index answers from the cadre's
    earliest rows: reading each cadre's first day of every group instead (min() grouped by cadre and group)
    walked all its diagnoses, a quarter of reporting's CPU for single posts on a cadre with hundreds of them.
    The pairs are bound into a statement of a few fixed sizes (compiled once each), the rows left over NULL
    (they match nothing)."""
    pairs = [(cadre_id, group, day) for cadre_id, days in firsts.items() for group, day in days.items()]
    known: set[tuple[uuid.UUID, str]] = set()
    for part in chunked(pairs, ASKED_ROWS[-1]):
        size = next(rows for rows in ASKED_ROWS if rows >= len(part))
        padded = [*part, *[(None, None, None)] * (size - len(part))]
        params = {f"{name}_{i}": value for i, row in enumerate(padded) for name, value in zip(ASKED_COLUMNS, row, strict=True)}
        known.update((cadre_id, group) for cadre_id, group in session.execute(_diagnosed_statement(size), params))
    return known


@functools.cache
def _diagnosed_statement(rows: int) -> Select[tuple[Any, Any]]:
    diagnoses = table_of(DiagnosisFact)
    types = (diagnoses.c.cadre_id.type, diagnoses.c.chronic_group.type, diagnoses.c.occurred_on.type)
    # rows of bound values joined by UNION ALL: SQLAlchemy caches its compilation, not a VALUES list's
    asked_rows = [
        select(*(bindparam(f"{name}_{i}", type_=t).label(name) for name, t in zip(ASKED_COLUMNS, types, strict=True)))
        for i in range(rows)
    ]
    asked = union_all(*asked_rows).cte("asked")
    diagnosed = exists().where(
        diagnoses.c.cadre_id == asked.c.cadre_id,
        diagnoses.c.occurred_on <= asked.c.day,
        diagnoses.c.chronic_group == asked.c.chronic_group,
    )
    return select(asked.c.cadre_id, asked.c.chronic_group).where(diagnosed)


def _held(rows: Any) -> dict[uuid.UUID, list[Held]]:
    found: dict[uuid.UUID, list[Held]] = defaultdict(list)
    for cadre_id, unit, tier, status, valid_from, valid_to, today_unit in rows:
        found[cadre_id].append(Held(unit, tier, status, valid_from, valid_to, today_unit))
    return found


def _interval_columns() -> list[Any]:
    i = CadreInterval
    columns = (i.cadre_id, i.managing_unit, i.tier, i.status, i.valid_from, i.valid_to, i.today_unit)
    return [col(c) for c in columns]


def _diagnoses_of(session: Session, cadres: Sequence[uuid.UUID] | None) -> dict[uuid.UUID, list[tuple[str, date]]]:
    d = DiagnosisFact
    statement = select(col(d.cadre_id), col(d.chronic_group), col(d.occurred_on))
    found: dict[uuid.UUID, list[tuple[str, date]]] = defaultdict(list)
    parts = [statement] if cadres is None else [statement.where(col(d.cadre_id).in_(p)) for p in chunked(cadres)]
    for part in parts:
        for cadre_id, group, day in session.execute(part):
            found[cadre_id].append((group, day))
    return found


def steps_now(session: Session, cadres: Sequence[uuid.UUID]) -> Steps:
    """The steps these cadres' stored histories and diagnoses make."""
    histories: dict[uuid.UUID, list[Held]] = defaultdict(list)
    for part in chunked(cadres):
        statement = select(*_interval_columns()).where(col(CadreInterval.cadre_id).in_(part))
        for cadre_id, held in _held(session.execute(statement)).items():
            histories[cadre_id].extend(held)
    diagnoses = _diagnoses_of(session, cadres)
    steps: Steps = Counter()
    for cadre_id, held in histories.items():
        steps.update(steps_of(held, diagnoses.get(cadre_id, [])))
    return steps


def add_steps(session: Session, steps: Steps, *, fresh: bool = False) -> None:
    """Steps added to the totals and to the year, month and day sums (`fresh`: to rows just emptied, inserted)."""
    totals, deltas = rolled_up(steps)
    counted = {(*k, m): {"cadres": n} for (k, m), n in totals.items() if n}
    changed = {(*k, m, g, d): {"change": n} for (k, m, g, d), n in deltas.items() if n}
    for table, keys, rows in ((table_of(HeadcountTotal), TOTAL_KEYS, counted), (table_of(HeadcountStep), STEP_KEYS, changed)):
        if not fresh:
            add_counts(session, table, keys, rows)
        elif rows:
            session.execute(table.insert(), [{**dict(zip(keys, key, strict=True)), **n} for key, n in rows.items()])


def apply_difference(session: Session, before: Steps, cadres: Sequence[uuid.UUID]) -> None:
    """What the written batch changed for these cadres (`before`: their steps before it)."""
    add_steps(session, difference(steps_now(session, cadres), before))


def refill(session: Session, provinces: Sequence[str] | None = None) -> None:
    """The headcounts of `provinces` (all when None) counted again from the facts: each interval counts under
    its own province, with its cadre's diagnoses whatever unit made them."""
    totals, steps = table_of(HeadcountTotal), table_of(HeadcountStep)
    statement = select(*_interval_columns())
    if provinces is None:
        session.execute(delete(totals))
        session.execute(delete(steps))
        selected = [statement]
    else:
        for part in chunked(list(provinces)):
            session.execute(delete(totals).where(totals.c.province.in_(part)))
            session.execute(delete(steps).where(steps.c.province.in_(part)))
        selected = [statement.where(col(CadreInterval.province).in_(part)) for part in chunked(list(provinces))]
    histories: dict[uuid.UUID, list[Held]] = defaultdict(list)
    for query in selected:
        for cadre_id, held in _held(session.execute(query)).items():
            histories[cadre_id].extend(held)
    diagnoses = _diagnoses_of(session, None if provinces is None else sorted(histories, key=str))
    counted: Steps = Counter()
    for cadre_id, held in histories.items():
        counted.update(steps_of(held, diagnoses.get(cadre_id, [])))
    add_steps(session, counted, fresh=True)
