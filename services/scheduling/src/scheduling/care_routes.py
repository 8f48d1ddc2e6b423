"""Thin HTTP layer of the other recurring work: home visits, convalescence trips, expert-council clinic days."""

import uuid
from datetime import date
from typing import Annotated

from fastapi import Query, Response, status

from contracts.api.common import Page
from contracts.api.scheduling import (
    Cancellation,
    ClinicBookingCreate,
    ClinicBookingPublic,
    ClinicSeriesCreate,
    ClinicSeriesResult,
    ClinicSessionCreate,
    ClinicSessionPublic,
    ConvalescenceRegistrationCreate,
    ConvalescenceRegistrationPublic,
    ConvalescenceRuleCreate,
    ConvalescenceRulePublic,
    ConvalescenceTripCreate,
    ConvalescenceTripPublic,
    EligibleCadre,
    HomeVisitDone,
    HomeVisitScheduleCreate,
    HomeVisitSchedulePublic,
    ScheduleEnd,
)
from scheduling import clinic_days, convalescence, home_visits
from servicekit.audit import audit_subjects
from servicekit.auth import CallerDep, require_permission
from servicekit.idempotency import ServiceRouter
from servicekit.runtime import RuntimeDep, SessionDep

router = ServiceRouter(tags=["scheduling: recurring care"])

MAX_PAGE = 500
READ, WRITE = "scheduling.read", "scheduling.write"


# ---- home visits ----


@router.post("/home-visits/schedules", status_code=status.HTTP_201_CREATED, response_model=HomeVisitSchedulePublic)
async def create_home_visit_schedule(
    body: HomeVisitScheduleCreate, caller: CallerDep, session: SessionDep, response: Response
) -> HomeVisitSchedulePublic:
    """Who is visited at home, how often and by whom: central-tier and group-1 cadres only."""
    require_permission(caller, WRITE)
    created = await home_visits.create_schedule(session, caller, body)
    audit_subjects(response, [created.cadre_id])
    return created


@router.get("/home-visits/schedules", response_model=Page[HomeVisitSchedulePublic])
async def list_home_visit_schedules(
    caller: CallerDep,
    session: SessionDep,
    response: Response,
    unit: str | None = None,
    cadre_id: uuid.UUID | None = None,
    include_ended: bool = False,
    as_of: date | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> Page[HomeVisitSchedulePublic]:
    require_permission(caller, READ)
    items, total = await home_visits.list_schedules(
        session,
        caller,
        unit=unit,
        cadre_id=cadre_id,
        overdue_only=False,
        include_ended=include_ended,
        as_of=as_of,
        offset=offset,
        limit=limit,
    )
    audit_subjects(response, (i.cadre_id for i in items))
    return Page[HomeVisitSchedulePublic](items=items, total=total, offset=offset, limit=limit)


@router.get("/home-visits/overdue", response_model=Page[HomeVisitSchedulePublic])
async def overdue_home_visits(
    caller: CallerDep,
    session: SessionDep,
    response: Response,
    unit: str | None = None,
    as_of: date | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> Page[HomeVisitSchedulePublic]:
    """Active schedules whose next visit fell due before `as_of` (default today), most overdue first."""
    require_permission(caller, READ)
    items, total = await home_visits.list_schedules(
        session,
        caller,
        unit=unit,
        cadre_id=None,
        overdue_only=True,
        include_ended=False,
        as_of=as_of,
        offset=offset,
        limit=limit,
    )
    audit_subjects(response, (i.cadre_id for i in items))
    return Page[HomeVisitSchedulePublic](items=items, total=total, offset=offset, limit=limit)


@router.get("/home-visits/schedules/{schedule_id}", response_model=HomeVisitSchedulePublic)
async def get_home_visit_schedule(
    schedule_id: uuid.UUID, caller: CallerDep, session: SessionDep, response: Response, as_of: date | None = None
) -> HomeVisitSchedulePublic:
    require_permission(caller, READ)
    found = await home_visits.get_schedule(session, caller, schedule_id, as_of)
    audit_subjects(response, [found.cadre_id])
    return found


@router.post(
    "/home-visits/schedules/{schedule_id}/visits", status_code=status.HTTP_201_CREATED, response_model=HomeVisitSchedulePublic
)
async def record_home_visit(
    schedule_id: uuid.UUID, body: HomeVisitDone, caller: CallerDep, session: SessionDep, response: Response
) -> HomeVisitSchedulePublic:
    """A visit is done: the next one falls due `every_months` later."""
    require_permission(caller, WRITE)
    changed = await home_visits.record_visit(session, caller, schedule_id, body)
    audit_subjects(response, [changed.cadre_id])
    return changed


@router.post("/home-visits/schedules/{schedule_id}/end", response_model=HomeVisitSchedulePublic)
async def end_home_visit_schedule(
    schedule_id: uuid.UUID, body: ScheduleEnd, caller: CallerDep, session: SessionDep, response: Response
) -> HomeVisitSchedulePublic:
    require_permission(caller, WRITE)
    ended = await home_visits.end_schedule(session, caller, schedule_id, body.reason)
    audit_subjects(response, [ended.cadre_id])
    return ended


# ---- convalescence trips ----


@router.post("/convalescence/rules", status_code=status.HTTP_201_CREATED, response_model=ConvalescenceRulePublic)
async def create_convalescence_rule(
    body: ConvalescenceRuleCreate, caller: CallerDep, session: SessionDep
) -> ConvalescenceRulePublic:
    """A new version of who may go and how often (trips keep the version in force when they were made)."""
    require_permission(caller, WRITE)
    return await convalescence.create_rule(session, caller, body)


@router.get("/convalescence/rules", response_model=list[ConvalescenceRulePublic])
async def list_convalescence_rules(
    caller: CallerDep, session: SessionDep, board_unit: str | None = None
) -> list[ConvalescenceRulePublic]:
    require_permission(caller, READ)
    return await convalescence.list_rules(session, caller, board_unit)


@router.post("/convalescence/trips", status_code=status.HTTP_201_CREATED, response_model=ConvalescenceTripPublic)
async def create_convalescence_trip(
    body: ConvalescenceTripCreate, caller: CallerDep, session: SessionDep, runtime: RuntimeDep
) -> ConvalescenceTripPublic:
    require_permission(caller, WRITE)
    return await convalescence.create_trip(session, runtime.outbox, caller, body)


@router.get("/convalescence/trips", response_model=list[ConvalescenceTripPublic])
async def list_convalescence_trips(
    caller: CallerDep, session: SessionDep, board_unit: str | None = None, year: int | None = None
) -> list[ConvalescenceTripPublic]:
    require_permission(caller, READ)
    return await convalescence.list_trips(session, caller, board_unit, year)


@router.get("/convalescence/trips/{trip_id}", response_model=ConvalescenceTripPublic)
async def get_convalescence_trip(trip_id: uuid.UUID, caller: CallerDep, session: SessionDep) -> ConvalescenceTripPublic:
    """The trip with its figures: "6 of 14 registered"."""
    require_permission(caller, READ)
    return await convalescence.trip_public(session, await convalescence.trip_in_scope(session, caller, trip_id))


@router.post(
    "/convalescence/trips/{trip_id}/registrations",
    status_code=status.HTTP_201_CREATED,
    response_model=ConvalescenceRegistrationPublic,
)
async def register_for_convalescence(
    trip_id: uuid.UUID,
    body: ConvalescenceRegistrationCreate,
    caller: CallerDep,
    session: SessionDep,
    runtime: RuntimeDep,
    response: Response,
) -> ConvalescenceRegistrationPublic:
    """Refused with the reason: not_eligible, already_within_period, quota_full (or 409 already_registered)."""
    require_permission(caller, WRITE)
    registered = await convalescence.register(session, runtime.outbox, caller, trip_id, body)
    audit_subjects(response, [registered.cadre_id])
    return registered


@router.get("/convalescence/trips/{trip_id}/registrations", response_model=list[ConvalescenceRegistrationPublic])
async def list_convalescence_registrations(
    trip_id: uuid.UUID, caller: CallerDep, session: SessionDep, response: Response, include_cancelled: bool = False
) -> list[ConvalescenceRegistrationPublic]:
    require_permission(caller, READ)
    items = await convalescence.list_registrations(session, caller, trip_id, include_cancelled)
    audit_subjects(response, (i.cadre_id for i in items))
    return items


@router.get("/convalescence/trips/{trip_id}/eligible", response_model=Page[EligibleCadre])
async def eligible_for_convalescence(
    trip_id: uuid.UUID,
    caller: CallerDep,
    session: SessionDep,
    response: Response,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> Page[EligibleCadre]:
    """Eligible cadres not yet registered for this trip (and not gone on another within the period)."""
    require_permission(caller, READ)
    items, total = await convalescence.eligible_not_registered(session, caller, trip_id, offset, limit)
    audit_subjects(response, (i.cadre_id for i in items))
    return Page[EligibleCadre](items=items, total=total, offset=offset, limit=limit)


@router.post("/convalescence/registrations/{registration_id}/cancel", response_model=ConvalescenceRegistrationPublic)
async def cancel_convalescence_registration(
    registration_id: uuid.UUID,
    body: Cancellation,
    caller: CallerDep,
    session: SessionDep,
    runtime: RuntimeDep,
    response: Response,
) -> ConvalescenceRegistrationPublic:
    require_permission(caller, WRITE)
    cancelled = await convalescence.cancel_registration(session, runtime.outbox, caller, registration_id, body.reason)
    audit_subjects(response, [cancelled.cadre_id])
    return cancelled


# ---- expert-council clinic days ----


@router.post("/clinic-sessions", status_code=status.HTTP_201_CREATED, response_model=ClinicSessionPublic)
async def create_clinic_session(body: ClinicSessionCreate, caller: CallerDep, session: SessionDep) -> ClinicSessionPublic:
    require_permission(caller, WRITE)
    return await clinic_days.create_session(session, caller, body)


@router.post("/clinic-sessions/series", status_code=status.HTTP_201_CREATED, response_model=ClinicSeriesResult)
async def create_clinic_series(body: ClinicSeriesCreate, caller: CallerDep, session: SessionDep) -> ClinicSeriesResult:
    """E.g. the 10th and 25th of each month for six months; days already held are left as they are."""
    require_permission(caller, WRITE)
    return await clinic_days.create_series(session, caller, body)


@router.get("/clinic-sessions", response_model=list[ClinicSessionPublic])
async def list_clinic_sessions(
    caller: CallerDep,
    session: SessionDep,
    board_unit: str | None = None,
    from_date: Annotated[date | None, Query(alias="from")] = None,
    to_date: Annotated[date | None, Query(alias="to")] = None,
) -> list[ClinicSessionPublic]:
    require_permission(caller, READ)
    return await clinic_days.list_sessions(session, caller, board_unit, from_date, to_date)


@router.get("/clinic-sessions/{session_id}", response_model=ClinicSessionPublic)
async def get_clinic_session(session_id: uuid.UUID, caller: CallerDep, session: SessionDep) -> ClinicSessionPublic:
    require_permission(caller, READ)
    return await clinic_days.get_session(session, caller, session_id)


@router.post("/clinic-sessions/{session_id}/bookings", status_code=status.HTTP_201_CREATED, response_model=ClinicBookingPublic)
async def book_clinic_session(
    session_id: uuid.UUID, body: ClinicBookingCreate, caller: CallerDep, session: SessionDep, response: Response
) -> ClinicBookingPublic:
    """Refused with the reason: session_full, session_past, not_eligible (or 409 already_booked)."""
    require_permission(caller, WRITE)
    booked = await clinic_days.book(session, caller, session_id, body)
    audit_subjects(response, [booked.cadre_id])
    return booked


@router.get("/clinic-sessions/{session_id}/bookings", response_model=list[ClinicBookingPublic])
async def list_clinic_bookings(
    session_id: uuid.UUID, caller: CallerDep, session: SessionDep, response: Response, include_cancelled: bool = False
) -> list[ClinicBookingPublic]:
    require_permission(caller, READ)
    items = await clinic_days.list_bookings(session, caller, session_id, include_cancelled)
    audit_subjects(response, (i.cadre_id for i in items))
    return items


@router.post("/clinic-bookings/{booking_id}/cancel", response_model=ClinicBookingPublic)
async def cancel_clinic_booking(
    booking_id: uuid.UUID, body: Cancellation, caller: CallerDep, session: SessionDep, response: Response
) -> ClinicBookingPublic:
    require_permission(caller, WRITE)
    cancelled = await clinic_days.cancel_booking(session, caller, booking_id, body.reason)
    audit_subjects(response, [cancelled.cadre_id])
    return cancelled
