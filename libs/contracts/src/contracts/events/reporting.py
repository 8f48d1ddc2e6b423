"""Events published by reporting: topic `cadrecare.reporting.report.v1`."""

import uuid
from datetime import date
from typing import ClassVar

from contracts.envelope import DomainEvent


class ReportIssued(DomainEvent):
    event_type: ClassVar[str] = "vn.cadrecare.reporting.report.issued"
    report_id: uuid.UUID
    board_unit: str
    period_start: date
    period_end: date
    kind: str  # "six_monthly" | "yearly"


class ReportStepTaken(DomainEvent):
    """What every step of a report's approval chain says: which report, who, and their comment."""

    approval_id: uuid.UUID
    board_unit: str
    period_start: date
    period_end: date
    kind: str  # "six_monthly" | "yearly"
    actor: str  # the subject who took the step
    comment: str | None = None
    report_id: uuid.UUID | None = None  # the document submitted (stored verbatim), when there is one


class ReportSubmitted(ReportStepTaken):
    """The board sent its report up the chain (the document `report_id`, stored as computed then)."""

    event_type: ClassVar[str] = "vn.cadrecare.reporting.report.submitted"


class ReportReturned(ReportStepTaken):
    """The level above sent the report back to its board, with a comment saying why."""

    event_type: ClassVar[str] = "vn.cadrecare.reporting.report.returned"


class ReportApproved(ReportStepTaken):
    """The level above approved the report: the period is locked for the board's unit."""

    event_type: ClassVar[str] = "vn.cadrecare.reporting.report.approved"


class ReportAccepted(ReportStepTaken):
    """The central board accepted the report: the end of the chain."""

    event_type: ClassVar[str] = "vn.cadrecare.reporting.report.accepted"


EVENTS: tuple[type[DomainEvent], ...] = (ReportIssued, ReportSubmitted, ReportReturned, ReportApproved, ReportAccepted)
