"""The attribution rules without I/O: a row's interval on its date, and a unit followed onto today's."""

from datetime import date

from reporting.domain import Interval, Succession, interval_on, today_of

D = date


def successors(*triples: tuple[str, str, date]) -> dict[str, list[Succession]]:
    found: dict[str, list[Succession]] = {}
    for old, new, day in triples:
        found.setdefault(old, []).append(Succession(old, new, day))
    return found


HISTORY = [
    Interval("VN.67", "provincial_2", "active", D(2020, 1, 1), D(2025, 7, 1)),
    Interval("VN.68", "provincial_2", "active", D(2025, 7, 1), None),
]


def test_a_row_takes_the_interval_of_its_own_date_or_the_first_before_any() -> None:
    assert interval_on(D(2025, 6, 30), HISTORY) == HISTORY[0]
    assert interval_on(D(2025, 7, 1), HISTORY) == HISTORY[1]
    assert interval_on(D(2019, 5, 1), HISTORY) == HISTORY[0]  # before the cadre's first known state
    assert interval_on(D(2025, 7, 1), []) is None and interval_on(None, HISTORY) is None


def test_units_follow_chains_of_one_day_and_skip_a_merge_targets_own_mapping() -> None:
    merge = successors(
        ("VN.67", "VN.68", D(2025, 7, 1)),
        ("VN.68", "VN.68", D(2025, 7, 1)),
        ("VN.67.660", "VN.68.660", D(2025, 7, 1)),
        ("VN.68.660", "VN.68", D(2025, 7, 1)),  # the district level dissolved the same day
    )
    assert today_of("VN.67", merge) == "VN.68"
    assert today_of("VN.68", merge) == "VN.68"
    assert today_of("VN.67.660", merge) == "VN.68"
    assert today_of("VN.52", merge) == "VN.52"
    later = successors(("VN.68", "VN.68", D(2025, 7, 1)), ("VN.68", "VN.99", D(2030, 1, 1)), ("VN.67", "VN.68", D(2025, 7, 1)))
    assert today_of("VN.67", later) == "VN.99"


def test_a_split_sends_each_cadre_to_its_part_and_is_undecided_without_one() -> None:
    split = successors(("VN.50", "VN.51", D(2025, 7, 1)), ("VN.50", "VN.52", D(2025, 7, 1)))
    assert today_of("VN.50", split) is None
    assert today_of("VN.50", split, lambda _day: "VN.52") == "VN.52"
    assert today_of("VN.50", split, lambda _day: "VN.52.101") == "VN.52"  # a unit below the part
    assert today_of("VN.50", split, lambda _day: "VN.30") == "VN.51"  # had left before: the first part
    kept = successors(("VN.50", "VN.50", D(2025, 7, 1)), ("VN.50", "VN.53", D(2025, 7, 1)))
    assert today_of("VN.50", kept, lambda _day: "VN.30") == "VN.50"  # the unit continues: it stays
