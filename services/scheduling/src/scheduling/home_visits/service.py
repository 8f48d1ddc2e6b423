"""Use cases of home-visit schedules for central-tier and group-1 cadres: who, how often, by whom, which visits
are done, and which are overdue."""

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.api.care import HomeVisitDone, HomeVisitPublic, HomeVisitScheduleCreate, HomeVisitSchedulePublic, HomeVisitState
from contracts.api.common import Page
from contracts.enums import Action, CadreStatus, ManagementTier
from contracts.scope import Principal
from scheduling.access import cadre_in_scope
from scheduling.domain import days_overdue, home_visit_refusal, next_visit_due
from scheduling.home_visits.queries import active_schedules_of, schedules_in_scope, visit_of_record, visits_of
from scheduling.tables import HomeVisit, HomeVisitSchedule, RosterCadre
from servicekit import clock
from servicekit.errors import Conflict, Forbidden, NotFound, Refused, field_error
from servicekit.pagination import PageParams, paginate
from servicekit.scope import may, within_unit


def _visit_public(visit: HomeVisit) -> HomeVisitPublic:
    return HomeVisitPublic(
        id=visit.id,
        schedule_id=visit.schedule_id,
        due_on=visit.due_on,
        done_on=visit.done_on,
        visitor=visit.visitor,
        note=visit.note,
        clinical_record_id=visit.clinical_record_id,
    )


def public(
    schedule: HomeVisitSchedule, cadre: RosterCadre, as_of: date, visits: list[HomeVisit] | None = None
) -> HomeVisitSchedulePublic:
    overdue = days_overdue(schedule.next_due_on, as_of) if schedule.active else 0
    state = HomeVisitState.ENDED if not schedule.active else HomeVisitState.OVERDUE if overdue else HomeVisitState.UP_TO_DATE
    return HomeVisitSchedulePublic(
        id=schedule.id,
        cadre_id=schedule.cadre_id,
        full_name=cadre.full_name,
        managing_unit=cadre.managing_unit,
        tier=ManagementTier(cadre.tier),
        every_months=schedule.every_months,
        visitor=schedule.visitor,
        starts_on=schedule.starts_on,
        next_due_on=schedule.next_due_on,
        last_visit_on=schedule.last_visit_on,
        state=state,
        days_overdue=overdue,
        active=schedule.active,
        ended_reason=schedule.ended_reason,
        note=schedule.note,
        visits=[_visit_public(v) for v in visits or []],
    )


async def create_schedule(session: AsyncSession, principal: Principal, data: HomeVisitScheduleCreate) -> HomeVisitSchedulePublic:
    cadre = await cadre_in_scope(session, principal, data.cadre_id, Action.WRITE)
    refusal = home_visit_refusal(ManagementTier(cadre.tier), CadreStatus(cadre.status))
    if refusal:
        raise Refused(refusal, errors=[field_error("cadre_id", refusal)], code="not_eligible")
    existing = await session.scalar(active_schedules_of(cadre.cadre_id))
    if existing is not None:
        raise Conflict(f"the cadre already has an active home-visit schedule {existing.id}", code="schedule_exists")
    schedule = HomeVisitSchedule(
        cadre_id=cadre.cadre_id,
        every_months=data.every_months,
        visitor=data.visitor,
        starts_on=data.starts_on,
        next_due_on=data.starts_on,
        note=data.note,
        created_by=principal.subject,
    )
    session.add(schedule)
    await session.flush()
    return public(schedule, cadre, clock.today())


async def _schedule(
    session: AsyncSession, principal: Principal, schedule_id: uuid.UUID, action: Action
) -> tuple[HomeVisitSchedule, RosterCadre]:
    row = (await session.execute(schedules_in_scope(principal).where(col(HomeVisitSchedule.id) == schedule_id))).first()
    if row is None:
        raise NotFound("no such home-visit schedule")
    schedule, cadre = row
    if action != Action.READ and not may(principal, action, cadre.managing_unit, ManagementTier(cadre.tier)):
        raise Forbidden("the cadre is outside your write scope", code="out_of_scope")
    return schedule, cadre


async def _visits(session: AsyncSession, schedule_id: uuid.UUID) -> list[HomeVisit]:
    return list(await session.scalars(visits_of(schedule_id)))


async def get_schedule(
    session: AsyncSession, principal: Principal, schedule_id: uuid.UUID, as_of: date | None = None
) -> HomeVisitSchedulePublic:
    schedule, cadre = await _schedule(session, principal, schedule_id, Action.READ)
    return public(schedule, cadre, as_of or clock.today(), await _visits(session, schedule.id))


async def list_schedules(
    session: AsyncSession,
    principal: Principal,
    *,
    unit: str | None,
    cadre_id: uuid.UUID | None,
    overdue_only: bool,
    include_ended: bool,
    as_of: date | None,
    page: PageParams,
) -> Page[HomeVisitSchedulePublic]:
    day = as_of or clock.today()
    query = schedules_in_scope(principal)
    if unit:
        query = query.where(within_unit(col(RosterCadre.managing_unit), unit))
    if cadre_id is not None:
        query = query.where(col(HomeVisitSchedule.cadre_id) == cadre_id)
    if overdue_only:
        query = query.where(col(HomeVisitSchedule.active).is_(True), col(HomeVisitSchedule.next_due_on) < day)
    elif not include_ended:
        query = query.where(col(HomeVisitSchedule.active).is_(True))
    query = query.order_by(col(HomeVisitSchedule.next_due_on), col(RosterCadre.full_name), col(HomeVisitSchedule.id))
    return await paginate(session, query, page, lambda row: public(row[0], row[1], day))


async def _record(
    session: AsyncSession,
    schedule: HomeVisitSchedule,
    done_on: date,
    visitor: str,
    note: str | None,
    actor: str,
    clinical_record_id: uuid.UUID | None = None,
) -> HomeVisit:
    visit = HomeVisit(
        schedule_id=schedule.id,
        due_on=schedule.next_due_on,
        done_on=done_on,
        visitor=visitor,
        note=note,
        clinical_record_id=clinical_record_id,
        recorded_by=actor,
    )
    session.add(visit)
    last = max(done_on, schedule.last_visit_on or done_on)
    schedule.last_visit_on = last
    schedule.next_due_on = next_visit_due(last, schedule.starts_on, schedule.every_months)
    session.add(schedule)
    await session.flush()
    return visit


async def record_visit(
    session: AsyncSession, principal: Principal, schedule_id: uuid.UUID, data: HomeVisitDone
) -> HomeVisitSchedulePublic:
    schedule, cadre = await _schedule(session, principal, schedule_id, Action.WRITE)
    if not schedule.active:
        raise Refused("the schedule has ended", errors=[field_error("schedule_id", "the schedule has ended")], code="ended")
    if data.done_on > clock.today():
        raise Refused("a visit cannot be done in the future", errors=[field_error("done_on", "after today")])
    await _record(session, schedule, data.done_on, data.visitor or schedule.visitor, data.note, principal.subject)
    return public(schedule, cadre, clock.today(), await _visits(session, schedule.id))


async def end_schedule(
    session: AsyncSession, principal: Principal, schedule_id: uuid.UUID, reason: str
) -> HomeVisitSchedulePublic:
    schedule, cadre = await _schedule(session, principal, schedule_id, Action.WRITE)
    if not schedule.active:
        raise Refused("the schedule has already ended", errors=[field_error("schedule_id", "already ended")], code="ended")
    schedule.active = False
    schedule.ended_reason = reason
    session.add(schedule)
    await session.flush()
    return public(schedule, cadre, clock.today())


# ---- from events ----


async def end_for_cadre(session: AsyncSession, cadre_id: uuid.UUID, reason: str) -> None:
    """A deceased or removed cadre: their schedules end."""
    for schedule in await session.scalars(active_schedules_of(cadre_id)):
        schedule.active = False
        schedule.ended_reason = reason
        session.add(schedule)
    await session.flush()


async def visit_from_clinical(
    session: AsyncSession, cadre_id: uuid.UUID, record_id: uuid.UUID, occurred_on: date, facility: str
) -> None:
    """A home-visit record posted to clinical marks the cadre's scheduled visit done (once per record)."""
    if await session.scalar(visit_of_record(record_id)) is not None:
        return
    schedule = await session.scalar(active_schedules_of(cadre_id))
    if schedule is None:
        return
    await _record(session, schedule, occurred_on, facility, "clinical home-visit record", "system:scheduling", record_id)
