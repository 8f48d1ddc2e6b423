"""The clinic days' routes."""

import uuid
from datetime import date
from typing import Annotated

from fastapi import Query, Response, status

from contracts.api.care import (
    Cancellation,
    ClinicBookingCreate,
    ClinicBookingPublic,
    ClinicSeriesCreate,
    ClinicSeriesResult,
    ClinicSessionCreate,
    ClinicSessionPublic,
)
from scheduling.access import Reader, Writer
from scheduling.clinic_days import service
from servicekit.audit import audit_subjects
from servicekit.idempotency import ServiceRouter
from servicekit.runtime import SessionDep

router = ServiceRouter(tags=["scheduling: recurring care"])


@router.post("/clinic-sessions", status_code=status.HTTP_201_CREATED, response_model=ClinicSessionPublic)
async def create_clinic_session(body: ClinicSessionCreate, caller: Writer, session: SessionDep) -> ClinicSessionPublic:
    return await service.create_session(session, caller, body)


@router.post("/clinic-sessions/series", status_code=status.HTTP_201_CREATED, response_model=ClinicSeriesResult)
async def create_clinic_series(body: ClinicSeriesCreate, caller: Writer, session: SessionDep) -> ClinicSeriesResult:
    """E.g. the 10th and 25th of each month for six months; days already held are left as they are."""
    return await service.create_series(session, caller, body)


@router.get("/clinic-sessions", response_model=list[ClinicSessionPublic])
async def list_clinic_sessions(
    caller: Reader,
    session: SessionDep,
    board_unit: str | None = None,
    from_date: Annotated[date | None, Query(alias="from")] = None,
    to_date: Annotated[date | None, Query(alias="to")] = None,
) -> list[ClinicSessionPublic]:
    return await service.list_sessions(session, caller, board_unit, from_date, to_date)


@router.get("/clinic-sessions/{session_id}", response_model=ClinicSessionPublic)
async def get_clinic_session(session_id: uuid.UUID, caller: Reader, session: SessionDep) -> ClinicSessionPublic:
    return await service.get_session(session, caller, session_id)


@router.post("/clinic-sessions/{session_id}/bookings", status_code=status.HTTP_201_CREATED, response_model=ClinicBookingPublic)
async def book_clinic_session(
    session_id: uuid.UUID, body: ClinicBookingCreate, caller: Writer, session: SessionDep, response: Response
) -> ClinicBookingPublic:
    """Refused with the reason: session_full, session_past, not_eligible (or 409 already_booked)."""
    booked = await service.book(session, caller, session_id, body)
    audit_subjects(response, [booked.cadre_id])
    return booked


@router.get("/clinic-sessions/{session_id}/bookings", response_model=list[ClinicBookingPublic])
async def list_clinic_bookings(
    session_id: uuid.UUID, caller: Reader, session: SessionDep, response: Response, include_cancelled: bool = False
) -> list[ClinicBookingPublic]:
    items = await service.list_bookings(session, caller, session_id, include_cancelled)
    audit_subjects(response, (i.cadre_id for i in items))
    return items


@router.post("/clinic-bookings/{booking_id}/cancel", response_model=ClinicBookingPublic)
async def cancel_clinic_booking(
    booking_id: uuid.UUID, body: Cancellation, caller: Writer, session: SessionDep, response: Response
) -> ClinicBookingPublic:
    cancelled = await service.cancel_booking(session, caller, booking_id, body.reason)
    audit_subjects(response, [cancelled.cadre_id])
    return cancelled
