"""The board report's arithmetic checks: every total it prints equals the sum of its parts, each total
counted on its own where it can be (the cadres, the registrations), so that a wrong query shows."""

from collections import defaultdict

from contracts.api.reporting import ArithmeticCheck, CadreCountSection, ClassificationSection, CoverageSection, MonthlyPoint
from contracts.enums import CadreStatus
from reporting.dashboard.figures import ActivityCell
from reporting.domain import check


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
