"""Headcounts on given days from the pre-aggregates: each key's total less the steps after the day (a few
years' sums, the rest of the day's year by month, the rest of its month by day), in the caller's scope."""

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select, union_all
from sqlmodel import col

from contracts.api.reporting import UnitBasis
from contracts.scope import Principal
from reporting.access import in_scope
from reporting.domain import COUNTED_STATUSES, next_month
from reporting.facts import Rows, attributed_to
from reporting.headcounts.steps import CADRES, DAY, MONTH, YEAR, month_start, year_start
from reporting.tables import HeadcountStep, HeadcountTotal

Columns = Callable[[Any, UnitBasis], Sequence[Any]]  # the columns of a headcount table to count by


def _next_year(day: date) -> date:
    return date(day.year + 1, 1, 1)


def after(day: date) -> ColumnElement[bool]:
    """The step rows that sum the changes after `day`, each change once."""
    s, starts = HeadcountStep, col(HeadcountStep.starts_on)
    return or_(
        and_(col(s.grain) == YEAR, starts > year_start(day)),
        and_(col(s.grain) == MONTH, starts > month_start(day), starts < _next_year(day)),
        and_(col(s.grain) == DAY, starts > day, starts < next_month(day)),
    )


def _where(model: Any, principal: Principal, unit: str, basis: UnitBasis, cadres: bool) -> list[ColumnElement[bool]]:
    unit_column, province_column = attributed_to(model, basis)
    measure = col(model.measure) == CADRES if cadres else col(model.measure) != CADRES
    return [
        in_scope(principal, unit, unit_column, col(model.tier), province_column),
        col(model.status).in_(COUNTED_STATUSES),
        measure,
    ]


def counted_on(
    principal: Principal, unit: str, days: Sequence[date], by: Columns, basis: UnitBasis, *, cadres: bool = True
) -> Rows:
    """(*by, measure, headcount on each of `days`...) of cadres under care under `unit`: the cadres themselves
    (`cadres`), or else their chronic-condition measures (`reporting.headcounts.steps`)."""
    total, step = HeadcountTotal, HeadcountStep
    totals = select(*by(total, basis), col(total.measure), *(col(total.cadres).label(f"d{i}") for i in range(len(days)))).where(
        *_where(total, principal, unit, basis, cadres)
    )
    changes = [case((after(day), -col(step.change)), else_=0).label(f"d{i}") for i, day in enumerate(days)]
    steps = select(*by(step, basis), col(step.measure), *changes).where(
        *_where(step, principal, unit, basis, cadres), or_(*(after(day) for day in days))
    )
    both = union_all(totals, steps).subquery()
    keys = list(both.c)[: len(both.c) - len(days)]
    return select(*keys, *(func.sum(both.c[f"d{i}"]) for i in range(len(days)))).group_by(*keys)


def by_tier_and_status(model: Any, _basis: UnitBasis) -> Sequence[Any]:
    return [col(model.tier), col(model.status)]


def by_province_tier_and_status(model: Any, basis: UnitBasis) -> Sequence[Any]:
    return [attributed_to(model, basis)[1].label("province"), col(model.tier), col(model.status)]


def overall(_model: Any, _basis: UnitBasis) -> Sequence[Any]:
    return []
