"""The home visits' routes."""

import uuid
from datetime import date

from fastapi import Response, status

from contracts.api.care import HomeVisitDone, HomeVisitScheduleCreate, HomeVisitSchedulePublic, ScheduleEnd
from contracts.api.common import Page
from scheduling.access import Reader, Writer
from scheduling.home_visits import service
from servicekit.audit import audit_subjects
from servicekit.idempotency import ServiceRouter
from servicekit.pagination import PageDep
from servicekit.runtime import SessionDep

router = ServiceRouter(tags=["scheduling: recurring care"])


@router.post("/home-visits/schedules", status_code=status.HTTP_201_CREATED, response_model=HomeVisitSchedulePublic)
async def create_home_visit_schedule(
    body: HomeVisitScheduleCreate, caller: Writer, session: SessionDep, response: Response
) -> HomeVisitSchedulePublic:
    """Who is visited at home, how often and by whom: central-tier and group-1 cadres only."""
    created = await service.create_schedule(session, caller, body)
    audit_subjects(response, [created.cadre_id])
    return created


@router.get("/home-visits/schedules", response_model=Page[HomeVisitSchedulePublic])
async def list_home_visit_schedules(
    caller: Reader,
    session: SessionDep,
    response: Response,
    page: PageDep,
    unit: str | None = None,
    cadre_id: uuid.UUID | None = None,
    include_ended: bool = False,
    as_of: date | None = None,
) -> Page[HomeVisitSchedulePublic]:
    found = await service.list_schedules(
        session,
        caller,
        unit=unit,
        cadre_id=cadre_id,
        overdue_only=False,
        include_ended=include_ended,
        as_of=as_of,
        page=page,
    )
    audit_subjects(response, (i.cadre_id for i in found.items))
    return found


@router.get("/home-visits/overdue", response_model=Page[HomeVisitSchedulePublic])
async def overdue_home_visits(
    caller: Reader, session: SessionDep, response: Response, page: PageDep, unit: str | None = None, as_of: date | None = None
) -> Page[HomeVisitSchedulePublic]:
    """Active schedules whose next visit fell due before `as_of` (default today), most overdue first."""
    found = await service.list_schedules(
        session, caller, unit=unit, cadre_id=None, overdue_only=True, include_ended=False, as_of=as_of, page=page
    )
    audit_subjects(response, (i.cadre_id for i in found.items))
    return found


@router.get("/home-visits/schedules/{schedule_id}", response_model=HomeVisitSchedulePublic)
async def get_home_visit_schedule(
    schedule_id: uuid.UUID, caller: Reader, session: SessionDep, response: Response, as_of: date | None = None
) -> HomeVisitSchedulePublic:
    found = await service.get_schedule(session, caller, schedule_id, as_of)
    audit_subjects(response, [found.cadre_id])
    return found


@router.post(
    "/home-visits/schedules/{schedule_id}/visits", status_code=status.HTTP_201_CREATED, response_model=HomeVisitSchedulePublic
)
async def record_home_visit(
    schedule_id: uuid.UUID, body: HomeVisitDone, caller: Writer, session: SessionDep, response: Response
) -> HomeVisitSchedulePublic:
    """A visit is done: the next one falls due `every_months` later."""
    changed = await service.record_visit(session, caller, schedule_id, body)
    audit_subjects(response, [changed.cadre_id])
    return changed


@router.post("/home-visits/schedules/{schedule_id}/end", response_model=HomeVisitSchedulePublic)
async def end_home_visit_schedule(
    schedule_id: uuid.UUID, body: ScheduleEnd, caller: Writer, session: SessionDep, response: Response
) -> HomeVisitSchedulePublic:
    ended = await service.end_schedule(session, caller, schedule_id, body.reason)
    audit_subjects(response, [ended.cadre_id])
    return ended
