"""The dashboard's own answers beyond the summary: the map and drill-down of coverage by unit, the comparison
with the previous period, the person-level lists (cadres not yet examined, abnormal findings without a
follow-up) and the facilities' activity. Figures a caller may only aggregate are None, as in the summary."""

import uuid
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, Field


class Band(StrEnum):
    """A coverage rate against the target: green at or above it, amber within `amber_margin` points below, red lower."""

    GREEN = "green"
    AMBER = "amber"
    RED = "red"


class CoverageTarget(BaseModel):
    target: float = Field(description="periodic exam coverage the boards aim at, percent (seed 000: 85)")
    amber_margin: float = Field(description="points below the target still shown amber; lower is red")


class UnitCrumb(BaseModel):
    path: str
    name: str
    level: str


class UnitCoverage(BaseModel):
    """A unit's periodic exam coverage over a period, where the map draws it, and the previous period's beside it."""

    path: str
    name: str
    level: str
    latitude: float | None = None
    longitude: float | None = None
    invited: int | None
    examined: int | None
    rate: float | None
    band: Band | None
    previous_invited: int | None
    previous_examined: int | None
    previous_rate: float | None
    change: float | None = Field(description="rate minus the previous period's rate, in points")


class DashboardMap(BaseModel):
    """The unit asked for, the way back up to the nation (breadcrumbs), and its children's coverage."""

    unit: UnitCoverage
    trail: list[UnitCrumb]
    children: list[UnitCoverage]
    period_start: date
    period_end: date
    previous_start: date
    previous_end: date
    target: CoverageTarget
    aggregate_only: bool


class FigureChange(BaseModel):
    key: str
    current: float | None
    previous: float | None
    change: float | None


class DashboardComparison(BaseModel):
    """The summary's key figures for the period and the one before it (as long, just before it), with the change."""

    unit: str
    unit_name: str
    period_start: date
    period_end: date
    previous_start: date
    previous_end: date
    figures: list[FigureChange]


class NotExaminedRow(BaseModel):
    """A cadre under care at the period's end with no periodic exam recorded (nor attended) in the period.
    Reporting keeps no names: the id opens the cadre's file in the registry."""

    cadre_id: uuid.UUID
    unit: str
    unit_name: str
    tier: str
    status: str
    invited_on: date | None = Field(description="the latest appointment in the period, if invited")
    invitation_status: str | None


class AbnormalFindingRow(BaseModel):
    """A finding classified C or D, or flagged for a follow-up, with no later encounter of its cadre."""

    record_id: uuid.UUID
    cadre_id: uuid.UUID
    unit: str
    unit_name: str
    tier: str
    kind: str
    occurred_on: date
    classification: str | None
    needs_follow_up: bool
    facility: str
    days_waiting: int


class NotExaminedList(BaseModel):
    unit: str
    period_start: date
    period_end: date
    total: int
    rows: list[NotExaminedRow]


class AbnormalFindingList(BaseModel):
    unit: str
    period_start: date
    period_end: date
    total: int
    rows: list[AbnormalFindingRow]


class FacilityMonth(BaseModel):
    month: str  # YYYY-MM
    encounters: int | None  # None: hidden from a caller who may only aggregate (a small cell)


class FacilityActivityRow(BaseModel):
    """A facility (its code as its HIS posts it) in the caller's scope: its latest encounter and its months."""

    facility: str
    last_record_on: date
    days_silent: int
    silent: bool
    encounters: int | None
    months: list[FacilityMonth]


class FacilityActivity(BaseModel):
    unit: str
    as_of: date
    silent_after_days: int
    months: list[str]
    rows: list[FacilityActivityRow]
