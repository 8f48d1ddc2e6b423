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


EVENTS: tuple[type[DomainEvent], ...] = (ReportIssued,)
