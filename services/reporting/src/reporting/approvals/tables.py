"""The approval chain's own rows: not read models (a rebuild keeps them), the record of what boards sent and
decided. `LateRecord` is derived from events and the locks, but keyed so that re-applying an event changes
nothing, and late by the time the record arrived, so that a rebuild finds the same records late."""

import uuid
from datetime import date, datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field

from reporting.tables import ReportingModel


class ReportApprovalRow(ReportingModel, table=True):
    __tablename__ = "reportapproval"
    __table_args__ = (
        UniqueConstraint("board_unit", "kind", "period_start", "period_end", name="uq_reportapproval_period"),
        Index("ix_reportapproval_locked", "locked_at"),
    )

    approval_id: uuid.UUID = Field(primary_key=True)
    board_unit: str = Field(max_length=100, index=True)
    kind: str = Field(max_length=20)
    period_start: date
    period_end: date
    state: str = Field(max_length=20)
    words: str  # ReportWords as JSON
    created_by: str = Field(max_length=200)
    created_at: datetime
    submitted_by: str | None = Field(default=None, max_length=200)  # the last submission's subject
    first_submitted_at: datetime | None = None
    report_id: uuid.UUID | None = None  # the IssuedReport last submitted
    locked_at: datetime | None = None
    reissued_report_id: uuid.UUID | None = None


class ReportApprovalStepRow(ReportingModel, table=True):
    """The audit trail of the chain: one row per step, never changed."""

    __tablename__ = "reportapprovalstep"

    id: int | None = Field(default=None, primary_key=True)
    approval_id: uuid.UUID = Field(index=True)
    action: str = Field(max_length=20)
    from_state: str | None = Field(default=None, max_length=20)
    to_state: str = Field(max_length=20)
    actor: str = Field(max_length=200)
    at: datetime
    comment: str | None = None
    report_id: uuid.UUID | None = None


class LateRecordRow(ReportingModel, table=True):
    __tablename__ = "laterecord"

    approval_id: uuid.UUID = Field(primary_key=True)
    record_id: uuid.UUID = Field(primary_key=True)
    version: int
    record_kind: str = Field(max_length=30)
    occurred_on: date
    managing_unit: str | None = Field(default=None, max_length=100)
    withdrawn: bool = False
    received_at: datetime
