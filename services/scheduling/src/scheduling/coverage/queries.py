"""Where every coverage query starts: the invitations whose counts the caller may see."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Table, func, or_, select
from sqlmodel import col
from sqlmodel import select as select_model
from sqlmodel.sql.expression import SelectOfScalar

from contracts.api.reporting import UnitBasis
from contracts.api.scheduling import CoverageDimension, InvitationStatus
from contracts.enums import Action
from contracts.scope import Principal
from scheduling.access import Rows
from scheduling.tables import ExamPlan, Invitation, InvitationChange, RosterCadre, RosterHistory, RosterSuccession, RoundGroup
from servicekit.scope import scope_filter, within_unit
from servicekit.sql import table_of

S = InvitationStatus
D = CoverageDimension


@dataclass(frozen=True)
class CoverageFilter:
    plan_id: uuid.UUID | None
    year: int | None
    unit: str | None
    round_number: int | None
    as_of: date | None


def counted_in_scope(principal: Principal, inv: Table, unit: ColumnElement[str] | None = None) -> ColumnElement[bool]:
    """Counts: the invitations the caller may read, or may see as de-identified aggregates (by the unit they count under)."""
    unit, tier = inv.c.managing_unit if unit is None else unit, inv.c.tier
    return or_(scope_filter(principal, Action.READ, unit, tier), scope_filter(principal, Action.AGGREGATE, unit, tier))


def _status_as_of(inv: Table, as_of: date) -> ColumnElement[str]:
    """The status as of the date: the latest change on or before it (an index lookup per invitation), else invited."""
    changes = table_of(InvitationChange)
    latest = (
        select(changes.c.status)
        .where(changes.c.invitation_id == inv.c.id, changes.c.effective_date <= as_of)
        .order_by(changes.c.effective_date.desc(), changes.c.id.desc())
        .limit(1)
        .correlate(inv)
        .scalar_subquery()
    )
    return func.coalesce(latest, S.INVITED.value)


def unit_on_appointment(inv: Table) -> ColumnElement[str]:
    """The unit the cadre was managed by on the appointment date (the roster's history; the last recorded of a
    day holds it); before its first known state, its first; with no history, the invitation's own unit."""
    history = table_of(RosterHistory)
    of_cadre = history.c.cadre_id == inv.c.cadre_id
    on_the_day = (
        select(history.c.managing_unit)
        .where(of_cadre, history.c.valid_from <= inv.c.appointment_date)
        .order_by(history.c.valid_from.desc(), history.c.id.desc())
        .limit(1)
        .correlate(inv)
        .scalar_subquery()
    )
    first = (
        select(history.c.managing_unit)
        .where(of_cadre)
        .order_by(history.c.valid_from, history.c.id)
        .limit(1)
        .correlate(inv)
        .scalar_subquery()
    )
    return func.coalesce(on_the_day, first, inv.c.managing_unit)


def current_unit(inv: Table) -> ColumnElement[str]:
    """The cadre's unit now: at a split since the appointment, the part it went to."""
    cadre = table_of(RosterCadre)
    now = select(cadre.c.managing_unit).where(cadre.c.cadre_id == inv.c.cadre_id).correlate(inv).scalar_subquery()
    return func.coalesce(now, inv.c.managing_unit)


def successions() -> SelectOfScalar[RosterSuccession]:
    return select_model(RosterSuccession)


def dimension_columns(inv: Table) -> dict[CoverageDimension, Any]:
    """The invitation column of every dimension but the unit (units are rolled up in Python)."""
    return {
        D.ROUND: inv.c.round_number,
        D.GROUP: inv.c.group_id,
        D.FACILITY: inv.c.facility,
        D.TIER: inv.c.tier,
        D.STATUS: inv.c.cadre_status,
    }


def counts(
    principal: Principal, wanted: Sequence[CoverageDimension], where: CoverageFilter, basis: UnitBasis | None = None
) -> Rows:
    """(unit, *wanted dimensions, status, count): the status (as of the date) is computed once per invitation,
    then counted. Superseded invitations count no more (their re-invitation does).

    The unit is the invitation's own (the board that holds it now: the default), or, with a basis, the cadre's
    unit on the appointment date. On the `today` basis each row also carries its tier and the cadre's unit now,
    and the caller maps the unit onto today's and applies scope and the unit there (`CoverageRow` of today's
    unit): SQL cannot follow successions, and a split sends each cadre to its own part."""
    inv = table_of(Invitation)
    unit = inv.c.managing_unit if basis is None else unit_on_appointment(inv)
    mapped = basis is UnitBasis.TODAY
    status: ColumnElement[str] = inv.c.status
    conditions: list[ColumnElement[bool]] = [inv.c.superseded_on.is_(None)]
    if where.as_of is not None:
        status = _status_as_of(inv, where.as_of)
        conditions = [inv.c.issued_on <= where.as_of, or_(inv.c.superseded_on.is_(None), inv.c.superseded_on > where.as_of)]
    columns = [dimension_columns(inv)[d] for d in wanted]
    extra = [inv.c.tier.label("scope_tier"), current_unit(inv).label("current_unit")] if mapped else []
    rows_of = select(unit.label("managing_unit"), *extra, *columns, status.label("status")).where(*conditions)
    if not mapped:
        rows_of = rows_of.where(counted_in_scope(principal, inv, unit))
    if where.plan_id is not None:
        rows_of = rows_of.where(inv.c.plan_id == where.plan_id)
    if where.unit and not mapped:
        rows_of = rows_of.where(within_unit(unit, where.unit))
    if where.round_number is not None:
        rows_of = rows_of.where(inv.c.round_number == where.round_number)
    if where.year is not None:
        rows_of = rows_of.where(inv.c.plan_id.in_(select(col(ExamPlan.id)).where(col(ExamPlan.year) == where.year)))
    each = rows_of.subquery("each")
    grouped = [each.c[c.name] for c in (*extra, *columns)]
    return select(each.c.managing_unit, *grouped, each.c.status, func.count()).group_by(
        each.c.managing_unit, *grouped, each.c.status
    )


def groups(plan_id: uuid.UUID | None) -> SelectOfScalar[RoundGroup]:
    """The groups named in a report by=group (of the plan, or of every plan)."""
    return select_model(RoundGroup).where(col(RoundGroup.plan_id) == plan_id) if plan_id else select_model(RoundGroup)
