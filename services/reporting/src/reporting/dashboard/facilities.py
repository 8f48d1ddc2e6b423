"""Facility activity: per facility (the code its HIS posts records under: `RecordSummary.facility`, kept on
`ClinicalFact.facility`), its latest encounter and its encounters per month, so a hospital that stops sending
is seen. Counted like every figure: the records of the caller's scope under the unit asked for.

The latest encounter's date stands for the HIS's latest posting: reporting's read model keeps when a record
happened, not when it arrived; a HIS that goes quiet stops adding new dates either way."""

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.api.dashboard import FacilityActivity, FacilityActivityRow, FacilityMonth
from contracts.api.reporting import UnitBasis
from contracts.scope import Principal
from reporting.access import in_scope, resolve_unit
from reporting.domain import months_between
from reporting.facts import Rows, attributed_to
from reporting.periods import check_period
from reporting.tables import ClinicalFact
from servicekit.suppression import aggregate_only

MONTHS_SHOWN = 6


def _in_scope(principal: Principal, unit: str, basis: UnitBasis) -> Any:
    unit_column, province_column = attributed_to(ClinicalFact, basis)
    return in_scope(principal, unit, unit_column, col(ClinicalFact.tier), province_column)


def last_records(principal: Principal, unit: str, as_of: date, basis: UnitBasis) -> Rows:
    """(facility, its latest live record's date, up to `as_of`)."""
    return (
        select(col(ClinicalFact.facility), func.max(col(ClinicalFact.occurred_on)))
        .where(_in_scope(principal, unit, basis), col(ClinicalFact.withdrawn).is_(False), col(ClinicalFact.occurred_on) <= as_of)
        .group_by(col(ClinicalFact.facility))
    )


def monthly_records(principal: Principal, unit: str, start: date, as_of: date, basis: UnitBasis) -> Rows:
    """(facility, month, live records) from `start` to `as_of`."""
    return (
        select(col(ClinicalFact.facility), col(ClinicalFact.month), func.count())
        .where(
            _in_scope(principal, unit, basis),
            col(ClinicalFact.withdrawn).is_(False),
            col(ClinicalFact.occurred_on) >= start,
            col(ClinicalFact.occurred_on) <= as_of,
        )
        .group_by(col(ClinicalFact.facility), col(ClinicalFact.month))
    )


def first_month_shown(as_of: date) -> date:
    index = as_of.year * 12 + as_of.month - 1 - (MONTHS_SHOWN - 1)
    return date(index // 12, index % 12 + 1, 1)


async def facility_activity(
    session: AsyncSession,
    principal: Principal,
    unit: str,
    as_of: date,
    basis: UnitBasis,
    silent_after_days: int,
    min_cell_size: int,
) -> FacilityActivity:
    check_period(first_month_shown(as_of), as_of, as_of)
    await resolve_unit(session, principal, unit)
    start = first_month_shown(as_of)
    months = months_between(start, as_of)
    last = {str(f): day for f, day in await session.execute(last_records(principal, unit, as_of, basis))}
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for facility, month, n in await session.execute(monthly_records(principal, unit, start, as_of, basis)):
        counts[str(facility)][str(month)] = int(n)
    hide_below = min_cell_size if aggregate_only(principal, unit) else 0

    def shown(n: int) -> int | None:
        # hidden from an aggregate-only caller when small (but not when none): a count that could name a visit
        return n if n >= hide_below or n == 0 else None

    rows = [
        FacilityActivityRow(
            facility=facility,
            last_record_on=day,
            days_silent=(as_of - day).days,
            silent=(as_of - day).days > silent_after_days,
            encounters=shown(sum(counts[facility].values())),
            months=[FacilityMonth(month=m, encounters=shown(counts[facility].get(m, 0))) for m in months],
        )
        for facility, day in last.items()
    ]
    rows.sort(key=lambda r: (not r.silent, -r.days_silent, r.facility))
    return FacilityActivity(unit=unit, as_of=as_of, silent_after_days=silent_after_days, months=months, rows=rows)
