"""The approval chain's statements. What a caller reads starts from `_visible`: a board's reports are seen through
grants on the board's unit or above it (the board itself, its province, the central board), as issued reports are.
`locks` is the projections' statement: it serves no caller, only the flagging of late records."""

import uuid
from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, false, or_, select
from sqlmodel import col

from contracts.api.reporting import ReportKind
from contracts.enums import ManagementTier, UnitLevel
from contracts.scope import Principal
from reporting.access import visible_units
from reporting.approvals.tables import LateRecordRow, ReportApprovalRow, ReportApprovalStepRow
from reporting.tables import CadreFact, UnitFact
from servicekit.scope import within_unit

Approval = ReportApprovalRow


def _visible(principal: Principal) -> ColumnElement[bool]:
    clauses = [within_unit(col(Approval.board_unit), unit) for unit in visible_units(principal)]
    return or_(*clauses) if clauses else false()


def approval(principal: Principal, approval_id: uuid.UUID) -> Select[ReportApprovalRow]:
    return select(Approval).where(col(Approval.approval_id) == approval_id, _visible(principal))


def approval_for_update(principal: Principal, approval_id: uuid.UUID) -> Select[ReportApprovalRow]:
    """The same row, locked for the step (PostgreSQL; SQLite serialises writers anyway)."""
    return approval(principal, approval_id).with_for_update()


def approvals_of(principal: Principal, board_unit: str) -> Select[ReportApprovalRow]:
    """The board's reports in the chain, latest period first."""
    return (
        select(Approval)
        .where(col(Approval.board_unit) == board_unit, _visible(principal))
        .order_by(col(Approval.period_end).desc(), col(Approval.kind))
    )


def for_period(
    principal: Principal, board_units: list[str], kind: ReportKind, start: date, end: date
) -> Select[ReportApprovalRow]:
    return select(Approval).where(
        _visible(principal),
        col(Approval.board_unit).in_(board_units),
        col(Approval.kind) == kind.value,
        col(Approval.period_start) == start,
        col(Approval.period_end) == end,
    )


def steps_of(approval_id: uuid.UUID) -> Select[ReportApprovalStepRow]:
    """A visible approval's steps (the caller was checked on the approval itself)."""
    step = ReportApprovalStepRow
    return select(step).where(col(step.approval_id) == approval_id).order_by(col(step.at), col(step.id))


def late_records_of(approval_id: uuid.UUID) -> Select[LateRecordRow]:
    late = LateRecordRow
    return select(late).where(col(late.approval_id) == approval_id).order_by(col(late.received_at), col(late.record_id))


def locks() -> Select[uuid.UUID, str, date, date, datetime | None]:
    """Every locked (unit, period) with the instant it was locked."""
    return select(
        col(Approval.approval_id),
        col(Approval.board_unit),
        col(Approval.period_start),
        col(Approval.period_end),
        col(Approval.locked_at),
    ).where(col(Approval.locked_at).is_not(None))


def units_below(unit: str, level: UnitLevel, on: date) -> Select[UnitFact]:
    """The units of `level` directly under `unit` that stood on the day (the boards one level below it)."""
    return (
        select(UnitFact)
        .where(
            col(UnitFact.parent_path) == unit,
            col(UnitFact.level) == level.value,
            col(UnitFact.valid_from) <= on,
            or_(col(UnitFact.valid_to).is_(None), col(UnitFact.valid_to) > on),
        )
        .order_by(col(UnitFact.path))
    )


def communes_with_cadres(principal: Principal, communes: list[str]) -> Select[str]:
    """The communes among `communes` that manage commune-tier cadres: those that run a board. Only the communes'
    paths leave the statement, and only for the caller's grants on them."""
    cadre = CadreFact
    return (
        select(col(cadre.managing_unit))
        .where(
            col(cadre.managing_unit).in_(communes),
            col(cadre.tier) == ManagementTier.COMMUNE.value,
            or_(*(within_unit(col(cadre.managing_unit), u) for u in visible_units(principal)))
            if visible_units(principal)
            else false(),
        )
        .distinct()
    )
