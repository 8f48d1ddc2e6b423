"""The approval chain's rules, free of I/O: who may take which step from which state, what locks a period, when a
submission is late, and what a re-issue changed.

Decisions (issue 13):
- the level above a commune board is its province's board, above a provincial board the central board;
- the central board's approval of a provincial report is its acceptance (ACCEPTED at once): there is no third
  level, and a second click by the same board would add nothing;
- approval by the province locks the period for a commune board's unit, acceptance keeps it locked;
- the central board may return a report it has not accepted yet (APPROVED by a province), so a wrong approval
  below does not have to stand;
- nobody approves, accepts or returns a report they submitted themselves, whatever their grants (an
  administrator holds every board's grants);
- timeliness counts the first submission: a report returned and submitted again after the deadline was still
  sent on time; the words may be edited only while the board holds the report (draft, returned).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from contracts.api.approvals import ApprovalAction, ApprovalState, Timeliness
from contracts.enums import ManagementTier
from servicekit.scope import NATION, board_tiers

LOCKED = frozenset({ApprovalState.APPROVED, ApprovalState.ACCEPTED})
EDITABLE = frozenset({ApprovalState.DRAFT, ApprovalState.RETURNED})


class StepRefused(Exception):
    """A step the chain does not allow; `status` is the HTTP answer it deserves (403 who, 409 state)."""

    def __init__(self, reason: str, code: str, status: int) -> None:
        super().__init__(reason)
        self.reason, self.code, self.status = reason, code, status


def is_commune_board(board_unit: str) -> bool:
    return board_unit.count(".") == 2 and board_tiers(board_unit) == frozenset({ManagementTier.COMMUNE})


def is_provincial_board(board_unit: str) -> bool:
    return board_unit.count(".") == 1


def reports_up(board_unit: str) -> bool:
    """Only provincial boards and commune boards (since 1 July 2025) send their reports up the chain."""
    return is_provincial_board(board_unit) or is_commune_board(board_unit)


def level_above(board_unit: str) -> str:
    """The unit whose board reviews this board's reports."""
    if is_commune_board(board_unit):
        return board_unit.rsplit(".", 1)[0]
    return NATION


def reviewer(board_unit: str, state: ApprovalState) -> str | None:
    """Whose board takes the next step on a report in `state`: the level above while submitted, the central board
    while approved, nobody else (the board itself holds a draft or a returned report)."""
    if state is ApprovalState.SUBMITTED:
        return level_above(board_unit)
    if state is ApprovalState.APPROVED:
        return NATION
    return None


def _refuse_state(action: ApprovalAction, state: ApprovalState) -> StepRefused:
    return StepRefused(f"a report that is {state.value} cannot be {_PAST[action]}", "wrong_state", 409)


_PAST = {
    ApprovalAction.CREATE: "created",
    ApprovalAction.EDIT: "edited",
    ApprovalAction.SUBMIT: "submitted",
    ApprovalAction.RETURN: "returned",
    ApprovalAction.APPROVE: "approved",
    ApprovalAction.ACCEPT: "accepted",
    ApprovalAction.REISSUE: "re-issued",
}


def next_state(board_unit: str, state: ApprovalState, action: ApprovalAction) -> ApprovalState:
    """The state a step leads to, or StepRefused (409) when the report's state does not allow it."""
    if action is ApprovalAction.SUBMIT and state in EDITABLE:
        return ApprovalState.SUBMITTED
    if action is ApprovalAction.RETURN and state in (ApprovalState.SUBMITTED, ApprovalState.APPROVED):
        return ApprovalState.RETURNED
    if action is ApprovalAction.APPROVE and state is ApprovalState.SUBMITTED:
        return ApprovalState.ACCEPTED if level_above(board_unit) == NATION else ApprovalState.APPROVED
    if action is ApprovalAction.ACCEPT and state is ApprovalState.APPROVED:
        return ApprovalState.ACCEPTED
    if action is ApprovalAction.EDIT and state in EDITABLE:
        return state
    if action is ApprovalAction.REISSUE and state in LOCKED:
        return state
    if action is ApprovalAction.EDIT and state in LOCKED:
        raise StepRefused(f"the period is locked: the report was {state.value}; its words can no longer change", "locked", 409)
    raise _refuse_state(action, state)


@dataclass(frozen=True)
class Actor:
    subject: str
    administers: Callable[[str], bool]  # whether the caller may write the board records of a unit


def check_actor(action: ApprovalAction, board_unit: str, state: ApprovalState, actor: Actor, submitted_by: str | None) -> None:
    """StepRefused (403) unless the actor may take the step: the board itself writes and submits, the reviewer
    of the state returns, approves or accepts, and never a report its own subject submitted."""
    if action in (ApprovalAction.CREATE, ApprovalAction.EDIT, ApprovalAction.SUBMIT, ApprovalAction.REISSUE):
        if not actor.administers(board_unit):
            raise StepRefused(f"only the board of {board_unit} writes, submits and re-issues its report", "not_the_board", 403)
        return
    if submitted_by is not None and submitted_by == actor.subject:
        raise StepRefused("a report is not approved, accepted or returned by whoever submitted it", "own_report", 403)
    unit = reviewer(board_unit, state)
    if unit is None:
        raise _refuse_state(action, state)
    if not actor.administers(unit):
        who = "the central board" if unit == NATION else f"the board of {unit}"
        raise StepRefused(f"only {who} takes this step on a {state.value} report of {board_unit}", "not_the_reviewer", 403)


def deadline(period_end: date, days_after: int) -> date:
    return period_end + timedelta(days=days_after)


def timeliness(submitted_on: date | None, due: date, today: date) -> Timeliness:
    if submitted_on is not None:
        return "on_time" if submitted_on <= due else "late"
    return "not_yet_due" if today <= due else "missing"


def record_is_late(
    lock: tuple[str, date, date], locked_at: Any, managing_unit: str | None, occurred_on: date, received_at: Any
) -> bool:
    """Whether a record received at `received_at` falls in a (unit, period) locked at `locked_at` after it."""
    unit, start, end = lock
    if managing_unit is None or not start <= occurred_on <= end or received_at <= locked_at:
        return False
    return managing_unit == unit or managing_unit.startswith(unit + ".")


# --- re-issue: what changed --------------------------------------------------------------------------

NOT_FIGURES = frozenset({"generated_at", "checks", "words", "min_cell_size", "period_start", "period_end", "as_of"})


def figures(document: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """Every number of a report (as JSON) by its path; lists of rows are keyed by what names each row."""
    found: dict[str, float] = {}
    for key, value in document.items():
        if key in NOT_FIGURES:
            continue
        path = f"{prefix}{key}"
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int | float):
            found[path] = value
        elif isinstance(value, Mapping):
            found.update(figures(value, path + "."))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, Mapping):
                    found.update(figures(item, f"{path}[{_row_name(item, index)}]."))
    return found


def _row_name(row: Mapping[str, Any], index: int) -> str:
    names = [
        str(row[k]) for k in ("plan_title", "code", "group", "tier", "status", "unit", "round_number", "month") if row.get(k)
    ]
    return "/".join(names) or str(index)


def differences(approved: Mapping[str, Any], now: Mapping[str, Any]) -> list[tuple[str, float | None, float | None]]:
    """(figure, approved, now) for each figure that differs, in the order of the approved report."""
    before, after = figures(approved), figures(now)
    paths = [*before, *(p for p in after if p not in before)]
    return [(p, before.get(p), after.get(p)) for p in paths if before.get(p) != after.get(p)]


def submission_problems(consistent: bool, failing: list[str], has_data: bool) -> list[str]:
    """Why a computed report may not be submitted: no data, or an arithmetic check that does not hold."""
    if not has_data:
        return ["nothing to submit: no data for this period"]
    if consistent:
        return []
    return [f"arithmetic check failed: {label}" for label in failing] or ["arithmetic checks failed"]
