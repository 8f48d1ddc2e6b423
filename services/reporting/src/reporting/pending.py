"""The projections' writes of one transaction, gathered and applied set-wise just before it commits.

The consumer kit applies a fetched batch (up to 2,000 events of every partition a fetch returned, each partition's
in order) in one transaction and calls a handler per event. Writing each event's rows at once costs several
round trips per event; instead the handlers record what they mean to write here
(`written_before_commit(session)`); opening that buffer registers `write_pending` as a step of the transaction's
unit of work (`servicekit.db.before_commit`), which writes everything with a handful of multi-row statements per
batch, whatever its size:

- cadre changes: one INSERT (ignoring duplicates); cadre facts: one upsert; the intervals of the cadres
  touched are recomputed together (one SELECT of their changes, one DELETE, one INSERT), and the dated rows
  of those cadres attributed again from them (`reporting.attribution`: a SELECT per read model, one
  executemany UPDATE of the rows that change);
- clinical records: one SELECT of the versions stored, their attribution on their own date, one conditional
  upsert (a later version wins, a withdrawal is final for its version) returning the rows written, their
  diagnoses replaced;
- invitations: attributed on their appointment date, one upsert of their description, status changes in one
  executemany UPDATE by key;
- `exam_recorded` of the invitations touched, recomputed from the records in one UPDATE;
- after a reorganisation, the rows of the units it maps mapped onto today's units again (one UPDATE per unit).

Every value is still decided per event and in event order (the last candidate of a record or an
invitation in the batch is the one a one-by-one application would leave); nothing in a handler reads a
table this buffer writes, except through `known_cadre` (the buffered state first, then the database).
If the batch fails, the kit rolls it back (the step never runs) and applies it one event per transaction:
the step then runs once per event, with the same result.
"""

from __future__ import annotations

import functools
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date
from typing import Any

from sqlalchemy import Table, and_, bindparam, delete, exists, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlmodel import col

from contracts.enums import EncounterKind
from contracts.envelope import EventEnvelope
from reporting import preaggregates
from reporting.attribution import attribute_rows, mapped_today, reattribute_cadres, remap_units, successors_of
from reporting.domain import Change, intervals_of, province_of
from reporting.tables import CadreChange, CadreFact, CadreInterval, ClinicalFact, DiagnosisFact, InvitationFact
from servicekit.db import before_commit
from servicekit.sql import IN_LIST, chunked, table_of

KEY = "reporting.pending"


@dataclass
class RecordCandidate:
    row: dict[str, Any]
    groups: list[str]

    def supersedes(self, other: RecordCandidate) -> bool:
        """The rule the stored row follows too: a later version wins; a withdrawal is final for its version."""
        mine, theirs = self.row, other.row
        return bool(
            theirs["version"] < mine["version"]
            or (theirs["version"] == mine["version"] and (not theirs["withdrawn"] or mine["withdrawn"]))
        )


@dataclass
class Pending:
    cadre_changes: list[dict[str, Any]] = field(default_factory=list)
    cadre_facts: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    records: dict[uuid.UUID, RecordCandidate] = field(default_factory=dict)
    invitations: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    statuses: dict[uuid.UUID, tuple[str, date]] = field(default_factory=dict)
    # a status change that came before its invitation's (re)issue in this batch applies before the upsert:
    # to a row stored earlier, as one-by-one application would (an invitation not yet stored stays "invited")
    earlier_statuses: dict[uuid.UUID, tuple[str, date]] = field(default_factory=dict)
    reattribute: set[uuid.UUID] = field(default_factory=set)  # cadres whose rows were written outside this buffer
    reorganised: set[str] = field(default_factory=set)  # old paths of the reorganisations seen
    exam_keys: set[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=set)  # (cadre, round) to recompute
    figures_kept: bool = True  # False in a rebuild's replay: the figures are counted from the facts at its end

    def cadre(self, change: dict[str, Any], fact: dict[str, Any]) -> None:
        self.cadre_changes.append(change)
        self.cadre_facts[fact["cadre_id"]] = fact

    def record(self, candidate: RecordCandidate) -> None:
        record_id = candidate.row["record_id"]
        held = self.records.get(record_id)
        if held is None or candidate.supersedes(held):
            self.records[record_id] = candidate

    def invitation(self, row: dict[str, Any]) -> None:
        invitation_id = row["invitation_id"]
        if invitation_id in self.statuses:
            self.earlier_statuses[invitation_id] = self.statuses.pop(invitation_id)
        self.invitations[invitation_id] = row
        self.exam_keys.add((row["cadre_id"], row["round_id"]))

    def status(self, invitation_id: uuid.UUID, status: str, day: date) -> None:
        self.statuses[invitation_id] = (status, day)

    def __bool__(self) -> bool:
        return bool(
            self.cadre_changes
            or self.cadre_facts
            or self.records
            or self.invitations
            or self.statuses
            or self.reattribute
            or self.reorganised
        )


def written_before_commit(session: AsyncSession) -> Pending:
    """This transaction's buffer; the first call opens it and has `write_pending` run before the commit."""
    found = session.info.get(KEY)
    if found is None:
        found = session.info[KEY] = Pending()
        before_commit(session, KEY, write_pending)
    assert isinstance(found, Pending)
    return found


async def figures_counted_at_the_end(session: AsyncSession, _batch: Sequence[tuple[EventEnvelope, Any]]) -> None:
    """The rebuild's consumer step: its transactions write the facts alone, and the figures' pre-aggregates are
    counted once from them when the replay is done (`preaggregates.refill`), not kept event by event."""
    written_before_commit(session).figures_kept = False


async def known_cadre(session: AsyncSession, cadre_id: uuid.UUID) -> tuple[str, str, str] | None:
    """(managing unit, tier, status) of a cadre as this transaction leaves it so far, or None if unknown."""
    held = written_before_commit(session).cadre_facts.get(cadre_id)
    if held is not None:
        return held["managing_unit"], held["tier"], held["status"]
    row = (
        await session.execute(
            select(col(CadreFact.managing_unit), col(CadreFact.tier), col(CadreFact.status)).where(
                col(CadreFact.cadre_id) == cadre_id
            )
        )
    ).first()
    return (str(row[0]), str(row[1]), str(row[2])) if row is not None else None


# --- writing --------------------------------------------------------------------------------------------


async def write_pending(session: AsyncSession) -> None:
    """The transaction's buffered rows, written in it (a before-commit step of the unit of work)."""
    pending = session.info.pop(KEY, None)
    if pending:
        await session.run_sync(write, pending)


def write(session: Session, pending: Pending) -> None:
    dialect = session.get_bind().dialect.name
    # the pre-aggregates follow every row written here (but in a rebuild's replay, see `figures_counted_at_the_end`)
    seen = preaggregates.before_write(session, pending) if pending.figures_kept else None
    if pending.cadre_changes:
        session.execute(_insert(dialect, table_of(CadreChange)).on_conflict_do_nothing(), pending.cadre_changes)
    if pending.cadre_facts:
        session.execute(_upsert(dialect, table_of(CadreFact), ("cadre_id",)), list(pending.cadre_facts.values()))
        _recompute_intervals(session, list(pending.cadre_facts))
    reattribute_cadres(session, sorted({*pending.cadre_facts, *pending.reattribute}, key=str))
    if pending.records:
        _write_records(session, dialect, pending)
    _set_statuses(session, pending.earlier_statuses)
    if pending.invitations:
        keep = ("invitation_id", "status", "status_on", "exam_recorded")
        invitations = list(pending.invitations.values())
        attribute_rows(session, invitations, "appointment_date")
        session.execute(_upsert(dialect, table_of(InvitationFact), keep), invitations)
    _set_statuses(session, pending.statuses)
    if pending.exam_keys:
        _recompute_exam_recorded(session, pending.exam_keys)
    if pending.reorganised:
        remap_units(session, pending.reorganised)
    if seen is not None:
        preaggregates.after_write(session, pending, seen)


def _set_statuses(session: Session, statuses: dict[uuid.UUID, tuple[str, date]]) -> None:
    """One executemany UPDATE by key: a batch's status changes fall on many days (one statement per day cost a
    round trip and a statement compilation each, a quarter of a rebuild's time)."""
    if not statuses:
        return
    table = table_of(InvitationFact)
    statement = (
        table.update()
        .where(table.c.invitation_id == bindparam("k_invitation_id"))
        .values(status=bindparam("v_status"), status_on=bindparam("v_status_on"))
    )
    session.execute(
        statement,
        [{"k_invitation_id": i, "v_status": status, "v_status_on": day} for i, (status, day) in statuses.items()],
    )


def _insert(dialect: str, table: Table) -> Any:
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


@functools.cache
def _upsert(dialect: str, table: Table, keep: tuple[str, ...]) -> Any:
    """INSERT ... ON CONFLICT (primary key) DO UPDATE of every column but `keep` (the key among them), for many rows."""
    statement = _insert(dialect, table)
    keys = [c.name for c in table.primary_key.columns]
    return statement.on_conflict_do_update(
        index_elements=keys, set_={c.name: statement.excluded[c.name] for c in table.columns if c.name not in {*keep, *keys}}
    )


# columns, not entities: building an ORM object per row cost more than the query
_CHANGE_COLUMNS = [
    col(CadreChange.cadre_id),
    col(CadreChange.event_id),
    col(CadreChange.effective_on),
    col(CadreChange.recorded_at),
    col(CadreChange.managing_unit),
    col(CadreChange.tier),
    col(CadreChange.status),
]


def _recompute_intervals(session: Session, cadre_ids: Sequence[uuid.UUID]) -> None:
    """Each touched cadre's intervals, from all its dated changes: order-proof, as `intervals_of` is."""
    changes: dict[uuid.UUID, list[Change]] = defaultdict(list)
    for part in chunked(cadre_ids):
        for r in session.execute(select(*_CHANGE_COLUMNS).where(col(CadreChange.cadre_id).in_(part))):
            order = (r.recorded_at.astimezone(UTC).isoformat(), str(r.event_id))
            changes[r.cadre_id].append(Change(r.effective_on, order, r.managing_unit, r.tier, r.status))
        session.execute(delete(CadreInterval).where(col(CadreInterval.cadre_id).in_(part)))
    histories = {cadre_id: intervals_of(found) for cadre_id, found in changes.items()}
    successors = successors_of(session, {i.managing_unit for found in histories.values() for i in found})
    rows = [
        {
            "cadre_id": cadre_id,
            "managing_unit": i.managing_unit,
            "province": province_of(i.managing_unit),
            "tier": i.tier,
            "status": i.status,
            "valid_from": i.valid_from,
            "valid_to": i.valid_to,
            "today_unit": (today := mapped_today(i.managing_unit, history, successors)),
            "today_province": province_of(today),
        }
        for cadre_id, history in histories.items()
        for i in history
    ]
    if rows:
        session.execute(table_of(CadreInterval).insert(), rows)


def _write_records(session: Session, dialect: str, pending: Pending) -> None:
    ids = list(pending.records)
    stored: dict[uuid.UUID, tuple[uuid.UUID, uuid.UUID | None]] = {}
    for part in chunked(ids):
        rows = session.execute(
            select(col(ClinicalFact.record_id), col(ClinicalFact.cadre_id), col(ClinicalFact.round_id)).where(
                col(ClinicalFact.record_id).in_(part)
            )
        )
        stored.update({record_id: (cadre_id, round_id) for record_id, cadre_id, round_id in rows})
    statement = _record_upsert(dialect)
    candidates = [pending.records[i].row for i in ids]
    attribute_rows(session, candidates, "occurred_on")
    written = set(session.execute(statement, candidates).scalars())
    replaced = [i for i in ids if i in written and i in stored]
    for part in chunked(replaced):
        session.execute(delete(DiagnosisFact).where(col(DiagnosisFact.record_id).in_(part)))
    diagnoses = [
        {
            "record_id": record_id,
            "chronic_group": group,
            "cadre_id": row["cadre_id"],
            "occurred_on": row["occurred_on"],
            **{k: row[k] for k in ("managing_unit", "province", "tier", "today_unit", "today_province")},
        }
        for record_id in ids
        if record_id in written and not (row := pending.records[record_id].row)["withdrawn"]
        for group in pending.records[record_id].groups
    ]
    if diagnoses:
        session.execute(_insert(dialect, table_of(DiagnosisFact)).on_conflict_do_nothing(), diagnoses)
    for record_id in written:
        row = pending.records[record_id].row
        if row["round_id"] is not None:
            pending.exam_keys.add((row["cadre_id"], row["round_id"]))
        cadre_id, round_id = stored.get(record_id, (row["cadre_id"], None))
        if round_id is not None:
            pending.exam_keys.add((cadre_id, round_id))  # the round it counted for before an amendment


@functools.cache
def _record_upsert(dialect: str) -> Any:
    """A record's fact row, unless the stored one is later (built once: every batch of records runs it)."""
    table = table_of(ClinicalFact)
    statement = _insert(dialect, table)
    held, incoming = table.c, statement.excluded
    return statement.on_conflict_do_update(
        index_elements=["record_id"],
        set_={c.name: incoming[c.name] for c in table.columns if c.name != "record_id"},
        where=(held.version < incoming.version) | ((held.version == incoming.version) & (~held.withdrawn | incoming.withdrawn)),
    ).returning(held.record_id)


def _recompute_exam_recorded(session: Session, keys: Iterable[tuple[uuid.UUID, uuid.UUID]]) -> None:
    """`exam_recorded` of the invitations of these (cadre, round) pairs, from the live periodic exams stored."""
    invitation, record = InvitationFact, ClinicalFact
    recorded = exists().where(
        col(record.cadre_id) == col(invitation.cadre_id),
        col(record.round_id) == col(invitation.round_id),
        col(record.kind) == EncounterKind.PERIODIC_EXAM.value,
        col(record.withdrawn).is_(False),
    )
    pairs = sorted(keys, key=str)
    for part in chunked(pairs, IN_LIST // 2):
        cadres, rounds = {c for c, _ in part}, {r for _, r in part}
        session.execute(
            update(invitation)
            .where(and_(col(invitation.cadre_id).in_(cadres), col(invitation.round_id).in_(rounds)))
            .values(exam_recorded=recorded)
        )
