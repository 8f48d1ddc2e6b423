"""The dashboard's sections (cadres, exam coverage, classification, activity, chronic conditions), each
assembled from one or two statements of `dashboard.queries`. The board report prints the same sections."""

import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.api.reporting import (
    ActivityCounts,
    CadreCountRow,
    CadreCountSection,
    ChronicConditionRow,
    ChronicSection,
    ClassificationRow,
    ClassificationSection,
    ComorbidityRow,
    CoverageSection,
    ExamCoverageRow,
    MonthlyPoint,
    UnitBasis,
)
from contracts.enums import CadreStatus, EncounterKind, ManagementTier, ReferralKind
from contracts.scope import Principal
from reporting.dashboard import queries
from reporting.domain import CHRONIC_GROUPS, CLASSIFICATION_CODES, child_of_at_depth, months_between, rate
from reporting.headcounts import queries as headcounts
from reporting.headcounts.steps import GROUPS, group_measure
from reporting.preaggregates import split_period
from reporting.tables import ExamPlanFact, ExamRoundFact

AS_THEN = UnitBasis.AS_THEN  # every figure's default: the units as they stood on each row's date


def day_before(day: date) -> date:
    return day - timedelta(days=1)


# --- cadres -----------------------------------------------------------------------------------------


async def cadre_rows_on(
    session: AsyncSession, principal: Principal, unit: str, days: list[date], basis: UnitBasis = AS_THEN
) -> list[list[CadreCountRow]]:
    """Counts by tier and status on each of `days`, from the headcounts."""
    statement = headcounts.counted_on(principal, unit, days, headcounts.by_tier_and_status, basis)
    order = {t: i for i, t in enumerate(ManagementTier)}
    per_day: list[list[CadreCountRow]] = [[] for _ in days]
    for t, s, _measure, *counts in await session.execute(statement):
        for i, n in enumerate(counts):
            if n:
                per_day[i].append(CadreCountRow(tier=ManagementTier(t), status=CadreStatus(s), count=int(n)))
    return [sorted(rows, key=lambda r: (order[r.tier], r.status.value)) for rows in per_day]


async def cadres_counted(session: AsyncSession, principal: Principal, unit: str, day: date, basis: UnitBasis = AS_THEN) -> int:
    return await session.scalar(queries.distinct_cadres_on(principal, unit, day, basis)) or 0


async def cadre_section(
    session: AsyncSession, principal: Principal, unit: str, as_of: date, compared_with: date, basis: UnitBasis = AS_THEN
) -> CadreCountSection:
    rows, then = await cadre_rows_on(session, principal, unit, [as_of, compared_with], basis)
    total, total_then = sum(r.count for r in rows), sum(r.count for r in then)
    return CadreCountSection(
        as_of=as_of,
        total=total,
        active=sum(r.count for r in rows if r.status is CadreStatus.ACTIVE),
        retired=sum(r.count for r in rows if r.status is CadreStatus.RETIRED),
        rows=rows,
        compared_with=compared_with,
        total_then=total_then,
        change=total - total_then,
    )


# --- coverage ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoverageCell:
    plan_id: uuid.UUID
    round_id: uuid.UUID
    tier: str
    status: str | None
    managing_unit: str
    invited: int
    examined: int


CellKey = Callable[[CoverageCell], tuple[Any, ...]]
RowFields = Callable[[tuple[Any, ...]], dict[str, Any]]


def _coverage_rows(
    cells: list[CoverageCell], plans: dict[uuid.UUID, ExamPlanFact], key: CellKey, fields: RowFields
) -> list[ExamCoverageRow]:
    """The cells summed by `key` (whose first part is the plan), one row per key."""
    sums: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
    for cell in cells:
        sums[key(cell)][0] += cell.invited
        sums[key(cell)][1] += cell.examined
    out = []
    for k in sorted(sums, key=lambda k: tuple("" if v is None else str(v) for v in k)):
        invited, examined = sums[k]
        plan = plans.get(k[0])
        out.append(
            ExamCoverageRow(
                plan_id=k[0],
                plan_title=plan.title if plan else None,
                board_unit=plan.board_unit if plan else None,
                invited=invited,
                examined=examined,
                rate=rate(examined, invited),
                **fields(k),
            )
        )
    return out


async def coverage_section(
    session: AsyncSession, principal: Principal, unit: str, start: date, end: date, basis: UnitBasis = AS_THEN
) -> CoverageSection:
    parts = split_period(start, end)
    found = [list(await session.execute(queries.coverage_cells(principal, unit, a, b, basis))) for a, b in parts.edges]
    if parts.months is not None:
        found.append(list(await session.execute(queries.coverage_month_cells(principal, unit, parts.months, basis))))
    cells = [CoverageCell(p, r, t, s or None, u, int(n), int(e or 0)) for rows in found for p, r, t, s, u, n, e in rows]
    plan_ids = {c.plan_id for c in cells}
    plans = {p.plan_id: p for p in (await session.execute(queries.plans(plan_ids))).scalars()}
    rounds: dict[uuid.UUID, ExamRoundFact] = {
        r.round_id: r for r in (await session.execute(queries.rounds_of(plan_ids))).scalars()
    }
    unit_depth = len(unit.split(".")) + 1

    def round_number(round_id: uuid.UUID) -> int | None:
        found = rounds.get(round_id)
        return found.number if found else None

    return CoverageSection(
        period_start=start,
        period_end=end,
        has_data=bool(cells),
        by_plan=_coverage_rows(cells, plans, lambda c: (c.plan_id,), lambda _k: {}),
        by_round=_coverage_rows(cells, plans, lambda c: (c.plan_id, round_number(c.round_id)), lambda k: {"round_number": k[1]}),
        by_group=_coverage_rows(
            cells,
            plans,
            lambda c: (c.plan_id, c.tier, c.status),
            lambda k: {"tier": ManagementTier(k[1]), "status": CadreStatus(k[2]) if k[2] else None},
        ),
        by_unit=_coverage_rows(
            cells, plans, lambda c: (c.plan_id, child_of_at_depth(c.managing_unit, unit_depth)), lambda k: {"unit": k[1]}
        ),
    )


# --- classification ---------------------------------------------------------------------------------


def classification_rows(counts: dict[str, int]) -> list[ClassificationRow]:
    total = sum(counts.values())
    known = [c.code for c in CLASSIFICATION_CODES]
    rows = [
        ClassificationRow(code=c.code, label_vi=c.display_vi, label_en=c.display_en, count=counts.get(c.code, 0), share=None)
        for c in CLASSIFICATION_CODES
    ]
    rows += [
        ClassificationRow(code=code, label_vi=code, label_en=code, count=n, share=None)
        for code, n in counts.items()
        if code not in known
    ]
    for row in rows:
        row.share = rate(row.count or 0, total)
    return rows


async def classification_section(
    session: AsyncSession, principal: Principal, unit: str, start: date, end: date, basis: UnitBasis = AS_THEN
) -> ClassificationSection:
    result = await session.execute(queries.classification_counts(principal, unit, start, end, basis))
    counts = {(str(t), str(c)): int(n) for t, c, n in result}
    overall: dict[str, int] = defaultdict(int)
    by_tier: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (tier, code), n in counts.items():
        overall[code] += n
        by_tier[tier][code] += n
    order = [t.value for t in ManagementTier]
    return ClassificationSection(
        period_start=start,
        period_end=end,
        has_data=bool(counts),
        total=sum(overall.values()),
        rows=classification_rows(overall),
        by_tier={t: classification_rows(by_tier[t]) for t in sorted(by_tier, key=lambda t: order.index(t) if t in order else 99)},
    )


# --- activity and monthly series --------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityCell:
    month: str
    kind: str
    referral_kind: str | None
    records: int


async def activity_cells(
    session: AsyncSession, principal: Principal, unit: str, start: date, end: date, basis: UnitBasis = AS_THEN
) -> list[ActivityCell]:
    """Whole months from the pre-aggregate, the days around them from the records."""
    parts = split_period(start, end)
    found = [list(await session.execute(queries.activity_cells(principal, unit, a, b, basis))) for a, b in parts.edges]
    if parts.months is not None:
        found.append(list(await session.execute(queries.activity_month_cells(principal, unit, parts.months, basis))))
    return [ActivityCell(m, k, r or None, int(n)) for rows in found for m, k, r, n in rows]


def activity_counts(cells: list[ActivityCell], start: date, end: date) -> ActivityCounts:
    def total(kind: EncounterKind, referral: ReferralKind | None = None) -> int:
        return sum(c.records for c in cells if c.kind == kind.value and (referral is None or c.referral_kind == referral.value))

    return ActivityCounts(
        period_start=start,
        period_end=end,
        has_data=bool(cells),
        periodic_exams=total(EncounterKind.PERIODIC_EXAM),
        outpatient_visits=total(EncounterKind.OUTPATIENT_VISIT),
        admissions=total(EncounterKind.ADMISSION),
        referrals_higher_level=total(EncounterKind.REFERRAL, ReferralKind.HIGHER_LEVEL),
        referrals_in_province=total(EncounterKind.REFERRAL, ReferralKind.IN_PROVINCE),
        referrals_abroad=total(EncounterKind.REFERRAL, ReferralKind.ABROAD),
        referrals_total=total(EncounterKind.REFERRAL),
        home_visits=total(EncounterKind.HOME_VISIT),
        consultations=total(EncounterKind.CONSULTATION),
    )


def monthly_points(cells: list[ActivityCell], start: date, end: date) -> list[MonthlyPoint]:
    by_month: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for c in cells:
        by_month[c.month][c.kind] += c.records
    return [
        MonthlyPoint(
            month=month,
            periodic_exams=by_month[month][EncounterKind.PERIODIC_EXAM.value],
            outpatient_visits=by_month[month][EncounterKind.OUTPATIENT_VISIT.value],
            admissions=by_month[month][EncounterKind.ADMISSION.value],
            referrals=by_month[month][EncounterKind.REFERRAL.value],
            home_visits=by_month[month][EncounterKind.HOME_VISIT.value],
            consultations=by_month[month][EncounterKind.CONSULTATION.value],
        )
        for month in months_between(start, end)
    ]


# --- chronic conditions -----------------------------------------------------------------------------


async def chronic_section(
    session: AsyncSession, principal: Principal, unit: str, as_of: date, population: int, basis: UnitBasis = AS_THEN
) -> ChronicSection:
    """Cadres under care on `as_of` with each chronic group diagnosed by then, and with how many groups."""
    statement = headcounts.counted_on(principal, unit, [as_of], headcounts.overall, basis, cadres=False)
    measured = {str(measure): int(n) for measure, n in await session.execute(statement) if n}
    group_counts = {group: measured.get(group_measure(group), 0) for group, *_ in CHRONIC_GROUPS}
    buckets = {bucket: measured.get(f"{GROUPS}{bucket}", 0) for bucket in ("1", "2", "3+")}
    return ChronicSection(
        as_of=as_of,
        has_data=any(group_counts.values()),
        population=population,
        rows=[
            ChronicConditionRow(
                group=group,
                label_vi=vi,
                label_en=en,
                cadres=group_counts.get(group, 0),
                prevalence=rate(group_counts.get(group, 0), population),
            )
            for group, vi, en, _ in CHRONIC_GROUPS
        ],
        comorbidity=[ComorbidityRow(conditions=b, cadres=buckets.get(b, 0)) for b in ("1", "2", "3+")],
    )
