"""Use cases of the expert council's clinic days: a board's days (one by one or as a series), and bookings."""

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.api.care import (
    ClinicBookingCreate,
    ClinicBookingPublic,
    ClinicSeriesCreate,
    ClinicSeriesResult,
    ClinicSessionCreate,
    ClinicSessionPublic,
    RegistrationStatus,
)
from contracts.enums import Action, ManagementTier
from contracts.scope import Principal, unit_covers
from scheduling.access import cadre_in_scope, require_board_admin
from scheduling.clinic_days.queries import (
    booked_counts,
    booking_of,
    bookings_in_scope,
    bookings_with_cadres,
    sessions_of_board,
    sessions_seen,
    upcoming_bookings_of,
)
from scheduling.domain import series_dates
from scheduling.tables import ClinicBooking, ClinicSession, RosterCadre
from servicekit import clock
from servicekit.errors import Conflict, NotFound, Refused, field_error

BOOKED = RegistrationStatus.REGISTERED.value
CANCELLED = RegistrationStatus.CANCELLED.value


async def _booked(session: AsyncSession, session_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    if not session_ids:
        return {}
    rows = await session.execute(booked_counts(session_ids))
    return {session_id: count for session_id, count in rows}


def _public(row: ClinicSession, booked: int) -> ClinicSessionPublic:
    return ClinicSessionPublic(
        id=row.id,
        board_unit=row.board_unit,
        held_on=row.held_on,
        capacity=row.capacity,
        place=row.place,
        council=row.council,
        note=row.note,
        booked=booked,
        free=max(0, row.capacity - booked),
    )


async def _publics(session: AsyncSession, rows: list[ClinicSession]) -> list[ClinicSessionPublic]:
    booked = await _booked(session, [r.id for r in rows])
    return [_public(r, booked.get(r.id, 0)) for r in rows]


async def create_session(session: AsyncSession, principal: Principal, data: ClinicSessionCreate) -> ClinicSessionPublic:
    require_board_admin(principal, data.board_unit)
    if data.held_on < clock.today():
        raise Refused("a clinic day in the past", errors=[field_error("held_on", "before today")])
    taken = await session.scalar(sessions_of_board(data.board_unit).where(col(ClinicSession.held_on) == data.held_on))
    if taken is not None:
        raise Conflict(f"the board already holds a clinic day on {data.held_on.isoformat()}", code="session_exists")
    row = ClinicSession(**data.model_dump(), created_by=principal.subject)
    session.add(row)
    await session.flush()
    return _public(row, 0)


async def create_series(session: AsyncSession, principal: Principal, data: ClinicSeriesCreate) -> ClinicSeriesResult:
    """Clinic days of several months at once; days the board already holds are kept (running it again adds nothing)."""
    require_board_admin(principal, data.board_unit)
    days = series_dates(data.year, data.from_month, data.months, data.days_of_month)
    past = [d for d in days if d < clock.today()]
    if past:
        raise Refused(
            "the series has days in the past",
            errors=[field_error("from_month", f"{len(past)} day(s) before today, the first {past[0].isoformat()}")],
        )
    existing = {
        row.held_on
        for row in await session.scalars(sessions_of_board(data.board_unit).where(col(ClinicSession.held_on).in_(days)))
    }
    created = []
    for held_on in days:
        if held_on in existing:
            continue
        row = ClinicSession(
            board_unit=data.board_unit,
            held_on=held_on,
            capacity=data.capacity,
            place=data.place,
            council=data.council,
            created_by=principal.subject,
        )
        session.add(row)
        created.append(row)
    await session.flush()
    return ClinicSeriesResult(created=[_public(r, 0) for r in created], already_existed=len(existing))


async def list_sessions(
    session: AsyncSession, principal: Principal, board_unit: str | None, from_date: date | None, to_date: date | None
) -> list[ClinicSessionPublic]:
    query = sessions_seen(principal).order_by(col(ClinicSession.held_on), col(ClinicSession.board_unit))
    if board_unit:
        query = query.where(col(ClinicSession.board_unit) == board_unit)
    if from_date:
        query = query.where(col(ClinicSession.held_on) >= from_date)
    if to_date:
        query = query.where(col(ClinicSession.held_on) <= to_date)
    return await _publics(session, list(await session.scalars(query)))


async def _session(session: AsyncSession, principal: Principal, session_id: uuid.UUID, *, lock: bool = False) -> ClinicSession:
    """A clinic day whose board the caller sees (404 otherwise)."""
    query = sessions_seen(principal).where(col(ClinicSession.id) == session_id)
    row = await session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise NotFound("no such clinic day")
    return row


async def get_session(session: AsyncSession, principal: Principal, session_id: uuid.UUID) -> ClinicSessionPublic:
    return (await _publics(session, [await _session(session, principal, session_id)]))[0]


def _booking_public(booking: ClinicBooking, held_on: date, cadre: RosterCadre) -> ClinicBookingPublic:
    return ClinicBookingPublic(
        id=booking.id,
        session_id=booking.session_id,
        held_on=held_on,
        cadre_id=booking.cadre_id,
        full_name=cadre.full_name,
        managing_unit=cadre.managing_unit,
        tier=ManagementTier(cadre.tier),
        status=RegistrationStatus(booking.status),
        reason=booking.reason,
        cancelled_reason=booking.cancelled_reason,
    )


async def book(
    session: AsyncSession, principal: Principal, session_id: uuid.UUID, data: ClinicBookingCreate
) -> ClinicBookingPublic:
    clinic = await _session(session, principal, session_id, lock=True)  # one booking at a time per day
    cadre = await cadre_in_scope(session, principal, data.cadre_id, Action.WRITE)
    if not unit_covers(clinic.board_unit, cadre.managing_unit):
        message = f"the cadre is managed by {cadre.managing_unit}, not under the council's board {clinic.board_unit}"
        raise Refused(message, errors=[field_error("cadre_id", message)], code="not_eligible")
    if clinic.held_on < clock.today():
        raise Refused("the clinic day has passed", errors=[field_error("session_id", "held before today")], code="session_past")
    existing = await session.scalar(booking_of(clinic.id, cadre.cadre_id))
    if existing is not None and existing.status == BOOKED:
        raise Conflict("the cadre is already booked on this clinic day", code="already_booked")
    booked = (await _booked(session, [clinic.id])).get(clinic.id, 0)
    if booked >= clinic.capacity:
        message = f"capacity exceeded: {booked} of {clinic.capacity} places booked"
        raise Refused(message, errors=[field_error("session_id", message)], code="session_full")
    if existing is None:
        booking = ClinicBooking(
            session_id=clinic.id, cadre_id=cadre.cadre_id, status=BOOKED, reason=data.reason, created_by=principal.subject
        )
    else:
        booking = existing
        booking.status, booking.reason, booking.cancelled_reason = BOOKED, data.reason, None
    session.add(booking)
    await session.flush()
    return _booking_public(booking, clinic.held_on, cadre)


async def cancel_booking(session: AsyncSession, principal: Principal, booking_id: uuid.UUID, reason: str) -> ClinicBookingPublic:
    booking = await session.scalar(bookings_in_scope(principal).where(col(ClinicBooking.id) == booking_id))
    if booking is None:
        raise NotFound("no such booking")
    cadre = await cadre_in_scope(session, principal, booking.cadre_id, Action.WRITE)
    if booking.status != BOOKED:
        raise Refused("the booking is already cancelled", errors=[field_error("status", "already cancelled")], code="cancelled")
    booking.status, booking.cancelled_reason = CANCELLED, reason
    session.add(booking)
    await session.flush()
    clinic = await session.get(ClinicSession, booking.session_id)
    assert clinic is not None
    return _booking_public(booking, clinic.held_on, cadre)


async def list_bookings(
    session: AsyncSession, principal: Principal, session_id: uuid.UUID, include_cancelled: bool
) -> list[ClinicBookingPublic]:
    clinic = await _session(session, principal, session_id)
    query = bookings_with_cadres(principal, clinic.id)
    if not include_cancelled:
        query = query.where(col(ClinicBooking.status) == BOOKED)
    return [_booking_public(b, clinic.held_on, c) for b, c in await session.execute(query)]


async def cancel_for_cadre(session: AsyncSession, cadre_id: uuid.UUID, reason: str, on: date) -> None:
    """A deceased or removed cadre: bookings on days still ahead are cancelled."""
    for booking in await session.scalars(upcoming_bookings_of(cadre_id, on)):
        booking.status, booking.cancelled_reason = CANCELLED, reason
        session.add(booking)
    await session.flush()
