"""The board report's use cases: compute it (seed 003's structure) from the records, checking its own sums;
issue it; read back the reports issued.

`board_report` answers from the records as they stand, so its figures move when a late record arrives.
The report a board sends to its standing committee must not: issuing stores that document, verbatim,
and publishes `ReportIssued` (outbox, same transaction) so that other services (the central board's
aggregation, notifications) learn that a board's report for a period exists.
"""

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.api.report_words import ReportWords
from contracts.api.reporting import BoardReport, IssuedReport, IssuedReportSummary, ReportKind, UnitBasis
from contracts.events.reporting import ReportIssued
from contracts.scope import Principal
from reporting.access import name_in_period, resolve_unit
from reporting.board_reports import queries
from reporting.board_reports.checks import activity_checks, cadre_checks, classification_checks, coverage_checks
from reporting.board_reports.convalescence import convalescence_figures
from reporting.dashboard import figures
from reporting.domain import DEFAULT_MIN_CELL_SIZE, report_title
from reporting.facts import for_analysis
from reporting.periods import NO_DATA, check_period
from reporting.suppression import suppressed_report
from reporting.tables import IssuedReport as IssuedRow
from servicekit import clock
from servicekit.errors import Forbidden, NotFound, Refused, field_error
from servicekit.outbox import Outbox
from servicekit.scope import administers_board
from servicekit.suppression import aggregate_only


async def board_report(
    session: AsyncSession,
    principal: Principal,
    unit: str,
    kind: ReportKind,
    start: date,
    end: date,
    min_cell_size: int = DEFAULT_MIN_CELL_SIZE,
    basis: UnitBasis = UnitBasis.AS_THEN,
) -> BoardReport:
    """The report for the caller's scope; small cells suppressed (in every format) when it may only aggregate here.

    Each row counts under its cadre's unit on the row's own date, the units as they stood then (named as they
    were at the period's end) or mapped onto today's (`basis`)."""
    check_period(start, end)
    found = await resolve_unit(session, principal, unit)
    await for_analysis(session)
    cadres = await figures.cadre_section(session, principal, unit, end, figures.day_before(start), basis)
    independent_total = await figures.cadres_counted(session, principal, unit, end, basis)
    coverage = await figures.coverage_section(session, principal, unit, start, end, basis)
    classification = await figures.classification_section(session, principal, unit, start, end, basis)
    cells = await figures.activity_cells(session, principal, unit, start, end, basis)
    activity = figures.activity_counts(cells, start, end)
    monthly = figures.monthly_points(cells, start, end)
    chronic = await figures.chronic_section(session, principal, unit, end, cadres.total, basis)
    convalescence = await convalescence_figures(session, principal, unit, start, end, basis)
    convalescence_section = convalescence.section()
    checks = [
        *cadre_checks(cadres, independent_total),
        *coverage_checks(coverage),
        *classification_checks(classification),
        *activity_checks(cells, monthly, activity.model_dump()),
        *convalescence.checks(),
    ]
    has_data = (
        cadres.total > 0 or cadres.total_then > 0 or coverage.has_data or activity.has_data or convalescence_section.has_data
    )
    report = BoardReport(
        kind=kind,
        title=report_title(kind, start, end, basis),
        unit=unit,
        unit_name=await name_in_period(session, found, end, basis),
        period_start=start,
        period_end=end,
        generated_at=clock.now(),
        has_data=has_data,
        message=None if has_data else NO_DATA,
        cadres=cadres,
        coverage=coverage,
        classification=classification,
        activity=activity,
        chronic=chronic,
        convalescence=convalescence_section,
        checks=checks,
        consistent=all(c.consistent for c in checks),
    )
    return suppressed_report(report, min_cell_size) if aggregate_only(principal, unit) else report


async def report_to_issue(
    session: AsyncSession,
    principal: Principal,
    unit: str,
    kind: ReportKind,
    start: date,
    end: date,
    min_cell_size: int = DEFAULT_MIN_CELL_SIZE,
    basis: UnitBasis = UnitBasis.AS_THEN,
) -> BoardReport:
    """The report as the board of the unit would issue (or submit) it now; only that board (a write grant there
    on a tier it manages) may. An unknown or unseen unit answers 404 before the board is asked for."""
    check_period(start, end)
    await resolve_unit(session, principal, unit)
    if not administers_board(principal, unit):
        raise Forbidden(f"only the board of {unit} issues its reports", code="not_the_board")
    return await board_report(session, principal, unit, kind, start, end, min_cell_size, basis)


def store(session: AsyncSession, principal: Principal, report: BoardReport) -> IssuedRow:
    """The document kept verbatim: it never changes, whatever arrives later."""
    row = IssuedRow(
        report_id=uuid.uuid4(),
        board_unit=report.unit,
        kind=report.kind.value,
        period_start=report.period_start,
        period_end=report.period_end,
        issued_at=report.generated_at,
        issued_by=principal.subject,
        body=report.model_dump_json(),
    )
    session.add(row)
    return row


async def issue(
    session: AsyncSession,
    outbox: Outbox,
    principal: Principal,
    unit: str,
    kind: ReportKind,
    start: date,
    end: date,
    min_cell_size: int = DEFAULT_MIN_CELL_SIZE,
    basis: UnitBasis = UnitBasis.AS_THEN,
    words: ReportWords | None = None,
) -> IssuedReport:
    """Only the board of the unit issues its report; a report without data is not issued.
    A board that may only aggregate some tier of its unit (the central board below its own tier) issues,
    and stores, the report with small cells suppressed: the document never holds what it could not see.
    `words`: the board's own words printed in the document (a re-issue of an approved report keeps them)."""
    report = await report_to_issue(session, principal, unit, kind, start, end, min_cell_size, basis)
    if not report.has_data:
        raise Refused(
            "nothing to issue: no data for this period",
            errors=[field_error(["query", "period_start"], report.message or "no data")],
            code="no_data",
        )
    row = store(session, principal, report.model_copy(update={"words": words}))
    await outbox.append(
        session,
        ReportIssued(report_id=row.report_id, board_unit=unit, period_start=start, period_end=end, kind=kind.value),
        subject=str(row.report_id),
        managing_unit=unit,
    )
    await session.flush()
    return _public(row, principal, min_cell_size)


def _public(row: IssuedRow, reader: Principal, min_cell_size: int) -> IssuedReport:
    """The issued report as stored, suppressed for a reader who may only aggregate the board's unit."""
    report = BoardReport.model_validate_json(row.body)
    if aggregate_only(reader, row.board_unit):
        report = suppressed_report(report, min_cell_size)
    return IssuedReport(report_id=row.report_id, issued_at=row.issued_at, issued_by=row.issued_by, report=report)


async def issued(
    session: AsyncSession, principal: Principal, report_id: uuid.UUID, min_cell_size: int = DEFAULT_MIN_CELL_SIZE
) -> IssuedReport:
    row = (await session.execute(queries.issued_report(principal, report_id))).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no issued report {report_id}")
    return _public(row, principal, min_cell_size)


async def issued_for(session: AsyncSession, principal: Principal, unit: str) -> list[IssuedReportSummary]:
    await resolve_unit(session, principal, unit)
    rows = await session.scalars(queries.issued_reports_of(principal, unit))
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
    ]
