"""Where every convalescence query starts: rules and trips of the boards the caller sees, registrations of the
cadres it reads, and who is eligible for a trip."""

import uuid
from datetime import date

from sqlalchemy import ColumnElement, and_, exists, func
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from contracts.api.care import RegistrationStatus
from contracts.scope import Principal
from scheduling.access import Rows, boards_seen, cadre_ids_in_scope, cadres_in_scope, reads_cadre
from scheduling.domain import convalescence_window
from scheduling.tables import ConvalescenceRegistration, ConvalescenceRule, ConvalescenceTrip, RosterCadre
from servicekit.scope import within_unit

REGISTERED = RegistrationStatus.REGISTERED.value
Registration = ConvalescenceRegistration


# ---- rules and trips: a board's own records ----


def rules_seen(principal: Principal) -> SelectOfScalar[ConvalescenceRule]:
    return select(ConvalescenceRule).where(boards_seen(principal, col(ConvalescenceRule.board_unit)))


def latest_rule_version(board_unit: str) -> SelectOfScalar[int]:
    return select(func.max(ConvalescenceRule.version)).where(col(ConvalescenceRule.board_unit) == board_unit)


def rule_in_force(board_unit: str, on: date) -> SelectOfScalar[ConvalescenceRule]:
    """The latest version whose validity has begun on that date."""
    return (
        select(ConvalescenceRule)
        .where(col(ConvalescenceRule.board_unit) == board_unit, col(ConvalescenceRule.valid_from) <= on)
        .order_by(col(ConvalescenceRule.valid_from).desc(), col(ConvalescenceRule.version).desc())
        .limit(1)
    )


def trips_seen(principal: Principal) -> SelectOfScalar[ConvalescenceTrip]:
    return select(ConvalescenceTrip).where(boards_seen(principal, col(ConvalescenceTrip.board_unit)))


# ---- who may go: roster cadres, by the trip's rule ----


def _went_elsewhere(trip: ConvalescenceTrip, rule: ConvalescenceRule) -> ColumnElement[bool]:
    """The roster cadre holds a registration on another trip within the rule's period around this one."""
    lower, upper = convalescence_window(trip.starts_on, rule.interval_years)
    other = aliased(Registration, name="other")
    return exists().where(
        col(other.cadre_id) == col(RosterCadre.cadre_id),
        col(other.status) == REGISTERED,
        col(other.trip_id) != trip.id,
        col(other.trip_starts_on) > lower,
        col(other.trip_starts_on) < upper,
    )


def eligible_now(trip: ConvalescenceTrip, rule: ConvalescenceRule) -> ColumnElement[bool]:
    return and_(
        within_unit(col(RosterCadre.managing_unit), trip.board_unit),
        col(RosterCadre.tier).in_(rule.tiers),
        col(RosterCadre.status).in_(rule.statuses),
        ~_went_elsewhere(trip, rule),
    )


def _registered_here(trip: ConvalescenceTrip) -> ColumnElement[bool]:
    return exists().where(
        col(Registration.cadre_id) == col(RosterCadre.cadre_id),
        col(Registration.trip_id) == trip.id,
        col(Registration.status) == REGISTERED,
    )


def eligible_not_registered(
    principal: Principal, trip: ConvalescenceTrip, rule: ConvalescenceRule
) -> SelectOfScalar[RosterCadre]:
    """Cadres in the caller's scope who could still be registered for the trip, by name."""
    return (
        cadres_in_scope(principal)
        .where(eligible_now(trip, rule), ~_registered_here(trip))
        .order_by(col(RosterCadre.full_name), col(RosterCadre.cadre_id))
    )


def eligible_count(trip: ConvalescenceTrip, rule: ConvalescenceRule) -> Rows:
    """The trip's figure, whatever the caller's scope: eligible now, plus the registered who no longer are
    (e.g. gone up a tier). Narrowed by the board's unit first."""
    now = select(func.count()).select_from(RosterCadre).where(eligible_now(trip, rule))
    registered_not_eligible = (
        select(func.count())
        .select_from(RosterCadre)
        .join(Registration, col(Registration.cadre_id) == col(RosterCadre.cadre_id))
        .where(col(Registration.trip_id) == trip.id, col(Registration.status) == REGISTERED, ~eligible_now(trip, rule))
    )
    return sa_select(now.scalar_subquery() + registered_not_eligible.scalar_subquery())


def registered_count(trip_id: uuid.UUID) -> SelectOfScalar[int]:
    return (
        select(func.count())
        .select_from(Registration)
        .where(col(Registration.trip_id) == trip_id, col(Registration.status) == REGISTERED)
    )


# ---- registrations ----


def registrations_in_scope(principal: Principal) -> SelectOfScalar[ConvalescenceRegistration]:
    """Registrations of the cadres the caller reads."""
    return select(Registration).where(col(Registration.cadre_id).in_(cadre_ids_in_scope(principal)))


def registrations_with_cadres(principal: Principal, trip_id: uuid.UUID) -> Rows:
    """(registration, cadre) of a trip, for the cadres the caller reads, by name."""
    return (
        sa_select(Registration, RosterCadre)
        .join(RosterCadre, col(RosterCadre.cadre_id) == col(Registration.cadre_id))
        .where(
            col(Registration.trip_id) == trip_id,
            reads_cadre(principal),
        )
        .order_by(col(RosterCadre.full_name), col(Registration.id))
    )


def registration_of(trip_id: uuid.UUID, cadre_id: uuid.UUID) -> SelectOfScalar[ConvalescenceRegistration]:
    return select(Registration).where(col(Registration.trip_id) == trip_id, col(Registration.cadre_id) == cadre_id)


def other_trip_starts(cadre_id: uuid.UUID, trip_id: uuid.UUID) -> SelectOfScalar[date]:
    """When the cadre's other registered trips start (the rule's period is counted from them)."""
    return select(col(Registration.trip_starts_on)).where(
        col(Registration.cadre_id) == cadre_id, col(Registration.status) == REGISTERED, col(Registration.trip_id) != trip_id
    )


def upcoming_registrations_of(cadre_id: uuid.UUID, on: date) -> SelectOfScalar[ConvalescenceRegistration]:
    """A cadre's registrations for trips starting from `on` (a deceased or removed cadre's are cancelled)."""
    return select(Registration).where(
        col(Registration.cadre_id) == cadre_id, col(Registration.status) == REGISTERED, col(Registration.trip_starts_on) >= on
    )
