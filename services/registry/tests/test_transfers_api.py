"""Transfers of one cadre and in bulk by filter on SQLite and PostgreSQL: all or nothing, in scope."""

from registry_testkit import DALAT, Api, counts


async def test_bulk_transfer_moves_all_or_nothing(api: Api) -> None:
    """The seed's case, in this registry's tiers: retired cadres living in Đà Lạt move from the city's board to the province's."""
    movers = [await api.create(managing_unit="VN.68.672", tier="treatment_only", residence_unit="VN.68.672") for _ in range(5)]
    stays = await api.create(managing_unit="VN.68.672", tier="treatment_only", residence_unit="VN.68.673")
    district = await api.create(managing_unit="VN.68.672", tier="district", residence_unit="VN.68.672")
    body = {
        "filter": {"unit": "VN.68.672", "status": "retired", "residence_unit": "VN.68.672"},
        "to_unit": "VN.68",
        "effective_date": "2024-03-01",
        "reason": "Chuyển về Ban BVCSSK cán bộ tỉnh quản lý",
    }
    before = await api.outbox()
    refused = await api.post("/transfers", json=body)  # the district-tier cadre cannot go to a provincial board
    assert refused.status_code == 422
    assert any(district["id"] in e["msg"] for e in refused.json()["errors"])
    assert await api.outbox() == before
    assert (await api.get(f"/cadres/{movers[0]['id']}")).json()["managing_unit"] == "VN.68.672"
    moved = await api.post("/transfers", json={**body, "filter": {**body["filter"], "tier": "treatment_only"}})
    assert moved.status_code == 200, moved.text
    assert moved.json()["moved"] == 5
    assert {(await api.get(f"/cadres/{m['id']}")).json()["managing_unit"] for m in movers} == {"VN.68"}
    assert (await api.get(f"/cadres/{stays['id']}")).json()["managing_unit"] == "VN.68.672"
    assert [t for _, t in await api.outbox()][-5:] == ["vn.cadrecare.registry.cadre.transferred"] * 5
    as_of = counts(await api.get("/cadre-counts", params={"unit": "VN.68", "on": "2024-02-29"}))
    assert as_of[("VN.68.672", "treatment_only", "retired")] == 6
    now = counts(await api.get("/cadre-counts", params={"unit": "VN.68"}))
    assert now[("VN.68", "treatment_only", "retired")] == 5
    single = await api.post(
        f"/cadres/{stays['id']}/transfer", DALAT, json={"to_unit": "VN.68", "effective_date": "2024-03-01", "reason": "về tỉnh"}
    )
    assert single.status_code == 403  # Đà Lạt's board cannot hand a cadre to the province
