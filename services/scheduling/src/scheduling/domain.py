"""Scheduling rules with no I/O: plan validation, the invitation lifecycle, slots, coverage arithmetic, and the
rules of the other recurring work (home visits, convalescence trips, clinic days), and of the follow-ups clinical
records ask for."""

from calendar import monthrange
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from contracts.api.common import FieldError
from contracts.api.scheduling import (
    CadenceRule,
    DeferralReason,
    ExamPlanCreate,
    FollowUpStatus,
    InvitationStatus,
    RoundGroupIn,
)
from contracts.enums import CadreStatus, ManagementTier
from contracts.events.clinical import FollowUpSummary, RecordSummary
from contracts.scope import unit_covers
from servicekit.errors import Refused, field_error

S = InvitationStatus

# The lifecycle: invited -> confirmed -> attended | deferred(reason) | no_show | cancelled.
# An exam result that arrives is the truth: it turns a deferred or no-show invitation into attended too.
TRANSITIONS: Mapping[InvitationStatus, frozenset[InvitationStatus]] = {
    S.INVITED: frozenset({S.CONFIRMED, S.ATTENDED, S.DEFERRED, S.NO_SHOW, S.CANCELLED}),
    S.CONFIRMED: frozenset({S.ATTENDED, S.DEFERRED, S.NO_SHOW, S.CANCELLED}),
    S.DEFERRED: frozenset({S.ATTENDED, S.CANCELLED}),
    S.NO_SHOW: frozenset({S.ATTENDED, S.CANCELLED}),
    S.ATTENDED: frozenset(),
    S.CANCELLED: frozenset(),
}
OPEN_STATUSES = frozenset({S.INVITED, S.CONFIRMED})
REINVITABLE = frozenset({S.DEFERRED, S.NO_SHOW})
EXAMINABLE_STATUSES = frozenset({CadreStatus.ACTIVE, CadreStatus.RETIRED})
HOME = "home"  # the facility code of an exam at home in events


def check_transition(current: InvitationStatus, target: InvitationStatus, reason: DeferralReason | None) -> None:
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current])) or "none (final state)"
        raise Refused(
            f"transition not allowed: {current.value} -> {target.value}",
            errors=[
                field_error("status", f"transition not allowed from {current.value!r} to {target.value!r}; allowed: {allowed}")
            ],
            code="transition_not_allowed",
        )
    if target == S.DEFERRED and reason is None:
        raise Refused(
            "a deferral needs a reason", errors=[field_error("reason", "required when deferring: ill, away, travelling, other")]
        )


def rule_errors(rules: Sequence[CadenceRule]) -> list[FieldError]:
    errors: list[FieldError] = []
    seen: set[tuple[str, str]] = set()
    for index, rule in enumerate(rules):
        if rule.status not in EXAMINABLE_STATUSES:
            errors.append(field_error(["rules", index, "status"], "a cadence rule is for active or retired cadres"))
        key = (rule.tier.value, rule.status.value)
        if key in seen:
            errors.append(field_error(["rules", index], f"a second rule for {key[0]}/{key[1]}"))
        seen.add(key)
    return errors


def groups_overlap(a: RoundGroupIn, b: RoundGroupIn, board_unit: str) -> bool:
    """Could one cadre belong to both groups? Same tier, compatible status, nested units."""
    if a.tier != b.tier:
        return False
    if a.status is not None and b.status is not None and a.status != b.status:
        return False
    unit_a, unit_b = a.unit or board_unit, b.unit or board_unit
    return unit_covers(unit_a, unit_b) or unit_covers(unit_b, unit_a)


def plan_errors(plan: ExamPlanCreate) -> list[FieldError]:
    """Every reason to refuse a plan, each naming its field."""
    errors: list[FieldError] = []
    codes: set[str] = set()
    for index, facility in enumerate(plan.facilities):
        if facility.code in codes or facility.code == HOME:
            errors.append(field_error(["facilities", index, "code"], f"duplicate or reserved facility code {facility.code!r}"))
        codes.add(facility.code)
    numbers: set[int] = set()
    for r_index, round_ in enumerate(plan.rounds):
        where: list[str | int] = ["rounds", r_index]
        if round_.number in numbers:
            errors.append(field_error([*where, "number"], f"round number {round_.number} appears twice"))
        numbers.add(round_.number)
        if round_.ends_on < round_.starts_on:
            errors.append(field_error([*where, "ends_on"], "the round ends before it starts"))
        for name, day in (("starts_on", round_.starts_on), ("ends_on", round_.ends_on)):
            if day.year != plan.year:
                errors.append(field_error([*where, name], f"round outside its plan's year {plan.year}"))
        for g_index, group in enumerate(round_.groups):
            gwhere: list[str | int] = [*where, "groups", g_index]
            if group.facility not in codes:
                errors.append(field_error([*gwhere, "facility"], f"no facility {group.facility!r} in this plan"))
            if group.status is not None and group.status not in EXAMINABLE_STATUSES:
                errors.append(field_error([*gwhere, "status"], "a group is of active or retired cadres"))
            if group.unit is not None and not unit_covers(plan.board_unit, group.unit):
                errors.append(field_error([*gwhere, "unit"], f"unit {group.unit!r} is not under the board {plan.board_unit!r}"))
            for o_index, other in enumerate(round_.groups[:g_index]):
                if groups_overlap(group, other, plan.board_unit) and (group.unit or "") == (other.unit or ""):
                    errors.append(field_error(gwhere, f"the same group as groups[{o_index}] of this round"))
    for r_index, this_round in enumerate(plan.rounds):
        for earlier in plan.rounds[:r_index]:
            if this_round.starts_on > earlier.ends_on or earlier.starts_on > this_round.ends_on:
                continue
            for g_index, candidate in enumerate(this_round.groups):
                if any(groups_overlap(candidate, g, plan.board_unit) for g in earlier.groups):
                    errors.append(
                        field_error(
                            ["rounds", r_index, "groups", g_index],
                            f"overlapping rounds for the same group: round {this_round.number} overlaps round {earlier.number}",
                        )
                    )
    return errors


def first_free_day(
    starts_on: date, ends_on: date, daily_capacity: int, booked: Mapping[date, int], earliest: date | None = None
) -> date | None:
    """The first day of a round, from `earliest` on, with a free slot; None if the round is full."""
    day = max(starts_on, earliest or starts_on)
    while day <= ends_on:
        if booked.get(day, 0) < daily_capacity:
            return day
        day += timedelta(days=1)
    return None


def round_slots(starts_on: date, ends_on: date, daily_capacity: int) -> int:
    return ((ends_on - starts_on).days + 1) * daily_capacity


def rate(attended: int, invited: int) -> float:
    """142 of 193 -> 73.57: percent, two decimals cut as the boards' reports cut them (73.5751... -> 73.57)."""
    return (10000 * attended // invited) / 100 if invited else 0.0


def child_unit(path: str, parent: str) -> str | None:
    """The unit directly below `parent` on the way to `path` (VN.68.672.24 under VN.68 -> VN.68.672)."""
    if path == parent or not path.startswith(parent + "."):
        return None
    rest = path[len(parent) + 1 :].split(".")
    return f"{parent}.{rest[0]}"


@dataclass(frozen=True)
class UnitProgress:
    open: int
    invited: int


def finished_units(progress: Mapping[str, UnitProgress]) -> tuple[list[str], list[str]]:
    """A unit has finished its round when it had invitations and none is still open."""
    finished = sorted(u for u, p in progress.items() if p.invited > 0 and p.open == 0)
    unfinished = sorted(u for u, p in progress.items() if p.invited > 0 and p.open > 0)
    return finished, unfinished


# ---- other recurring work: home visits, convalescence trips, clinic days ----

HOME_VISIT_TIERS = frozenset({ManagementTier.CENTRAL, ManagementTier.PROVINCIAL_1})


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier), on the month's last day when it has no such day (31/1 + 1 -> 28/2)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def home_visit_refusal(tier: ManagementTier, status: CadreStatus) -> str | None:
    if tier not in HOME_VISIT_TIERS:
        return f"home-visit schedules are for central-tier and group-1 cadres, not {tier.value}"
    if status not in EXAMINABLE_STATUSES:
        return f"the cadre is {status.value}"
    return None


def next_visit_due(last_visit_on: date | None, starts_on: date, every_months: int) -> date:
    """The next visit falls due `every_months` after the last one, or on the schedule's first date."""
    return starts_on if last_visit_on is None else add_months(last_visit_on, every_months)


def days_overdue(next_due_on: date, as_of: date) -> int:
    return max(0, (as_of - next_due_on).days)


@dataclass(frozen=True)
class ConvalescenceEligibility:
    tiers: frozenset[ManagementTier]
    statuses: frozenset[CadreStatus]
    interval_years: int


def convalescence_window(starts_on: date, interval_years: int) -> tuple[date, date]:
    """Trips starting strictly between these dates fall within the period of a trip starting on `starts_on`."""
    return add_months(starts_on, -12 * interval_years), add_months(starts_on, 12 * interval_years)


def convalescence_refusal(
    rule: ConvalescenceEligibility,
    tier: ManagementTier,
    status: CadreStatus,
    trip_starts_on: date,
    other_trip_starts: Sequence[date],
    registered: int,
    quota: int,
) -> tuple[str, str] | None:
    """Why a cadre may not register for a trip, as (code, message), in the order a board would say it; None if they may."""
    if tier not in rule.tiers or status not in rule.statuses:
        wanted = ", ".join(sorted(s.value for s in rule.statuses)) + " " + "/".join(sorted(t.value for t in rule.tiers))
        return "not_eligible", f"not eligible: the rule is for {wanted} cadres; this cadre is {status.value} {tier.value}"
    lower, upper = convalescence_window(trip_starts_on, rule.interval_years)
    for other in sorted(other_trip_starts):
        if lower < other < upper:
            return (
                "already_within_period",
                f"already went within the period: a trip on {other.isoformat()}, "
                f"less than {rule.interval_years} years from this one",
            )
    if registered >= quota:
        return "quota_full", f"quota full: {registered} of {quota} places taken"
    return None


def registered_summary(registered: int, eligible: int) -> str:
    return f"{registered} of {eligible} registered"


def series_dates(year: int, from_month: int, months: int, days_of_month: Sequence[int]) -> list[date]:
    """Clinic days of a series: each day of each month (a day past a month's end is its last day), sorted, no repeats."""
    first = date(year, from_month, 1)
    found: set[date] = set()
    for offset in range(months):
        month_start = add_months(first, offset)
        last = monthrange(month_start.year, month_start.month)[1]
        found.update(month_start.replace(day=min(d, last)) for d in days_of_month)
    return sorted(found)


# ---- follow-ups a clinical record asks for (a re-exam appointment: QĐ 130's XML14) ----

F = FollowUpStatus
FROM_RECORD = "clinical:record"  # who closed a follow-up its record no longer asks for (a later version may again)
SYSTEM = "system:scheduling"  # who closed one for the cadre's sake (death, removal): not reopened by the record


def follow_up_status(state: FollowUpStatus, due_on: date | None, today: date) -> FollowUpStatus:
    """Overdue is not stored: an open follow-up whose due date is before today (Vietnam's) is overdue."""
    if state is F.OPEN and due_on is not None and due_on < today:
        return F.OVERDUE
    return state


def follow_up_days_overdue(state: FollowUpStatus, due_on: date | None, today: date) -> int:
    return days_overdue(due_on, today) if state is F.OPEN and due_on is not None else 0


def asked_follow_ups(record: RecordSummary) -> list[FollowUpSummary]:
    """The follow-ups a record version asks for. A producer from before the details says only
    `needs_follow_up`: one follow-up without date or note still puts it before a board."""
    if record.status == "withdrawn":
        return []
    if not record.follow_ups and record.needs_follow_up:
        return [FollowUpSummary(index=0)]
    return list(record.follow_ups)


class FollowUpStep(StrEnum):
    CREATE = "create"  # asked for, not known yet
    UPDATE = "update"  # still asked for: the version's date and note; a board's done or cancel stands
    REOPEN = "reopen"  # asked for again after an earlier version or a withdrawal had dropped it
    CANCEL = "cancel"  # open and no longer asked for (a correction dropped it, or the record was withdrawn)


@dataclass(frozen=True)
class KeptFollowUp:
    """What the rules need of a follow-up scheduling already keeps."""

    state: FollowUpStatus
    closed_by: str | None
    record_version: int


def follow_up_steps(kept: Mapping[int, KeptFollowUp], asked: Collection[int], version: int) -> dict[int, FollowUpStep]:
    """What one version of a record (or its withdrawal: nothing asked) does to its follow-ups, by position.
    A version older than one already applied changes nothing (events of a record arrive in order, but a
    replay may bring an old one again); the same version again gives the same result (redelivery)."""
    if any(k.record_version > version for k in kept.values()):
        return {}
    steps: dict[int, FollowUpStep] = {}
    for position in asked:
        known = kept.get(position)
        if known is None:
            steps[position] = FollowUpStep.CREATE
        elif known.state is F.CANCELLED and known.closed_by == FROM_RECORD:
            steps[position] = FollowUpStep.REOPEN
        else:
            steps[position] = FollowUpStep.UPDATE
    for position, known in kept.items():
        if position not in steps and known.state is F.OPEN:
            steps[position] = FollowUpStep.CANCEL
    return steps


def follow_up_close_refusal(state: FollowUpStatus, done_on: date | None, asked_on: date, today: date) -> FieldError | None:
    """Why a board may not mark a follow-up done (`done_on` given) or cancel it (`done_on` None), if it may not."""
    if state is not F.OPEN:
        return field_error("id", f"the follow-up is already {state.value}", "not_open")
    if done_on is not None and done_on > today:
        return field_error("done_on", f"{done_on.isoformat()} is after today ({today.isoformat()} in Vietnam)", "in_future")
    if done_on is not None and done_on < asked_on:
        return field_error("done_on", f"before the record that asks for it ({asked_on.isoformat()})", "before_record")
    return None
