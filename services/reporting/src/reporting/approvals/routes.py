"""The approval chain's API, under /reports/board/approvals: drafts and their words, the steps of the chain, late
records and re-issues of a locked period, and the completeness of the boards below a unit."""

import uuid

from fastapi import status
from fastapi.responses import Response

from contracts.api.approvals import (
    ApprovalAction,
    Completeness,
    DraftCreate,
    LateRecord,
    Reissue,
    ReportApproval,
    ReturnRequest,
    StepRequest,
)
from contracts.api.report_words import ReportWords
from contracts.api.reporting import IssuedReport, ReportKind
from reporting.access import ReportingReader, UnitQuery
from reporting.approvals import completeness as completeness_of
from reporting.approvals import service
from reporting.board_reports import exports
from reporting.board_reports.routes import MEDIA_TYPES, ReportFormat
from reporting.periods import EndQuery, StartQuery, period_of
from reporting.settings import ReportingRuntime
from servicekit.idempotency import ServiceRouter
from servicekit.runtime import SessionDep

router = ServiceRouter(prefix="/reports/board/approvals", tags=["reporting", "approvals"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ReportApproval)
async def create_draft(
    draft: DraftCreate, caller: ReportingReader, session: SessionDep, runtime: ReportingRuntime
) -> ReportApproval:
    """A draft report for the board's unit and period, with the board's words (by the unit's own board)."""
    return await service.create_draft(session, caller, draft, runtime.settings.report_deadline_days)


@router.get("", response_model=list[ReportApproval])
async def approvals_of(
    unit: UnitQuery, caller: ReportingReader, session: SessionDep, runtime: ReportingRuntime
) -> list[ReportApproval]:
    return await service.approvals_of(session, caller, unit, runtime.settings.report_deadline_days)


@router.get("/completeness", response_model=Completeness)
async def completeness(
    unit: UnitQuery,
    caller: ReportingReader,
    session: SessionDep,
    runtime: ReportingRuntime,
    kind: ReportKind = ReportKind.SIX_MONTHLY,
    period_start: StartQuery = None,
    period_end: EndQuery = None,
) -> Completeness:
    """Which boards one level below `unit` (VN: the provincial boards; a province: its commune boards) submitted
    the period's report by the deadline, late, or not at all."""
    start, end = period_of(period_start, period_end)
    return await completeness_of.completeness(session, caller, unit, kind, start, end, runtime.settings.report_deadline_days)


@router.get("/{approval_id}", response_model=ReportApproval)
async def approval(
    approval_id: uuid.UUID, caller: ReportingReader, session: SessionDep, runtime: ReportingRuntime
) -> ReportApproval:
    return await service.approval_view(session, caller, approval_id, runtime.settings.report_deadline_days)


@router.put("/{approval_id}/words", response_model=ReportApproval)
async def edit_words(
    approval_id: uuid.UUID, words: ReportWords, caller: ReportingReader, session: SessionDep, runtime: ReportingRuntime
) -> ReportApproval:
    """The board's words, while the board holds the report; 409 once submitted or locked."""
    return await service.edit_words(session, caller, approval_id, words, runtime.settings.report_deadline_days)


async def _step(
    approval_id: uuid.UUID,
    action: ApprovalAction,
    comment: str | None,
    caller: ReportingReader,
    session: SessionDep,
    runtime: ReportingRuntime,
) -> ReportApproval:
    settings = runtime.settings
    return await service.take_step(
        session,
        runtime.outbox,
        caller,
        approval_id,
        action,
        comment,
        min_cell_size=settings.min_cell_size,
        deadline_days=settings.report_deadline_days,
    )


@router.post("/{approval_id}/submit", response_model=ReportApproval)
async def submit(
    approval_id: uuid.UUID, step: StepRequest, caller: ReportingReader, session: SessionDep, runtime: ReportingRuntime
) -> ReportApproval:
    """Send the report up: computed now and stored verbatim with the words; refused if a check fails."""
    return await _step(approval_id, ApprovalAction.SUBMIT, step.comment, caller, session, runtime)


@router.post("/{approval_id}/return", response_model=ReportApproval)
async def return_(
    approval_id: uuid.UUID, step: ReturnRequest, caller: ReportingReader, session: SessionDep, runtime: ReportingRuntime
) -> ReportApproval:
    """Send the report back to its board with the reason (the level above, or the central board)."""
    return await _step(approval_id, ApprovalAction.RETURN, step.comment, caller, session, runtime)


@router.post("/{approval_id}/approve", response_model=ReportApproval)
async def approve(
    approval_id: uuid.UUID, step: StepRequest, caller: ReportingReader, session: SessionDep, runtime: ReportingRuntime
) -> ReportApproval:
    """Approve a submitted report (the level above): the period is locked; the central board's approval accepts."""
    return await _step(approval_id, ApprovalAction.APPROVE, step.comment, caller, session, runtime)


@router.post("/{approval_id}/accept", response_model=ReportApproval)
async def accept(
    approval_id: uuid.UUID, step: StepRequest, caller: ReportingReader, session: SessionDep, runtime: ReportingRuntime
) -> ReportApproval:
    """Accept an approved report (the central board)."""
    return await _step(approval_id, ApprovalAction.ACCEPT, step.comment, caller, session, runtime)


@router.get("/{approval_id}/late-records", response_model=list[LateRecord])
async def late_records(approval_id: uuid.UUID, caller: ReportingReader, session: SessionDep) -> list[LateRecord]:
    """Records for the locked unit and period applied after the lock."""
    return await service.late_records(session, caller, approval_id)


@router.post("/{approval_id}/reissue", status_code=status.HTTP_201_CREATED, response_model=Reissue)
async def reissue(approval_id: uuid.UUID, caller: ReportingReader, session: SessionDep, runtime: ReportingRuntime) -> Reissue:
    """The locked report computed again (late records counted) and issued; per figure: approved, now, delta."""
    return await service.reissue(session, runtime.outbox, caller, approval_id, runtime.settings.min_cell_size)


@router.get(
    "/{approval_id}/document",
    response_model=IssuedReport,
    responses={200: {"content": {m: {} for m in MEDIA_TYPES.values()}}},
)
async def document(
    approval_id: uuid.UUID,
    caller: ReportingReader,
    session: SessionDep,
    runtime: ReportingRuntime,
    format: ReportFormat = ReportFormat.JSON,
) -> Response | IssuedReport:
    """The document last submitted (figures and the board's words), as JSON, XLSX or PDF."""
    issued = await service.submitted_document(session, caller, approval_id, runtime.settings.min_cell_size)
    if format is ReportFormat.JSON:
        return issued
    report = issued.report
    content = exports.to_xlsx(report) if format is ReportFormat.XLSX else exports.to_pdf(report)
    filename = (
        f"bao-cao-{report.kind.value}-{report.unit}-{report.period_start}-{report.period_end}-{issued.report_id}.{format.value}"
    )
    return Response(
        content, media_type=MEDIA_TYPES[format], headers={"content-disposition": f'attachment; filename="{filename}"'}
    )
