"""Reporting use cases: check the unit and period, then assemble the figures of `queries` for the caller's scope."""

from datetime import UTC, date, datetime

from sqlalchemy import func, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from contracts.api.reporting import (
    CadreCountReport,
    CadreCountRow,
    ChronicSection,
    ClassificationSection,
    DashboardSummary,
    UnitOption,
)
from contracts.enums import Action, CadreStatus, ManagementTier, UnitLevel
from contracts.scope import Principal, unit_covers
from reporting import queries
from reporting.domain import RawCell, period_problems, rate, suppress
from reporting.queries import Scope
from reporting.tables import CadreFact, UnitFact
from servicekit.auth import scope_filter, within_unit
from servicekit.errors import NotFound, Refused, field_error

NO_DATA = "Không có dữ liệu cho kỳ này / No data for this period: no cadre, invitation or record in scope."


async def cadre_counts(session: AsyncSession, principal: Principal, unit: str) -> CadreCountReport:
    unit_column, tier, status = col(CadreFact.managing_unit), col(CadreFact.tier), col(CadreFact.status)
    in_scope = or_(
        scope_filter(principal, Action.READ, unit_column, tier),
        scope_filter(principal, Action.AGGREGATE, unit_column, tier),
    )
    rows = await session.execute(
        select(tier, status, func.count())
        .where(in_scope, within_unit(unit_column, unit))
        .group_by(tier, status)
        .order_by(tier, status)
    )
    counted = [CadreCountRow(tier=ManagementTier(t), status=CadreStatus(s), count=n) for t, s, n in rows]
    return CadreCountReport(unit=unit, total=sum(r.count for r in counted), rows=counted, as_of=datetime.now(UTC))


def today() -> date:
    return datetime.now(UTC).date()


def _visible_grants(principal: Principal) -> list[str]:
    return [g.unit_path for g in principal.grants if g.actions & {Action.READ, Action.AGGREGATE}]


async def resolve_unit(session: AsyncSession, principal: Principal, unit: str) -> UnitFact:
    """The unit asked for, if it is known and overlaps the caller's grants; otherwise 404 (nothing leaks)."""
    found = await session.get(UnitFact, unit)
    overlaps = any(unit_covers(g, unit) or unit_covers(unit, g) for g in _visible_grants(principal))
    if found is None or not overlaps:
        raise NotFound(f"unknown unit {unit!r}", errors=[field_error(["query", "unit"], f"no unit {unit!r} in your scope")])
    return found


def check_period(start: date, end: date, as_of: date | None = None) -> None:
    problems = period_problems(start, end, as_of, today())
    if problems:
        raise Refused(
            problems[0][1], errors=[field_error(["query", field], reason) for field, reason in problems], code="invalid_period"
        )


def aggregate_only(principal: Principal, unit: str) -> bool:
    """True when some tier is visible here only through an AGGREGATE grant: small cells are then suppressed."""
    read: set[ManagementTier] = set()
    aggregated: set[ManagementTier] = set()
    for grant in principal.grants:
        if Action.READ in grant.actions and unit_covers(grant.unit_path, unit):
            read |= grant.tiers
        if Action.AGGREGATE in grant.actions and (unit_covers(grant.unit_path, unit) or unit_covers(unit, grant.unit_path)):
            aggregated |= grant.tiers
    return bool(aggregated - read)


async def units_for(session: AsyncSession, principal: Principal) -> list[UnitOption]:
    grants = _visible_grants(principal)
    if not grants:
        return []
    covered = or_(*(within_unit(col(UnitFact.path), g) for g in grants))
    rows = (
        await session.execute(
            select(UnitFact)
            .where(covered, col(UnitFact.level) != UnitLevel.COMMUNE.value, col(UnitFact.valid_to).is_(None))
            .order_by(col(UnitFact.path))
        )
    ).scalars()
    return [UnitOption(path=u.path, name=u.name, level=u.level, parent_path=u.parent_path) for u in rows]


def suppress_health_cells(classification: ClassificationSection, chronic: ChronicSection, min_cadres: int) -> None:
    """For aggregate-only callers: hide classification and chronic-condition counts resting on too few cadres."""
    rows = [classification.rows, *classification.by_tier.values()]
    for group in rows:
        cells = {r.code: RawCell(r.count or 0, r.count or 0) for r in group}
        shown = suppress(cells, [("total", list(cells))], min_cadres)
        for row in group:
            if shown[row.code].suppressed:
                row.count, row.share = None, None
    chronic_cells = {r.group: RawCell(r.cadres or 0, r.cadres or 0) for r in chronic.rows}
    hidden = suppress(chronic_cells, [], min_cadres)
    for condition in chronic.rows:
        if hidden[condition.group].suppressed:
            condition.cadres, condition.prevalence = None, None
    comorbidity = {r.conditions: RawCell(r.cadres or 0, r.cadres or 0) for r in chronic.comorbidity}
    hidden = suppress(comorbidity, [("any", list(comorbidity))], min_cadres)
    for bucket in chronic.comorbidity:
        if hidden[bucket.conditions].suppressed:
            bucket.cadres = None


async def dashboard(
    session: AsyncSession, principal: Principal, unit: str, start: date, end: date, min_cell_size: int
) -> DashboardSummary:
    check_period(start, end)
    found = await resolve_unit(session, principal, unit)
    scope = Scope(principal, unit)
    await queries.for_analysis(session)
    cadres = await queries.cadre_section(session, scope, end, queries.day_before(start))
    coverage = await queries.coverage_section(session, scope, start, end)
    classification = await queries.classification_section(session, scope, start, end)
    cells = await queries.activity_cells(session, scope, start, end)
    chronic = await queries.chronic_section(session, scope, end, cadres.total)
    only_aggregates = aggregate_only(principal, unit)
    if only_aggregates:
        suppress_health_cells(classification, chronic, min_cell_size)
    has_data = cadres.total > 0 or cadres.total_then > 0 or coverage.has_data or bool(cells)
    return DashboardSummary(
        unit=unit,
        unit_name=found.name,
        period_start=start,
        period_end=end,
        generated_at=datetime.now(UTC),
        has_data=has_data,
        message=None if has_data else NO_DATA,
        aggregate_only=only_aggregates,
        min_cell_size=min_cell_size,
        cadres=cadres,
        coverage=coverage,
        classification=classification,
        activity=queries.activity_counts(cells, start, end),
        chronic=chronic,
        monthly=queries.monthly_points(cells, start, end),
    )


__all__ = ["aggregate_only", "cadre_counts", "check_period", "dashboard", "rate", "resolve_unit", "units_for"]
