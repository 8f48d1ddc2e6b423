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


PROVINCIAL_3 = {"district": {"tier": "provincial_3"}}


def with_retier(reorganisation: dict[str, Any], retier: dict[str, Any]) -> dict[str, Any]:
    """The shipped 2025 reorganisation with the board's choice for the district tier's cadres."""
    operations = [{**op, "retier": retier} if op["kind"] == "dissolve_level" else op for op in reorganisation["operations"]]
    return {**reorganisation, "operations": operations}


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

    answer = await api.post("/units/reorganisations", json=with_retier(lam_dong_2025()["reorganisation"], PROVINCIAL_3))
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
    assert sum(1 for _, t in events if t == "vn.cadrecare.registry.cadre.tier_changed") == 3  # the district tier's
    assert [t for _, t in events if "unit" in t] == ["vn.cadrecare.registry.unit.reorganized"] * 2
    moved = next(c for c in cadres if c["managing_unit"] == "VN.67.660")
    history = (await api.get(f"/cadres/{moved['id']}/history")).json()
    assert [(h["operation"], h["field"], h["old_value"], h["new_value"], h["effective_date"]) for h in history][-2:] == [
        ("reorganised", "managing_unit", "VN.67.660", "VN.68", "2025-07-01"),
        ("reorganised", "tier", "district", "provincial_3", "2025-07-01"),
    ]
    assert (await api.get(f"/cadres/{moved['id']}")).json()["tier"] == "provincial_3"

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


async def test_a_dissolved_level_retiers_its_cadres_to_their_communes_or_refuses_naming_them(api: Api) -> None:
    wards = [
        {"path": f"VN.68.672.{code}", "code": code, "name": name, "level": "commune", "parent_path": "VN.68.672"}
        for code, name in (("24778", "Phường 1"), ("24781", "Phường 2"))
    ]
    assert (await api.post("/units/import", json=[{**w, "valid_from": "2004-01-01"} for w in wards])).status_code == 200
    resident = await api.create(managing_unit="VN.68.672", tier="district", residence_unit="VN.68.672.24781")
    homeless = await api.create(managing_unit="VN.68.672", tier="district", full_name="Trần Thị Vô Gia")
    in_ward = await api.create(managing_unit="VN.68.672.24778", tier="district", residence_unit="VN.68.672.24778")
    group_2 = await api.create(managing_unit="VN.68", tier="provincial_2")
    card = await api.post(f"/cadres/{resident['id']}/cards", json={"reason": "cấp thẻ lần đầu"})
    assert card.status_code in (200, 201), card.text
    before = len(await api.outbox())
    dissolve = {"kind": "dissolve_level", "under": "VN.68", "level": "district"}
    body = {"effective_date": "2025-07-01", "reason": "kết thúc cấp huyện", "operations": [dissolve]}

    unmapped = await api.post("/units/reorganisations", json=body)
    assert unmapped.status_code == 422, unmapped.text
    named = " ".join(e["msg"] for e in unmapped.json()["errors"])
    assert all(c["id"] in named for c in (resident, homeless, in_ward)) and group_2["id"] not in named
    assert "does not manage tier 'district' on 2025-07-01" in named
    by_residence = {**dissolve, "retier": {"district": {"tier": "commune", "unit": "residence"}}}
    no_home = await api.post("/units/reorganisations", json={**body, "operations": [by_residence]})
    assert no_home.status_code == 422
    assert [e["msg"].split(" ")[0] for e in no_home.json()["errors"]] == [homeless["id"]]  # only the one without a home
    assert "no residence unit" in no_home.json()["errors"][0]["msg"]
    assert len(await api.outbox()) == before  # refused: nothing changed, no event
    assert len((await api.get("/units", params={"under": "VN.68.672"})).json()) == 3  # the district and its wards, as they were

    settled = await api.patch(f"/cadres/{homeless['id']}", json={"residence_unit": "VN.68.672.24778"})
    assert settled.status_code == 200, settled.text
    done = await api.post("/units/reorganisations", json={**body, "operations": [by_residence]})
    assert done.status_code == 201, done.text
    after = {c["id"]: (await api.get(f"/cadres/{c['id']}")).json() for c in (resident, homeless, in_ward, group_2)}
    assert (after[resident["id"]]["managing_unit"], after[resident["id"]]["tier"]) == ("VN.68.24781", "commune")
    assert (after[homeless["id"]]["managing_unit"], after[homeless["id"]]["tier"]) == ("VN.68.24778", "commune")
    assert (after[in_ward["id"]]["managing_unit"], after[in_ward["id"]]["tier"]) == ("VN.68.24778", "commune")
    assert (after[group_2["id"]]["managing_unit"], after[group_2["id"]]["tier"]) == ("VN.68", "provincial_2")
    history = (await api.get(f"/cadres/{resident['id']}/history")).json()
    reorganised = [
        (h["field"], h["old_value"], h["new_value"], h["effective_date"]) for h in history if h["operation"] == "reorganised"
    ]
    assert reorganised == [
        ("managing_unit", "VN.68.672", "VN.68.24781", "2025-07-01"),
        ("tier", "district", "commune", "2025-07-01"),
    ]
    events = [t for _, t in (await api.outbox())[before:]]
    assert events.count("vn.cadrecare.registry.cadre.tier_changed") == 3
    assert events.count("vn.cadrecare.registry.cadre.transferred") == 3
    assert events.count("vn.cadrecare.registry.cadre.card_issued") == 1  # the tier is printed on the card
    assert after[resident["id"]]["card_number"] != card.json()["number"]
    cards = (await api.get(f"/cadres/{resident['id']}/cards")).json()
    assert sorted(c["valid"] for c in cards) == [False, True]
    old = by_unit(await api.get("/cadre-counts", params={"unit": "VN.68", "on": "2025-06-30"}))
    assert old == {"VN.68": 1, "VN.68.672": 2, "VN.68.672.24778": 1}  # the past as it stood
    today = await api.get("/cadre-counts", params={"unit": "VN.68"})
    assert {(r["managing_unit"], r["tier"]): r["count"] for r in today.json()} == {
        ("VN.68", "provincial_2"): 1,
        ("VN.68.24778", "commune"): 2,
        ("VN.68.24781", "commune"): 1,
    }
