"""The suppression rules without a database: primary and complementary suppression on plain cells, on the
sections the dashboard and the board report share, and on the national roll-up's table."""

import uuid
from datetime import date

from contracts.api.reporting import (
    ActivityCounts,
    ArithmeticCheck,
    BoardReport,
    CadreCountRow,
    CadreCountSection,
    ChronicConditionRow,
    ChronicSection,
    ClassificationRow,
    ClassificationSection,
    ComorbidityRow,
    ConvalescenceSection,
    CoverageSection,
    ExamCoverageRow,
    ReportKind,
)
from contracts.enums import CadreStatus, ManagementTier
from reporting.rollup.service import suppressed_table
from reporting.suppression import RawCell, hidden_keys, suppressed_report

DAY = date(2023, 6, 30)


def cells(**values: int) -> dict[str, RawCell]:
    return {key: RawCell(value, value) for key, value in values.items()}


def test_a_small_count_is_hidden_and_zeros_and_large_counts_are_shown() -> None:
    assert hidden_keys(cells(a=0, b=1, c=9, d=10, e=250), [], 10) == {"b", "c"}


def test_a_row_with_one_hidden_cell_and_its_total_shown_loses_its_smallest_other_cell_too() -> None:
    row = cells(total=40, A=25, B=12, C=3, D=0)
    assert hidden_keys(row, [("total", ["A", "B", "C", "D"])], 10) == {"C", "B"}  # else C = 40 - 25 - 12 - 0


def test_a_row_with_two_hidden_cells_needs_nothing_more_and_a_fully_shown_row_keeps_its_total() -> None:
    assert hidden_keys(cells(total=24, A=20, B=2, C=2), [("total", ["A", "B", "C"])], 10) == {"B", "C"}
    assert hidden_keys(cells(total=30, A=20, B=10), [("total", ["A", "B"])], 10) == set()


def test_when_every_other_part_is_zero_the_total_is_hidden() -> None:
    assert hidden_keys(cells(total=3, A=3, B=0), [("total", ["A", "B"])], 10) == {"A", "total"}


def test_a_hidden_total_with_every_part_shown_hides_a_part() -> None:
    # the total hidden by a column elsewhere would come back as the sum of its parts
    row = cells(total=25, A=15, B=10)
    assert hidden_keys({**row, "x": RawCell(25, 5)}, [("total", ["A", "B"]), ("x", ["total"])], 10) >= {"total", "B"}


def test_complementary_suppression_runs_across_rows_and_columns_until_nothing_can_be_recovered() -> None:
    # a 2 x 2 table with row and column totals: one small cell takes a whole rectangle with it
    table = cells(r1=30, r2=40, c1=27, c2=43, a=3, b=27, c=24, d=16, all=70)
    groups = [("r1", ["a", "b"]), ("r2", ["c", "d"]), ("c1", ["a", "c"]), ("c2", ["b", "d"]), ("all", ["r1", "r2"])]
    hidden = hidden_keys(table, groups, 10)
    assert hidden == {"a", "b", "c", "d"}
    for total, parts in groups:
        assert sum(1 for k in (total, *parts) if k in hidden) != 1


def test_an_unprinted_total_does_not_force_a_second_cell() -> None:
    assert hidden_keys(cells(A=3, B=40), [("not_printed", ["A", "B"])], 10) == {"A"}


def test_the_roll_up_suppresses_provinces_against_the_national_total_too() -> None:
    def province(n: int) -> dict[str, list[int]]:  # consistent rows: every cadre active, of the district tier
        return {"cadres_total": [n, n], "cadres_active": [n, n], "cadres_district": [n, n]}

    one_small = {"VN.01": province(50), "VN.02": province(4), "VN.03": province(30)}
    shown = suppressed_table(one_small, 10)
    assert shown["VN.02", "cadres_total"].suppressed
    assert shown["VN.03", "cadres_total"].suppressed  # else 84 - 50 - 30 gives VN.02's 4
    assert shown["VN.01", "cadres_total"].value == 50 and shown["VN", "cadres_total"].value == 84


def report() -> BoardReport:
    plan = uuid.uuid4()
    counted = (("A", 0), ("B1", 1), ("B2", 2))
    classes = [ClassificationRow(code=c, label_vi=c, label_en=c, count=n, share=None) for c, n in counted]
    rows = [
        CadreCountRow(tier=ManagementTier.DISTRICT, status=CadreStatus.ACTIVE, count=1),
        CadreCountRow(tier=ManagementTier.DISTRICT, status=CadreStatus.RETIRED, count=4),
    ]
    return BoardReport(
        kind=ReportKind.SIX_MONTHLY,
        title="t",
        unit="VN.68.672",
        unit_name="Đà Lạt",
        period_start=date(2023, 1, 1),
        period_end=DAY,
        generated_at=DAY,
        has_data=True,
        cadres=CadreCountSection(as_of=DAY, total=5, active=1, retired=4, rows=rows, compared_with=DAY, total_then=4, change=1),
        coverage=CoverageSection(
            period_start=DAY,
            period_end=DAY,
            has_data=True,
            by_plan=[ExamCoverageRow(plan_id=plan, invited=3, examined=2, rate=66.66)],
            by_round=[],
            by_group=[],
            by_unit=[],
        ),
        classification=ClassificationSection(
            period_start=DAY, period_end=DAY, has_data=True, total=3, rows=classes, by_tier={"district": classes}
        ),
        activity=ActivityCounts(
            period_start=DAY,
            period_end=DAY,
            has_data=True,
            periodic_exams=3,
            outpatient_visits=40,
            admissions=0,
            referrals_higher_level=0,
            referrals_in_province=0,
            referrals_abroad=0,
            referrals_total=0,
            home_visits=1,
            consultations=0,
        ),
        chronic=ChronicSection(
            as_of=DAY,
            has_data=True,
            population=5,
            rows=[ChronicConditionRow(group="hypertension", label_vi="h", label_en="h", cadres=2, prevalence=40.0)],
            comorbidity=[ComorbidityRow(conditions="1", cadres=2)],
        ),
        convalescence=ConvalescenceSection(has_data=True, registered=2, eligible=5, note=""),
        checks=[ArithmeticCheck(label="c", total=3, parts={"B1": 1, "B2": 2}, parts_sum=3, consistent=True)],
        consistent=True,
    )


def test_a_report_for_an_aggregate_only_caller_hides_every_small_count_in_every_section() -> None:
    exact = report()
    shown = suppressed_report(exact, 10)
    c = shown.cadres
    assert (c.total, c.active, c.retired, c.total_then, c.change) == (0, 0, 0, 0, 0)
    assert set(c.suppressed) == {"total", "active", "retired", "total_then", "change"}
    assert all(r.suppressed == ["count"] and r.count == 0 for r in c.rows)
    plan = shown.coverage.by_plan[0]
    assert (plan.invited, plan.examined, plan.rate, set(plan.suppressed)) == (0, 0, None, {"invited", "examined"})
    assert [r.count for r in shown.classification.rows] == [0, None, None]
    assert shown.classification.suppressed == ["total"] and all(r.share is None for r in shown.classification.rows)
    a = shown.activity
    assert (a.periodic_exams, a.home_visits, a.outpatient_visits) == (0, 0, 40) and set(a.suppressed) == {
        "periodic_exams",
        "home_visits",
    }
    assert shown.chronic.population == 0 and shown.chronic.rows[0].cadres is None and shown.chronic.rows[0].prevalence is None
    assert shown.chronic.comorbidity[0].cadres is None
    assert (shown.convalescence.registered, shown.convalescence.eligible) == (None, None)
    check = shown.checks[0]
    assert (check.total, check.parts, check.parts_sum, check.consistent) == (0, {}, 0, True)
    assert shown.aggregate_only and shown.min_cell_size == 10
    assert exact.cadres.total == 5 and exact.classification.rows[1].count == 1  # the exact report is left as it was
    assert suppressed_report(shown, 10) == shown  # a stored suppressed report read again stays as it is
