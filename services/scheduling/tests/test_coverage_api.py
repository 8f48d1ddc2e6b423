"""Coverage of a plan by round, unit and facility, now and as of a date; on SQLite and PostgreSQL."""

from typing import Any

import httpx

from contracts.enums import CadreStatus, ManagementTier


async def test_coverage_by_round_unit_and_facility_now_and_as_of_a_date(
    k: Any, client: httpx.AsyncClient, sign_as: Any, feed: Any
) -> None:
    for i in range(4):
        await k.register(feed, tier=ManagementTier.PROVINCIAL_2, full_name=f"Đà Lạt {i}", managing_unit="VN.68.672")
    for i in range(3):
        await k.register(feed, tier=ManagementTier.PROVINCIAL_2, full_name=f"Bảo Lộc {i}", managing_unit="VN.68.673")
    await k.register(feed, tier=ManagementTier.PROVINCIAL_2, status=CadreStatus.RETIRED, full_name="Hưu trí")
    plan, invitations = await k.generated(client, sign_as)
    dalat = [i for i in invitations if i["managing_unit"] == "VN.68.672"]
    baoloc = [i for i in invitations if i["managing_unit"] == "VN.68.673"]
    for invitation in dalat[:3]:
        await k.move(client, sign_as, invitation, status="attended", effective_date=k.day(3, 3))
    await k.move(client, sign_as, dalat[3], status="deferred", reason="ill", effective_date=k.day(3, 9))
    for invitation in baoloc[:2]:
        await k.move(client, sign_as, invitation, status="attended", effective_date=k.day(3, 10))

    params: dict[str, Any] = {"plan_id": plan["id"], "by": ["round", "unit"]}
    now = (await client.get("/coverage", params=params, headers=sign_as(k.LAMDONG))).json()
    rows = {(r["round"], r["unit"]): r for r in now["rows"]}
    assert (rows[(1, "VN.68.672")]["attended"], rows[(1, "VN.68.672")]["invited"], rows[(1, "VN.68.672")]["rate"]) == (3, 4, 75.0)
    assert (rows[(1, "VN.68.673")]["attended"], rows[(1, "VN.68.673")]["open"], rows[(1, "VN.68.673")]["rate"]) == (2, 1, 66.66)
    assert rows[(1, "VN.68")]["invited"] == 1  # the retiree managed by the province itself
    assert now["total"]["invited"] == 8 and now["total"]["attended"] == 5 and now["total"]["rate"] == 62.5
    # Đà Lạt has finished (nothing open), Bảo Lộc has one still to come
    assert now["units_finished"] == {
        "finished": 1,
        "total": 2,
        "finished_units": ["VN.68.672"],
        "unfinished_units": ["VN.68.673"],
    }
    midway = (await client.get("/coverage", params={**params, "as_of": k.day(3, 5)}, headers=sign_as(k.LAMDONG))).json()
    rows = {(r["round"], r["unit"]): r for r in midway["rows"]}
    assert midway["as_of"] == k.day(3, 5)
    assert (rows[(1, "VN.68.672")]["attended"], rows[(1, "VN.68.672")]["deferred"], rows[(1, "VN.68.672")]["open"]) == (3, 0, 1)
    assert rows[(1, "VN.68.673")]["attended"] == 0
    by_facility = (
        await client.get("/coverage", params={"plan_id": plan["id"], "by": "facility"}, headers=sign_as(k.LAMDONG))
    ).json()
    assert {r["facility"]: r["invited"] for r in by_facility["rows"]} == {"68-BVDK": 5, "68-TTYT-BL": 3}
    bad = await client.get("/coverage", params={"by": "colour"}, headers=sign_as(k.LAMDONG))
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"][:2] == ["query", "by"]
    # a district board sees only its own cadres' figures
    assert (await client.get("/coverage", params={"unit": "VN.68"}, headers=sign_as(k.DALAT))).json()["total"]["invited"] == 0
