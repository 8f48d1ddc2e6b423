"""The rules of home visits, convalescence trips and clinic days, without a database."""

from datetime import date

from contracts.enums import CadreStatus, ManagementTier
from scheduling.domain import (
    ConvalescenceEligibility,
    add_months,
    convalescence_refusal,
    days_overdue,
    home_visit_refusal,
    next_visit_due,
    registered_summary,
    series_dates,
)

T, S = ManagementTier, CadreStatus
RETIRED_LEADERS = ConvalescenceEligibility(
    tiers=frozenset({T.CENTRAL, T.PROVINCIAL_1}), statuses=frozenset({S.RETIRED}), interval_years=2
)


def test_months_add_up_to_the_last_day_of_short_months() -> None:
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2027, 11, 15), 3) == date(2028, 2, 15)
    assert add_months(date(2027, 3, 10), -24) == date(2025, 3, 10)


def test_home_visits_are_for_central_tier_and_group_1_and_fall_due_every_n_months() -> None:
    assert home_visit_refusal(T.CENTRAL, S.RETIRED) is None
    assert home_visit_refusal(T.PROVINCIAL_1, S.ACTIVE) is None
    assert "not provincial_2" in (home_visit_refusal(T.PROVINCIAL_2, S.RETIRED) or "")
    assert "deceased" in (home_visit_refusal(T.CENTRAL, S.DECEASED) or "")
    assert next_visit_due(None, date(2027, 1, 10), 3) == date(2027, 1, 10)
    assert next_visit_due(date(2027, 1, 20), date(2027, 1, 10), 3) == date(2027, 4, 20)
    assert days_overdue(date(2027, 4, 20), date(2027, 4, 30)) == 10
    assert days_overdue(date(2027, 4, 20), date(2027, 4, 1)) == 0


def test_convalescence_refusals_name_the_reason_in_order() -> None:
    start = date(2027, 6, 1)

    def refusal(tier: T, status: S, others: list[date], registered: int = 0, quota: int = 14) -> str | None:
        found = convalescence_refusal(RETIRED_LEADERS, tier, status, start, others, registered, quota)
        return found[0] if found else None

    assert refusal(T.CENTRAL, S.RETIRED, []) is None
    assert refusal(T.PROVINCIAL_1, S.ACTIVE, []) == "not_eligible"  # a leader still in office
    assert refusal(T.PROVINCIAL_2, S.RETIRED, []) == "not_eligible"
    assert refusal(T.CENTRAL, S.RETIRED, [date(2025, 6, 2)]) == "already_within_period"  # 2 years less a day
    assert refusal(T.CENTRAL, S.RETIRED, [date(2028, 5, 1)]) == "already_within_period"  # a later trip counts too
    assert refusal(T.CENTRAL, S.RETIRED, [date(2025, 6, 1)]) is None  # exactly two years: allowed again
    assert refusal(T.CENTRAL, S.RETIRED, [], registered=14) == "quota_full"
    assert refusal(T.PROVINCIAL_2, S.RETIRED, [], registered=14) == "not_eligible"  # the first reason wins
    message = convalescence_refusal(RETIRED_LEADERS, T.CENTRAL, S.RETIRED, start, [], 6, 6)
    assert message is not None and message[1] == "quota full: 6 of 6 places taken"
    assert registered_summary(6, 14) == "6 of 14 registered"


def test_clinic_series_gives_two_days_a_month_across_the_year_end() -> None:
    days = series_dates(2027, 11, 3, [10, 31])
    assert days == [
        date(2027, 11, 10),
        date(2027, 11, 30),
        date(2027, 12, 10),
        date(2027, 12, 31),
        date(2028, 1, 10),
        date(2028, 1, 31),
    ]
    assert series_dates(2027, 2, 1, [30, 28]) == [date(2027, 2, 28)]  # no repeats after clamping
