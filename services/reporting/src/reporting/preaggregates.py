"""The national figures' pre-aggregates (`RecordMonthCount`, `InvitationMonthCount`, and the headcounts of
`reporting.headcounts`), kept exact in the
transaction that writes the facts they count (run around `reporting.pending.write`, on its synchronous session).

How they stay exact whatever changes a fact: before the batch is written, the aggregate key of every fact row
the batch may change is read (the records and invitations it names, and every record and invitation of the
cadres whose history or attribution it touches); after, the same rows are read again; the difference of the
two counts is added to the aggregates. A reorganisation maps many units' rows onto today's units at once: the
provinces it reaches are counted again from the facts instead. A rebuild empties them with the facts.
"""

from __future__ import annotations

import functools
import uuid
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, and_, bindparam, case, cast, delete, func, or_, select
from sqlalchemy.orm import Session, aliased
from sqlmodel import col

from reporting.attribution import predecessors_of
from reporting.counters import add_counts
from reporting.domain import month_of, next_month, province_of
from reporting.facts import Rows
from reporting.headcounts import store as headcounts
from reporting.headcounts.steps import Steps
from reporting.tables import CadreInterval, ClinicalFact, InvitationFact, InvitationMonthCount, RecordMonthCount
from servicekit.sql import chunked, table_of

if TYPE_CHECKING:
    from reporting.pending import Pending

CHUNK = 500  # ids per IN list: each selects a cadre's whole history
Key = tuple[Any, ...]
Counts = Counter[Key]

RECORD_KEYS = ("province", "month", "managing_unit", "tier", "kind", "referral_kind", "today_unit", "today_province")
INVITATION_KEYS = (
    *("province", "month", "managing_unit", "tier", "cadre_status", "plan_id", "round_id"),
    *("today_unit", "today_province"),
)


# --- the aggregate key of a fact row --------------------------------------------------------------------


def record_rows() -> Rows:
    """(record id, cadre, counted, *RecordMonthCount's key, round) of the records; counted: live, with a unit and
    a tier (a row without one matches no scope)."""
    r = ClinicalFact
    counted = and_(col(r.withdrawn).is_(False), col(r.managing_unit).is_not(None), col(r.tier).is_not(None))
    return select(
        col(r.record_id),
        col(r.cadre_id),
        counted,
        col(r.province),
        col(r.month),
        col(r.managing_unit),
        col(r.tier),
        col(r.kind),
        func.coalesce(col(r.referral_kind), ""),
        func.coalesce(col(r.today_unit), ""),
        func.coalesce(col(r.today_province), ""),
        col(r.round_id),
    )


def invitation_rows() -> Rows:
    """(invitation id, cadre, counted, examined, *InvitationMonthCount's key) of the invitations, each with its
    cadre's status on the appointment day (the dashboard's coverage groups by it); counted: not cancelled."""
    invitation, interval = InvitationFact, aliased(CadreInterval)
    on_the_day = and_(
        col(interval.cadre_id) == col(invitation.cadre_id),
        col(interval.valid_from) <= col(invitation.appointment_date),
        or_(col(interval.valid_to).is_(None), col(interval.valid_to) > col(invitation.appointment_date)),
    )
    examined = case(((col(invitation.status) == "attended") | (col(invitation.exam_recorded).is_(True)), 1), else_=0)
    counted = and_(col(invitation.status) != "cancelled", col(invitation.managing_unit).is_not(None))
    return (
        select(
            col(invitation.invitation_id),
            col(invitation.cadre_id),
            counted,
            examined,
            col(invitation.province),
            func.substr(cast(col(invitation.appointment_date), String), 1, 7),
            col(invitation.managing_unit),
            col(invitation.tier),
            func.coalesce(col(interval.status), ""),
            col(invitation.plan_id),
            col(invitation.round_id),
            func.coalesce(col(invitation.today_unit), ""),
            func.coalesce(col(invitation.today_province), ""),
        )
        .select_from(invitation)
        .outerjoin(interval, on_the_day)
    )


# --- the rows a batch may change ------------------------------------------------------------------------


@dataclass
class Seen:
    """The fact rows a batch may change, and their aggregate keys before it was written."""

    record_ids: list[uuid.UUID]
    invitation_ids: list[uuid.UUID]
    cadres: list[uuid.UUID]  # every record and invitation of these may change (history, attribution)
    # cadres of the records of a round: their invitations may change (`exam_recorded`); a record of no round
    # changes no invitation (`pending._recompute_exam_recorded` looks only at a round's records)
    record_cadres: set[uuid.UUID] = field(default_factory=set)
    records: Counts = field(default_factory=Counter)
    invited: Counts = field(default_factory=Counter)
    examined: Counts = field(default_factory=Counter)
    stored_records: set[uuid.UUID] = field(default_factory=set)  # of `record_ids`, those stored before the batch
    headcount_cadres: list[uuid.UUID] = field(default_factory=list)  # their histories or diagnoses may change
    headcounts: Steps = field(default_factory=Counter)  # those cadres' headcount steps before the batch


def _select_by(session: Session, rows: Callable[[], Rows], model: type, by: Sequence[tuple[str, Collection[uuid.UUID]]]) -> Any:
    """Rows matching any of `model.column IN ids` for each (column, ids) of `by`, each once (by its first column)."""
    found: dict[Any, Any] = {}
    for column, ids in by:
        statement = _rows_where_in(rows, model, column)
        for part in chunked(sorted(set(ids), key=str), CHUNK):
            for row in session.execute(statement, {"ids": part}):
                found[row[0]] = row
    return found.values()


@functools.cache
def _rows_where_in(rows: Callable[[], Rows], model: type, column: str) -> Rows:
    """`rows()` where `model.column` is in an expanding list of ids: built once, as every batch asks it twice."""
    return rows().where(col(getattr(model, column)).in_(bindparam("ids", expanding=True)))


def _count(session: Session, seen: Seen, sign: int) -> tuple[Counts, Counts, Counts, set[uuid.UUID]]:
    """The aggregate counts of the rows `seen` names, as they stand now."""
    records: Counts = Counter()
    cadres_of_records: set[uuid.UUID] = set()
    by_record = [("record_id", seen.record_ids), ("cadre_id", seen.cadres)]
    for record_id, cadre_id, counted, *key, round_id in _select_by(session, record_rows, ClinicalFact, by_record):
        if round_id is not None:
            cadres_of_records.add(cadre_id)
        if sign < 0:
            seen.stored_records.add(record_id)
        if counted:
            records[tuple(key)] += sign
    invited: Counts = Counter()
    examined: Counts = Counter()
    by_invitation = [
        ("invitation_id", seen.invitation_ids),
        ("cadre_id", {*seen.cadres, *seen.record_cadres, *cadres_of_records}),
    ]
    for _id, _cadre, counted, done, *key in _select_by(session, invitation_rows, InvitationFact, by_invitation):
        if counted:
            invited[tuple(key)] += sign
            examined[tuple(key)] += sign * int(done)
    return records, invited, examined, cadres_of_records


def before_write(session: Session, pending: Pending) -> Seen:
    """What the batch may change, counted before it is written."""
    seen = Seen(
        record_ids=list(pending.records),
        invitation_ids=[*pending.invitations, *pending.statuses, *pending.earlier_statuses],
        cadres=sorted({*pending.cadre_facts, *pending.reattribute}, key=str),
        record_cadres={c.row["cadre_id"] for c in pending.records.values() if c.row["round_id"] is not None},
    )
    seen.records, seen.invited, seen.examined, old_cadres = _count(session, seen, -1)
    seen.record_cadres |= old_cadres  # an amendment may move a record to another cadre: both cadres' invitations
    groups = {record_id: candidate.groups for record_id, candidate in pending.records.items() if candidate.groups}
    records = [candidate.row for candidate in pending.records.values()]
    stored = seen.stored_records & set(seen.record_ids)
    seen.headcount_cadres = headcounts.cadres_touched(session, pending.cadre_facts, records, groups, stored)
    seen.headcounts = headcounts.steps_now(session, seen.headcount_cadres)
    return seen


def after_write(session: Session, pending: Pending, seen: Seen) -> None:
    """The difference the written batch made, added to the aggregates; a reorganisation's provinces counted again."""
    records, invited, examined, _cadres = _count(session, seen, 1)
    records.update(seen.records)
    invited.update(seen.invited)
    examined.update(seen.examined)
    add_counts(session, table_of(RecordMonthCount), RECORD_KEYS, {k: {"records": n} for k, n in records.items() if n})
    changed = {k for k in (*invited, *examined) if invited[k] or examined[k]}
    add_counts(
        session,
        table_of(InvitationMonthCount),
        INVITATION_KEYS,
        {k: {"invited": invited[k], "examined": examined[k]} for k in changed},
    )
    headcounts.apply_difference(session, seen.headcounts, seen.headcount_cadres)
    if pending.reorganised:
        refill(session, sorted({province_of(p) for p in predecessors_of(session, pending.reorganised)}))


# --- counting again from the facts ----------------------------------------------------------------------


def refill(session: Session, provinces: Sequence[str] | None = None) -> None:
    """The aggregates of `provinces` (all when None) counted again from the facts: after a reorganisation, after
    facts were loaded in bulk, and by the migration that added them."""
    _refill_records(session, provinces)
    _refill_invitations(session, provinces)
    headcounts.refill(session, provinces)


def _refill_records(session: Session, provinces: Sequence[str] | None) -> None:
    table = table_of(RecordMonthCount)
    source = record_rows().subquery()
    key = [source.c[i] for i in range(3, 3 + len(RECORD_KEYS))]
    where = [source.c[2].is_(True)]
    _refill(session, table, RECORD_KEYS, ("records",), select(*key, func.count()), key, where, source.c[3], provinces)


def _refill_invitations(session: Session, provinces: Sequence[str] | None) -> None:
    table = table_of(InvitationMonthCount)
    source = invitation_rows().subquery()
    key = [source.c[i] for i in range(4, 4 + len(INVITATION_KEYS))]
    where = [source.c[2].is_(True)]
    statement = select(*key, func.count(), func.sum(source.c[3]))
    _refill(session, table, INVITATION_KEYS, ("invited", "examined"), statement, key, where, source.c[4], provinces)


def _refill(
    session: Session,
    table: Any,
    keys: Sequence[str],
    sums: Sequence[str],
    statement: Rows,
    key: list[Any],
    where: list[Any],
    province: Any,
    provinces: Sequence[str] | None,
) -> None:
    if provinces is None:
        session.execute(delete(table))
        session.execute(table.insert().from_select([*keys, *sums], statement.where(*where).group_by(*key)))
        return
    for part in chunked(list(provinces), CHUNK):
        session.execute(delete(table).where(table.c.province.in_(part)))
        session.execute(table.insert().from_select([*keys, *sums], statement.where(*where, province.in_(part)).group_by(*key)))


# --- which part of a period the aggregates answer -------------------------------------------------------


@dataclass(frozen=True)
class PeriodParts:
    """A period as whole months (`months`: first and last YYYY-MM, or None) and the days around them (`edges`)."""

    months: tuple[str, str] | None
    edges: list[tuple[date, date]]


def split_period(start: date, end: date) -> PeriodParts:
    """The whole calendar months within [start, end] (answered by the aggregates) and the days outside them
    (answered by the facts)."""
    first = start if start.day == 1 else next_month(start)
    after = end + timedelta(days=1)
    last_end = end if after.day == 1 else after.replace(day=1) - timedelta(days=1)
    if first > last_end:
        return PeriodParts(None, [(start, end)])
    edges = [(a, b) for a, b in ((start, first - timedelta(days=1)), (last_end + timedelta(days=1), end)) if a <= b]
    return PeriodParts((month_of(first), month_of(last_end)), edges)
