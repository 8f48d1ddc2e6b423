"""Six-monthly and yearly board reports (seed 003's structure), computed from records, checking their own sums."""

from collections import defaultdict
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.api.reporting import (
    ArithmeticCheck,
    BoardReport,
    CadreCountSection,
    ClassificationSection,
    CoverageSection,
    MonthlyPoint,
    ReportKind,
)
from contracts.enums import CadreStatus
from contracts.scope import Principal
from reporting import queries
from reporting.convalescence import convalescence_figures
from reporting.domain import check, report_title
from reporting.queries import ActivityCell, Scope
from reporting.service import NO_DATA, check_period, resolve_unit


def cadre_checks(section: CadreCountSection, independent_total: int) -> list[ArithmeticCheck]:
    by_tier: dict[str, int] = defaultdict(int)
    for row in section.rows:
        by_tier[row.tier.value] += row.count
    checks = [
        check(f"Tổng số đối tượng ({section.as_of}) = tổng theo diện quản lý", independent_total, by_tier),
        check(
            f"Tổng số đối tượng ({section.as_of}) = đương chức + nguyên chức",
            independent_total,
            {CadreStatus.ACTIVE.value: section.active, CadreStatus.RETIRED.value: section.retired},
        ),
    ]
    for tier, total in by_tier.items():
        parts = {r.status.value: r.count for r in section.rows if r.tier.value == tier}
        checks.append(check(f"Diện {tier} = đương chức + nguyên chức", total, parts))
    return checks


def coverage_checks(section: CoverageSection) -> list[ArithmeticCheck]:
    checks: list[ArithmeticCheck] = []
    for plan in section.by_plan:
        name = plan.plan_title or str(plan.plan_id)
        for label, rows in (("nhóm đối tượng", section.by_group), ("đơn vị", section.by_unit), ("đợt", section.by_round)):
            mine = [r for r in rows if r.plan_id == plan.plan_id]
            checks.append(check(f"{name}: số được mời = tổng theo {label}", plan.invited, {_row_key(r): r.invited for r in mine}))
            checks.append(
                check(f"{name}: số đã khám = tổng theo {label}", plan.examined, {_row_key(r): r.examined for r in mine})
            )
    return checks


def _row_key(row: object) -> str:
    fields = ("round_number", "tier", "status", "unit")
    return "/".join(str(value) for f in fields if (value := getattr(row, f, None)) is not None) or "-"


def classification_checks(section: ClassificationSection) -> list[ArithmeticCheck]:
    checks = [
        check("Phân loại sức khỏe: tổng = A + B1 + B2 + C + D", section.total, {r.code: r.count or 0 for r in section.rows}),
        check(
            "Phân loại sức khỏe: tổng = tổng theo diện quản lý",
            section.total,
            {tier: sum(r.count or 0 for r in rows) for tier, rows in section.by_tier.items()},
        ),
    ]
    return checks


def activity_checks(cells: list[ActivityCell], monthly: list[MonthlyPoint], activity: dict[str, int]) -> list[ArithmeticCheck]:
    referrals = [c for c in cells if c.kind == "referral"]
    by_kind: dict[str, int] = defaultdict(int)
    for c in referrals:
        by_kind[c.referral_kind or "unspecified"] += c.records
    checks = [
        check("Chuyển viện: tổng = tuyến trên + trong tỉnh + nước ngoài (+ không ghi rõ)", activity["referrals_total"], by_kind)
    ]
    for field in ("outpatient_visits", "admissions", "home_visits", "periodic_exams", "consultations"):
        checks.append(
            check(f"{field}: tổng kỳ = tổng theo tháng", activity[field], {p.month: int(getattr(p, field)) for p in monthly})
        )
    return checks


async def board_report(
    session: AsyncSession, principal: Principal, unit: str, kind: ReportKind, start: date, end: date
) -> BoardReport:
    check_period(start, end)
    found = await resolve_unit(session, principal, unit)
    scope = Scope(principal, unit)
    await queries.for_analysis(session)
    compared_with = queries.day_before(start)
    cadres = await queries.cadre_section(session, scope, end, compared_with)
    independent_total = await queries.cadres_counted(session, scope, end)
    coverage = await queries.coverage_section(session, scope, start, end)
    classification = await queries.classification_section(session, scope, start, end)
    cells = await queries.activity_cells(session, scope, start, end)
    activity = queries.activity_counts(cells, start, end)
    monthly = queries.monthly_points(cells, start, end)
    chronic = await queries.chronic_section(session, scope, end, cadres.total)
    convalescence = await convalescence_figures(session, scope, start, end)
    convalescence_section = convalescence.section()
    checks = [
        *cadre_checks(cadres, independent_total),
        *coverage_checks(coverage),
        *classification_checks(classification),
        *activity_checks(cells, monthly, activity.model_dump()),
        *convalescence.checks(),
    ]
    has_data = (
        cadres.total > 0 or cadres.total_then > 0 or coverage.has_data or activity.has_data or convalescence_section.has_data
    )
    return BoardReport(
        kind=kind,
        title=report_title(kind, start, end),
        unit=unit,
        unit_name=found.name,
        period_start=start,
        period_end=end,
        generated_at=datetime.now(UTC),
        has_data=has_data,
        message=None if has_data else NO_DATA,
        cadres=cadres,
        coverage=coverage,
        classification=classification,
        activity=activity,
        chronic=chronic,
        convalescence=convalescence_section,
        checks=checks,
        consistent=all(c.consistent for c in checks),
    )


def generated_today() -> date:
    return datetime.now(UTC).date()
