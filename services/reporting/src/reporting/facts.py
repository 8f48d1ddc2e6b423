"""Conditions on the read models that the dashboard's figures and the national roll-up both count with, the
type of the statements the features' queries build, and the session settings they run under."""

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, not_, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from contracts.api.reporting import UnitBasis
from contracts.enums import EncounterKind
from reporting.tables import CadreInterval, ClinicalFact

Rows = Select[*tuple[Any, ...]]  # a statement of rows of any columns


def attributed_to(model: Any, basis: UnitBasis) -> tuple[Any, Any]:
    """(unit, province) columns a dated read model's rows count under: the units as they stood on each row's
    date, or those units mapped onto today's (both stored on the rows: `reporting.attribution`)."""
    if basis is UnitBasis.TODAY:
        return col(model.today_unit), col(model.today_province)
    return col(model.managing_unit), col(model.province)


def holds_on(day: date, interval: Any = CadreInterval) -> ColumnElement[bool]:
    """A cadre interval in force on `day` (valid_to is exclusive)."""
    return and_(
        col(interval.valid_from) <= day,
        or_(col(interval.valid_to).is_(None), col(interval.valid_to) > day),
    )


def _live_exams_in(start: date, end: date, record: Any = ClinicalFact) -> ColumnElement[bool]:
    return and_(
        col(record.kind) == EncounterKind.PERIODIC_EXAM.value,
        col(record.withdrawn).is_(False),
        col(record.classification).is_not(None),
        col(record.occurred_on) >= start,
        col(record.occurred_on) <= end,
    )


def latest_exam_conditions(start: date, end: date) -> list[ColumnElement[bool]]:
    """A live classified exam in the period that is its cadre's latest there (ties: the higher record id)."""
    later = aliased(ClinicalFact)
    record = ClinicalFact
    superseded = (
        select(col(later.record_id))
        .where(
            col(later.cadre_id) == col(record.cadre_id),
            _live_exams_in(start, end, later),
            or_(
                col(later.occurred_on) > col(record.occurred_on),
                and_(col(later.occurred_on) == col(record.occurred_on), col(later.record_id) > col(record.record_id)),
            ),
        )
        .exists()
    )
    return [_live_exams_in(start, end), not_(superseded)]


async def for_analysis(session: AsyncSession) -> None:
    """PostgreSQL, this transaction only: room for the national queries' sorts and hashes in memory, and a plan
    made for each execution's own dates and units. asyncpg prepares every statement, and from its sixth execution
    PostgreSQL may switch to a generic plan that does not know the period: the national dashboard took twice as
    long from then on."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL work_mem = '32MB'"))
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
