"""How a cadre's history moves the headcounts (`reporting.headcounts.steps`), without I/O: the steps summed up
to any day, and the totals less the year, month and day sums after it, both give what a direct look at the
history that day gives, for random histories crossing years and months."""

import random
from collections import Counter
from datetime import date, timedelta

from reporting.headcounts.steps import (
    CADRES,
    DAY,
    MONTH,
    YEAR,
    Held,
    Key,
    Steps,
    difference,
    group_measure,
    groups_measure,
    measures_of,
    month_start,
    rolled_up,
    steps_of,
    year_start,
)

START = date(2018, 1, 1)


def on_day(intervals: list[Held], diagnoses: list[tuple[str, date]], day: date) -> Counter[tuple[Key, str]]:
    """What the history says on `day`, looked at directly."""
    held = [i for i in intervals if i.valid_from <= day and (i.valid_to is None or day < i.valid_to)]
    groups = {g for g, d in diagnoses if d <= day}
    return Counter({(i.key(), m): 1 for i in held for m in measures_of(groups)})


def summed_to(steps: Steps, day: date) -> Counter[tuple[Key, str]]:
    found: Counter[tuple[Key, str]] = Counter()
    for (key, measure, when), n in steps.items():
        if when <= day:
            found[key, measure] += n
    return Counter({k: n for k, n in found.items() if n})


def from_rollup(steps: Steps, day: date) -> Counter[tuple[Key, str]]:
    """The way the queries read it: each total less the sums of the changes after `day`."""
    totals, deltas = rolled_up(steps)
    found: Counter[tuple[Key, str]] = Counter(totals)
    next_year, next_month = date(day.year + 1, 1, 1), (month_start(day) + timedelta(days=32)).replace(day=1)
    for (key, measure, grain, starts), n in deltas.items():
        later = (
            (grain == YEAR and starts > year_start(day))
            or (grain == MONTH and month_start(day) < starts < next_year)
            or (grain == DAY and day < starts < next_month)
        )
        if later:
            found[key, measure] -= n
    return Counter({k: n for k, n in found.items() if n})


def random_history(rng: random.Random) -> tuple[list[Held], list[tuple[str, date]]]:
    cuts = sorted({START + timedelta(days=rng.randrange(2500)) for _ in range(rng.randrange(1, 5))})
    units = ["VN.68.672", "VN.68", "VN.67.001"]
    intervals = [
        Held(rng.choice(units), rng.choice(["district", "provincial_3"]), rng.choice(["active", "retired"]), a, b, None)
        for a, b in zip(cuts, [*cuts[1:], None], strict=True)
    ]
    groups = ["hypertension", "diabetes", "copd", "cancer"]
    diagnoses = [(rng.choice(groups), START + timedelta(days=rng.randrange(-300, 2800))) for _ in range(rng.randrange(0, 6))]
    return intervals, diagnoses


def test_random_histories_give_the_direct_count_on_every_day() -> None:
    rng = random.Random(13)
    for _ in range(60):
        intervals, diagnoses = random_history(rng)
        steps = steps_of(intervals, diagnoses)
        for offset in range(-40, 2900, 17):
            day = START + timedelta(days=offset)
            expected = on_day(intervals, diagnoses, day)
            assert summed_to(steps, day) == expected, (intervals, diagnoses, day)
            assert from_rollup(steps, day) == expected, (intervals, diagnoses, day)


def test_a_diagnosis_counts_from_its_day_and_only_its_first_does() -> None:
    held = [Held("VN.68.672", "district", "active", date(2020, 1, 1), date(2024, 1, 1), "VN.68.672")]
    diagnoses = [("hypertension", date(2021, 5, 3)), ("hypertension", date(2022, 2, 1)), ("diabetes", date(2019, 6, 1))]
    steps = steps_of(held, diagnoses)
    key = held[0].key()
    assert steps[key, group_measure("diabetes"), date(2020, 1, 1)] == 1  # diagnosed before the interval: from its start
    assert steps[key, group_measure("hypertension"), date(2021, 5, 3)] == 1
    assert (key, group_measure("hypertension"), date(2022, 2, 1)) not in steps
    assert steps[key, groups_measure(1), date(2021, 5, 3)] == -1  # one group, then two
    assert steps[key, groups_measure(2), date(2021, 5, 3)] == 1
    assert steps[key, CADRES, date(2024, 1, 1)] == -1


def test_difference_keeps_what_was_taken_away() -> None:
    key: Key = ("VN.68", "VN.68", "provincial_3", "active", "", "")
    before: Steps = Counter({(key, CADRES, date(2020, 1, 1)): 1, (key, CADRES, date(2021, 1, 1)): -1})
    after: Steps = Counter({(key, CADRES, date(2020, 1, 1)): 1})
    assert difference(after, before) == Counter({(key, CADRES, date(2021, 1, 1)): 1})
    assert difference(before, before) == Counter()
