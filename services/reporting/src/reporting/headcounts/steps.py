"""How one cadre's history moves the headcounts: no I/O.

A headcount on a day is the number of cadres whose state holds that day. Each cadre's history is cut into
segments of one state: its interval (unit as then and today, tier, status) and the chronic condition groups
diagnosed by then. A segment counts +1 in each of its measures from its first day and -1 from the day after
its last; summing those steps up to a day gives the headcount on it.

Measures: `CADRES` (the cadre itself), `group:<g>` (it has group g), `groups:<n>` (it has n groups: 1, 2, 3+).
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from reporting.domain import comorbidity_bucket, province_of

CADRES = ""
GROUP = "group:"
GROUPS = "groups:"

# (province, managing_unit, tier, status, today_unit, today_province): a headcount's key, as the other read
# models attribute rows (the province repeats the unit's first segments so that province queries use an index)
Key = tuple[str, str, str, str, str, str]
Step = tuple[Key, str, date]  # (key, measure, day the change takes effect)
Steps = Counter[Step]


@dataclass(frozen=True)
class Held:
    """One stored interval of a cadre, with the unit it maps onto today."""

    managing_unit: str
    tier: str
    status: str
    valid_from: date
    valid_to: date | None
    today_unit: str | None

    def key(self) -> Key:
        today = self.today_unit or ""
        return (province_of(self.managing_unit), self.managing_unit, self.tier, self.status, today, province_of(today))


def group_measure(group: str) -> str:
    return f"{GROUP}{group}"


def groups_measure(count: int) -> str:
    return f"{GROUPS}{comorbidity_bucket(count)}"


def measures_of(groups: Iterable[str]) -> list[str]:
    """What a cadre with these chronic groups counts in."""
    found = sorted(set(groups))
    return [CADRES, *(group_measure(g) for g in found), *([groups_measure(len(found))] if found else [])]


def first_diagnosed(diagnoses: Iterable[tuple[str, date]]) -> dict[str, date]:
    """Each chronic group's first diagnosis day, from (group, day) pairs of the live records."""
    first: dict[str, date] = {}
    for group, day in diagnoses:
        if group not in first or day < first[group]:
            first[group] = day
    return first


def steps_of(intervals: Sequence[Held], diagnoses: Iterable[tuple[str, date]]) -> Steps:
    """The steps one cadre's history makes: +1 per measure where a segment starts, -1 where it ends."""
    first = first_diagnosed(diagnoses)
    steps: Steps = Counter()
    for interval in intervals:
        inside = sorted(
            {d for d in first.values() if interval.valid_from < d and (interval.valid_to is None or d < interval.valid_to)}
        )
        starts = [interval.valid_from, *inside]
        ends: list[date | None] = [*inside, interval.valid_to]
        key = interval.key()
        for start, end in zip(starts, ends, strict=True):
            for measure in measures_of(g for g, day in first.items() if day <= start):
                steps[key, measure, start] += 1
                if end is not None:
                    steps[key, measure, end] -= 1
    return steps


def difference(after: Steps, before: Steps) -> Steps:
    """after - before, keeping negative counts and dropping zeros."""
    changed: Steps = Counter(after)
    for step, n in before.items():
        changed[step] -= n
    return Counter({step: n for step, n in changed.items() if n})


def year_start(day: date) -> date:
    return date(day.year, 1, 1)


def month_start(day: date) -> date:
    return date(day.year, day.month, 1)


YEAR, MONTH, DAY = "year", "month", "day"


def rolled_up(steps: Steps) -> tuple[Counter[tuple[Key, str]], Counter[tuple[Key, str, str, date]]]:
    """(totals, deltas): each key and measure's count after every step (the open segments), and the steps summed
    by year, by month and by day: a headcount on a day is the total less the steps after it, which are a few
    years' sums, the rest of its year's months and the rest of its month's days."""
    totals: Counter[tuple[Key, str]] = Counter()
    deltas: Counter[tuple[Key, str, str, date]] = Counter()
    for (key, measure, day), n in steps.items():
        totals[key, measure] += n
        deltas[key, measure, YEAR, year_start(day)] += n
        deltas[key, measure, MONTH, month_start(day)] += n
        deltas[key, measure, DAY, day] += n
    return totals, deltas
