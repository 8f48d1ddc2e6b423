"""Reporting's public API: cadre counts, the dashboard, six-monthly/yearly reports, the national roll-up.

Every figure states when it holds: counts carry `as_of`, activity carries its period. A section
without any source data says so (`has_data: false`) instead of showing zeros that look like facts.
"""

import uuid
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel

from contracts.api.report_words import ReportWords
from contracts.enums import CadreStatus, ManagementTier


class CadreCountRow(BaseModel):
    tier: ManagementTier
    status: CadreStatus
    count: int
    suppressed: list[str] = []  # fields hidden from an aggregate-only caller (shown as 0 here; never a fact)


class CadreCountReport(BaseModel):
    unit: str
    total: int
    rows: list[CadreCountRow]
    as_of: datetime
    suppressed: list[str] = []  # fields hidden from an aggregate-only caller (shown as 0 here; never a fact)


class UnitOption(BaseModel):
    """A unit the caller may choose in the dashboard's filter."""

    path: str
    name: str
    level: str
    parent_path: str | None = None
    latitude: float | None = None  # WGS 84, where the dashboard's map draws the unit (None: not drawn)
    longitude: float | None = None


class CadreCountSection(BaseModel):
    """Đặc điểm tình hình: cadres under care as of a date, by tier and active/retired, with the change since a date."""

    as_of: date
    total: int
    active: int
    retired: int
    rows: list[CadreCountRow]
    compared_with: date
    total_then: int
    change: int
    suppressed: list[str] = []  # fields hidden from an aggregate-only caller (shown as 0 here; never a fact)


class ExamCoverageRow(BaseModel):
    """Coverage of one plan (and round, tier, status, unit where given): examined of invited."""

    plan_id: uuid.UUID
    plan_title: str | None = None
    board_unit: str | None = None
    round_number: int | None = None
    tier: ManagementTier | None = None
    status: CadreStatus | None = None
    unit: str | None = None
    invited: int
    examined: int
    rate: float | None  # percent, two decimals; None when nobody was invited
    suppressed: list[str] = []  # fields hidden from an aggregate-only caller (shown as 0 here; never a fact)


class CoverageSection(BaseModel):
    period_start: date
    period_end: date
    has_data: bool
    by_plan: list[ExamCoverageRow]
    by_round: list[ExamCoverageRow]
    by_group: list[ExamCoverageRow]  # plan x tier x status (the seed's "đối tượng 2, 3 đương chức")
    by_unit: list[ExamCoverageRow]  # plan x district (or the unit below the one asked for)


class ClassificationRow(BaseModel):
    code: str
    label_vi: str
    label_en: str
    count: int | None  # None: suppressed (aggregate-only caller, too few cadres)
    share: float | None  # percent of the classified, two decimals


class ClassificationSection(BaseModel):
    """Each cadre's latest classification (Decision 1266/QĐ-BYT) from periodic exams in the period."""

    period_start: date
    period_end: date
    has_data: bool
    total: int
    rows: list[ClassificationRow]
    by_tier: dict[str, list[ClassificationRow]]
    suppressed: list[str] = []  # fields hidden from an aggregate-only caller (shown as 0 here; never a fact)


class ActivityCounts(BaseModel):
    """Khám ngoại trú, điều trị nội trú, chuyển viện, khám tại nhà, hội chẩn: counts of records in the period."""

    period_start: date
    period_end: date
    has_data: bool
    periodic_exams: int
    outpatient_visits: int
    admissions: int
    referrals_higher_level: int
    referrals_in_province: int
    referrals_abroad: int
    referrals_total: int
    home_visits: int
    consultations: int
    suppressed: list[str] = []  # fields hidden from an aggregate-only caller (shown as 0 here; never a fact)


class ChronicConditionRow(BaseModel):
    group: str
    label_vi: str
    label_en: str
    cadres: int | None  # None: suppressed
    prevalence: float | None  # percent of the cadres under care as of the period's end


class ComorbidityRow(BaseModel):
    conditions: str  # "1", "2", "3+"
    cadres: int | None  # None: suppressed


class ChronicSection(BaseModel):
    as_of: date
    has_data: bool
    population: int
    rows: list[ChronicConditionRow]
    comorbidity: list[ComorbidityRow]
    suppressed: list[str] = []  # fields hidden from an aggregate-only caller (shown as 0 here; never a fact)


class MonthlyPoint(BaseModel):
    month: str  # YYYY-MM
    periodic_exams: int
    outpatient_visits: int
    admissions: int
    referrals: int
    home_visits: int
    consultations: int
    suppressed: list[str] = []  # fields hidden from an aggregate-only caller (shown as 0 here; never a fact)


class DashboardSummary(BaseModel):
    unit: str
    unit_name: str
    period_start: date
    period_end: date
    generated_at: datetime
    has_data: bool
    message: str | None = None
    aggregate_only: bool  # the caller holds only de-identified aggregate rights here: small cells suppressed
    min_cell_size: int
    cadres: CadreCountSection
    coverage: CoverageSection
    classification: ClassificationSection
    activity: ActivityCounts
    chronic: ChronicSection
    monthly: list[MonthlyPoint]


class ReportKind(StrEnum):
    SIX_MONTHLY = "six_monthly"  # báo cáo 6 tháng
    YEARLY = "yearly"  # báo cáo tổng kết năm


class ArithmeticCheck(BaseModel):
    """A total and the parts it must equal; the report states every check it made."""

    label: str
    total: int
    parts: dict[str, int]
    parts_sum: int
    consistent: bool
    suppressed: list[str] = []  # for an aggregate-only caller: its numbers hidden (0, parts empty); `consistent` still holds


class ConvalescenceSection(BaseModel):
    """Nghỉ dưỡng: registrations for convalescence trips, from scheduling's convalescence events."""

    has_data: bool
    registered: int | None = None
    eligible: int | None = None
    note: str


class BoardReport(BaseModel):
    """Báo cáo kết quả công tác bảo vệ, chăm sóc sức khỏe cán bộ (seed 003's structure), computed from records."""

    kind: ReportKind
    title: str
    unit: str
    unit_name: str
    period_start: date
    period_end: date
    generated_at: datetime
    has_data: bool
    message: str | None = None
    cadres: CadreCountSection
    coverage: CoverageSection
    classification: ClassificationSection
    activity: ActivityCounts
    chronic: ChronicSection
    convalescence: ConvalescenceSection
    checks: list[ArithmeticCheck]
    consistent: bool
    aggregate_only: bool = False  # computed for a caller with aggregate rights only: small cells suppressed
    min_cell_size: int | None = None  # the threshold applied when `aggregate_only`
    words: ReportWords | None = None  # the board's own words, in a document it submitted (reporting.approvals)


class UnitBasis(StrEnum):
    AS_THEN = "as_then"  # the units as they stood in the period
    TODAY = "today"  # mapped onto today's units after reorganisations


class Cell(BaseModel):
    """A de-identified count; `value` is None when the cell is suppressed (too few cadres behind it)."""

    value: int | None
    suppressed: bool = False


class ProvinceAggregate(BaseModel):
    province: str
    name: str
    cells: dict[str, Cell]


class NationalRollup(BaseModel):
    period_start: date
    period_end: date
    basis: UnitBasis
    min_cell_size: int
    generated_at: datetime
    has_data: bool
    message: str | None = None
    fields: list[str]
    provinces: list[ProvinceAggregate]
    national: ProvinceAggregate


class RebuildResult(BaseModel):
    consumers: list[str]
    events_applied: int
    seconds: float


class IssuedReport(BaseModel):
    """A board report as issued (sent to the standing committee): stored as it was, announced by `ReportIssued`.

    The live report (`GET /reports/board`) follows the records; an issued one never changes."""

    report_id: uuid.UUID
    issued_at: datetime
    issued_by: str
    report: BoardReport


class IssuedReportSummary(BaseModel):
    report_id: uuid.UUID
    board_unit: str
    kind: ReportKind
    period_start: date
    period_end: date
    issued_at: datetime
    issued_by: str
