"""The approval chain of the board reports (reporting.approvals): a report for (board unit, kind, period) goes
draft -> submitted -> returned (with a comment) or approved by the level above -> accepted by the central board.

The level above a commune board is its province's board; above a provincial board it is the central board, whose
approval is the acceptance (there is no third level to send it on to). Approval locks the period for the board's
unit: records arriving later are applied, flagged late and listed, and a re-issue shows what they changed.
"""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from contracts.api.report_words import ReportWords
from contracts.api.reporting import ReportKind


class ApprovalState(StrEnum):
    DRAFT = "draft"  # the board writes its words; the figures are live
    SUBMITTED = "submitted"  # sent up: the document is stored as computed then
    RETURNED = "returned"  # sent back with a comment: the board edits and submits again
    APPROVED = "approved"  # by the level above (a commune's province): the period is locked
    ACCEPTED = "accepted"  # by the central board: the end of the chain (locked)


class ApprovalAction(StrEnum):
    CREATE = "create"
    EDIT = "edit"
    SUBMIT = "submit"
    RETURN = "return"
    APPROVE = "approve"
    ACCEPT = "accept"
    REISSUE = "reissue"  # the report computed again after late records (the state stays)


class DraftCreate(BaseModel):
    unit: str = Field(min_length=2, max_length=100, description="the board's unit, e.g. VN.68 or VN.68.24781")
    kind: ReportKind = ReportKind.SIX_MONTHLY
    period_start: date
    period_end: date
    words: ReportWords = ReportWords()

    @model_validator(mode="after")
    def _ordered(self) -> "DraftCreate":
        if self.period_end < self.period_start:
            raise ValueError(f"period_end ({self.period_end}) is before period_start ({self.period_start})")
        return self


class StepRequest(BaseModel):
    comment: str | None = Field(default=None, max_length=4000)


class ReturnRequest(BaseModel):
    """A report is returned with the reason: the board needs to know what to change."""

    comment: str = Field(min_length=3, max_length=4000)


class ApprovalStep(BaseModel):
    """One audited step: who, when, from which state to which, with their comment."""

    action: ApprovalAction
    from_state: ApprovalState | None
    to_state: ApprovalState
    actor: str
    at: datetime
    comment: str | None = None
    report_id: uuid.UUID | None = None


class ReportApproval(BaseModel):
    approval_id: uuid.UUID
    board_unit: str
    kind: ReportKind
    period_start: date
    period_end: date
    state: ApprovalState
    level_above: str | None  # the unit whose board approves next (None once accepted)
    deadline: date  # submissions after it are late (period end + the reporting setting's days)
    words: ReportWords
    report_id: uuid.UUID | None  # the document last submitted (GET /reports/board/issued/{report_id})
    first_submitted_at: datetime | None
    locked_at: datetime | None  # set by approval: later records for the period are late
    reissued_report_id: uuid.UUID | None = None
    steps: list[ApprovalStep]


class LateRecord(BaseModel):
    """A clinical record for a locked (unit, period) applied after the lock: counted by a re-issue, not by the
    approved document."""

    record_id: uuid.UUID
    version: int
    record_kind: str
    occurred_on: date
    managing_unit: str | None
    withdrawn: bool
    received_at: datetime


class FigureDifference(BaseModel):
    figure: str  # the figure's path in the report, e.g. "activity.periodic_exams"
    approved: float | None
    now: float | None
    delta: float | None


class Reissue(BaseModel):
    approval_id: uuid.UUID
    approved_report_id: uuid.UUID
    reissued_report_id: uuid.UUID
    late_records: int
    differences: list[FigureDifference]


Timeliness = Literal["on_time", "late", "missing", "not_yet_due"]


class BoardCompleteness(BaseModel):
    board_unit: str
    name: str
    state: ApprovalState | None
    submitted_at: datetime | None  # the first submission
    timeliness: Timeliness


class Completeness(BaseModel):
    """Which boards one level below the unit submitted their report for the period by the deadline."""

    unit: str
    kind: ReportKind
    period_start: date
    period_end: date
    deadline: date
    boards: list[BoardCompleteness]
    on_time: int
    late: int
    missing: int
    not_yet_due: int
