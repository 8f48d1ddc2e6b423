"""Reporting's rules without a database: intervals, chronic groups, suppression, periods, checks."""

from datetime import date

from reporting.domain import (
    Change,
    Interval,
    RawCell,
    check,
    chronic_group,
    chronic_groups,
    effective_date,
    intervals_of,
    months_between,
    next_month,
    period_problems,
    province_of,
    suppress,
)


def change(day: str, status: str, unit: str = "VN.68", tier: str = "provincial_2", order: str = "a") -> Change:
    return Change(date.fromisoformat(day), (order, order), unit, tier, status)


def test_intervals_follow_effective_dates_whatever_the_arrival_order() -> None:
    registered = change("2020-01-01", "active", order="1")
    retired = change("2023-03-01", "retired", order="2")
    moved = change("2024-01-01", "retired", unit="VN.68.672", order="3")
    expected = [
        Interval("VN.68", "provincial_2", "active", date(2020, 1, 1), date(2023, 3, 1)),
        Interval("VN.68", "provincial_2", "retired", date(2023, 3, 1), date(2024, 1, 1)),
        Interval("VN.68.672", "provincial_2", "retired", date(2024, 1, 1), None),
    ]
    assert intervals_of([registered, retired, moved]) == expected
    assert intervals_of([moved, registered, retired]) == expected


def test_equal_neighbours_merge_and_the_last_change_of_a_day_holds() -> None:
    first = change("2020-01-01", "active", order="1")
    same = change("2021-05-05", "active", order="2")
    corrected = change("2021-05-05", "retired", order="3")
    assert intervals_of([first, same]) == [Interval("VN.68", "provincial_2", "active", date(2020, 1, 1), None)]
    assert intervals_of([first, corrected, same])[-1].status == "retired"


def test_effective_date_rules() -> None:
    recorded, since = date(2026, 1, 2), date(2019, 7, 1)
    assert effective_date(
        event_effective=date(2023, 3, 1), registered=False, status_changed=True, status_since=since, recorded_on=recorded
    ) == date(2023, 3, 1)
    assert (
        effective_date(event_effective=None, registered=True, status_changed=False, status_since=since, recorded_on=recorded)
        == since
    )
    assert (
        effective_date(event_effective=None, registered=False, status_changed=False, status_since=since, recorded_on=recorded)
        == recorded
    )


def test_chronic_groups_from_icd10() -> None:
    assert chronic_group("I10") == "hypertension"
    assert chronic_group("i25.1") == "ischaemic_heart"
    assert chronic_group("E11.9") == "diabetes"
    assert chronic_group("C50") == "cancer"
    assert chronic_group("J45") is None
    assert chronic_group("Z") is None
    assert chronic_groups(["I10", "I11", "E11", "K29"]) == ["diabetes", "hypertension"]


def test_small_cells_are_hidden_and_cannot_be_recovered_by_subtraction() -> None:
    cells = {"total": RawCell(40, 40), "A": RawCell(25, 25), "B": RawCell(12, 12), "C": RawCell(3, 3), "D": RawCell(0, 0)}
    shown = suppress(cells, [("total", ["A", "B", "C", "D"])], 10)
    assert shown["C"].value is None and shown["C"].suppressed
    assert shown["B"].suppressed  # secondary: otherwise C = 40 - 25 - 12 - 0
    assert shown["A"].value == 25 and shown["D"].value == 0 and shown["total"].value == 40
    lone = suppress(
        {"total": RawCell(12, 12), "x": RawCell(12, 12), "y": RawCell(0, 0), "z": RawCell(0, 0)}, [("total", ["x", "y", "z"])], 10
    )
    assert not any(c.suppressed for c in lone.values())
    assert suppress({"few": RawCell(30, 4)}, [], 5)["few"].suppressed  # decided by cadres, not by events


def test_period_problems_and_checks() -> None:
    today = date(2026, 11, 1)
    assert period_problems(date(2023, 6, 30), date(2023, 1, 1), None, today)[0][0] == "period_end"
    assert period_problems(date(2023, 1, 1), date(2023, 6, 30), date(2027, 1, 1), today)[0][0] == "as_of"
    assert period_problems(date(2023, 1, 1), date(2023, 6, 30), None, today) == []
    assert check("t", 776, {"active": 266, "retired": 501}).consistent is False
    assert check("t", 767, {"active": 266, "retired": 501}).parts_sum == 767
    assert months_between(date(2022, 11, 15), date(2023, 2, 1)) == ["2022-11", "2022-12", "2023-01", "2023-02"]
    assert province_of("VN.68.672.24820") == "VN.68" and province_of("VN") == "VN"


def test_next_month_crosses_the_year_and_short_months() -> None:
    assert next_month(date(2025, 1, 31)) == date(2025, 2, 1)
    assert next_month(date(2024, 2, 29)) == date(2024, 3, 1)
    assert next_month(date(2025, 12, 1)) == date(2026, 1, 1)
