"""The dashboard's use cases: check the unit and period, then assemble the figures for the caller's scope."""

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.api.reporting import CadreCountReport, CadreCountRow, DashboardSummary, UnitBasis, UnitOption
from contracts.enums import CadreStatus, ManagementTier
from contracts.scope import Principal
from reporting.access import name_in_period, resolve_unit, visible_units
from reporting.dashboard import figures, queries
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
    return [UnitOption(path=u.path, name=u.name, level=u.level, parent_path=u.parent_path) for u in rows]


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
    await figures.for_analysis(session)
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
