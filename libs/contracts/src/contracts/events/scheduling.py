"""Events published by scheduling: topics `cadrecare.scheduling.plan.v1` and `cadrecare.scheduling.invitation.v1`."""

import uuid
from datetime import date
from typing import ClassVar

from pydantic import BaseModel

from contracts.enums import ManagementTier
from contracts.envelope import DomainEvent


class RoundSnapshot(BaseModel):
    id: uuid.UUID
    number: int
    starts_on: date
    ends_on: date


class ExamPlanPublished(DomainEvent):
    event_type: ClassVar[str] = "vn.cadrecare.scheduling.plan.published"
    plan_id: uuid.UUID
    board_unit: str
    year: int
    title: str
    rounds: list[RoundSnapshot]


class InvitationIssued(DomainEvent):
    event_type: ClassVar[str] = "vn.cadrecare.scheduling.invitation.issued"
    invitation_id: uuid.UUID
    plan_id: uuid.UUID
    round_id: uuid.UUID
    cadre_id: uuid.UUID
    tier: ManagementTier
    managing_unit: str
    facility: str
    appointment_date: date


class InvitationStatusChanged(DomainEvent):
    event_type: ClassVar[str] = "vn.cadrecare.scheduling.invitation.status_changed"
    invitation_id: uuid.UUID
    plan_id: uuid.UUID
    round_id: uuid.UUID
    cadre_id: uuid.UUID
    previous_status: str
    status: str  # invited | confirmed | attended | deferred | no_show | cancelled
    reason: str | None = None
    effective_date: date


EVENTS: tuple[type[DomainEvent], ...] = (ExamPlanPublished, InvitationIssued, InvitationStatusChanged)
