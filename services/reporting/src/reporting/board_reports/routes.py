"""The board reports' API: the live report (JSON, XLSX, PDF), issuing it, and the reports issued."""

import uuid
from enum import StrEnum

from fastapi import status
from fastapi.responses import Response

from contracts.api.reporting import BoardReport, IssuedReport, IssuedReportSummary, ReportKind, UnitBasis
from reporting.access import BasisQuery, ReportingReader, UnitQuery
from reporting.board_reports import exports, service
from reporting.periods import EndQuery, StartQuery, period_of
from reporting.settings import ReportingRuntime
from servicekit.idempotency import ServiceRouter
from servicekit.runtime import SessionDep

router = ServiceRouter(tags=["reporting"])


class ReportFormat(StrEnum):
    JSON = "json"
    XLSX = "xlsx"
    PDF = "pdf"


MEDIA_TYPES = {
    ReportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ReportFormat.PDF: "application/pdf",
}


@router.get("/reports/board", response_model=BoardReport, responses={200: {"content": {m: {} for m in MEDIA_TYPES.values()}}})
async def board_report(
    unit: UnitQuery,
    caller: ReportingReader,
    session: SessionDep,
    runtime: ReportingRuntime,
    kind: ReportKind = ReportKind.SIX_MONTHLY,
    period_start: StartQuery = None,
    period_end: EndQuery = None,
    format: ReportFormat = ReportFormat.JSON,
    basis: BasisQuery = UnitBasis.AS_THEN,
) -> Response | BoardReport:
    """Báo cáo 6 tháng / năm for a board: JSON, or downloadable as XLSX or PDF (built from the same figures,
    suppressed alike for a caller who may only aggregate the unit)."""
    start, end = period_of(period_start, period_end)
    report = await service.board_report(session, caller, unit, kind, start, end, runtime.settings.min_cell_size, basis)
    if format is ReportFormat.JSON:
        return report
    content = exports.to_xlsx(report) if format is ReportFormat.XLSX else exports.to_pdf(report)
    on_today = "-today" if basis is UnitBasis.TODAY else ""  # two bases of one period: two files, not one overwritten
    filename = f"bao-cao-{kind.value}-{unit}-{start}-{end}{on_today}.{format.value}"
    return Response(
        content, media_type=MEDIA_TYPES[format], headers={"content-disposition": f'attachment; filename="{filename}"'}
    )


@router.post("/reports/board/issued", status_code=status.HTTP_201_CREATED, response_model=IssuedReport)
async def issue_board_report(
    unit: UnitQuery,
    caller: ReportingReader,
    session: SessionDep,
    runtime: ReportingRuntime,
    kind: ReportKind = ReportKind.SIX_MONTHLY,
    period_start: StartQuery = None,
    period_end: EndQuery = None,
    basis: BasisQuery = UnitBasis.AS_THEN,
) -> IssuedReport:
    """Issue the board's report for the period: stored as computed now (it never changes) and announced (ReportIssued)."""
    start, end = period_of(period_start, period_end)
    settings = runtime.settings
    return await service.issue(session, runtime.outbox, caller, unit, kind, start, end, settings.min_cell_size, basis)


@router.get("/reports/board/issued", response_model=list[IssuedReportSummary])
async def issued_board_reports(unit: UnitQuery, caller: ReportingReader, session: SessionDep) -> list[IssuedReportSummary]:
    return await service.issued_for(session, caller, unit)


@router.get("/reports/board/issued/{report_id}", response_model=IssuedReport)
async def issued_board_report(
    report_id: uuid.UUID, caller: ReportingReader, session: SessionDep, runtime: ReportingRuntime
) -> IssuedReport:
    return await service.issued(session, caller, report_id, runtime.settings.min_cell_size)
