"""The dashboard's person-level lists: cadres not yet examined in the period, and abnormal findings (classified C
or D, or flagged for a follow-up) with no later encounter. Health data of named cadres (by id): only rows a READ
grant opens as health records (`health_records_readable`, the central tier only with its flag), never through
an AGGREGATE grant; the route names every cadre listed for the gateway's audit trail."""

import uuid
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from contracts.api.dashboard import AbnormalFindingList, AbnormalFindingRow, NotExaminedList, NotExaminedRow
from contracts.api.reporting import UnitBasis
from contracts.enums import EncounterKind
from contracts.scope import Principal
from reporting.access import resolve_unit
from reporting.domain import COUNTED_STATUSES, province_of
from reporting.facts import Rows, attributed_to, holds_on
from reporting.periods import check_period
from reporting.tables import CadreInterval, ClinicalFact, InvitationFact, UnitFact
from servicekit import clock
from servicekit.scope import health_records_readable, within_unit

ABNORMAL_CLASSES = ("C", "D")  # QĐ 1266's "yếu", "rất yếu": the classes a board follows up
PERIODIC = EncounterKind.PERIODIC_EXAM.value


def _readable_under(principal: Principal, unit: str, model: Any, basis: UnitBasis) -> ColumnElement[bool]:
    """Rows under `unit` (on the basis) whose cadre's health records the caller may read."""
    unit_column, province_column = attributed_to(model, basis)
    clause = and_(health_records_readable(principal, unit_column, col(model.tier)), within_unit(unit_column, unit))
    return and_(clause, province_column == province_of(unit)) if "." in unit else clause


def not_examined(principal: Principal, unit: str, start: date, end: date, basis: UnitBasis) -> Rows:
    """(cadre, unit, unit's name, tier, status) under care on `end` with no live periodic exam in the period and
    no invitation attended (or with an exam recorded) there."""
    interval = CadreInterval
    unit_column, _ = attributed_to(interval, basis)
    exam = select(col(ClinicalFact.record_id)).where(
        col(ClinicalFact.cadre_id) == col(interval.cadre_id),
        col(ClinicalFact.kind) == PERIODIC,
        col(ClinicalFact.withdrawn).is_(False),
        col(ClinicalFact.occurred_on) >= start,
        col(ClinicalFact.occurred_on) <= end,
    )
    attended = select(col(InvitationFact.invitation_id)).where(
        col(InvitationFact.cadre_id) == col(interval.cadre_id),
        or_(col(InvitationFact.status) == "attended", col(InvitationFact.exam_recorded).is_(True)),
        col(InvitationFact.appointment_date) >= start,
        col(InvitationFact.appointment_date) <= end,
    )
    return (
        select(col(interval.cadre_id), unit_column, col(UnitFact.name), col(interval.tier), col(interval.status))
        .outerjoin(UnitFact, col(UnitFact.path) == unit_column)
        .where(
            _readable_under(principal, unit, interval, basis),
            holds_on(end),
            col(interval.status).in_(COUNTED_STATUSES),
            ~exists(exam),
            ~exists(attended),
        )
        .order_by(unit_column, col(interval.tier), col(interval.cadre_id))
    )


def invitations_of(cadre_ids: list[uuid.UUID], start: date, end: date) -> Rows:
    """The listed cadres' invitations in the period (by id: the list above already holds only readable cadres)."""
    return (
        select(col(InvitationFact.cadre_id), col(InvitationFact.appointment_date), col(InvitationFact.status))
        .where(
            col(InvitationFact.cadre_id).in_(cadre_ids),
            col(InvitationFact.appointment_date) >= start,
            col(InvitationFact.appointment_date) <= end,
        )
        .order_by(col(InvitationFact.appointment_date))
    )


def abnormal_findings(principal: Principal, unit: str, start: date, end: date, basis: UnitBasis) -> Rows:
    """Live records in the period classified C or D or flagged for a follow-up, with no live record of their cadre
    on a later day (a re-exam, a visit, an admission: the follow-up happened)."""
    record, later = ClinicalFact, aliased(ClinicalFact)
    unit_column, _ = attributed_to(record, basis)
    followed = select(col(later.record_id)).where(
        col(later.cadre_id) == col(record.cadre_id),
        col(later.withdrawn).is_(False),
        col(later.occurred_on) > col(record.occurred_on),
    )
    return (
        select(record, col(UnitFact.name))
        .outerjoin(UnitFact, col(UnitFact.path) == unit_column)
        .where(
            _readable_under(principal, unit, record, basis),
            col(record.withdrawn).is_(False),
            col(record.occurred_on) >= start,
            col(record.occurred_on) <= end,
            or_(col(record.classification).in_(ABNORMAL_CLASSES), col(record.needs_follow_up).is_(True)),
            ~exists(followed),
        )
        .order_by(col(record.occurred_on), col(record.record_id))
    )


def counted(statement: Rows) -> Rows:
    return select(func.count()).select_from(statement.order_by(None).subquery())


async def not_examined_list(
    session: AsyncSession, principal: Principal, unit: str, start: date, end: date, basis: UnitBasis, limit: int
) -> NotExaminedList:
    check_period(start, end)
    await resolve_unit(session, principal, unit)
    statement = not_examined(principal, unit, start, end, basis)
    found = (await session.execute(statement.limit(limit))).all()
    latest: dict[uuid.UUID, tuple[date, str]] = {}
    for cadre_id, day, status in await session.execute(invitations_of([r[0] for r in found], start, end)):
        latest[cadre_id] = (day, status)  # ordered by date: the last one stays
    rows = [
        NotExaminedRow(
            cadre_id=cadre_id,
            unit=path,
            unit_name=name or path,
            tier=tier,
            status=status,
            invited_on=latest[cadre_id][0] if cadre_id in latest else None,
            invitation_status=latest[cadre_id][1] if cadre_id in latest else None,
        )
        for cadre_id, path, name, tier, status in found
    ]
    total = int(await session.scalar(counted(statement)) or 0)
    return NotExaminedList(unit=unit, period_start=start, period_end=end, total=total, rows=rows)


async def abnormal_list(
    session: AsyncSession, principal: Principal, unit: str, start: date, end: date, basis: UnitBasis, limit: int
) -> AbnormalFindingList:
    check_period(start, end)
    await resolve_unit(session, principal, unit)
    statement = abnormal_findings(principal, unit, start, end, basis)
    today = clock.today()
    rows = []
    for record, name in await session.execute(statement.limit(limit)):
        path = (record.today_unit if basis is UnitBasis.TODAY else record.managing_unit) or ""
        rows.append(
            AbnormalFindingRow(
                record_id=record.record_id,
                cadre_id=record.cadre_id,
                unit=path,
                unit_name=name or path,
                tier=record.tier or "",
                kind=record.kind,
                occurred_on=record.occurred_on,
                classification=record.classification,
                needs_follow_up=record.needs_follow_up,
                facility=record.facility,
                days_waiting=(today - record.occurred_on).days,
            )
        )
    total = int(await session.scalar(counted(statement)) or 0)
    return AbnormalFindingList(unit=unit, period_start=start, period_end=end, total=total, rows=rows)
