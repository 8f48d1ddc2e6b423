"""The approval chain's rules without I/O: the states a step leads to, who may take it, locks, late records,
timeliness and the differences a re-issue shows."""

from datetime import UTC, date, datetime

import pytest

from contracts.api.approvals import ApprovalAction as Do
from contracts.api.approvals import ApprovalState as S
from reporting.approvals import domain
from reporting.approvals.domain import Actor, StepRefused

COMMUNE, PROVINCE = "VN.68.24781", "VN.68"


def boards(*units: str, subject: str = "user:someone") -> Actor:
    return Actor(subject, lambda unit: unit in units)


def test_the_level_above_a_commune_is_its_province_and_above_a_province_the_central_board() -> None:
    assert domain.level_above(COMMUNE) == PROVINCE and domain.level_above(PROVINCE) == "VN"
    assert domain.reports_up(COMMUNE) and domain.reports_up(PROVINCE)
    assert not domain.reports_up("VN.68.672") and not domain.reports_up("VN")  # a district board; the central board


def test_a_commune_report_goes_through_its_province_to_the_central_board() -> None:
    state = S.DRAFT
    for action, expected in [
        (Do.SUBMIT, S.SUBMITTED),
        (Do.RETURN, S.RETURNED),
        (Do.EDIT, S.RETURNED),
        (Do.SUBMIT, S.SUBMITTED),
        (Do.APPROVE, S.APPROVED),
        (Do.ACCEPT, S.ACCEPTED),
    ]:
        state = domain.next_state(COMMUNE, state, action)
        assert state is expected
    assert domain.reviewer(COMMUNE, S.SUBMITTED) == PROVINCE and domain.reviewer(COMMUNE, S.APPROVED) == "VN"


def test_the_central_boards_approval_of_a_provincial_report_is_its_acceptance() -> None:
    assert domain.next_state(PROVINCE, S.SUBMITTED, Do.APPROVE) is S.ACCEPTED
    with pytest.raises(StepRefused) as refused:
        domain.next_state(PROVINCE, S.ACCEPTED, Do.ACCEPT)
    assert refused.value.status == 409 and refused.value.code == "wrong_state"


@pytest.mark.parametrize("state", [S.SUBMITTED, S.APPROVED, S.ACCEPTED])
def test_words_change_only_while_the_board_holds_the_report(state: S) -> None:
    with pytest.raises(StepRefused) as refused:
        domain.next_state(COMMUNE, state, Do.EDIT)
    assert refused.value.status == 409
    assert refused.value.code == ("locked" if state in domain.LOCKED else "wrong_state")


def test_steps_out_of_order_are_refused() -> None:
    for state, action in [(S.DRAFT, Do.APPROVE), (S.DRAFT, Do.RETURN), (S.SUBMITTED, Do.ACCEPT), (S.APPROVED, Do.SUBMIT)]:
        with pytest.raises(StepRefused):
            domain.next_state(COMMUNE, state, action)
    assert domain.next_state(COMMUNE, S.APPROVED, Do.RETURN) is S.RETURNED  # the central board may still send it back


def test_nobody_approves_a_report_they_submitted_even_holding_every_grant() -> None:
    admin = boards(COMMUNE, PROVINCE, "VN", subject="user:admin")
    with pytest.raises(StepRefused) as refused:
        domain.check_actor(Do.APPROVE, COMMUNE, S.SUBMITTED, admin, submitted_by="user:admin")
    assert (refused.value.code, refused.value.status) == ("own_report", 403)
    domain.check_actor(Do.APPROVE, COMMUNE, S.SUBMITTED, admin, submitted_by="user:xuanhuong")


def test_only_the_reviewer_of_the_state_takes_the_step() -> None:
    province, central = boards(PROVINCE), boards("VN")
    domain.check_actor(Do.APPROVE, COMMUNE, S.SUBMITTED, province, "user:xuanhuong")
    with pytest.raises(StepRefused) as refused:
        domain.check_actor(Do.APPROVE, COMMUNE, S.SUBMITTED, central, "user:xuanhuong")  # the province approves first
    assert refused.value.code == "not_the_reviewer"
    domain.check_actor(Do.ACCEPT, COMMUNE, S.APPROVED, central, "user:xuanhuong")
    with pytest.raises(StepRefused):
        domain.check_actor(Do.ACCEPT, COMMUNE, S.APPROVED, province, "user:xuanhuong")
    with pytest.raises(StepRefused) as refused:
        domain.check_actor(Do.SUBMIT, COMMUNE, S.DRAFT, province, None)  # the province does not submit for the commune
    assert refused.value.code == "not_the_board"


def test_a_record_is_late_when_it_arrives_after_the_lock_for_the_unit_or_below_and_the_period() -> None:
    lock = (PROVINCE, date(2025, 7, 1), date(2025, 12, 31))
    locked_at = datetime(2026, 1, 20, tzinfo=UTC)
    after, before = datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
    assert domain.record_is_late(lock, locked_at, COMMUNE, date(2025, 11, 3), after)
    assert domain.record_is_late(lock, locked_at, PROVINCE, date(2025, 7, 1), after)
    assert not domain.record_is_late(lock, locked_at, COMMUNE, date(2025, 11, 3), before)  # before the lock: counted
    assert not domain.record_is_late(lock, locked_at, COMMUNE, date(2026, 1, 3), after)  # outside the period
    assert not domain.record_is_late(lock, locked_at, "VN.680", date(2025, 11, 3), after)  # a prefix is no parent
    assert not domain.record_is_late(lock, locked_at, None, date(2025, 11, 3), after)


def test_timeliness_counts_the_first_submission_against_the_deadline() -> None:
    due = domain.deadline(date(2025, 12, 31), 15)
    assert due == date(2026, 1, 15)
    assert domain.timeliness(date(2026, 1, 15), due, date(2026, 3, 1)) == "on_time"
    assert domain.timeliness(date(2026, 1, 16), due, date(2026, 3, 1)) == "late"
    assert domain.timeliness(None, due, date(2026, 3, 1)) == "missing"
    assert domain.timeliness(None, due, date(2026, 1, 10)) == "not_yet_due"


def test_a_reissue_shows_each_changed_figure() -> None:
    approved = {
        "generated_at": "2026-01-20T00:00:00Z",
        "activity": {"periodic_exams": 9, "admissions": 2},
        "classification": {"rows": [{"code": "A", "count": 3, "share": 50.0}, {"code": "B1", "count": 3, "share": 50.0}]},
        "has_data": True,
    }
    now = {
        "generated_at": "2026-02-01T00:00:00Z",
        "activity": {"periodic_exams": 10, "admissions": 2},
        "classification": {"rows": [{"code": "A", "count": 4, "share": 57.14}, {"code": "B1", "count": 3, "share": 42.86}]},
        "has_data": True,
    }
    assert domain.differences(approved, now) == [
        ("activity.periodic_exams", 9, 10),
        ("classification.rows[A].count", 3, 4),
        ("classification.rows[A].share", 50.0, 57.14),
        ("classification.rows[B1].share", 50.0, 42.86),
    ]
    assert domain.differences(approved, approved) == []


def test_a_report_whose_checks_fail_or_that_has_no_data_is_not_submitted() -> None:
    assert domain.submission_problems(True, [], True) == []
    assert domain.submission_problems(False, ["Tổng = A + B1"], True) == ["arithmetic check failed: Tổng = A + B1"]
    assert domain.submission_problems(True, [], False) == ["nothing to submit: no data for this period"]
