"""Scheduling's rules without a database."""

from datetime import date

import pytest

from contracts.api.scheduling import DeferralReason, ExamPlanCreate, InvitationStatus
from scheduling.domain import UnitProgress, check_transition, child_unit, finished_units, first_free_day, plan_errors, rate
from servicekit.errors import Refused

S = InvitationStatus


def plan(*rounds: dict[str, object], year: int = 2027) -> ExamPlanCreate:
    return ExamPlanCreate.model_validate(
        {
            "board_unit": "VN.68",
            "year": year,
            "title": "Kế hoạch 138-KH",
            "plan_date": f"{year}-01-05",
            "rule_set_id": "00000000-0000-0000-0000-000000000001",
            "facilities": [{"code": "68-BVDK", "name": "BVĐK tỉnh", "daily_capacity": 20}],
            "rounds": list(rounds),
        }
    )


def round_(number: int, starts: str, ends: str, *groups: dict[str, object]) -> dict[str, object]:
    return {
        "number": number,
        "starts_on": starts,
        "ends_on": ends,
        "groups": list(groups) or [{"tier": "provincial_2", "facility": "68-BVDK"}],
    }


def test_the_lifecycle() -> None:
    check_transition(S.INVITED, S.CONFIRMED, None)
    check_transition(S.CONFIRMED, S.DEFERRED, DeferralReason.ILL)
    check_transition(S.NO_SHOW, S.ATTENDED, None)  # an exam result is the truth
    for current, target in [(S.ATTENDED, S.NO_SHOW), (S.CANCELLED, S.INVITED), (S.DEFERRED, S.CONFIRMED)]:
        with pytest.raises(Refused, match="transition not allowed"):
            check_transition(current, target, None)
    with pytest.raises(Refused, match="reason"):
        check_transition(S.INVITED, S.DEFERRED, None)


def test_plan_rules_name_the_field() -> None:
    assert plan_errors(plan(round_(1, "2027-03-01", "2027-03-31"), round_(2, "2027-09-01", "2027-09-30"))) == []
    [outside] = plan_errors(plan(round_(1, "2027-12-20", "2028-01-10")))
    assert outside.loc == ["rounds", 0, "ends_on"] and "outside its plan's year" in outside.msg
    nested = {"tier": "provincial_2", "unit": "VN.68.672", "facility": "68-BVDK"}
    [overlap] = plan_errors(plan(round_(1, "2027-03-01", "2027-03-31"), round_(2, "2027-03-15", "2027-04-15", nested)))
    assert overlap.loc == ["rounds", 1, "groups", 0] and "overlapping rounds for the same group" in overlap.msg
    other_group = {"tier": "provincial_1", "facility": "68-BVDK"}
    assert plan_errors(plan(round_(1, "2027-03-01", "2027-03-31"), round_(2, "2027-03-15", "2027-04-15", other_group))) == []
    outside_board = {"tier": "provincial_2", "unit": "VN.56", "facility": "68-BVDK"}
    assert plan_errors(plan(round_(1, "2027-03-01", "2027-03-31", outside_board)))[0].loc[-1] == "unit"


def test_slots_rates_and_finished_units() -> None:
    booked = {date(2027, 3, 1): 2, date(2027, 3, 2): 1}
    assert first_free_day(date(2027, 3, 1), date(2027, 3, 5), 2, booked) == date(2027, 3, 2)
    assert first_free_day(date(2027, 3, 1), date(2027, 3, 1), 2, booked) is None
    assert first_free_day(date(2027, 3, 1), date(2027, 3, 5), 2, booked, earliest=date(2027, 3, 4)) == date(2027, 3, 4)
    assert rate(142, 193) == 73.57 and rate(143, 235) == 60.85 and rate(0, 0) == 0.0
    assert child_unit("VN.68.672.24", "VN.68") == "VN.68.672" and child_unit("VN.68", "VN.68") is None
    done, not_done = finished_units(
        {"VN.68.672": UnitProgress(0, 5), "VN.68.673": UnitProgress(1, 4), "VN.68.674": UnitProgress(0, 0)}
    )
    assert (done, not_done) == (["VN.68.672"], ["VN.68.673"])
