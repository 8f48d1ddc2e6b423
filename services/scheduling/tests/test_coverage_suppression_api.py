"""Coverage as the central board sees it below its tier (aggregate-only): no count under the minimum cell
size in any row or the total, none given back by a column's sum or by a row's own arithmetic, the rate hidden
with what it is drawn from; in every grouping, now and as of a date. Lâm Đồng's board sees the exact figures.
On SQLite and PostgreSQL."""

from typing import Any

import httpx

from contracts import roles
from contracts.enums import ManagementTier
from servicekit.suppression import DEFAULT_MIN_CELL_SIZE as MIN
from servicekit.testing.principals import principal_for

CENTRAL = principal_for(roles.central_board, subject="user:central")
COUNTS = ("invited", "confirmed", "attended", "deferred", "no_show", "open", "cancelled")
GROUPINGS: list[list[str]] = [[], ["unit"], ["round", "unit"], ["facility"], ["unit", "facility"]]


def hidden(row: dict[str, Any], name: str) -> bool:
    if name in row["suppressed"]:
        assert row[name] == 0, row  # a hidden figure is never shown
        return True
    return False


def assert_nothing_leaks(report: dict[str, Any]) -> None:
    assert report["aggregate_only"] is True and report["min_cell_size"] == MIN
    rows = [*report["rows"], report["total"]]
    for row in rows:
        for name in COUNTS:
            assert hidden(row, name) or not 0 < row[name] < MIN, (name, row)
        # invited = open + attended + deferred + no_show: one hidden member would come back by subtraction
        assert sum(hidden(row, n) for n in ("invited", "open", "attended", "deferred", "no_show")) != 1, row
        if hidden(row, "attended") or hidden(row, "invited"):
            assert hidden(row, "rate"), row
    if len(report["rows"]) > 1:
        for name in COUNTS:  # the total row is the sum of the rows
            assert sum(hidden(row, name) for row in rows) != 1, (name, report)


async def test_coverage_hides_small_counts_from_the_central_board_in_every_grouping(
    k: Any, client: httpx.AsyncClient, sign_as: Any, feed: Any
) -> None:
    for i in range(12):
        await k.register(feed, tier=ManagementTier.PROVINCIAL_2, full_name=f"Đà Lạt {i}", managing_unit="VN.68.672")
    for i in range(3):
        await k.register(feed, tier=ManagementTier.PROVINCIAL_2, full_name=f"Bảo Lộc {i}", managing_unit="VN.68.673")
    plan, invitations = await k.generated(client, sign_as)
    dalat = [i for i in invitations if i["managing_unit"] == "VN.68.672"]
    for invitation in dalat[:11]:
        await k.move(client, sign_as, invitation, status="attended", effective_date=k.day(3, 3))
    for grouping in GROUPINGS:
        for as_of in (None, k.day(3, 5)):
            params: dict[str, Any] = {"plan_id": plan["id"], "by": grouping, **({"as_of": as_of} if as_of else {})}
            exact = (await client.get("/coverage", params=params, headers=sign_as(k.LAMDONG))).json()
            assert exact["aggregate_only"] is False and exact["total"]["invited"] == 15
            assert all(row["suppressed"] == [] for row in [*exact["rows"], exact["total"]])
            central = await client.get("/coverage", params=params, headers=sign_as(CENTRAL))
            assert central.status_code == 200, central.text
            assert_nothing_leaks(central.json())
            assert central.json()["total"]["invited"] == 15  # large, and no smaller figure rests on it alone
    by_unit = (await client.get("/coverage", params={"plan_id": plan["id"], "by": "unit"}, headers=sign_as(k.LAMDONG))).json()
    assert {r["unit"]: (r["invited"], r["attended"]) for r in by_unit["rows"]} == {"VN.68.672": (12, 11), "VN.68.673": (3, 0)}
    central = (await client.get("/coverage", params={"plan_id": plan["id"], "by": "unit"}, headers=sign_as(CENTRAL))).json()
    shown = {r["unit"]: r for r in central["rows"]}
    assert hidden(shown["VN.68.673"], "invited") and hidden(shown["VN.68.672"], "invited")  # 3, and 15 - 3 = 12 with it
