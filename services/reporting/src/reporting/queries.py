"""The figures behind the dashboard and the reports. Every query starts from the caller's scope.

`Scope` carries the WHERE clause builder: the caller's READ and AGGREGATE grants on the row's
managing unit and tier, narrowed to the unit asked for (and its province column, for the index).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, distinct, false, func, not_, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

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
)
from contracts.enums import Action, CadreStatus, EncounterKind, ManagementTier, ReferralKind
from contracts.scope import Principal, unit_covers
from reporting.domain import (
    CHRONIC_GROUPS,
    CLASSIFICATION_CODES,
    COUNTED_STATUSES,
    child_of_at_depth,
    comorbidity_bucket,
    months_between,
    province_of,
    rate,
)
from reporting.tables import CadreInterval, ClinicalFact, DiagnosisFact, ExamPlanFact, ExamRoundFact, InvitationFact
from servicekit.auth import within_unit


@dataclass(frozen=True)
class Scope:
    principal: Principal
    unit: str

    def where(self, unit_column: Any, tier_column: Any, province_column: Any | None = None) -> ColumnElement[bool]:
        """Rows under `unit` whose (unit, tier) a READ or AGGREGATE grant covers.

        The same rows as `scope_filter(READ) OR scope_filter(AGGREGATE)` within the unit, written so that a
        row is tested once: a grant on the unit or above it reduces to its tiers; only grants strictly below
        the unit need a prefix test of their own.
        """
        covering: set[str] = set()
        below: list[ColumnElement[bool]] = []
        for grant in self.principal.grants:
            if not grant.actions & {Action.READ, Action.AGGREGATE} or not grant.tiers:
                continue
            tiers = {t.value for t in grant.tiers}
            if unit_covers(grant.unit_path, self.unit):
                covering |= tiers
            elif unit_covers(self.unit, grant.unit_path):
                below.append(and_(within_unit(unit_column, grant.unit_path), tier_column.in_(sorted(tiers))))
        allowed = [tier_column.in_(sorted(covering))] if covering else []
        clauses = [or_(*allowed, *below) if allowed or below else false(), within_unit(unit_column, self.unit)]
        if province_column is not None and "." in self.unit:
            clauses.append(province_column == province_of(self.unit))
        return and_(*clauses)


def _holds_on(day: date) -> ColumnElement[bool]:
    return and_(
        col(CadreInterval.valid_from) <= day,
        or_(col(CadreInterval.valid_to).is_(None), col(CadreInterval.valid_to) > day),
    )


def _interval_scope(scope: Scope) -> ColumnElement[bool]:
    return scope.where(col(CadreInterval.managing_unit), col(CadreInterval.tier), col(CadreInterval.province))


# --- cadres -----------------------------------------------------------------------------------------


async def cadre_rows_on(session: AsyncSession, scope: Scope, days: list[date]) -> list[list[CadreCountRow]]:
    """Counts by tier and status on each of `days`, in one scan of the intervals."""
    tier, status = col(CadreInterval.tier), col(CadreInterval.status)
    held = [func.sum(case((_holds_on(day), 1), else_=0)) for day in days]
    result = await session.execute(
        select(tier, status, *held)
        .where(_interval_scope(scope), col(CadreInterval.valid_from) <= max(days), status.in_(COUNTED_STATUSES))
        .group_by(tier, status)
    )
    order = {t: i for i, t in enumerate(ManagementTier)}
    per_day: list[list[CadreCountRow]] = [[] for _ in days]
    for t, s, *counts in result:
        for i, n in enumerate(counts):
            if n:
                per_day[i].append(CadreCountRow(tier=ManagementTier(t), status=CadreStatus(s), count=int(n)))
    return [sorted(rows, key=lambda r: (order[r.tier], r.status.value)) for rows in per_day]


async def cadre_rows(session: AsyncSession, scope: Scope, day: date) -> list[CadreCountRow]:
    return (await cadre_rows_on(session, scope, [day]))[0]


async def cadres_counted(session: AsyncSession, scope: Scope, day: date) -> int:
    """An independent count (distinct cadres) that the report checks the sum of its rows against."""
    return (
        await session.scalar(
            select(func.count(distinct(col(CadreInterval.cadre_id)))).where(
                _interval_scope(scope), _holds_on(day), col(CadreInterval.status).in_(COUNTED_STATUSES)
            )
        )
        or 0
    )


async def cadre_section(session: AsyncSession, scope: Scope, as_of: date, compared_with: date) -> CadreCountSection:
    rows, then = await cadre_rows_on(session, scope, [as_of, compared_with])
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


async def coverage_cells(session: AsyncSession, scope: Scope, start: date, end: date) -> list[CoverageCell]:
    interval = aliased(CadreInterval)
    invitation = InvitationFact
    examined = case(
        (or_(col(invitation.status) == "attended", col(invitation.exam_recorded).is_(True)), 1),
        else_=0,
    )
    on_the_day = and_(
        col(interval.cadre_id) == col(invitation.cadre_id),
        col(interval.valid_from) <= col(invitation.appointment_date),
        or_(col(interval.valid_to).is_(None), col(interval.valid_to) > col(invitation.appointment_date)),
    )
    result = await session.execute(
        select(
            col(invitation.plan_id),
            col(invitation.round_id),
            col(invitation.tier),
            col(interval.status),
            col(invitation.managing_unit),
            func.count(),
            func.sum(examined),
        )
        .select_from(invitation)
        .outerjoin(interval, on_the_day)
        .where(
            scope.where(col(invitation.managing_unit), col(invitation.tier), col(invitation.province)),
            col(invitation.appointment_date) >= start,
            col(invitation.appointment_date) <= end,
            col(invitation.status) != "cancelled",
        )
        .group_by(
            col(invitation.plan_id),
            col(invitation.round_id),
            col(invitation.tier),
            col(interval.status),
            col(invitation.managing_unit),
        )
    )
    return [CoverageCell(p, r, t, s, u, int(n), int(e or 0)) for p, r, t, s, u, n, e in result]


async def coverage_section(session: AsyncSession, scope: Scope, start: date, end: date) -> CoverageSection:
    cells = await coverage_cells(session, scope, start, end)
    plan_ids = {c.plan_id for c in cells}
    plans = {
        p.plan_id: p
        for p in (await session.execute(select(ExamPlanFact).where(col(ExamPlanFact.plan_id).in_(plan_ids)))).scalars()
    }
    rounds = {
        r.round_id: r
        for r in (await session.execute(select(ExamRoundFact).where(col(ExamRoundFact.plan_id).in_(plan_ids)))).scalars()
    }
    unit_depth = len(scope.unit.split(".")) + 1

    def rows(
        key: Callable[[CoverageCell], tuple[Any, ...]], build: Callable[[tuple[Any, ...]], dict[str, Any]]
    ) -> list[ExamCoverageRow]:
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
                    **build(k),
                )
            )
        return out

    def round_number(round_id: uuid.UUID) -> int | None:
        found = rounds.get(round_id)
        return found.number if found else None

    return CoverageSection(
        period_start=start,
        period_end=end,
        has_data=bool(cells),
        by_plan=rows(lambda c: (c.plan_id,), lambda _k: {}),
        by_round=rows(lambda c: (c.plan_id, round_number(c.round_id)), lambda k: {"round_number": k[1]}),
        by_group=rows(
            lambda c: (c.plan_id, c.tier, c.status),
            lambda k: {"tier": ManagementTier(k[1]), "status": CadreStatus(k[2]) if k[2] else None},
        ),
        by_unit=rows(
            lambda c: (c.plan_id, child_of_at_depth(c.managing_unit, unit_depth)),
            lambda k: {"unit": k[1]},
        ),
    )


# --- classification ---------------------------------------------------------------------------------


def _live_exams_in(start: date, end: date, record: Any = ClinicalFact) -> ColumnElement[bool]:
    return and_(
        col(record.kind) == EncounterKind.PERIODIC_EXAM.value,
        col(record.withdrawn).is_(False),
        col(record.classification).is_not(None),
        col(record.occurred_on) >= start,
        col(record.occurred_on) <= end,
    )


def latest_exam_conditions(start: date, end: date) -> list[ColumnElement[bool]]:
    """A live classified exam in the period that is its cadre's latest there (ties: the higher record id)."""
    later = aliased(ClinicalFact)
    record = ClinicalFact
    superseded = (
        select(col(later.record_id))
        .where(
            col(later.cadre_id) == col(record.cadre_id),
            _live_exams_in(start, end, later),
            or_(
                col(later.occurred_on) > col(record.occurred_on),
                and_(col(later.occurred_on) == col(record.occurred_on), col(later.record_id) > col(record.record_id)),
            ),
        )
        .exists()
    )
    return [_live_exams_in(start, end), not_(superseded)]


async def classification_counts(session: AsyncSession, scope: Scope, start: date, end: date) -> dict[tuple[str, str], int]:
    """(tier, code) -> cadres whose latest classified exam in the period has that code."""
    record = ClinicalFact
    result = await session.execute(
        select(col(record.tier), col(record.classification), func.count())
        .where(
            scope.where(col(record.managing_unit), col(record.tier), col(record.province)),
            *latest_exam_conditions(start, end),
        )
        .group_by(col(record.tier), col(record.classification))
    )
    return {(str(t), str(c)): int(n) for t, c, n in result}


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


async def classification_section(session: AsyncSession, scope: Scope, start: date, end: date) -> ClassificationSection:
    counts = await classification_counts(session, scope, start, end)
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


async def activity_cells(session: AsyncSession, scope: Scope, start: date, end: date) -> list[ActivityCell]:
    record = ClinicalFact
    result = await session.execute(
        select(col(record.month), col(record.kind), col(record.referral_kind), func.count())
        .where(
            scope.where(col(record.managing_unit), col(record.tier), col(record.province)),
            col(record.withdrawn).is_(False),
            col(record.occurred_on) >= start,
            col(record.occurred_on) <= end,
        )
        .group_by(col(record.month), col(record.kind), col(record.referral_kind))
    )
    return [ActivityCell(m, k, r, int(n)) for m, k, r, n in result]


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


async def chronic_section(session: AsyncSession, scope: Scope, as_of: date, population: int) -> ChronicSection:
    """Cadres under care on `as_of` (in scope there) with a chronic diagnosis recorded up to that day.

    One pass: each (cadre, group) once, with how many groups its cadre has; prevalence sums over those
    counts, and a cadre with n groups appears n times, so comorbidity divides by n.
    """
    diagnosis = DiagnosisFact
    joined = and_(
        col(CadreInterval.cadre_id) == col(diagnosis.cadre_id),
        _interval_scope(scope),
        _holds_on(as_of),
        col(CadreInterval.status).in_(COUNTED_STATUSES),
    )
    pairs = (
        select(col(diagnosis.cadre_id).label("cadre_id"), col(diagnosis.chronic_group).label("chronic_group"))
        .join(CadreInterval, joined)
        .where(col(diagnosis.occurred_on) <= as_of)
        .group_by(col(diagnosis.cadre_id), col(diagnosis.chronic_group))
        .subquery()
    )
    counted = select(pairs.c.chronic_group, func.count().over(partition_by=pairs.c.cadre_id).label("groups")).subquery()
    result = await session.execute(
        select(counted.c.chronic_group, counted.c.groups, func.count()).group_by(counted.c.chronic_group, counted.c.groups)
    )
    group_counts: dict[str, int] = defaultdict(int)
    appearances: dict[int, int] = defaultdict(int)  # groups per cadre -> (cadre, group) pairs of such cadres
    for group, groups, n in result:
        group_counts[str(group)] += int(n)
        appearances[int(groups)] += int(n)
    buckets: dict[str, int] = defaultdict(int)
    for groups, n in appearances.items():
        buckets[comorbidity_bucket(groups)] += n // groups
    return ChronicSection(
        as_of=as_of,
        has_data=bool(group_counts),
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


async def for_analysis(session: AsyncSession) -> None:
    """PostgreSQL: room for the national queries' sorts and hashes in memory (this transaction only)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL work_mem = '32MB'"))


def day_before(day: date) -> date:
    return day - timedelta(days=1)
