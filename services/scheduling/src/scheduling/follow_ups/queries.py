"""Where every follow-up query starts: follow-ups of cadres the caller's grants cover. Scope follows the roster
(every query joins the cadre), so a transfer or a new tier moves a cadre's follow-ups with it."""

import uuid
from datetime import date

from sqlalchemy import and_, or_
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from contracts.api.scheduling import FollowUpStatus
from contracts.scope import Principal
from scheduling.access import Rows, reads_cadre
from scheduling.tables import FollowUp, RosterCadre
from servicekit.scope import within_unit

F = FollowUpStatus


def follow_ups_in_scope(principal: Principal) -> Rows:
    """(follow-up, cadre) of the cadres the caller reads."""
    return (
        select(FollowUp, RosterCadre)
        .join(RosterCadre, col(RosterCadre.cadre_id) == col(FollowUp.cadre_id))
        .where(reads_cadre(principal))
    )


def filtered(
    principal: Principal,
    *,
    today: date,
    status: FollowUpStatus | None = None,
    due_before: date | None = None,
    due_after: date | None = None,
    unit: str | None = None,
    cadre_id: uuid.UUID | None = None,
) -> Rows:
    """A board's list: soonest due first (the most overdue at the top), those without a date last."""
    query = follow_ups_in_scope(principal)
    due = col(FollowUp.due_on)
    if status is F.OVERDUE:
        query = query.where(col(FollowUp.state) == F.OPEN.value, due < today)
    elif status is F.OPEN:
        query = query.where(col(FollowUp.state) == F.OPEN.value, or_(due.is_(None), due >= today))
    elif status is not None:
        query = query.where(col(FollowUp.state) == status.value)
    if due_before is not None:
        query = query.where(due < due_before)
    if due_after is not None:
        query = query.where(due > due_after)
    if unit:
        query = query.where(within_unit(col(RosterCadre.managing_unit), unit))
    if cadre_id is not None:
        query = query.where(col(FollowUp.cadre_id) == cadre_id)
    return query.order_by(due.is_(None), due, col(RosterCadre.full_name), col(FollowUp.id))


def of_record(record_id: uuid.UUID) -> SelectOfScalar[FollowUp]:
    return select(FollowUp).where(col(FollowUp.record_id) == record_id)


def open_of_cadre(cadre_id: uuid.UUID) -> SelectOfScalar[FollowUp]:
    return select(FollowUp).where(and_(col(FollowUp.cadre_id) == cadre_id, col(FollowUp.state) == F.OPEN.value))
