"""The one suppression rule, without I/O: who it applies to, primary and complementary suppression, and that
no hidden cell comes back from the totals, checked by solving the relations exactly (fractions, an oracle
independent of the rule's own elimination) over tables with hierarchical units, tiers and statuses."""

import itertools
from collections.abc import Mapping, Sequence
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from contracts import roles
from contracts.scope import Principal, PrincipalKind
from servicekit.suppression import (
    ALL,
    FigureSet,
    RawCell,
    add_marginals,
    aggregate_only,
    hidden_keys,
    no_roll_up,
    nulled,
    recoverable,
    units_up_to,
    widenings,
    zeroed,
)

MIN = 10


def staff(*grants: object) -> Principal:
    return Principal(subject="someone", kind=PrincipalKind.STAFF, grants=grants)


def cells(**values: int) -> dict[str, RawCell]:
    return {key: RawCell(value, value) for key, value in values.items()}


def determined(table: Mapping[str, RawCell], groups: Sequence[tuple[str, Sequence[str]]], hidden: set[str]) -> set[str]:
    """The hidden cells a reader solves for from every relation at once (reduced row echelon form over Q)."""
    unknowns = sorted(hidden)
    column = {h: i for i, h in enumerate(unknowns)}
    rows: list[list[Fraction]] = []
    for total, parts in groups:
        if total not in table:
            continue
        row = [Fraction(0)] * len(unknowns)
        for member, sign in ((total, 1), *((p, -1) for p in parts if p in table)):
            if member in column:
                row[column[member]] += sign
        if any(row):
            rows.append(row)
    pivots: list[int] = []
    for c in range(len(unknowns)):
        r = len(pivots)
        found = next((i for i in range(r, len(rows)) if rows[i][c] != 0), None)
        if found is None:
            continue
        rows[r], rows[found] = rows[found], rows[r]
        rows[r] = [x / rows[r][c] for x in rows[r]]
        for i, other in enumerate(rows):
            if i != r and other[c] != 0:
                rows[i] = [a - other[c] * b for a, b in zip(other, rows[r], strict=True)]
        pivots.append(c)
    return {unknowns[c] for r, c in enumerate(pivots) if sum(1 for x in rows[r] if x != 0) == 1}


def test_aggregate_only_is_a_tier_seen_only_through_an_aggregate_grant() -> None:
    central = staff(*roles.central_board())
    assert aggregate_only(central, "VN.68.672") and aggregate_only(central, "VN")
    assert not aggregate_only(staff(*roles.provincial_board("VN.68")), "VN.68.672")
    assert not aggregate_only(staff(*roles.administrator()), "VN.68")  # reads every tier it aggregates
    assert aggregate_only(staff(*roles.aggregation_job()), "VN.68")
    assert not aggregate_only(staff(*roles.district_board("VN.68.672")), "VN.68")  # no aggregate grant at all


def test_a_small_count_is_hidden_and_zeros_and_large_counts_are_shown() -> None:
    assert hidden_keys(cells(a=0, b=1, c=9, d=10, e=250), [], MIN) == {"b", "c"}


def test_a_relation_never_keeps_exactly_one_hidden_member() -> None:
    row = cells(total=40, A=25, B=12, C=3, D=0)
    assert hidden_keys(row, [("total", ["A", "B", "C", "D"])], MIN) == {"C", "B"}  # else C = 40 - 25 - 12 - 0
    assert hidden_keys(cells(total=3, A=3, B=0), [("total", ["A", "B"])], MIN) == {"A", "total"}


def test_a_cell_given_back_only_by_solving_several_relations_together_is_protected() -> None:
    # a + b, a + c and b + c are printed: each relation has two hidden members, yet a = (x + y - z) / 2
    table = cells(a=3, b=20, c=30, x=23, y=33, z=50, d=40, e=60)
    groups = [("x", ["a", "b"]), ("y", ["a", "c"]), ("z", ["b", "c"]), ("e", ["c", "d"])]
    assert determined(table, groups, {"a", "b", "c"}) == {"a", "b", "c"}  # what the pairwise rule alone would leave
    hidden = hidden_keys(table, groups, MIN)
    assert "a" in hidden and determined(table, groups, hidden) == set()
    assert recoverable([(total, list(parts)) for total, parts in groups], hidden) == set()


def test_a_2x2_table_with_its_margins_loses_a_rectangle_and_gives_nothing_back() -> None:
    table = cells(r1=30, r2=40, c1=27, c2=43, a=3, b=27, c=24, d=16, all=70)
    groups = [("r1", ["a", "b"]), ("r2", ["c", "d"]), ("c1", ["a", "c"]), ("c2", ["b", "d"]), ("all", ["r1", "r2"])]
    hidden = hidden_keys(table, groups, MIN)
    assert hidden == {"a", "b", "c", "d"} and determined(table, groups, hidden) == set()


def test_widenings_keep_roll_up_or_sum_over_each_dimension() -> None:
    units = units_up_to("VN.68")
    assert units("VN.68.672.24778") == ("VN.68.672.24778+", "VN.68.672+")
    assert units("VN.68") == ()  # the unit asked about: its subtree is the dimension's ALL
    assert set(widenings(("VN.68.672", "district"), (units, no_roll_up))) == {
        ("VN.68.672", ALL),
        ("VN.68.672+", "district"),
        ("VN.68.672+", ALL),
        (ALL, "district"),
        (ALL, ALL),
    }


def test_marginal_totals_include_a_units_own_cadres_and_its_children() -> None:
    figures = FigureSet()
    leaves = {
        (unit, tier): figures.count(f"{unit}={tier}", n)
        for unit, tier, n in [("VN.68", "p2", 40), ("VN.68.672", "d", 25), ("VN.68.672.1", "d", 4), ("VN.68.673", "d", 30)]
    }
    totals = add_marginals(figures, leaves, (units_up_to("VN"), no_roll_up), lambda k: "sum:" + "=".join(k))
    values = {combo: figures.cells[name].value for combo, name in totals.items()}
    assert values[("VN.68+", ALL)] == 99 and values[("VN.68.672+", "d")] == 29 and values[(ALL, "d")] == 59
    hidden = hidden_keys(figures.cells, figures.groups, MIN)
    assert "VN.68.672.1=d" in hidden and determined(figures.cells, figures.groups, hidden) == set()


class Row(BaseModel):
    count: int
    share: float | None
    suppressed: list[str] = []


def test_hiding_writes_zero_and_names_the_field_or_writes_none() -> None:
    row = Row(count=3, share=0.5)
    zeroed(row, "count")()
    zeroed(row, "count")()
    nulled(row, "share")()
    assert (row.count, row.share, row.suppressed) == (0, None, ["count"])


VALUES = st.sampled_from([0, 0, 1, 2, 3, 5, 8, 9, 10, 12, 15, 20, 40, 95])
UNITS = ["VN.68", "VN.68.672", "VN.68.672.1", "VN.68.673", "VN.56"]


@settings(max_examples=120, deadline=None)
@given(
    units=st.lists(st.sampled_from(UNITS), min_size=1, max_size=5, unique=True),
    tiers=st.integers(1, 3),
    statuses=st.integers(1, 2),
    data=st.data(),
)
def test_no_table_gives_a_hidden_cell_back_and_no_shown_cell_is_small(
    units: list[str], tiers: int, statuses: int, data: st.DataObject
) -> None:
    figures = FigureSet()
    leaves = {
        key: figures.count("=".join(key), data.draw(VALUES))
        for key in itertools.product(units, ["t1", "t2", "t3"][:tiers], ["s1", "s2"][:statuses])
    }
    add_marginals(figures, leaves, (units_up_to("VN"), no_roll_up, no_roll_up), lambda k: "sum:" + "=".join(k))
    hidden = hidden_keys(figures.cells, figures.groups, MIN)
    assert not [k for k, c in figures.cells.items() if k not in hidden and 0 < c.value < MIN]
    assert determined(figures.cells, figures.groups, hidden) == set()
