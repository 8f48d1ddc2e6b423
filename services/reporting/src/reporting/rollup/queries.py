"""The roll-up's statements: per province, the figures the central board compares, in the caller's scope
over the whole nation. With `today` the province is the cadre's current one (its latest snapshot)
instead of the one the row was recorded under."""

from datetime import date
from typing import Any

from sqlalchemy import case, distinct, func, select
from sqlmodel import col

from contracts.scope import Principal
from reporting.access import in_scope
from reporting.domain import COUNTED_STATUSES
from reporting.facts import Rows, holds_on, latest_exam_conditions
from reporting.tables import CadreFact, CadreInterval, ClinicalFact, InvitationFact, UnitFact, UnitSuccessor
from servicekit.scope import NATION


def _province(model: Any, today: bool) -> Any:
    return col(CadreFact.province) if today else col(model.province)


def _by_province(statement: Rows, model: Any, today: bool) -> Rows:
    return statement.join(CadreFact, col(CadreFact.cadre_id) == col(model.cadre_id)) if today else statement


def cadres(principal: Principal, end: date, today: bool) -> Rows:
    """(province, tier, status, cadres) under care on the period's last day."""
    interval = CadreInterval
    province = _province(interval, today)
    statement = select(province, col(interval.tier), col(interval.status), func.count()).where(
        in_scope(principal, NATION, col(interval.managing_unit), col(interval.tier)),
        holds_on(end, interval),
        col(interval.status).in_(COUNTED_STATUSES),
    )
    return _by_province(statement, interval, today).group_by(province, col(interval.tier), col(interval.status))


def invitations(principal: Principal, start: date, end: date, today: bool) -> Rows:
    """(province, invited, cadres invited, examined, cadres examined) of the appointments in the period."""
    invitation = InvitationFact
    province = _province(invitation, today)
    examined = (col(invitation.status) == "attended") | (col(invitation.exam_recorded).is_(True))
    statement = select(
        province,
        func.count(),
        func.count(distinct(col(invitation.cadre_id))),
        func.sum(case((examined, 1), else_=0)),
        func.count(distinct(case((examined, col(invitation.cadre_id)), else_=None))),
    ).where(
        in_scope(principal, NATION, col(invitation.managing_unit), col(invitation.tier)),
        col(invitation.appointment_date) >= start,
        col(invitation.appointment_date) <= end,
        col(invitation.status) != "cancelled",
    )
    return _by_province(statement, invitation, today).group_by(province)


def classifications(principal: Principal, start: date, end: date, today: bool) -> Rows:
    """(province, code, cadres) by each cadre's latest classified exam in the period."""
    record = ClinicalFact
    province = _province(record, today)
    statement = select(province, col(record.classification), func.count()).where(
        in_scope(principal, NATION, col(record.managing_unit), col(record.tier)), *latest_exam_conditions(start, end)
    )
    return _by_province(statement, record, today).group_by(province, col(record.classification))


def activity(principal: Principal, start: date, end: date, today: bool) -> Rows:
    """(province, kind, referral kind, records, cadres) of the live records in the period."""
    record = ClinicalFact
    province = _province(record, today)
    statement = select(
        province, col(record.kind), col(record.referral_kind), func.count(), func.count(distinct(col(record.cadre_id)))
    ).where(
        in_scope(principal, NATION, col(record.managing_unit), col(record.tier)),
        col(record.withdrawn).is_(False),
        col(record.occurred_on) >= start,
        col(record.occurred_on) <= end,
    )
    return _by_province(statement, record, today).group_by(province, col(record.kind), col(record.referral_kind))


def successors() -> Rows:
    """Reorganisations' mappings (units, not cadres: no scope), first new path first."""
    return select(UnitSuccessor).order_by(col(UnitSuccessor.new_path))


def units_named(paths: list[str]) -> Rows:
    return select(UnitFact).where(col(UnitFact.path).in_(paths))
