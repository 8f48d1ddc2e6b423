"""Reorganisations of units on SQLite and PostgreSQL, on the real case: on 2025-07-01 the old Lâm Đồng (68),
Đắk Nông (67) and Bình Thuận (60) became the new Lâm Đồng, and the district level ended."""

import json
from datetime import UTC, datetime
from typing import Any

from registry_testkit import ADMIN, ADMIN_PERMISSIONS, LAMDONG, RW, Api, principal

from contracts.enums import ManagementTier
from contracts.scope import Grant
from devstack.demo_registry import lam_dong_2025
from servicekit import clock

PLACES = {  # managing unit -> (tier, how many)
    "VN.68": ("provincial_2", 3),
    "VN.68.672": ("district", 2),
    "VN.67": ("provincial_1", 2),
    "VN.67.660": ("district", 1),
    "VN.60": ("central", 1),
    "VN.60.593": ("treatment_only", 2),
}


def by_unit(answer: Any) -> dict[str, int]:
    assert answer.status_code == 200, answer.text
    totals: dict[str, int] = {}
    for row in answer.json():
        totals[row["managing_unit"]] = totals.get(row["managing_unit"], 0) + row["count"]
    return totals


async def test_the_2025_lam_dong_merger_moves_every_cadre_and_keeps_the_past(api: Api) -> None:
    cadres = []
    for unit, (tier, count) in PLACES.items():
        for _ in range(count):
            cadres.append(await api.create(managing_unit=unit, tier=tier, status_since="2019-01-01"))
    before_events = len(await api.outbox())

    answer = await api.post("/units/reorganisations", json=lam_dong_2025()["reorganisation"])
    assert answer.status_code == 201, answer.text
    result = answer.json()
    assert result["moved_cadres"] == 8  # all but the three managed by VN.68 itself
    assert "VN.67" in result["retired_units"] and "VN.68.672" in result["retired_units"]
    assert result["created_units"] == ["VN.68"]

    for cadre in cadres:
        now = (await api.get(f"/cadres/{cadre['id']}")).json()
        assert now["managing_unit"] == "VN.68", cadre
    assert (await api.get("/cadres", params={"unit": "VN.68", "limit": 200})).json()["total"] == 11
    assert (await api.get("/cadres", LAMDONG, params={"limit": 200})).json()["total"] == 11  # the province's board sees them all

    today = await api.get("/units", params={"under": "VN"})
    assert [u["path"] for u in today.json() if u["level"] == "province"] == ["VN.68"]
    assert not [u for u in today.json() if u["level"] == "district"]
    old = (await api.get("/units", params={"on": "2025-06-30"})).json()
    assert {u["path"]: u["name"] for u in old if u["level"] == "province"} == {
        "VN.60": "Tỉnh Bình Thuận",
        "VN.67": "Tỉnh Đắk Nông",
        "VN.68": "Tỉnh Lâm Đồng",
    }
    versions = [
        u for u in (await api.get("/units", params={"all_versions": True, "under": "VN.68"})).json() if u["path"] == "VN.68"
    ]
    assert [(v["valid_from"], v["valid_to"]) for v in versions] == [("1976-02-20", "2025-07-01"), ("2025-07-01", None)]

    assert by_unit(await api.get("/cadre-counts", params={"unit": "VN.67", "on": "2025-06-30"})) == {"VN.67": 2, "VN.67.660": 1}
    assert by_unit(await api.get("/cadre-counts", params={"unit": "VN.68", "on": "2025-06-30"})) == {"VN.68": 3, "VN.68.672": 2}
    assert by_unit(await api.get("/cadre-counts", params={"unit": "VN.60", "on": "2025-06-30"})) == {"VN.60": 1, "VN.60.593": 2}
    mapped = await api.get("/cadre-counts", params={"unit": "VN.68", "on": "2025-06-30", "mapped": True})
    assert by_unit(mapped) == {"VN.68": 11}
    assert by_unit(await api.get("/cadre-counts", params={"unit": "VN.68"})) == {"VN.68": 11}
    assert by_unit(await api.get("/cadre-counts", params={"unit": "VN.68", "on": "2025-07-01"})) == {"VN.68": 11}
    assert by_unit(await api.get("/cadre-counts", params={"unit": "VN.67"})) == {}

    events = (await api.outbox())[before_events:]
    assert sum(1 for _, t in events if t == "vn.cadrecare.registry.cadre.transferred") == 8
    assert [t for _, t in events if "unit" in t] == ["vn.cadrecare.registry.unit.reorganized"] * 2
    moved = next(c for c in cadres if c["managing_unit"] == "VN.67.660")
    history = (await api.get(f"/cadres/{moved['id']}/history")).json()
    assert [(h["operation"], h["old_value"], h["new_value"], h["effective_date"]) for h in history][-1] == (
        "reorganised",
        "VN.67.660",
        "VN.68",
        "2025-07-01",
    )

    again = await api.post("/units/reorganisations", json=lam_dong_2025()["reorganisation"])
    assert again.status_code == 422
    assert again.json()["errors"][0]["loc"] == ["operations", 0, "sources", 1]


async def test_split_needs_an_explicit_mapping_and_rename_keeps_cadres(api: Api) -> None:
    a = await api.create(managing_unit="VN.67.660", tier="district", status_since="2019-01-01")
    b = await api.create(managing_unit="VN.67.660", tier="district", status_since="2019-01-01")
    split: dict[str, Any] = {
        "effective_date": "2024-01-01",
        "reason": "thử chia tách",
        "operations": [
            {
                "kind": "split",
                "source": "VN.67.660",
                "into": [{"path": "VN.67.901", "name": "Bắc Gia Nghĩa"}, {"path": "VN.67.902", "name": "Nam Gia Nghĩa"}],
                "cadres": {a["id"]: "VN.67.901"},
            }
        ],
    }
    before = await api.outbox()
    missing = await api.post("/units/reorganisations", json=split)
    assert missing.status_code == 422 and missing.json()["errors"][0]["loc"] == ["operations", 0, "cadres"]
    assert b["id"] in missing.json()["errors"][0]["msg"]
    assert await api.outbox() == before
    split["operations"][0]["cadres"][b["id"]] = "VN.67.902"
    done = await api.post("/units/reorganisations", json=split)
    assert done.status_code == 201, done.text
    assert (await api.get(f"/cadres/{a['id']}")).json()["managing_unit"] == "VN.67.901"
    assert (await api.get(f"/cadres/{b['id']}")).json()["managing_unit"] == "VN.67.902"
    mapped = await api.get("/cadre-counts", params={"unit": "VN.67", "on": "2023-12-31", "mapped": True})
    assert by_unit(mapped) == {"VN.67.901": 1, "VN.67.902": 1}

    renamed = await api.post(
        "/units/reorganisations",
        json={
            "effective_date": "2024-06-01",
            "reason": "đổi tên",
            "operations": [{"kind": "rename", "unit": "VN.67.901", "name": "Phường Bắc"}],
        },
    )
    assert renamed.status_code == 201 and renamed.json()["moved_cadres"] == 0
    assert (await api.get(f"/cadres/{a['id']}")).json()["managing_unit"] == "VN.67.901"
    names = {
        (u["valid_from"], u["name"])
        for u in (await api.get("/units", params={"all_versions": True, "under": "VN.67.901"})).json()
    }
    assert names == {("2024-01-01", "Bắc Gia Nghĩa"), ("2024-06-01", "Phường Bắc")}
    assert [t for _, t in await api.outbox()][-2:] == [
        "vn.cadrecare.registry.unit.renamed",
        "vn.cadrecare.registry.unit.reorganized",
    ]


async def test_reorganising_needs_the_permission_and_a_grant_on_every_unit(api: Api) -> None:
    body = lam_dong_2025()["reorganisation"]
    assert (await api.post("/units/reorganisations", LAMDONG, json=body)).status_code == 403
    only_68 = principal(
        "lamdong-admin", (Grant(unit_path="VN.68", tiers=frozenset(ManagementTier), actions=RW),), ADMIN_PERMISSIONS
    )
    outside = await api.post("/units/reorganisations", only_68, json=body)
    assert outside.status_code == 403 and "VN.60" in outside.json()["detail"]
    future = await api.post("/units/reorganisations", ADMIN, json={**body, "effective_date": "2099-01-01"})
    assert future.status_code == 422 and future.json()["errors"][0]["loc"] == ["effective_date"]
    bad = await api.post("/units/reorganisations", json={**body, "operations": [{"kind": "explode", "unit": "VN.68"}]})
    assert bad.status_code == 422
    assert json.loads(bad.text)["code"] == "invalid_request"


async def test_a_reorganisation_may_be_recorded_on_vietnams_today(api: Api) -> None:
    """At 01:30 on 28 November in Vietnam (27 November in UTC) a reorganisation dated the 28th is not in the future."""
    body = {"reason": "đổi tên", "operations": [{"kind": "rename", "unit": "VN.68.672", "name": "Thành phố Đà Lạt mới"}]}
    with clock.frozen_at(datetime(2026, 11, 27, 18, 30, tzinfo=UTC)):
        tomorrow = await api.post("/units/reorganisations", json={**body, "effective_date": "2026-11-29"})
        today = await api.post("/units/reorganisations", json={**body, "effective_date": "2026-11-28"})
    assert tomorrow.status_code == 422 and tomorrow.json()["errors"][0]["loc"] == ["effective_date"]
    assert today.status_code == 201, today.text
