"""The board reports' own statements: issued reports the caller may see, and the convalescence section's
trips and registrations. The figures the report shares with the dashboard come from `dashboard.queries`."""

import uuid
from datetime import date

from sqlalchemy import ColumnElement, false, func, or_, select
from sqlmodel import col

from contracts.api.reporting import UnitBasis
from contracts.scope import Principal
from reporting.access import in_scope, visible_units
from reporting.facts import Rows, attributed_to
from reporting.tables import ConvalescenceRegistrationFact, ConvalescenceTripFact
from reporting.tables import IssuedReport as IssuedRow
from servicekit.scope import within_unit

# --- issued reports ---------------------------------------------------------------------------------


def _issued_visible(principal: Principal) -> ColumnElement[bool]:
    """A board's issued reports are read (or counted) by grants on the board's unit or above it: the SQL
    twin of `servicekit.scope.sees_board` with the READ or AGGREGATE action."""
    clauses = [within_unit(col(IssuedRow.board_unit), grant) for grant in visible_units(principal)]
    return or_(*clauses) if clauses else false()


def issued_report(principal: Principal, report_id: uuid.UUID) -> Rows:
    return select(IssuedRow).where(col(IssuedRow.report_id) == report_id, _issued_visible(principal))


def issued_reports_of(principal: Principal, board_unit: str) -> Rows:
    """The board's issued reports, latest first."""
    return (
        select(IssuedRow)
        .where(col(IssuedRow.board_unit) == board_unit, _issued_visible(principal))
        .order_by(col(IssuedRow.issued_at).desc())
    )


# --- convalescence ----------------------------------------------------------------------------------


def _ancestors_and_self(unit: str) -> list[str]:
    parts = unit.split(".")
    return [".".join(parts[:n]) for n in range(1, len(parts) + 1)]


def trips_starting(unit: str, start: date, end: date) -> Rows:
    """Trips of a board at, above or below the unit that start in the period (a board's published trips
    are no cadre's data; which cadres went on them is `registrations_in_scope`)."""
    trip = ConvalescenceTripFact
    return (
        select(trip)
        .where(
            col(trip.starts_on).between(start, end),
            or_(col(trip.board_unit).in_(_ancestors_and_self(unit)), within_unit(col(trip.board_unit), unit)),
        )
        .order_by(col(trip.starts_on), col(trip.trip_id))
    )


def trips_with_ids(trip_ids: list[uuid.UUID]) -> Rows:
    """Trips named by registrations in scope: a cadre counted here may have gone on another board's trip (its
    unit then mapped onto today's, or its board since merged)."""
    trip = ConvalescenceTripFact
    return select(trip).where(col(trip.trip_id).in_(trip_ids)).order_by(col(trip.starts_on), col(trip.trip_id))


def _registrations_in_scope(
    principal: Principal, unit: str, start: date, end: date, basis: UnitBasis
) -> list[ColumnElement[bool]]:
    reg = ConvalescenceRegistrationFact
    unit_column, province_column = attributed_to(reg, basis)
    return [
        in_scope(principal, unit, unit_column, col(reg.tier), province_column),
        col(reg.trip_starts_on).between(start, end),
    ]


def registrations_by_trip(principal: Principal, unit: str, start: date, end: date, basis: UnitBasis) -> Rows:
    """(trip, status, registrations) of in-scope cadres on trips starting in the period."""
    reg = ConvalescenceRegistrationFact
    return (
        select(col(reg.trip_id), col(reg.status), func.count())
        .where(*_registrations_in_scope(principal, unit, start, end, basis))
        .group_by(col(reg.trip_id), col(reg.status))
    )


def registrations_counted(principal: Principal, unit: str, start: date, end: date, basis: UnitBasis) -> Rows:
    """The same registrations counted on their own: what the checks compare the parts with."""
    reg = ConvalescenceRegistrationFact
    return select(func.count()).select_from(reg).where(*_registrations_in_scope(principal, unit, start, end, basis))
