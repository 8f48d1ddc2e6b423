"""Reporting rules with no I/O: unit paths, effective dates and intervals, the interval a dated row counts in,
chronic groups, checks (suppression: `reporting.suppression`, and units followed onto today's:
`servicekit.successions`, both re-exported here)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from contracts.api.reporting import ArithmeticCheck, ReportKind, UnitBasis
from contracts.codesystems import HEALTH_CLASSIFICATION_1266
from reporting.suppression import suppress as suppress
from servicekit.successions import Succession as Succession
from servicekit.successions import Successors as Successors
from servicekit.successions import today_of as today_of
from servicekit.suppression import DEFAULT_MIN_CELL_SIZE as DEFAULT_MIN_CELL_SIZE  # the rules live in one module
from servicekit.suppression import RawCell as RawCell

COUNTED_STATUSES = ("active", "retired")  # under care; the deceased and the removed are not counted


def province_of(path: str) -> str:
    """The province segment of a materialised path: `VN.68.672` -> `VN.68`; the nation stays `VN`."""
    return ".".join(path.split(".")[:2])


def child_of_at_depth(path: str, depth: int) -> str:
    """The ancestor (or self) of `path` with `depth` segments: the row key when a unit is split one level down."""
    return ".".join(path.split(".")[:depth])


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def next_month(day: date) -> date:
    """The first day of the month after `day`'s."""
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


def months_between(start: date, end: date) -> list[str]:
    months: list[str] = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


# --- cadre intervals --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    effective_on: date
    order: tuple[str, str]  # (recorded_at iso, event id): ties broken the same way on every replay
    managing_unit: str
    tier: str
    status: str


@dataclass(frozen=True)
class Interval:
    managing_unit: str
    tier: str
    status: str
    valid_from: date
    valid_to: date | None


def intervals_of(changes: Iterable[Change]) -> list[Interval]:
    """A cadre's history from its dated changes, whatever order they arrived in.

    Of several changes on one day the last recorded holds that day; equal neighbours merge.
    """
    last_of_day: dict[date, Change] = {}
    for change in sorted(changes, key=lambda c: (c.effective_on, c.order)):
        last_of_day[change.effective_on] = change
    intervals: list[Interval] = []
    for day in sorted(last_of_day):
        change = last_of_day[day]
        state = (change.managing_unit, change.tier, change.status)
        if intervals:
            last = intervals[-1]
            if (last.managing_unit, last.tier, last.status) == state:
                continue
            intervals[-1] = Interval(last.managing_unit, last.tier, last.status, last.valid_from, day)
        intervals.append(Interval(*state, day, None))
    return intervals


# --- attribution ------------------------------------------------------------------------------------


def interval_on(day: date | None, intervals: Sequence[Interval]) -> Interval | None:
    """The cadre's interval holding on `day`; before its first, the first (the earliest unit known for it).

    None when nothing is known of the cadre, or the row has no date yet: the row keeps what it has.
    """
    if day is None or not intervals:
        return None
    ordered = sorted(intervals, key=lambda i: i.valid_from)
    for interval in ordered:
        if interval.valid_from <= day and (interval.valid_to is None or day < interval.valid_to):
            return interval
    return ordered[0] if day < ordered[0].valid_from else ordered[-1]


def effective_date(
    *,
    event_effective: date | None,
    registered: bool,
    status_changed: bool,
    status_since: date,
    recorded_on: date,
) -> date:
    """When a cadre event's state starts to hold.

    The event's own effective date when it has one (retired, died, removed, transferred, tier changed);
    for a registration or a status change without one, the snapshot's `status_since` (a registry
    filled from existing lists counts its cadres since they held their status); otherwise the day
    the registry recorded it.
    """
    if event_effective is not None:
        return event_effective
    if registered or status_changed:
        return status_since
    return recorded_on


# --- chronic conditions -----------------------------------------------------------------------------

# (group, label_vi, label_en, ICD-10 ranges as (letter, from, to) inclusive on the two-digit category)
CHRONIC_GROUPS: tuple[tuple[str, str, str, tuple[tuple[str, int, int], ...]], ...] = (
    ("hypertension", "Tăng huyết áp", "Hypertension", (("I", 10, 15),)),
    ("ischaemic_heart", "Bệnh tim thiếu máu cục bộ", "Ischaemic heart disease", (("I", 20, 25),)),
    ("cerebrovascular", "Bệnh mạch máu não", "Cerebrovascular disease", (("I", 60, 69),)),
    ("diabetes", "Đái tháo đường", "Diabetes", (("E", 10, 14),)),
    ("copd", "Bệnh phổi tắc nghẽn mạn tính", "COPD", (("J", 44, 44),)),
    ("cancer", "Ung thư", "Cancer", (("C", 0, 97),)),
    ("chronic_kidney", "Bệnh thận mạn", "Chronic kidney disease", (("N", 18, 18),)),
)
CHRONIC_LABELS = {group: (vi, en) for group, vi, en, _ in CHRONIC_GROUPS}


def chronic_group(icd10: str) -> str | None:
    code = icd10.strip().upper()
    if len(code) < 3 or not code[1:3].isdigit():
        return None
    letter, category = code[0], int(code[1:3])
    for group, _vi, _en, ranges in CHRONIC_GROUPS:
        if any(letter == lo_letter and lo <= category <= hi for lo_letter, lo, hi in ranges):
            return group
    return None


def chronic_groups(diagnoses: Iterable[str]) -> list[str]:
    return sorted({g for code in diagnoses if (g := chronic_group(code)) is not None})


def comorbidity_bucket(conditions: int) -> str:
    return "3+" if conditions >= 3 else str(conditions)


# --- classification ---------------------------------------------------------------------------------

CLASSIFICATION_CODES = tuple(HEALTH_CLASSIFICATION_1266.codes)


def classification_label(code: str) -> tuple[str, str]:
    for c in CLASSIFICATION_CODES:
        if c.code == code:
            return c.display_vi, c.display_en
    return code, code


def rate(part: int, whole: int) -> float | None:
    """142 of 193 -> 73.57: percent with two decimals cut, as the boards' reports (and scheduling) cut them."""
    return (10000 * part // whole) / 100 if whole else None


# --- periods ----------------------------------------------------------------------------------------


def period_problems(start: date | None, end: date | None, as_of: date | None, today: date) -> list[tuple[str, str]]:
    """(field, reason) for every way a period is unusable; empty when it is fine."""
    problems: list[tuple[str, str]] = []
    if start is not None and end is not None and end < start:
        problems.append(("period_end", f"the period ends ({end}) before it starts ({start})"))
    if as_of is not None and as_of > today:
        problems.append(("as_of", f"the as-of date {as_of} is in the future (today is {today})"))
    elif end is not None and end > today:
        problems.append(("period_end", f"the period ends in the future ({end}); figures exist up to today ({today})"))
    return problems


def default_period(kind: ReportKind, year: int, half: int = 1) -> tuple[date, date]:
    if kind is ReportKind.YEARLY:
        return date(year, 1, 1), date(year, 12, 31)
    return (date(year, 1, 1), date(year, 6, 30)) if half == 1 else (date(year, 7, 1), date(year, 12, 31))


ON_TODAYS_UNITS = "số liệu quy về đơn vị hành chính hiện nay"


def report_title(kind: ReportKind, start: date, end: date, basis: UnitBasis = UnitBasis.AS_THEN) -> str:
    """The report's title; one on today's units says so (the document, its exports and its issued copy)."""
    span = f"từ {start:%d/%m/%Y} đến {end:%d/%m/%Y}"
    if basis is UnitBasis.TODAY:
        span = f"{span}; {ON_TODAYS_UNITS}"
    if kind is ReportKind.YEARLY:
        return f"Báo cáo tổng kết công tác bảo vệ, chăm sóc sức khỏe cán bộ năm {start.year} ({span})"
    half = "đầu" if start.month <= 6 else "cuối"
    return f"Báo cáo kết quả công tác bảo vệ, chăm sóc sức khỏe cán bộ 6 tháng {half} năm {start.year} ({span})"


# --- arithmetic -------------------------------------------------------------------------------------


def check(label: str, total: int, parts: Mapping[str, int]) -> ArithmeticCheck:
    parts_sum = sum(parts.values())
    return ArithmeticCheck(label=label, total=total, parts=dict(parts), parts_sum=parts_sum, consistent=parts_sum == total)
