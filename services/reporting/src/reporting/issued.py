"""Issuing a board report: the six-monthly or yearly report, computed now, stored as it is and announced.

`GET /reports/board` answers from the records as they stand, so its figures move when a late record
arrives. The report a board sends to its standing committee must not: issuing stores that document,
verbatim, and publishes `ReportIssued` (outbox, same transaction) so that other services (the central
board's aggregation, notifications) learn that a board's report for a period exists.
"""

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from contracts.api.reporting import BoardReport, IssuedReport, IssuedReportSummary, ReportKind
from contracts.enums import Action
from contracts.events.reporting import ReportIssued
from contracts.scope import Principal, unit_covers
from reporting import reports, service
from reporting.tables import IssuedReport as IssuedRow
from servicekit.errors import Forbidden, NotFound, Refused, field_error
from servicekit.outbox import Outbox


def _may(principal: Principal, unit: str, actions: set[Action]) -> bool:
    return any(unit_covers(g.unit_path, unit) and g.actions & actions for g in principal.grants)


async def issue(
    session: AsyncSession, outbox: Outbox, principal: Principal, unit: str, kind: ReportKind, start: date, end: date
) -> IssuedReport:
    """Only a board that may write for the whole unit issues its report; a report without data is not issued."""
    report = await reports.board_report(session, principal, unit, kind, start, end)
    if not _may(principal, unit, {Action.WRITE}):
        raise Forbidden(f"only the board of {unit} issues its reports", code="not_the_board")
    if not report.has_data:
        raise Refused(
            "nothing to issue: no data for this period",
            errors=[field_error(["query", "period_start"], report.message or "no data")],
            code="no_data",
        )
    row = IssuedRow(
        report_id=uuid.uuid4(),
        board_unit=unit,
        kind=kind.value,
        period_start=start,
        period_end=end,
        issued_at=report.generated_at,
        issued_by=principal.subject,
        body=report.model_dump_json(),
    )
    session.add(row)
    await outbox.append(
        session,
        ReportIssued(report_id=row.report_id, board_unit=unit, period_start=start, period_end=end, kind=kind.value),
        subject=str(row.report_id),
        managing_unit=unit,
    )
    await session.flush()
    return _public(row)


def _public(row: IssuedRow) -> IssuedReport:
    return IssuedReport(
        report_id=row.report_id,
        issued_at=row.issued_at,
        issued_by=row.issued_by,
        report=BoardReport.model_validate_json(row.body),
    )


async def get(session: AsyncSession, principal: Principal, report_id: uuid.UUID) -> IssuedReport:
    row = await session.get(IssuedRow, report_id)
    if row is None or not _may(principal, row.board_unit, {Action.READ, Action.AGGREGATE}):
        raise NotFound(f"no issued report {report_id}")
    return _public(row)


async def list_for(session: AsyncSession, principal: Principal, unit: str) -> list[IssuedReportSummary]:
    await service.resolve_unit(session, principal, unit)
    rows = await session.scalars(
        select(IssuedRow).where(col(IssuedRow.board_unit) == unit).order_by(col(IssuedRow.issued_at).desc())
    )
    return [
        IssuedReportSummary(
            report_id=r.report_id,
            board_unit=r.board_unit,
            kind=ReportKind(r.kind),
            period_start=r.period_start,
            period_end=r.period_end,
            issued_at=r.issued_at,
            issued_by=r.issued_by,
        )
        for r in rows
        if _may(principal, r.board_unit, {Action.READ, Action.AGGREGATE})
    ]
