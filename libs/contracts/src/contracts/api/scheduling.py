"""Scheduling's public API: cadence rules, exam plans with rounds, invitations, attendance, coverage."""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field

from contracts.enums import CadreStatus, ManagementTier

FACILITY_CODE = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$"


class RosterSummary(BaseModel):
    cadres: int


class InvitationStatus(StrEnum):
    INVITED = "invited"
    CONFIRMED = "confirmed"
    ATTENDED = "attended"
    DEFERRED = "deferred"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


class DeferralReason(StrEnum):
    ILL = "ill"  # ốm
    AWAY = "away"  # vắng
    TRAVELLING = "travelling"  # đi công tác, đi xa
    OTHER = "other"


class TransferPolicy(StrEnum):
    """What happens to open invitations when a cadre moves to another board: the board chooses."""

    MOVE = "move"
    FLAG = "flag"


# ---- cadence rules (versioned data) ----


class CadenceRule(BaseModel):
    tier: ManagementTier
    status: CadreStatus = Field(description="active or retired")
    exams_per_year: int = Field(ge=0, le=4)


class CadenceRuleSetCreate(BaseModel):
    board_unit: str = Field(min_length=2, max_length=100)
    year: int = Field(ge=2000, le=2100)
    rules: list[CadenceRule] = Field(min_length=1)
    note: str | None = Field(default=None, max_length=500)


class CadenceRuleSetPublic(CadenceRuleSetCreate):
    id: uuid.UUID
    version: int
    created_at: datetime
    created_by: str


# ---- exam plans ----


class FacilityIn(BaseModel):
    code: str = Field(pattern=FACILITY_CODE, description="e.g. 68-BVDK, BV-THONGNHAT")
    name: str = Field(min_length=2, max_length=200)
    address: str | None = Field(default=None, max_length=300)
    daily_capacity: int = Field(ge=1, le=100_000)


class RoundGroupIn(BaseModel):
    """A group of cadres examined in a round at one facility: a tier, optionally one status and one unit below the board."""

    tier: ManagementTier
    status: CadreStatus | None = Field(default=None, description="active, retired, or null for both")
    unit: str | None = Field(default=None, description="only cadres managed under this unit (default: the whole board)")
    facility: str = Field(pattern=FACILITY_CODE, description="code of one of the plan's facilities")


class RoundIn(BaseModel):
    number: int = Field(ge=1, le=12)
    starts_on: date
    ends_on: date
    groups: list[RoundGroupIn] = Field(min_length=1)


class ExamPlanCreate(BaseModel):
    board_unit: str = Field(min_length=2, max_length=100)
    year: int = Field(ge=2000, le=2100)
    title: str = Field(min_length=3, max_length=300)
    plan_date: date = Field(description="the roster is read as of this date")
    rule_set_id: uuid.UUID
    on_transfer: TransferPolicy = TransferPolicy.FLAG
    facilities: list[FacilityIn] = Field(min_length=1)
    rounds: list[RoundIn] = Field(min_length=1)


class RoundGroupPublic(RoundGroupIn):
    id: uuid.UUID


class RoundPublic(BaseModel):
    id: uuid.UUID
    number: int
    starts_on: date
    ends_on: date
    groups: list[RoundGroupPublic]


class ExamPlanPublic(BaseModel):
    id: uuid.UUID
    board_unit: str
    year: int
    title: str
    plan_date: date
    rule_set_id: uuid.UUID
    rule_set_version: int
    on_transfer: TransferPolicy
    facilities: list[FacilityIn]
    rounds: list[RoundPublic]
    created_at: datetime
    generated_at: datetime | None = None


class GenerationResult(BaseModel):
    plan_id: uuid.UUID
    invited: int = Field(description="invitations created by this run")
    already_invited: int = Field(description="invitations that existed before (generation is idempotent)")
    by_round: dict[int, int] = Field(description="round number -> invitations created by this run")


# ---- invitations ----


class InvitationPublic(BaseModel):
    id: uuid.UUID
    plan_id: uuid.UUID
    round_id: uuid.UUID
    round_number: int
    cadre_id: uuid.UUID
    full_name: str
    managing_unit: str
    tier: ManagementTier
    cadre_status: CadreStatus
    facility: str | None
    at_home: bool
    appointment_date: date
    status: InvitationStatus
    reason: str | None = None
    status_since: date
    attempt: int
    previous_invitation_id: uuid.UUID | None = None
    flag: str | None = None
    residence_address: str | None = None


class InvitationTransition(BaseModel):
    status: InvitationStatus
    reason: DeferralReason | None = Field(default=None, description="required when deferring")
    note: str | None = Field(default=None, max_length=500)
    effective_date: date | None = None


class Reinvite(BaseModel):
    """Invite a deferred or no-show cadre again: a later round, a local facility, or at home."""

    round_id: uuid.UUID | None = Field(default=None, description="default: the same round")
    facility: str | None = Field(default=None, pattern=FACILITY_CODE)
    at_home: bool = False
    appointment_date: date | None = None


# ---- coverage ----


class CoverageDimension(StrEnum):
    ROUND = "round"
    GROUP = "group"
    UNIT = "unit"
    FACILITY = "facility"
    TIER = "tier"
    STATUS = "status"


class CoverageRow(BaseModel):
    round: int | None = None
    group: str | None = None
    unit: str | None = None
    facility: str | None = None
    tier: ManagementTier | None = None
    cadre_status: CadreStatus | None = None
    invited: int = Field(description="invitations not cancelled")
    confirmed: int
    attended: int
    deferred: int
    no_show: int
    open: int = Field(description="invited or confirmed, not yet examined")
    cancelled: int
    rate: float = Field(description="attended / invited, in percent, two decimals (cut, as in 142/193 = 73.57)")


class UnitsFinished(BaseModel):
    finished: int
    total: int
    finished_units: list[str]
    unfinished_units: list[str]


class CoverageReport(BaseModel):
    plan_id: uuid.UUID | None
    unit: str | None
    as_of: date
    by: list[CoverageDimension]
    rows: list[CoverageRow]
    total: CoverageRow
    units_finished: UnitsFinished


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
