"""Scheduling's public API: cadence rules, exam plans with rounds, invitations, attendance, coverage."""

import uuid
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from contracts.enums import CadreStatus, EncounterKind, ManagementTier

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
    suppressed: list[str] = []  # fields hidden from an aggregate-only caller (shown as 0 here; never a fact)


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
    aggregate_only: bool = False  # the caller may only aggregate some tier here: small counts suppressed
    min_cell_size: int | None = None  # the threshold applied when `aggregate_only`


# ---- follow-ups (a re-exam appointment or another follow-up a clinical record asks for) ----


class FollowUpStatus(StrEnum):
    OPEN = "open"  # to do: due today or later, or no due date given
    OVERDUE = "overdue"  # to do, and its due date (Vietnam's) has passed
    DONE = "done"
    CANCELLED = "cancelled"


class FollowUpPublic(BaseModel):
    """A follow-up scheduling tracks for a board, from a clinical record (e.g. QĐ 130's XML14 re-exam
    appointment). No finding or diagnosis text: that stays in clinical's record."""

    id: uuid.UUID
    cadre_id: uuid.UUID
    full_name: str
    managing_unit: str
    tier: ManagementTier
    facility: str = Field(description="the facility whose record asks for the follow-up")
    due_on: date | None = Field(default=None, description="the appointment date; none if the record gave none")
    note: str | None = Field(default=None, description="what is to be done, as the HIS wrote it")
    note_withheld: bool = Field(default=False, description="a central-tier cadre's note is read in clinical only")
    status: FollowUpStatus
    days_overdue: int = Field(description="days since the due date, 0 if not overdue")
    record_id: uuid.UUID = Field(description="the clinical record that asks for it")
    record_version: int
    record_kind: EncounterKind
    record_external_id: str
    record_occurred_on: date
    position: int = Field(description="its place among the record's follow-ups")
    closed_on: date | None = Field(default=None, description="when it was done or cancelled")
    closed_by: str | None = None
    closed_note: str | None = Field(default=None, description="the reason of a cancellation, the note of a done one")


class FollowUpDone(BaseModel):
    done_on: date | None = Field(default=None, description="default: today (Vietnam); not after today")
    note: str | None = Field(default=None, max_length=500)


class FollowUpCancel(BaseModel):
    reason: str = Field(min_length=2, max_length=300)
