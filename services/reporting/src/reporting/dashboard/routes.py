"""The dashboard's API: its figures for a unit, the units it offers, the registry's latest counts; the coverage
map and drill-down, the comparison with the previous period, the person-level lists (audited, exportable to
XLSX) and the facilities' activity.

The dashboard page itself (PAGE_DIR) is served by the app at /dashboard/ without a token: it holds no
data, signs in through the gateway and calls this API there with the caller's token.
"""

from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from fastapi import Query, Response

from contracts.api.dashboard import (
    AbnormalFindingList,
    CoverageTarget,
    DashboardComparison,
    DashboardMap,
    FacilityActivity,
    NotExaminedList,
)
from contracts.api.reporting import CadreCountReport, DashboardSummary, UnitBasis, UnitOption
from reporting.access import BasisQuery, ReportingReader, UnitQuery
from reporting.dashboard import drill, exports, facilities, lists, service
from reporting.periods import AsOfQuery, EndQuery, StartQuery, period_of
from reporting.settings import ReportingRuntime, ReportingSettings
from servicekit import clock
from servicekit.audit import audit_subjects
from servicekit.idempotency import ServiceRouter
from servicekit.runtime import SessionDep

PAGE_DIR = Path(str(resources.files("reporting.dashboard") / "static"))

router = ServiceRouter(tags=["reporting"])


@router.get("/cadre-counts", response_model=CadreCountReport)
async def cadre_counts(unit: str, caller: ReportingReader, session: SessionDep, runtime: ReportingRuntime) -> CadreCountReport:
    return await service.cadre_counts(session, caller, unit, runtime.settings.min_cell_size)


@router.get("/units", response_model=list[UnitOption])
async def units(caller: ReportingReader, session: SessionDep) -> list[UnitOption]:
    """The units the caller may pick in the dashboard (nation, provinces, districts in its grants)."""
    return await service.units_for(session, caller)


@router.get("/summary", response_model=DashboardSummary)
async def summary(
    unit: UnitQuery,
    caller: ReportingReader,
    session: SessionDep,
    runtime: ReportingRuntime,
    period_start: StartQuery = None,
    period_end: EndQuery = None,
    as_of: AsOfQuery = None,
    basis: BasisQuery = UnitBasis.AS_THEN,
) -> DashboardSummary:
    """The dashboard's figures for a unit and everything below it, over a period (counts as of its end)."""
    start, end = period_of(period_start, period_end, as_of)
    return await service.dashboard(session, caller, unit, start, end, runtime.settings.min_cell_size, basis)


LimitQuery = Annotated[
    int, Query(ge=1, le=200, description="rows listed at most (the total counts them all); an XLSX export holds up to 10,000")
]
EXPORT_ROWS = 10_000  # a workbook a board opens in a spreadsheet; the gateway's pages stop at 200
FormatQuery = Annotated[Literal["json", "xlsx"], Query(description="json, or an XLSX workbook to download")]


def _target(settings: ReportingSettings) -> CoverageTarget:
    return CoverageTarget(target=settings.coverage_target, amber_margin=settings.coverage_amber_margin)


@router.get("/coverage-map", response_model=DashboardMap)
async def coverage_map(
    unit: UnitQuery,
    caller: ReportingReader,
    session: SessionDep,
    runtime: ReportingRuntime,
    period_start: StartQuery = None,
    period_end: EndQuery = None,
    as_of: AsOfQuery = None,
    basis: BasisQuery = UnitBasis.AS_THEN,
) -> DashboardMap:
    """Periodic exam coverage of a unit and of each unit below it (with coordinates for the map), this period
    and the previous one, banded against the target; the breadcrumbs back up to the nation."""
    start, end = period_of(period_start, period_end, as_of)
    settings = runtime.settings
    return await drill.coverage_map(session, caller, unit, start, end, basis, _target(settings), settings.min_cell_size)


@router.get("/comparison", response_model=DashboardComparison)
async def comparison(
    unit: UnitQuery,
    caller: ReportingReader,
    session: SessionDep,
    runtime: ReportingRuntime,
    period_start: StartQuery = None,
    period_end: EndQuery = None,
    as_of: AsOfQuery = None,
    basis: BasisQuery = UnitBasis.AS_THEN,
) -> DashboardComparison:
    """The summary's key figures for the period beside the previous period's, with the change."""
    start, end = period_of(period_start, period_end, as_of)
    return await service.comparison(session, caller, unit, start, end, runtime.settings.min_cell_size, basis)


def _xlsx(body: bytes, name: str) -> Response:
    return Response(body, media_type=exports.XLSX, headers={"content-disposition": f'attachment; filename="{name}.xlsx"'})


@router.get("/lists/not-examined", response_model=NotExaminedList)
async def not_examined(
    unit: UnitQuery,
    caller: ReportingReader,
    session: SessionDep,
    response: Response,
    period_start: StartQuery = None,
    period_end: EndQuery = None,
    as_of: AsOfQuery = None,
    basis: BasisQuery = UnitBasis.AS_THEN,
    limit: LimitQuery = 100,
    format: FormatQuery = "json",
) -> NotExaminedList | Response:
    """Cadres under care at the period's end not examined in it (ids, no names), whose health records the caller
    may read; every cadre listed is named to the audit trail."""
    start, end = period_of(period_start, period_end, as_of)
    rows = EXPORT_ROWS if format == "xlsx" else limit
    found = await lists.not_examined_list(session, caller, unit, start, end, basis, rows)
    answer = _xlsx(exports.not_examined_xlsx(found), f"chua-kham-{unit}") if format == "xlsx" else response
    audit_subjects(answer, [r.cadre_id for r in found.rows])
    return answer if format == "xlsx" else found


@router.get("/lists/abnormal-findings", response_model=AbnormalFindingList)
async def abnormal_findings(
    unit: UnitQuery,
    caller: ReportingReader,
    session: SessionDep,
    response: Response,
    period_start: StartQuery = None,
    period_end: EndQuery = None,
    as_of: AsOfQuery = None,
    basis: BasisQuery = UnitBasis.AS_THEN,
    limit: LimitQuery = 100,
    format: FormatQuery = "json",
) -> AbnormalFindingList | Response:
    """Findings classified C or D, or flagged for a follow-up, in the period with no later encounter of their
    cadre; every cadre listed is named to the audit trail."""
    start, end = period_of(period_start, period_end, as_of)
    rows = EXPORT_ROWS if format == "xlsx" else limit
    found = await lists.abnormal_list(session, caller, unit, start, end, basis, rows)
    answer = _xlsx(exports.abnormal_xlsx(found), f"bat-thuong-{unit}") if format == "xlsx" else response
    audit_subjects(answer, [r.cadre_id for r in found.rows])
    return answer if format == "xlsx" else found


@router.get("/facility-activity", response_model=FacilityActivity)
async def facility_activity(
    unit: UnitQuery,
    caller: ReportingReader,
    session: SessionDep,
    runtime: ReportingRuntime,
    as_of: AsOfQuery = None,
    basis: BasisQuery = UnitBasis.AS_THEN,
) -> FacilityActivity:
    """Per facility posting records in scope: its latest encounter, its encounters in the last six months, and
    whether it has been silent longer than the setting (REPORTING_FACILITY_SILENT_DAYS)."""
    settings = runtime.settings
    day = as_of or clock.today()
    return await facilities.facility_activity(
        session, caller, unit, day, basis, settings.facility_silent_days, settings.min_cell_size
    )
