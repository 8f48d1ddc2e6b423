"""The audit trail's statements: what an auditor may read (records about cadres its grants cover, or by
people of its units), the chain head every append locks, and the chain in sequence order."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Delete, bindparam, delete, exists, false, func, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from contracts.enums import Action
from contracts.scope import Principal
from gateway.tables import AuditChainHead, AuditRecordRow, AuditSubjectRow, CadreScope
from servicekit.scope import readable, within_unit

HEAD_ID = 1


def visible_to(auditor: Principal) -> ColumnElement[bool]:
    """Records about cadres the auditor's unit manages, or by actors who belong to its unit."""
    by_subject = exists(
        select(col(AuditSubjectRow.seq))
        .join(CadreScope, col(CadreScope.cadre_id) == col(AuditSubjectRow.cadre_id))
        .where(
            col(AuditSubjectRow.seq) == col(AuditRecordRow.seq),
            readable(auditor, col(CadreScope.managing_unit), col(CadreScope.tier)),
        )
    )
    units = {g.unit_path for g in auditor.grants if Action.READ in g.actions}
    by_actor = or_(*(within_unit(col(AuditRecordRow.actor_unit), unit) for unit in sorted(units))) if units else false()
    return or_(by_subject, by_actor)


def records_visible_to(
    auditor: Principal,
    *,
    cadre_id: uuid.UUID | None = None,
    actor: str | None = None,
    outcome: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> SelectOfScalar[AuditRecordRow]:
    """The auditor's records, filtered, newest first."""
    query = select(AuditRecordRow).where(visible_to(auditor))
    if cadre_id is not None:
        query = query.where(
            exists(
                select(col(AuditSubjectRow.seq)).where(
                    col(AuditSubjectRow.seq) == col(AuditRecordRow.seq), col(AuditSubjectRow.cadre_id) == cadre_id
                )
            )
        )
    if actor:
        query = query.where(col(AuditRecordRow.actor) == actor)
    if outcome:
        query = query.where(col(AuditRecordRow.outcome) == outcome)
    if since:
        query = query.where(col(AuditRecordRow.at) >= since)
    if until:
        query = query.where(col(AuditRecordRow.at) < until)
    return query.order_by(col(AuditRecordRow.seq).desc())


def locked_head() -> SelectOfScalar[AuditChainHead]:
    """The one chain-head row, locked: appends and purges of every process take turns on it."""
    return select(AuditChainHead).where(col(AuditChainHead.id) == HEAD_ID).with_for_update()


HEAD_TABLE = AuditChainHead.__table__  # type: ignore[attr-defined]
# Built once: each append's transaction runs these (Core, not the ORM: its unit of work cost more than the statements)
LOCKED_HEAD_ROW = sa_select(HEAD_TABLE.c.last_seq, HEAD_TABLE.c.last_hash).where(HEAD_TABLE.c.id == HEAD_ID).with_for_update()
MOVE_HEAD = (
    update(HEAD_TABLE).where(HEAD_TABLE.c.id == HEAD_ID).values(last_seq=bindparam("new_seq"), last_hash=bindparam("new_hash"))
)


def chained_entries(entry_ids: Sequence[str]) -> SelectOfScalar[str | None]:
    """Which of these journal entries are in the chain already."""
    return select(col(AuditRecordRow.entry_id)).where(col(AuditRecordRow.entry_id).in_(entry_ids))


def chain_segment(after: int, through: int, size: int) -> SelectOfScalar[AuditRecordRow]:
    """The next records of the chain in sequence order, for verification."""
    return (
        select(AuditRecordRow)
        .where(col(AuditRecordRow.seq) > after, col(AuditRecordRow.seq) <= through)
        .order_by(col(AuditRecordRow.seq))
        .limit(size)
    )


def last_older_than(cutoff: datetime) -> SelectOfScalar[Any]:
    return select(func.max(col(AuditRecordRow.seq))).where(col(AuditRecordRow.at) < cutoff)


def count_through(seq: int) -> SelectOfScalar[int]:
    return select(func.count()).select_from(AuditRecordRow).where(col(AuditRecordRow.seq) <= seq)


def purge_through(seq: int) -> tuple[Delete, Delete]:
    """The chain's prefix up to `seq`: the subject index first, then the records."""
    return (
        delete(AuditSubjectRow).where(col(AuditSubjectRow.seq) <= seq),
        delete(AuditRecordRow).where(col(AuditRecordRow.seq) <= seq),
    )
