"""Where every clinic-day query starts: the sessions of the boards the caller sees, and the bookings of the
cadres it reads."""

import uuid
from datetime import date

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from contracts.api.care import RegistrationStatus
from contracts.scope import Principal
from scheduling.access import Rows, boards_seen, cadre_ids_in_scope, reads_cadre
from scheduling.tables import ClinicBooking, ClinicSession, RosterCadre

BOOKED = RegistrationStatus.REGISTERED.value


def sessions_seen(principal: Principal) -> SelectOfScalar[ClinicSession]:
    return select(ClinicSession).where(boards_seen(principal, col(ClinicSession.board_unit)))


def sessions_of_board(board_unit: str) -> SelectOfScalar[ClinicSession]:
    """A board's days, whoever sees them: a board holds one clinic day per date."""
    return select(ClinicSession).where(col(ClinicSession.board_unit) == board_unit)


def booked_counts(session_ids: list[uuid.UUID]) -> Rows:
    return (
        sa_select(col(ClinicBooking.session_id), func.count())
        .where(col(ClinicBooking.session_id).in_(session_ids), col(ClinicBooking.status) == BOOKED)
        .group_by(col(ClinicBooking.session_id))
    )


def bookings_in_scope(principal: Principal) -> SelectOfScalar[ClinicBooking]:
    """Bookings of the cadres the caller reads."""
    return select(ClinicBooking).where(col(ClinicBooking.cadre_id).in_(cadre_ids_in_scope(principal)))


def bookings_with_cadres(principal: Principal, session_id: uuid.UUID) -> Rows:
    """(booking, cadre) of a day, for the cadres the caller reads, in booking order."""
    return (
        sa_select(ClinicBooking, RosterCadre)
        .join(RosterCadre, col(RosterCadre.cadre_id) == col(ClinicBooking.cadre_id))
        .where(
            col(ClinicBooking.session_id) == session_id,
            reads_cadre(principal),
        )
        .order_by(col(ClinicBooking.created_at), col(ClinicBooking.id))
    )


def booking_of(session_id: uuid.UUID, cadre_id: uuid.UUID) -> SelectOfScalar[ClinicBooking]:
    return select(ClinicBooking).where(col(ClinicBooking.session_id) == session_id, col(ClinicBooking.cadre_id) == cadre_id)


def upcoming_bookings_of(cadre_id: uuid.UUID, on: date) -> SelectOfScalar[ClinicBooking]:
    """A cadre's bookings on days from `on` (a deceased or removed cadre's are cancelled)."""
    upcoming = select(ClinicSession.id).where(col(ClinicSession.held_on) >= on)
    return select(ClinicBooking).where(
        col(ClinicBooking.cadre_id) == cadre_id,
        col(ClinicBooking.status) == BOOKED,
        col(ClinicBooking.session_id).in_(upcoming),
    )
