"""The roll-up's statements: per province, the figures the central board compares, in the caller's scope
over the whole nation. Every row counts under the province of its cadre's unit on the row's date: as the
units stood then, or that unit mapped onto today's (`basis`; both stored on the rows)."""

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import case, distinct, func, select, union
from sqlmodel import col

from contracts.api.reporting import UnitBasis
from contracts.scope import Principal
from reporting.access import in_scope
from reporting.domain import month_of
from reporting.facts import Rows, attributed_to, latest_exam_conditions
from reporting.headcounts import queries as headcounts
from reporting.tables import ClinicalFact, InvitationFact, InvitationMonthCount, RecordMonthCount, UnitFact, UnitVersion
from servicekit.scope import NATION


def _in_scope(principal: Principal, model: Any, basis: UnitBasis) -> Any:
    """In the caller's scope on the basis asked: today's unit is what a board today may see the past of."""
    return in_scope(principal, NATION, attributed_to(model, basis)[0], col(model.tier))


def cadres(principal: Principal, end: date, basis: UnitBasis) -> Rows:
    """(province, tier, status, measure, cadres) under care on the period's last day, from the headcounts."""
    return headcounts.counted_on(principal, NATION, [end], headcounts.by_province_tier_and_status, basis)


def provinces_in(start: date, end: date, basis: UnitBasis) -> Rows:
    """The provinces with records or appointments in the months the period touches, from the pre-aggregates.

    Told them, PostgreSQL reads the period's rows from each province's part of the province index, index only;
    asked for the whole nation, it reads every row of the table (a million records: three times as long).
    Every row the roll-up counts is in a pre-aggregate under its province and month, so none is left out.
    """
    months = (month_of(start), month_of(end))
    found = [
        select(attributed_to(model, basis)[1]).where(col(model.month).between(*months)).distinct()
        for model in (RecordMonthCount, InvitationMonthCount)
    ]
    return select(union(*found).subquery().c[0])


def invitations(principal: Principal, start: date, end: date, basis: UnitBasis, provinces: Sequence[str]) -> Rows:
    """(province, invited, cadres invited, examined, cadres examined) of the appointments in the period."""
    invitation = InvitationFact
    province = attributed_to(invitation, basis)[1]
    examined = (col(invitation.status) == "attended") | (col(invitation.exam_recorded).is_(True))
    return (
        select(
            province,
            func.count(),
            func.count(distinct(col(invitation.cadre_id))),
            func.sum(case((examined, 1), else_=0)),
            func.count(distinct(case((examined, col(invitation.cadre_id)), else_=None))),
        )
        .where(
            province.in_(provinces),
            _in_scope(principal, invitation, basis),
            col(invitation.appointment_date) >= start,
            col(invitation.appointment_date) <= end,
            col(invitation.status) != "cancelled",
        )
        .group_by(province)
    )


def classifications(principal: Principal, start: date, end: date, basis: UnitBasis) -> Rows:
    """(province, code, cadres) by each cadre's latest classified exam in the period."""
    record = ClinicalFact
    province = attributed_to(record, basis)[1]
    return (
        select(province, col(record.classification), func.count())
        .where(_in_scope(principal, record, basis), *latest_exam_conditions(start, end))
        .group_by(province, col(record.classification))
    )


def activity(principal: Principal, start: date, end: date, basis: UnitBasis, provinces: Sequence[str]) -> Rows:
    """(province, kind, referral kind, records, cadres) of the live records in the period."""
    record = ClinicalFact
    province = attributed_to(record, basis)[1]
    return (
        select(province, col(record.kind), col(record.referral_kind), func.count(), func.count(distinct(col(record.cadre_id))))
        .where(
            province.in_(provinces),
            _in_scope(principal, record, basis),
            col(record.withdrawn).is_(False),
            col(record.occurred_on) >= start,
            col(record.occurred_on) <= end,
        )
        .group_by(province, col(record.kind), col(record.referral_kind))
    )


def units_named(paths: list[str]) -> Rows:
    return select(UnitFact).where(col(UnitFact.path).in_(paths))


def versions_begun_by(paths: list[str], day: date) -> Rows:
    """(path, name) of the units' versions begun by `day`, oldest first: the last of each is its name then."""
    version = UnitVersion
    return (
        select(col(version.path), col(version.name))
        .where(col(version.path).in_(paths), col(version.valid_from) <= day)
        .order_by(col(version.valid_from))
    )
