"""Thin HTTP layer: parse, call the use case, shape the response. Every figure here is an aggregate."""

import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated

from fastapi import Query, status
from fastapi.responses import Response

from contracts.api.reporting import (
    BoardReport,
    CadreCountReport,
    DashboardSummary,
    IssuedReport,
    IssuedReportSummary,
    NationalRollup,
    ReportKind,
    UnitBasis,
    UnitOption,
)
from reporting import exports, issued, reports, rollup, service
from reporting.settings import ReportingSettings
from servicekit.auth import CallerDep, require_permission
from servicekit.idempotency import ServiceRouter
from servicekit.runtime import RuntimeDep, SessionDep

router = ServiceRouter(tags=["reporting"])

UnitQuery = Annotated[str, Query(min_length=2, max_length=100, description="materialised unit path, e.g. VN.68")]
StartQuery = Annotated[date | None, Query(description="first day of the period (default: 1 January of the end's year)")]
EndQuery = Annotated[date | None, Query(description="last day of the period (default: today, or as_of)")]
AsOfQuery = Annotated[date | None, Query(description="the date counts hold on; the period's end when no end is given")]


class ReportFormat(StrEnum):
    JSON = "json"
    XLSX = "xlsx"
    PDF = "pdf"


MEDIA_TYPES = {
    ReportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ReportFormat.PDF: "application/pdf",
}


def _period(start: date | None, end: date | None, as_of: date | None) -> tuple[date, date]:
    last = end or as_of or service.today()
    first = start or date(last.year, 1, 1)
    service.check_period(first, last, as_of)
    return first, last


def _min_cell_size(runtime_settings: object) -> int:
    return runtime_settings.min_cell_size if isinstance(runtime_settings, ReportingSettings) else 10


@router.get("/cadre-counts", response_model=CadreCountReport)
async def cadre_counts(unit: str, caller: CallerDep, session: SessionDep) -> CadreCountReport:
    require_permission(caller, "reporting.read")
    return await service.cadre_counts(session, caller, unit)


@router.get("/units", response_model=list[UnitOption])
async def units(caller: CallerDep, session: SessionDep) -> list[UnitOption]:
    """The units the caller may pick in the dashboard (nation, provinces, districts in its grants)."""
    require_permission(caller, "reporting.read")
    return await service.units_for(session, caller)


@router.get("/summary", response_model=DashboardSummary)
async def summary(
    unit: UnitQuery,
    caller: CallerDep,
    session: SessionDep,
    runtime: RuntimeDep,
    period_start: StartQuery = None,
    period_end: EndQuery = None,
    as_of: AsOfQuery = None,
) -> DashboardSummary:
    """The dashboard's figures for a unit and everything below it, over a period (counts as of its end)."""
    require_permission(caller, "reporting.read")
    start, end = _period(period_start, period_end, as_of)
    return await service.dashboard(session, caller, unit, start, end, _min_cell_size(runtime.settings))


@router.get("/reports/board", response_model=BoardReport, responses={200: {"content": {m: {} for m in MEDIA_TYPES.values()}}})
async def board_report(
    unit: UnitQuery,
    caller: CallerDep,
    session: SessionDep,
    kind: ReportKind = ReportKind.SIX_MONTHLY,
    period_start: StartQuery = None,
    period_end: EndQuery = None,
    format: ReportFormat = ReportFormat.JSON,
) -> Response | BoardReport:
    """Báo cáo 6 tháng / năm for a board: JSON, or downloadable as XLSX or PDF."""
    require_permission(caller, "reporting.read")
    start, end = _period(period_start, period_end, None)
    report = await reports.board_report(session, caller, unit, kind, start, end)
    if format is ReportFormat.JSON:
        return report
    content = exports.to_xlsx(report) if format is ReportFormat.XLSX else exports.to_pdf(report)
    filename = f"bao-cao-{kind.value}-{unit}-{start}-{end}.{format.value}"
    return Response(
        content, media_type=MEDIA_TYPES[format], headers={"content-disposition": f'attachment; filename="{filename}"'}
    )


@router.post("/reports/board/issued", status_code=status.HTTP_201_CREATED, response_model=IssuedReport)
async def issue_board_report(
    unit: UnitQuery,
    caller: CallerDep,
    session: SessionDep,
    runtime: RuntimeDep,
    kind: ReportKind = ReportKind.SIX_MONTHLY,
    period_start: StartQuery = None,
    period_end: EndQuery = None,
) -> IssuedReport:
    """Issue the board's report for the period: stored as computed now (it never changes) and announced (ReportIssued)."""
    require_permission(caller, "reporting.read")
    start, end = _period(period_start, period_end, None)
    return await issued.issue(session, runtime.outbox, caller, unit, kind, start, end)


@router.get("/reports/board/issued", response_model=list[IssuedReportSummary])
async def issued_board_reports(unit: UnitQuery, caller: CallerDep, session: SessionDep) -> list[IssuedReportSummary]:
    require_permission(caller, "reporting.read")
    return await issued.list_for(session, caller, unit)


@router.get("/reports/board/issued/{report_id}", response_model=IssuedReport)
async def issued_board_report(report_id: uuid.UUID, caller: CallerDep, session: SessionDep) -> IssuedReport:
    require_permission(caller, "reporting.read")
    return await issued.get(session, caller, report_id)


@router.get("/aggregation/national", response_model=NationalRollup)
async def national(
    caller: CallerDep,
    session: SessionDep,
    runtime: RuntimeDep,
    period_start: date,
    period_end: date,
    basis: UnitBasis = UnitBasis.AS_THEN,
    min_cell_size: Annotated[int | None, Query(ge=1, description="at least the configured size; larger suppresses more")] = None,
) -> NationalRollup:
    """The national roll-up by province: de-identified aggregates with small cells suppressed."""
    require_permission(caller, "reporting.read")
    configured = _min_cell_size(runtime.settings)
    return await rollup.rollup(session, caller, period_start, period_end, basis, max(configured, min_cell_size or configured))
