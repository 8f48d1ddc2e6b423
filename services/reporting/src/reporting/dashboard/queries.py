"""The statements behind the dashboard's figures (which the board report shows too), each narrowed to the
caller's scope within the unit asked for (`access.in_scope`)."""

import uuid
from collections.abc import Collection
from datetime import date
from typing import Any

from sqlalchemy import and_, case, distinct, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import col

from contracts.api.reporting import UnitBasis
from contracts.enums import UnitLevel
from contracts.scope import Principal
from reporting.access import in_scope, visible_units
from reporting.domain import COUNTED_STATUSES
from reporting.facts import Rows, attributed_to, holds_on, latest_exam_conditions
from reporting.tables import (
    CadreFact,
    CadreInterval,
    ClinicalFact,
    ExamPlanFact,
    ExamRoundFact,
    InvitationFact,
    InvitationMonthCount,
    RecordMonthCount,
    UnitFact,
)
from servicekit.scope import within_unit

AS_THEN = UnitBasis.AS_THEN


def _in_scope(principal: Principal, unit: str, model: Any, basis: UnitBasis) -> Any:
    """Rows of a dated read model under `unit` on the reader's basis, in the caller's scope there."""
    unit_column, province_column = attributed_to(model, basis)
    return in_scope(principal, unit, unit_column, col(model.tier), province_column)


def _intervals_in_scope(principal: Principal, unit: str, basis: UnitBasis) -> Any:
    return _in_scope(principal, unit, CadreInterval, basis)


def latest_cadre_counts(principal: Principal, unit: str) -> Rows:
    """(tier, status, cadres) of the cadres' latest snapshots under `unit`."""
    unit_column, tier, status = col(CadreFact.managing_unit), col(CadreFact.tier), col(CadreFact.status)
    return (
        select(tier, status, func.count())
        .where(in_scope(principal, unit, unit_column, tier))
        .group_by(tier, status)
        .order_by(tier, status)
    )


def units_to_pick(principal: Principal) -> Rows:
    """The nation, provinces and districts (not communes) under the caller's grants, as they are today."""
    grants = visible_units(principal)
    covered = or_(*(within_unit(col(UnitFact.path), g) for g in grants))
    return (
        select(UnitFact)
        .where(covered, col(UnitFact.level) != UnitLevel.COMMUNE.value, col(UnitFact.valid_to).is_(None))
        .order_by(col(UnitFact.path))
    )


def distinct_cadres_on(principal: Principal, unit: str, day: date, basis: UnitBasis = AS_THEN) -> Rows:
    """An independent count (distinct cadres) that the report checks the sum of its rows against."""
    return select(func.count(distinct(col(CadreInterval.cadre_id)))).where(
        _intervals_in_scope(principal, unit, basis), holds_on(day), col(CadreInterval.status).in_(COUNTED_STATUSES)
    )


def coverage_cells(principal: Principal, unit: str, start: date, end: date, basis: UnitBasis = AS_THEN) -> Rows:
    """(plan, round, tier, status on the day, unit on the basis, invited, examined) of the appointments in the period."""
    interval = aliased(CadreInterval)
    invitation = InvitationFact
    unit_column, _province = attributed_to(invitation, basis)
    examined = case(
        (or_(col(invitation.status) == "attended", col(invitation.exam_recorded).is_(True)), 1),
        else_=0,
    )
    on_the_day = and_(
        col(interval.cadre_id) == col(invitation.cadre_id),
        col(interval.valid_from) <= col(invitation.appointment_date),
        or_(col(interval.valid_to).is_(None), col(interval.valid_to) > col(invitation.appointment_date)),
    )
    keys = (
        col(invitation.plan_id),
        col(invitation.round_id),
        col(invitation.tier),
        col(interval.status),
        unit_column,
    )
    return (
        select(*keys, func.count(), func.sum(examined))
        .select_from(invitation)
        .outerjoin(interval, on_the_day)
        .where(
            _in_scope(principal, unit, invitation, basis),
            col(invitation.appointment_date) >= start,
            col(invitation.appointment_date) <= end,
            col(invitation.status) != "cancelled",
        )
        .group_by(*keys)
    )


def coverage_month_cells(principal: Principal, unit: str, months: tuple[str, str], basis: UnitBasis = AS_THEN) -> Rows:
    """`coverage_cells` of whole months, from their pre-aggregate; the status '' is "no interval that day"."""
    counted = InvitationMonthCount
    unit_column = attributed_to(counted, basis)[0]
    keys = (col(counted.plan_id), col(counted.round_id), col(counted.tier), col(counted.cadre_status), unit_column)
    invited = func.sum(col(counted.invited))
    return (
        select(*keys, invited, func.sum(col(counted.examined)))
        .where(_in_scope(principal, unit, counted, basis), col(counted.month).between(*months))
        .group_by(*keys)
        .having(invited > 0)
    )


def plans(plan_ids: Collection[uuid.UUID]) -> Rows:
    """Plans are a board's published documents, not cadre rows: the cells in scope name which ones."""
    return select(ExamPlanFact).where(col(ExamPlanFact.plan_id).in_(plan_ids))


def rounds_of(plan_ids: Collection[uuid.UUID]) -> Rows:
    return select(ExamRoundFact).where(col(ExamRoundFact.plan_id).in_(plan_ids))


def classification_counts(principal: Principal, unit: str, start: date, end: date, basis: UnitBasis = AS_THEN) -> Rows:
    """(tier, code, cadres) by each cadre's latest classified exam in the period."""
    record = ClinicalFact
    return (
        select(col(record.tier), col(record.classification), func.count())
        .where(
            _in_scope(principal, unit, record, basis),
            *latest_exam_conditions(start, end),
        )
        .group_by(col(record.tier), col(record.classification))
    )


def activity_cells(principal: Principal, unit: str, start: date, end: date, basis: UnitBasis = AS_THEN) -> Rows:
    """(month, kind, referral kind, records) of the live records in the period."""
    record = ClinicalFact
    return (
        select(col(record.month), col(record.kind), col(record.referral_kind), func.count())
        .where(
            _in_scope(principal, unit, record, basis),
            col(record.withdrawn).is_(False),
            col(record.occurred_on) >= start,
            col(record.occurred_on) <= end,
        )
        .group_by(col(record.month), col(record.kind), col(record.referral_kind))
    )


def activity_month_cells(principal: Principal, unit: str, months: tuple[str, str], basis: UnitBasis = AS_THEN) -> Rows:
    """`activity_cells` of whole months, from their pre-aggregate; the referral kind '' is none."""
    counted = RecordMonthCount
    keys = (col(counted.month), col(counted.kind), col(counted.referral_kind))
    records = func.sum(col(counted.records))
    return (
        select(*keys, records)
        .where(_in_scope(principal, unit, counted, basis), col(counted.month).between(*months))
        .group_by(*keys)
        .having(records > 0)
    )
