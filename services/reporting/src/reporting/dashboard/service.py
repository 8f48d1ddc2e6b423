"""The dashboard's use cases: check the unit and period, then assemble the figures for the caller's scope."""

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.api.dashboard import DashboardComparison, FigureChange
from contracts.api.reporting import CadreCountReport, CadreCountRow, DashboardSummary, UnitBasis, UnitOption
from contracts.enums import CadreStatus, ManagementTier
from contracts.scope import Principal
from reporting.access import name_in_period, resolve_unit, visible_units
from reporting.dashboard import figures, queries
from reporting.dashboard.targets import change, previous_period
from reporting.domain import rate
from reporting.facts import for_analysis
from reporting.periods import NO_DATA, check_period
from reporting.suppression import suppressed_cadre_counts, suppressed_dashboard
from servicekit import clock
from servicekit.suppression import aggregate_only


async def cadre_counts(session: AsyncSession, principal: Principal, unit: str, min_cell_size: int) -> CadreCountReport:
    """The cadres' latest snapshots by tier and status (no history: what the registry says now); small
    cells suppressed for a caller who may only aggregate the unit."""
    rows = await session.execute(queries.latest_cadre_counts(principal, unit))
    counted = [CadreCountRow(tier=ManagementTier(t), status=CadreStatus(s), count=n) for t, s, n in rows]
    report = CadreCountReport(unit=unit, total=sum(r.count for r in counted), rows=counted, as_of=clock.now())
    return suppressed_cadre_counts(report, min_cell_size) if aggregate_only(principal, unit) else report


async def units_for(session: AsyncSession, principal: Principal) -> list[UnitOption]:
    if not visible_units(principal):
        return []
    rows = (await session.execute(queries.units_to_pick(principal))).scalars()
    return [
        UnitOption(path=u.path, name=u.name, level=u.level, parent_path=u.parent_path, latitude=u.latitude, longitude=u.longitude)
        for u in rows
    ]


async def dashboard(
    session: AsyncSession,
    principal: Principal,
    unit: str,
    start: date,
    end: date,
    min_cell_size: int,
    basis: UnitBasis = UnitBasis.AS_THEN,
) -> DashboardSummary:
    """The figures for a unit and everything below it over a period, counts as of its end; each row counted
    under its cadre's unit on the row's date, as the units stood then or mapped onto today's (`basis`)."""
    check_period(start, end)
    found = await resolve_unit(session, principal, unit)
    await for_analysis(session)
    cadres = await figures.cadre_section(session, principal, unit, end, figures.day_before(start), basis)
    coverage = await figures.coverage_section(session, principal, unit, start, end, basis)
    classification = await figures.classification_section(session, principal, unit, start, end, basis)
    cells = await figures.activity_cells(session, principal, unit, start, end, basis)
    chronic = await figures.chronic_section(session, principal, unit, end, cadres.total, basis)
    only_aggregates = aggregate_only(principal, unit)
    has_data = cadres.total > 0 or cadres.total_then > 0 or coverage.has_data or bool(cells)
    summary = DashboardSummary(
        unit=unit,
        unit_name=await name_in_period(session, found, end, basis),
        period_start=start,
        period_end=end,
        generated_at=clock.now(),
        has_data=has_data,
        message=None if has_data else NO_DATA,
        aggregate_only=only_aggregates,
        min_cell_size=min_cell_size,
        cadres=cadres,
        coverage=coverage,
        classification=classification,
        activity=figures.activity_counts(cells, start, end),
        chronic=chronic,
        monthly=figures.monthly_points(cells, start, end),
    )
    return suppressed_dashboard(summary, min_cell_size) if only_aggregates else summary


def _shown(model: Any, key: str) -> int | None:
    """A figure as the caller may see it: None when suppressed (the model then holds 0 and names the field)."""
    value: int | None = getattr(model, key)
    return None if key in getattr(model, "suppressed", []) else value


def _sum(values: list[int | None]) -> int | None:
    return None if any(v is None for v in values) else sum(v or 0 for v in values)


def _key_figures(d: DashboardSummary) -> dict[str, float | None]:
    """The figures the page sets side by side; None where the caller may not see them (suppressed)."""
    invited = _sum([_shown(p, "invited") for p in d.coverage.by_plan])
    examined = _sum([_shown(p, "examined") for p in d.coverage.by_plan])
    a = d.activity
    return {
        "cadres": _shown(d.cadres, "total"),
        "active": _shown(d.cadres, "active"),
        "retired": _shown(d.cadres, "retired"),
        "invited": invited,
        "examined": examined,
        "coverage_rate": rate(examined, invited) if invited is not None and examined is not None else None,
        "classified": _shown(d.classification, "total"),
        "abnormal": _sum([r.count for r in d.classification.rows if r.code in ("C", "D")]),
        **{k: _shown(a, k) for k in ("outpatient_visits", "admissions", "referrals_total", "home_visits")},
    }


async def comparison(
    session: AsyncSession, principal: Principal, unit: str, start: date, end: date, min_cell_size: int, basis: UnitBasis
) -> DashboardComparison:
    """The period's key figures beside the previous period's (as long, just before it), with the change."""
    before_start, before_end = previous_period(start, end)
    now = await dashboard(session, principal, unit, start, end, min_cell_size, basis)
    then = await dashboard(session, principal, unit, before_start, before_end, min_cell_size, basis)
    current, previous = _key_figures(now), _key_figures(then)
    return DashboardComparison(
        unit=unit,
        unit_name=now.unit_name,
        period_start=start,
        period_end=end,
        previous_start=before_start,
        previous_end=before_end,
        figures=[FigureChange(key=k, current=v, previous=previous[k], change=change(v, previous[k])) for k, v in current.items()],
    )
