"""The follow-up rules, without I/O: overdue from Vietnam's date, what a record version does to the follow-ups
it asked for before, which events are stale, and when a board may close one."""

import uuid
from datetime import date

from contracts.api.scheduling import FollowUpStatus
from contracts.enums import EncounterKind
from contracts.events.clinical import FollowUpSummary, RecordSummary
from scheduling.domain import (
    FROM_RECORD,
    SYSTEM,
    FollowUpStep,
    KeptFollowUp,
    asked_follow_ups,
    follow_up_close_refusal,
    follow_up_days_overdue,
    follow_up_status,
    follow_up_steps,
)

F = FollowUpStatus
TODAY = date(2026, 11, 28)


def record(**changes: object) -> RecordSummary:
    values: dict[str, object] = {
        "record_id": uuid.uuid4(),
        "version": 1,
        "kind": EncounterKind.OUTPATIENT_VISIT,
        "cadre_id": uuid.uuid4(),
        "facility": "68-BVDK",
        "external_id": "LK-1",
        "occurred_on": date(2026, 11, 1),
    }
    return RecordSummary.model_validate(values | changes)


def test_open_past_its_due_date_is_overdue_and_closed_ones_never_are() -> None:
    assert follow_up_status(F.OPEN, date(2026, 11, 27), TODAY) is F.OVERDUE
    assert follow_up_days_overdue(F.OPEN, date(2026, 11, 27), TODAY) == 1
    assert follow_up_status(F.OPEN, TODAY, TODAY) is F.OPEN  # due today: not yet overdue
    assert follow_up_days_overdue(F.OPEN, TODAY, TODAY) == 0
    assert follow_up_status(F.OPEN, None, TODAY) is F.OPEN  # no date given: never overdue
    assert follow_up_status(F.DONE, date(2026, 1, 1), TODAY) is F.DONE
    assert follow_up_days_overdue(F.CANCELLED, date(2026, 1, 1), TODAY) == 0


def test_asked_follow_ups_of_a_version() -> None:
    items = [FollowUpSummary(index=0, due_by=date(2026, 12, 1), note="Tái khám")]
    assert asked_follow_ups(record(needs_follow_up=True, follow_ups=items)) == items
    assert asked_follow_ups(record()) == []
    # a producer from before the details: one follow-up without date or note
    assert asked_follow_ups(record(needs_follow_up=True)) == [FollowUpSummary(index=0)]
    assert asked_follow_ups(record(needs_follow_up=True, follow_ups=items, status="withdrawn")) == []


def kept(state: FollowUpStatus, version: int = 1, closed_by: str | None = None) -> KeptFollowUp:
    return KeptFollowUp(state=state, closed_by=closed_by, record_version=version)


def test_a_corrected_version_replaces_the_follow_ups() -> None:
    before = {0: kept(F.OPEN), 1: kept(F.OPEN), 2: kept(F.DONE, closed_by="user:lamdong")}
    steps = follow_up_steps(before, [0, 3], version=2)
    # still asked: updated; new: created; dropped and open: cancelled; dropped and done by a board: left alone
    assert steps == {0: FollowUpStep.UPDATE, 3: FollowUpStep.CREATE, 1: FollowUpStep.CANCEL}
    # a board's done stands even when the record still asks for it
    assert follow_up_steps({0: kept(F.DONE, closed_by="user:lamdong")}, [0], 2) == {0: FollowUpStep.UPDATE}


def test_reopened_only_when_the_record_had_dropped_it() -> None:
    dropped = {0: kept(F.CANCELLED, closed_by=FROM_RECORD), 1: kept(F.CANCELLED, closed_by="user:lamdong")}
    assert follow_up_steps(dropped, [0, 1], 3) == {0: FollowUpStep.REOPEN, 1: FollowUpStep.UPDATE}
    # a deceased cadre's follow-ups stay cancelled whatever the record says
    assert follow_up_steps({0: kept(F.CANCELLED, closed_by=SYSTEM)}, [0], 3) == {0: FollowUpStep.UPDATE}


def test_withdrawal_cancels_open_ones_and_stale_versions_change_nothing() -> None:
    assert follow_up_steps({0: kept(F.OPEN), 1: kept(F.DONE)}, [], 2) == {0: FollowUpStep.CANCEL}
    assert follow_up_steps({0: kept(F.OPEN, version=3)}, [0, 1], 2) == {}  # an older version replayed
    assert follow_up_steps({0: kept(F.OPEN, version=2)}, [0], 2) == {0: FollowUpStep.UPDATE}  # redelivered
    assert follow_up_steps({}, [], 1) == {}


def test_when_a_board_may_close_a_follow_up() -> None:
    asked_on = date(2026, 11, 1)
    assert follow_up_close_refusal(F.OPEN, TODAY, asked_on, TODAY) is None
    assert follow_up_close_refusal(F.OPEN, None, asked_on, TODAY) is None  # a cancellation
    done = follow_up_close_refusal(F.DONE, None, asked_on, TODAY)
    assert done is not None and (done.loc, done.type) == (["id"], "not_open")
    future = follow_up_close_refusal(F.OPEN, date(2026, 11, 29), asked_on, TODAY)
    assert future is not None and (future.loc, future.type) == (["done_on"], "in_future")
    early = follow_up_close_refusal(F.OPEN, date(2026, 10, 31), asked_on, TODAY)
    assert early is not None and (early.loc, early.type) == (["done_on"], "before_record")
