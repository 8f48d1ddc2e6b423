"""The approval chain's use cases: a draft with the board's words, each step of the chain (audited, published through
the outbox in the step's transaction), the late records of a locked period and the re-issue that counts them.

A submission stores the computed report verbatim with the board's words, as an issued report
(`board_reports.service.store`): the level above reads exactly what was sent, whatever arrives later.
"""

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.api.approvals import (
    ApprovalAction,
    ApprovalState,
    ApprovalStep,
    DraftCreate,
    FigureDifference,
    LateRecord,
    Reissue,
    ReportApproval,
)
from contracts.api.report_words import ReportWords
from contracts.api.reporting import BoardReport, IssuedReport, ReportKind
from contracts.envelope import DomainEvent
from contracts.events.reporting import ReportAccepted, ReportApproved, ReportReturned, ReportSubmitted
from contracts.scope import Principal
from reporting.access import resolve_unit
from reporting.approvals import domain, queries
from reporting.approvals.domain import Actor, StepRefused
from reporting.approvals.tables import ReportApprovalRow, ReportApprovalStepRow
from reporting.board_reports import service as board_reports
from reporting.periods import check_period
from reporting.tables import IssuedReport as IssuedRow
from servicekit import clock
from servicekit.errors import Conflict, DomainError, Forbidden, NotFound, Refused, field_error
from servicekit.outbox import Outbox
from servicekit.scope import administers_board

EVENTS: dict[ApprovalState, type[DomainEvent]] = {
    ApprovalState.SUBMITTED: ReportSubmitted,
    ApprovalState.RETURNED: ReportReturned,
    ApprovalState.APPROVED: ReportApproved,
    ApprovalState.ACCEPTED: ReportAccepted,
}


def _actor(principal: Principal) -> Actor:
    return Actor(principal.subject, lambda unit: administers_board(principal, unit))


def _refused(refusal: StepRefused, loc: list[str | int]) -> DomainError:
    errors = [field_error(loc, refusal.reason)]
    if refusal.status == 403:
        return Forbidden(refusal.reason, errors=errors, code=refusal.code)
    return Conflict(refusal.reason, errors=errors, code=refusal.code)


async def _load(
    session: AsyncSession, principal: Principal, approval_id: uuid.UUID, *, for_update: bool = False
) -> ReportApprovalRow:
    """The approval if the caller sees its board; 404 otherwise (its existence is not leaked)."""
    statement = queries.approval_for_update if for_update else queries.approval
    row = (await session.execute(statement(principal, approval_id))).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no report approval {approval_id}", errors=[field_error(["path", "approval_id"], "not in your scope")])
    return row


def _step(
    row: ReportApprovalRow, action: ApprovalAction, before: ApprovalState | None, principal: Principal, comment: str | None
) -> ReportApprovalStepRow:
    return ReportApprovalStepRow(
        approval_id=row.approval_id,
        action=action.value,
        from_state=before.value if before else None,
        to_state=row.state,
        actor=principal.subject,
        at=clock.now(),
        comment=comment,
        report_id=row.report_id,
    )


async def view(session: AsyncSession, row: ReportApprovalRow, deadline_days: int) -> ReportApproval:
    steps = (await session.scalars(queries.steps_of(row.approval_id))).all()
    state = ApprovalState(row.state)
    return ReportApproval(
        approval_id=row.approval_id,
        board_unit=row.board_unit,
        kind=ReportKind(row.kind),
        period_start=row.period_start,
        period_end=row.period_end,
        state=state,
        level_above=domain.reviewer(row.board_unit, state)
        or (None if state is ApprovalState.ACCEPTED else domain.level_above(row.board_unit)),
        deadline=domain.deadline(row.period_end, deadline_days),
        words=ReportWords.model_validate_json(row.words),
        report_id=row.report_id,
        first_submitted_at=row.first_submitted_at,
        locked_at=row.locked_at,
        reissued_report_id=row.reissued_report_id,
        steps=[
            ApprovalStep(
                action=ApprovalAction(s.action),
                from_state=ApprovalState(s.from_state) if s.from_state else None,
                to_state=ApprovalState(s.to_state),
                actor=s.actor,
                at=s.at,
                comment=s.comment,
                report_id=s.report_id,
            )
            for s in steps
        ],
    )


async def create_draft(session: AsyncSession, principal: Principal, draft: DraftCreate, deadline_days: int) -> ReportApproval:
    """A draft for (unit, kind, period), by the unit's own board; one per (unit, kind, period)."""
    check_period(draft.period_start, draft.period_end)
    await resolve_unit(session, principal, draft.unit)
    if not domain.reports_up(draft.unit):
        raise Refused(
            f"{draft.unit} is not a provincial or commune board: its reports do not go up the chain",
            errors=[field_error(["body", "unit"], "a provincial (VN.nn) or commune (VN.nn.nnnnn) board's unit")],
            code="no_chain",
        )
    try:
        domain.check_actor(ApprovalAction.CREATE, draft.unit, ApprovalState.DRAFT, _actor(principal), None)
    except StepRefused as refusal:
        raise _refused(refusal, ["body", "unit"]) from None
    existing = (
        await session.execute(queries.for_period(principal, [draft.unit], draft.kind, draft.period_start, draft.period_end))
    ).scalar()
    if existing is not None:
        raise Conflict(
            f"the {draft.kind.value} report of {draft.unit} for this period exists already: {existing.approval_id}",
            errors=[field_error(["body", "period_start"], f"already in the chain as {existing.approval_id} ({existing.state})")],
            code="exists",
        )
    row = ReportApprovalRow(
        approval_id=uuid.uuid4(),
        board_unit=draft.unit,
        kind=draft.kind.value,
        period_start=draft.period_start,
        period_end=draft.period_end,
        state=ApprovalState.DRAFT.value,
        words=draft.words.model_dump_json(),
        created_by=principal.subject,
        created_at=clock.now(),
    )
    session.add(row)
    session.add(_step(row, ApprovalAction.CREATE, None, principal, None))
    await session.flush()
    return await view(session, row, deadline_days)


async def edit_words(
    session: AsyncSession, principal: Principal, approval_id: uuid.UUID, words: ReportWords, deadline_days: int
) -> ReportApproval:
    """The board's words, while it holds the report (draft or returned); 409 once it is sent or locked."""
    row = await _load(session, principal, approval_id, for_update=True)
    state = ApprovalState(row.state)
    try:
        domain.check_actor(ApprovalAction.EDIT, row.board_unit, state, _actor(principal), row.submitted_by)
        domain.next_state(row.board_unit, state, ApprovalAction.EDIT)
    except StepRefused as refusal:
        raise _refused(refusal, ["body"]) from None
    row.words = words.model_dump_json()
    session.add(_step(row, ApprovalAction.EDIT, state, principal, None))
    await session.flush()
    return await view(session, row, deadline_days)


async def _submitted_document(
    session: AsyncSession, principal: Principal, row: ReportApprovalRow, min_cell_size: int
) -> IssuedRow:
    """The report computed now, refused (nothing stored) when it has no data or an arithmetic check fails."""
    kind = ReportKind(row.kind)
    report = await board_reports.report_to_issue(
        session, principal, row.board_unit, kind, row.period_start, row.period_end, min_cell_size
    )
    problems = domain.submission_problems(
        report.consistent, [c.label for c in report.checks if not c.consistent], report.has_data
    )
    if problems:
        raise Refused(
            problems[0],
            errors=[field_error(["report", "checks"], p) for p in problems],
            code="checks_failed" if report.has_data else "no_data",
        )
    words = ReportWords.model_validate_json(row.words)
    return board_reports.store(session, principal, report.model_copy(update={"words": words}))


async def take_step(
    session: AsyncSession,
    outbox: Outbox,
    principal: Principal,
    approval_id: uuid.UUID,
    action: ApprovalAction,
    comment: str | None,
    *,
    min_cell_size: int,
    deadline_days: int,
) -> ReportApproval:
    """Submit, return, approve or accept: who may and from which state is `domain`'s; the step is audited and
    published in the same transaction. Approval locks the period; a return unlocks it."""
    row = await _load(session, principal, approval_id, for_update=True)
    before = ApprovalState(row.state)
    try:
        domain.check_actor(action, row.board_unit, before, _actor(principal), row.submitted_by)
        after = domain.next_state(row.board_unit, before, action)
    except StepRefused as refusal:
        raise _refused(refusal, ["path", "approval_id"]) from None
    now = clock.now()
    if action is ApprovalAction.SUBMIT:
        document = await _submitted_document(session, principal, row, min_cell_size)
        row.report_id, row.submitted_by = document.report_id, principal.subject
        row.first_submitted_at = row.first_submitted_at or now
    if after in domain.LOCKED:
        row.locked_at = row.locked_at or now
    elif after is ApprovalState.RETURNED:
        row.locked_at = None
    row.state = after.value
    session.add(_step(row, action, before, principal, comment))
    event = EVENTS[after](
        approval_id=row.approval_id,
        board_unit=row.board_unit,
        period_start=row.period_start,
        period_end=row.period_end,
        kind=row.kind,
        actor=principal.subject,
        comment=comment,
        report_id=row.report_id,
    )
    await outbox.append(session, event, subject=str(row.approval_id), managing_unit=row.board_unit)
    await session.flush()
    return await view(session, row, deadline_days)


async def approval_view(
    session: AsyncSession, principal: Principal, approval_id: uuid.UUID, deadline_days: int
) -> ReportApproval:
    return await view(session, await _load(session, principal, approval_id), deadline_days)


async def approvals_of(session: AsyncSession, principal: Principal, unit: str, deadline_days: int) -> list[ReportApproval]:
    await resolve_unit(session, principal, unit)
    rows = (await session.scalars(queries.approvals_of(principal, unit))).all()
    return [await view(session, row, deadline_days) for row in rows]


async def late_records(session: AsyncSession, principal: Principal, approval_id: uuid.UUID) -> list[LateRecord]:
    row = await _load(session, principal, approval_id)
    found = (await session.scalars(queries.late_records_of(row.approval_id))).all()
    return [
        LateRecord(
            record_id=r.record_id,
            version=r.version,
            record_kind=r.record_kind,
            occurred_on=r.occurred_on,
            managing_unit=r.managing_unit,
            withdrawn=r.withdrawn,
            received_at=r.received_at,
        )
        for r in found
    ]


async def reissue(
    session: AsyncSession, outbox: Outbox, principal: Principal, approval_id: uuid.UUID, min_cell_size: int
) -> Reissue:
    """The locked report computed again (late records counted), issued with the approved words, and what changed
    from the approved document, figure by figure. The approved document stays as it was."""
    row = await _load(session, principal, approval_id, for_update=True)
    state = ApprovalState(row.state)
    try:
        domain.check_actor(ApprovalAction.REISSUE, row.board_unit, state, _actor(principal), row.submitted_by)
        domain.next_state(row.board_unit, state, ApprovalAction.REISSUE)
    except StepRefused as refusal:
        raise _refused(refusal, ["path", "approval_id"]) from None
    assert row.report_id is not None  # a locked report was submitted
    approved = await session.get(IssuedRow, row.report_id)
    assert approved is not None
    words = ReportWords.model_validate_json(row.words)
    kind = ReportKind(row.kind)
    now = await board_reports.issue(
        session, outbox, principal, row.board_unit, kind, row.period_start, row.period_end, min_cell_size, words=words
    )
    row.reissued_report_id = now.report_id
    step = _step(row, ApprovalAction.REISSUE, state, principal, None)
    step.report_id = now.report_id
    session.add(step)
    late = len((await session.scalars(queries.late_records_of(row.approval_id))).all())
    before = BoardReport.model_validate_json(approved.body).model_dump(mode="json")
    changed = domain.differences(before, now.report.model_dump(mode="json"))
    await session.flush()
    return Reissue(
        approval_id=row.approval_id,
        approved_report_id=row.report_id,
        reissued_report_id=now.report_id,
        late_records=late,
        differences=[
            FigureDifference(figure=f, approved=a, now=n, delta=None if a is None or n is None else n - a) for f, a, n in changed
        ],
    )


async def submitted_document(
    session: AsyncSession, principal: Principal, approval_id: uuid.UUID, min_cell_size: int
) -> IssuedReport:
    """The document last submitted, as stored; 404 while nothing was submitted."""
    row = await _load(session, principal, approval_id)
    if row.report_id is None:
        raise NotFound(f"report {approval_id} has not been submitted", errors=[field_error(["path", "approval_id"], "a draft")])
    return await board_reports.issued(session, principal, row.report_id, min_cell_size)


def submitted_on(row: ReportApprovalRow | None) -> date | None:
    """The Vietnamese date of a board's first submission (what timeliness counts)."""
    if row is None or row.first_submitted_at is None:
        return None
    return clock.vietnam_date(row.first_submitted_at)
