"""Scheduling's public API for recurring care: home visits (khám tại nhà), convalescence trips (nghỉ dưỡng)
and expert-council clinic days."""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field

from contracts.enums import CadreStatus, ManagementTier

# ---- home visits (khám tại nhà, thăm hỏi) for central-tier and group-1 cadres ----


class HomeVisitScheduleCreate(BaseModel):
    cadre_id: uuid.UUID
    every_months: int = Field(ge=1, le=12, description="how often: one visit every N months")
    visitor: str = Field(min_length=2, max_length=200, description="by whom, e.g. a doctor of the board's clinic")
    starts_on: date = Field(description="the first visit is due on this date")
    note: str | None = Field(default=None, max_length=500)


class HomeVisitDone(BaseModel):
    done_on: date
    visitor: str | None = Field(default=None, max_length=200, description="default: the schedule's visitor")
    note: str | None = Field(default=None, max_length=500)


class HomeVisitPublic(BaseModel):
    id: uuid.UUID
    schedule_id: uuid.UUID
    due_on: date
    done_on: date
    visitor: str
    note: str | None = None
    clinical_record_id: uuid.UUID | None = Field(default=None, description="set when a clinical home-visit record marked it done")


class HomeVisitState(StrEnum):
    UP_TO_DATE = "up_to_date"  # the visit due by the date asked has been done
    OVERDUE = "overdue"
    ENDED = "ended"


class HomeVisitSchedulePublic(BaseModel):
    id: uuid.UUID
    cadre_id: uuid.UUID
    full_name: str
    managing_unit: str
    tier: ManagementTier
    every_months: int
    visitor: str
    starts_on: date
    next_due_on: date
    last_visit_on: date | None = None
    state: HomeVisitState
    days_overdue: int = Field(description="days since the next visit fell due, 0 if not overdue")
    active: bool
    ended_reason: str | None = None
    note: str | None = None
    visits: list[HomeVisitPublic] = Field(default_factory=list, description="only on a single schedule")


class ScheduleEnd(BaseModel):
    reason: str = Field(min_length=2, max_length=300)


# ---- convalescence trips (nghỉ dưỡng) ----


class ConvalescenceRuleCreate(BaseModel):
    """Who may go and how often, as data: e.g. retired leaders (central tier and group 1), once every two years."""

    board_unit: str = Field(min_length=2, max_length=100)
    valid_from: date = Field(description="applies to trips starting on or after this date, until a later version")
    tiers: list[ManagementTier] = Field(min_length=1)
    statuses: list[CadreStatus] = Field(default_factory=lambda: [CadreStatus.RETIRED], min_length=1)
    interval_years: int = Field(default=2, ge=1, le=10, description="at most one trip per this many years")
    note: str | None = Field(default=None, max_length=500)


class ConvalescenceRulePublic(ConvalescenceRuleCreate):
    id: uuid.UUID
    version: int
    created_at: datetime
    created_by: str


class ConvalescenceTripCreate(BaseModel):
    board_unit: str = Field(min_length=2, max_length=100)
    title: str = Field(min_length=3, max_length=300)
    destination: str = Field(min_length=2, max_length=300, description="the resort, e.g. Khu nghỉ dưỡng Vũng Tàu")
    starts_on: date
    ends_on: date
    quota: int = Field(ge=1, le=10_000)


class ConvalescenceTripPublic(ConvalescenceTripCreate):
    id: uuid.UUID
    rule_id: uuid.UUID
    rule_version: int
    registered: int
    eligible: int = Field(description="cadres of the board the trip's rule makes eligible (the registered included)")
    summary: str = Field(description='e.g. "6 of 14 registered"')
    created_at: datetime


class ConvalescenceRegistrationCreate(BaseModel):
    cadre_id: uuid.UUID
    note: str | None = Field(default=None, max_length=500)


class RegistrationStatus(StrEnum):
    REGISTERED = "registered"
    CANCELLED = "cancelled"


class ConvalescenceRegistrationPublic(BaseModel):
    id: uuid.UUID
    trip_id: uuid.UUID
    cadre_id: uuid.UUID
    full_name: str
    managing_unit: str
    tier: ManagementTier
    status: RegistrationStatus
    registered_on: date
    note: str | None = None
    cancelled_reason: str | None = None


class EligibleCadre(BaseModel):
    cadre_id: uuid.UUID
    full_name: str
    managing_unit: str
    tier: ManagementTier
    cadre_status: CadreStatus
    position: str | None = None


class Cancellation(BaseModel):
    reason: str = Field(min_length=2, max_length=300)


# ---- expert-council clinic days (bookable sessions) ----


class ClinicSessionCreate(BaseModel):
    board_unit: str = Field(min_length=2, max_length=100)
    held_on: date
    capacity: int = Field(ge=1, le=500)
    place: str = Field(min_length=2, max_length=300)
    council: str = Field(default="Hội đồng chuyên môn", min_length=2, max_length=200)
    note: str | None = Field(default=None, max_length=500)


class ClinicSeriesCreate(BaseModel):
    """Clinic days for some months at once: e.g. the 10th and 25th of each month (two days a month)."""

    board_unit: str = Field(min_length=2, max_length=100)
    year: int = Field(ge=2000, le=2100)
    from_month: int = Field(ge=1, le=12)
    months: int = Field(default=1, ge=1, le=24)
    days_of_month: list[Annotated[int, Field(ge=1, le=31)]] = Field(
        min_length=1, max_length=8, description="a day past a month's end is its last day"
    )
    capacity: int = Field(ge=1, le=500)
    place: str = Field(min_length=2, max_length=300)
    council: str = Field(default="Hội đồng chuyên môn", min_length=2, max_length=200)


class ClinicSessionPublic(ClinicSessionCreate):
    id: uuid.UUID
    booked: int
    free: int


class ClinicSeriesResult(BaseModel):
    created: list[ClinicSessionPublic]
    already_existed: int


class ClinicBookingCreate(BaseModel):
    cadre_id: uuid.UUID
    reason: str | None = Field(default=None, max_length=500, description="why the cadre sees the council")


class ClinicBookingPublic(BaseModel):
    id: uuid.UUID
    session_id: uuid.UUID
    held_on: date
    cadre_id: uuid.UUID
    full_name: str
    managing_unit: str
    tier: ManagementTier
    status: RegistrationStatus
    reason: str | None = None
    cancelled_reason: str | None = None
