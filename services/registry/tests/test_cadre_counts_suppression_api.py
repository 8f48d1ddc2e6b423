"""The registry's cadre counts as the central board sees them below its tier (aggregate-only): no count under
the minimum cell size, and none given back by the sums a reader forms (by tier, by status, by unit and
everything under it), now, as of a date and mapped; a provincial board sees the exact figures. On SQLite and
PostgreSQL."""

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from registry_testkit import LAMDONG, Api

from contracts import roles
from servicekit.suppression import DEFAULT_MIN_CELL_SIZE as MIN
from servicekit.testing.principals import principal_for

CENTRAL = principal_for(roles.central_board, subject="user:central")
PEOPLE = [  # (managing unit, tier, status, how many)
    ("VN.68", "provincial_1", "active", 30),
    ("VN.68", "provincial_2", "active", 20),
    ("VN.68", "provincial_2", "retired", 4),
    ("VN.68", "provincial_3", "active", 25),
    ("VN.68.672", "district", "active", 12),
    ("VN.68.672", "district", "retired", 40),
    ("VN.68.673", "district", "active", 3),
]
Row = tuple[str, str, str]


def sums(rows: Iterable[Row]) -> dict[tuple[str, str, str], list[Row]]:
    """Every sum a reader forms over the rows (or reads in another output): over the whole list, a unit, or a
    unit and everything under it, each by tier and status, by tier, by status and in all."""
    groups: dict[tuple[str, str, str], list[Row]] = defaultdict(list)
    for row in rows:
        unit, tier, status = row
        parents = [".".join(unit.split(".")[:n]) for n in range(2, unit.count(".") + 2)]
        for scope in ("all", f"at={unit}", *(f"under={p}" for p in parents)):
            for t, s in ((tier, status), (tier, "*"), ("*", status), ("*", "*")):
                groups[scope, t, s].append(row)
    return groups


def checked(answer: Any, exact: dict[Row, int]) -> dict[Row, int | None]:
    """The central board's answer as {row: count, or None when hidden}, after checking it leaks nothing."""
    assert answer.status_code == 200, answer.text
    seen: dict[Row, int | None] = {}
    for item in answer.json():
        row = (item["managing_unit"], item["tier"], item["status"])
        hidden = "count" in item["suppressed"]
        assert not hidden or item["count"] == 0, item  # a hidden count is never shown
        assert hidden or item["count"] == exact[row], item
        assert hidden or not 0 < item["count"] < MIN, item  # nothing small is shown
        seen[row] = None if hidden else item["count"]
    assert set(seen) == set(exact)
    for name, members in sums(seen).items():
        if len(members) > 1:  # no hidden row comes back by subtraction
            assert sum(1 for m in members if seen[m] is None) != 1, (name, members)
    return seen


async def test_counts_hide_small_cells_and_their_complements_from_the_central_board(api: Api) -> None:
    for unit, tier, status, n in PEOPLE:
        for _ in range(n):
            await api.create(managing_unit=unit, tier=tier, status=status)
    for params in (
        {"unit": "VN.68"},
        {"unit": "VN.68", "on": "2024-06-30"},
        {"unit": "VN.68", "on": "2024-06-30", "mapped": True},
    ):
        full = await api.get("/cadre-counts", LAMDONG, params=params)
        exact = {(c["managing_unit"], c["tier"], c["status"]): c["count"] for c in full.json()}
        assert exact == {(u, t, s): n for u, t, s, n in PEOPLE} and all(c["suppressed"] == [] for c in full.json())
        central = checked(await api.get("/cadre-counts", CENTRAL, params=params), exact)
        assert central[("VN.68.673", "district", "active")] is None and central[("VN.68", "provincial_2", "retired")] is None
        assert central[("VN.68.672", "district", "active")] is None  # else the district tier's active 15 gives Bảo Lộc's 3
        assert central[("VN.68", "provincial_1", "active")] == 30  # large, and solving every sum together gives none back
    district = await api.get("/cadre-counts", CENTRAL, params={"unit": "VN.68.673"})
    assert [(c["count"], c["suppressed"]) for c in district.json()] == [(0, ["count"])]
