"""Scheduling's tables, and only those."""

import uuid
from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, UniqueConstraint
from sqlalchemy.orm import registry as orm_registry
from sqlmodel import Field, SQLModel

from servicekit import clock
from servicekit.columns import TripColumns
from servicekit.runtime import kit_tables_of


class SchedulingModel(SQLModel, registry=orm_registry()):
    pass


metadata = SchedulingModel.metadata
KIT = kit_tables_of(metadata)

AUTO_ID = BigInteger().with_variant(Integer(), "sqlite")


# ---- read model of the registry (fed by the registry's events only) ----


class RosterCadre(SchedulingModel, table=True):
    """Scheduling's own read model of the registry: who may be invited, and where letters go."""

    __table_args__ = (
        # `managing_unit LIKE 'VN.01.%'` (a province's cadres) needs pattern ops on PostgreSQL in any collation
        Index("ix_rostercadre_unit_pattern", "managing_unit", postgresql_ops={"managing_unit": "varchar_pattern_ops"}),
    )

    cadre_id: uuid.UUID = Field(primary_key=True)
    full_name: str = Field(max_length=200)
    managing_unit: str = Field(max_length=100, index=True)
    tier: str = Field(max_length=30)
    status: str = Field(max_length=20)
    status_since: date
    sex: str | None = Field(default=None, max_length=10)
    position: str | None = Field(default=None, max_length=300)
    residence_address: str | None = Field(default=None, max_length=500)
    residence_unit: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=20)
    eligibility: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime


class RosterHistory(SchedulingModel, table=True):
    """The (managing unit, tier, status) of a cadre from an effective date on: the roster "as of" any date."""

    __table_args__ = (Index("ix_rosterhistory_cadre_valid", "cadre_id", "valid_from"),)

    id: int | None = Field(default=None, sa_column=Column(AUTO_ID, primary_key=True, autoincrement=True))
    cadre_id: uuid.UUID
    valid_from: date
    managing_unit: str = Field(max_length=100)
    tier: str = Field(max_length=30)
    status: str = Field(max_length=20)
    recorded_at: datetime


class RosterUnit(SchedulingModel, table=True):
    """Unit names for letters and coverage tables, from the registry's unit events."""

    path: str = Field(primary_key=True, max_length=100)
    name: str = Field(max_length=200)
    level: str = Field(max_length=20)
    parent_path: str | None = Field(default=None, max_length=100)


class RosterSuccession(SchedulingModel, table=True):
    """A reorganisation's mapping: `old_path` continues as `new_path` from `effective_on` (many-to-many), from
    the registry's UnitsReorganized: what coverage follows onto today's units."""

    old_path: str = Field(primary_key=True, max_length=100)
    new_path: str = Field(primary_key=True, max_length=100)
    effective_on: date


# ---- cadence rules: versioned data ----


class CadenceRuleSet(SchedulingModel, table=True):
    __table_args__ = (UniqueConstraint("board_unit", "year", "version", name="uq_cadenceruleset_version"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    board_unit: str = Field(max_length=100)
    year: int
    version: int
    note: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=clock.now)
    created_by: str = Field(max_length=200)


class CadenceRuleRow(SchedulingModel, table=True):
    rule_set_id: uuid.UUID = Field(primary_key=True, foreign_key="cadenceruleset.id")
    tier: str = Field(primary_key=True, max_length=30)
    status: str = Field(primary_key=True, max_length=20)
    exams_per_year: int


# ---- exam plans ----


class ExamPlan(SchedulingModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    board_unit: str = Field(max_length=100, index=True)
    year: int
    title: str = Field(max_length=300)
    plan_date: date
    rule_set_id: uuid.UUID = Field(foreign_key="cadenceruleset.id")
    rule_set_version: int
    on_transfer: str = Field(max_length=10)
    created_at: datetime = Field(default_factory=clock.now)
    created_by: str = Field(max_length=200)
    generated_at: datetime | None = None


class PlanFacility(SchedulingModel, table=True):
    __table_args__ = (UniqueConstraint("plan_id", "code", name="uq_planfacility_code"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    plan_id: uuid.UUID = Field(foreign_key="examplan.id")
    code: str = Field(max_length=40)
    name: str = Field(max_length=200)
    address: str | None = Field(default=None, max_length=300)
    daily_capacity: int


class ExamRound(SchedulingModel, table=True):
    __table_args__ = (UniqueConstraint("plan_id", "number", name="uq_examround_number"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    plan_id: uuid.UUID = Field(foreign_key="examplan.id")
    number: int
    starts_on: date
    ends_on: date


class RoundGroup(SchedulingModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    plan_id: uuid.UUID = Field(foreign_key="examplan.id", index=True)
    round_id: uuid.UUID = Field(foreign_key="examround.id")
    position: int
    tier: str = Field(max_length=30)
    status: str | None = Field(default=None, max_length=20)
    unit: str | None = Field(default=None, max_length=100)
    facility: str = Field(max_length=40)


# ---- invitations ----


class Invitation(SchedulingModel, table=True):
    """Giấy mời: one per cadre per round (attempt 0, unique), and re-invitations (attempt 1, 2, ...)."""

    __table_args__ = (
        UniqueConstraint("round_id", "cadre_id", "attempt", name="uq_invitation_round_cadre_attempt"),
        # coverage of a unit: `managing_unit LIKE 'VN.68.%'` needs pattern ops on PostgreSQL in any collation
        Index("ix_invitation_plan_unit", "plan_id", "managing_unit", postgresql_ops={"managing_unit": "varchar_pattern_ops"}),
        Index("ix_invitation_cadre", "cadre_id", "status"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    plan_id: uuid.UUID = Field(foreign_key="examplan.id")
    round_id: uuid.UUID = Field(foreign_key="examround.id")
    round_number: int
    group_id: uuid.UUID | None = None
    cadre_id: uuid.UUID
    managing_unit: str = Field(max_length=100)
    tier: str = Field(max_length=30)
    cadre_status: str = Field(max_length=20)
    facility: str | None = Field(default=None, max_length=40)
    at_home: bool = False
    appointment_date: date
    status: str = Field(max_length=20)
    reason: str | None = Field(default=None, max_length=500)
    status_since: date
    issued_on: date
    attempt: int = 0
    previous_invitation_id: uuid.UUID | None = None
    superseded_on: date | None = None  # re-invited: the new invitation counts instead
    flag: str | None = Field(default=None, max_length=300)
    exam_record_id: uuid.UUID | None = None
    batch_id: uuid.UUID | None = None  # the generation run that wrote it
    created_at: datetime = Field(default_factory=clock.now)
    updated_at: datetime = Field(default_factory=clock.now)


class InvitationChange(SchedulingModel, table=True):
    """Every state change of an invitation with its effective date: coverage as of any date."""

    __table_args__ = (Index("ix_invitationchange_invitation_effective", "invitation_id", "effective_date"),)

    id: int | None = Field(default=None, sa_column=Column(AUTO_ID, primary_key=True, autoincrement=True))
    invitation_id: uuid.UUID
    plan_id: uuid.UUID = Field(index=True)
    previous_status: str = Field(max_length=20)
    status: str = Field(max_length=20)
    reason: str | None = Field(default=None, max_length=500)
    effective_date: date
    actor: str = Field(max_length=200)
    recorded_at: datetime = Field(default_factory=clock.now)


# ---- home visits: scope follows the roster (joined on cadre_id), so transfers and tier changes need no copy ----


class HomeVisitSchedule(SchedulingModel, table=True):
    __table_args__ = (Index("ix_homevisitschedule_due", "active", "next_due_on"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    cadre_id: uuid.UUID = Field(index=True)
    every_months: int
    visitor: str = Field(max_length=200)
    starts_on: date
    next_due_on: date
    last_visit_on: date | None = None
    active: bool = True
    ended_reason: str | None = Field(default=None, max_length=300)
    note: str | None = Field(default=None, max_length=500)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=clock.now)


class HomeVisit(SchedulingModel, table=True):
    __table_args__ = (UniqueConstraint("clinical_record_id", name="uq_homevisit_clinical_record"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    schedule_id: uuid.UUID = Field(foreign_key="homevisitschedule.id", index=True)
    due_on: date
    done_on: date
    visitor: str = Field(max_length=200)
    note: str | None = Field(default=None, max_length=500)
    clinical_record_id: uuid.UUID | None = None
    recorded_by: str = Field(max_length=200)
    recorded_at: datetime = Field(default_factory=clock.now)


# ---- convalescence trips (nghỉ dưỡng): eligibility rules as versioned data ----


class ConvalescenceRule(SchedulingModel, table=True):
    __table_args__ = (UniqueConstraint("board_unit", "version", name="uq_convalescencerule_version"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    board_unit: str = Field(max_length=100)
    version: int
    valid_from: date
    tiers: list[str] = Field(sa_column=Column(JSON, nullable=False))
    statuses: list[str] = Field(sa_column=Column(JSON, nullable=False))
    interval_years: int
    note: str | None = Field(default=None, max_length=500)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=clock.now)


class ConvalescenceTrip(SchedulingModel, TripColumns, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    rule_id: uuid.UUID = Field(foreign_key="convalescencerule.id")
    rule_version: int
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=clock.now)


class ConvalescenceRegistration(SchedulingModel, table=True):
    __table_args__ = (
        UniqueConstraint("trip_id", "cadre_id", name="uq_convalescenceregistration_trip_cadre"),
        Index("ix_convalescenceregistration_cadre", "cadre_id", "status"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    trip_id: uuid.UUID = Field(foreign_key="convalescencetrip.id")
    trip_starts_on: date
    cadre_id: uuid.UUID
    status: str = Field(max_length=20)
    registered_on: date
    note: str | None = Field(default=None, max_length=500)
    cancelled_reason: str | None = Field(default=None, max_length=300)
    created_by: str = Field(max_length=200)
    updated_at: datetime = Field(default_factory=clock.now)


# ---- expert-council clinic days ----


class ClinicSession(SchedulingModel, table=True):
    __table_args__ = (UniqueConstraint("board_unit", "held_on", name="uq_clinicsession_board_day"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    board_unit: str = Field(max_length=100)
    held_on: date
    capacity: int
    place: str = Field(max_length=300)
    council: str = Field(max_length=200)
    note: str | None = Field(default=None, max_length=500)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=clock.now)


class ClinicBooking(SchedulingModel, table=True):
    __table_args__ = (UniqueConstraint("session_id", "cadre_id", name="uq_clinicbooking_session_cadre"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    session_id: uuid.UUID = Field(foreign_key="clinicsession.id", index=True)
    cadre_id: uuid.UUID = Field(index=True)
    status: str = Field(max_length=20)
    reason: str | None = Field(default=None, max_length=500)
    cancelled_reason: str | None = Field(default=None, max_length=300)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=clock.now)


# ---- follow-ups a clinical record asks for (fed by clinical's record events); scope follows the roster ----


class FollowUp(SchedulingModel, table=True):
    """One follow-up of one clinical record, named by (record, position) across the record's versions."""

    __table_args__ = (
        UniqueConstraint("record_id", "position", name="uq_followup_record_position"),
        Index("ix_followup_state_due", "state", "due_on"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    record_id: uuid.UUID
    position: int
    record_version: int
    record_kind: str = Field(max_length=30)
    record_external_id: str = Field(max_length=200)
    record_occurred_on: date
    cadre_id: uuid.UUID = Field(index=True)
    facility: str = Field(max_length=100)
    due_on: date | None = None
    note: str | None = Field(default=None, max_length=4000)
    note_withheld: bool = False
    state: str = Field(max_length=20)  # open | done | cancelled; overdue is derived from due_on and today
    closed_on: date | None = None
    closed_by: str | None = Field(default=None, max_length=200)
    closed_note: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=clock.now)
    updated_at: datetime = Field(default_factory=clock.now)
