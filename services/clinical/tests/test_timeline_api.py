"""A cadre's timeline and the patients summary (clinical.timeline), on SQLite and PostgreSQL."""

from types import SimpleNamespace
from typing import Any

import httpx
from clinical_testkit import Sign, admission, exam, post

from servicekit.pagination import MAX_PAGE_SIZE


async def test_the_timeline_pages_newest_first_filters_by_kind_and_caps_a_page_at_200(
    client: httpx.AsyncClient, sign_as: Sign, seed_cadre: Any, principals: SimpleNamespace
) -> None:
    nid = "068052000080"
    cadre_id = await seed_cadre(national_id=nid)
    for day in range(1, 6):
        await post(client, sign_as, principals.his, exam(nid, external_id=f"E{day}", occurred_on=f"2026-01-0{day}"))
    await post(client, sign_as, principals.his, admission(nid, external_id="N1", occurred_on="2026-01-03"))
    doctor = sign_as(principals.doctor)
    url = f"/cadres/{cadre_id}/timeline"

    page = (await client.get(url, params={"offset": 1, "limit": 2}, headers=doctor)).json()
    assert (page["total"], page["offset"], page["limit"]) == (6, 1, 2)
    assert [r["external_id"] for r in page["items"]] == ["E4", "N1"]  # newest first; on one day, the last recorded first
    admissions = (await client.get(url, params={"kind": "admission"}, headers=doctor)).json()
    assert [r["external_id"] for r in admissions["items"]] == ["N1"] and admissions["total"] == 1

    assert (await client.get(url, params={"limit": MAX_PAGE_SIZE}, headers=doctor)).status_code == 200
    too_big = await client.get(url, params={"limit": MAX_PAGE_SIZE + 1}, headers=doctor)
    assert MAX_PAGE_SIZE == 200 and too_big.status_code == 422


async def test_the_patients_summary_counts_the_cadres_in_the_callers_scope(
    client: httpx.AsyncClient, sign_as: Sign, seed_cadre: Any, principals: SimpleNamespace
) -> None:
    await seed_cadre(national_id="068052000090")  # Đà Lạt (VN.68.672), district tier
    await seed_cadre(national_id="068052000091", managing_unit="VN.68.673")
    await seed_cadre(national_id="079052000092", managing_unit="VN.79.760")

    async def cadres(principal: Any) -> int:
        answer = await client.get("/patients/summary", headers=sign_as(principal))
        assert answer.status_code == 200, answer.text
        count: int = answer.json()["cadres"]
        return count

    assert await cadres(principals.dalat) == 1
    assert await cadres(principals.doctor) == 2  # the whole province of Lâm Đồng
