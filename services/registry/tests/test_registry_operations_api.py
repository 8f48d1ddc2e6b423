"""Search, corrections and history, lifecycle, transfers, cards, duplicates, proposals, as-of counts (SQLite and PostgreSQL)."""

from typing import Any

from registry_testkit import ADMIN, ADMIN_PERMISSIONS, DALAT, HIS, LAMDONG, Api, cadre_body, principal

from contracts.scope import Grant


def counts(answer: Any) -> dict[tuple[str, str, str], int]:
    assert answer.status_code == 200, answer.text
    return {(c["managing_unit"], c["tier"], c["status"]): c["count"] for c in answer.json()}


async def test_search_by_name_with_or_without_diacritics_cccd_card_unit_tier_status(api: Api) -> None:
    duc = await api.create(full_name="Nguyễn Văn Đức")
    await api.create(full_name="Trần Thị Lan", sex="female", tier="provincial_3", status="active", status_since="2020-01-01")
    await api.create(full_name="Lê Đức Thọ", managing_unit="VN.68.672", tier="district")
    out_of_scope = await api.create(full_name="Đức Phổ", managing_unit="VN.67")

    async def names(who: Any = ADMIN, **params: Any) -> list[str]:
        answer = await api.get("/cadres", who, params=params)
        assert answer.status_code == 200, answer.text
        assert answer.headers["x-audit-subjects"] == ",".join(c["id"] for c in answer.json()["items"])
        return [c["full_name"] for c in answer.json()["items"]]

    # names that start with the words, or whose given name does; only when none, names containing them
    assert await names(q="duc") == ["Đức Phổ", "Nguyễn Văn Đức"]
    assert await names(q="Đức", unit="VN.68") == ["Nguyễn Văn Đức"]
    assert await names(q="duc nguyen") == ["Nguyễn Văn Đức"]
    assert await names(q="NGUYEN VAN") == ["Nguyễn Văn Đức"]
    assert await names(q="đức thọ") == ["Lê Đức Thọ"]
    assert await names(q=duc["national_id"]) == ["Nguyễn Văn Đức"]
    assert await names(national_id=out_of_scope["national_id"], who=LAMDONG) == []
    assert await names(tier="provincial_3") == ["Trần Thị Lan"]
    assert await names(status="active") == ["Trần Thị Lan"]
    assert await names(unit="VN.68.672") == ["Lê Đức Thọ"]
    assert await names(who=LAMDONG, q="le duc") == ["Lê Đức Thọ"]  # district tier: read-only for the province, still visible
    card = (await api.post(f"/cadres/{duc['id']}/cards", json={})).json()
    assert await names(card_number=card["number"]) == ["Nguyễn Văn Đức"]
    page = (await api.get("/cadres", params={"limit": 2, "offset": 2})).json()
    assert page["total"] == 4 and len(page["items"]) == 2
    assert (await api.get("/cadres", params={"limit": 500})).status_code == 422


async def test_corrections_are_kept_as_history_and_checked(api: Api) -> None:
    cadre = await api.create()
    changed = await api.patch(f"/cadres/{cadre['id']}", json={"phone": "0912345678", "full_name": "Nguyễn Văn Đực"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["full_name"] == "Nguyễn Văn Đực"
    history = (await api.get(f"/cadres/{cadre['id']}/history")).json()
    lines = {(h["operation"], h["field"]): (h["old_value"], h["new_value"], h["changed_by"]) for h in history}
    assert lines[("updated", "full_name")] == ("Nguyễn Văn Đức", "Nguyễn Văn Đực", "user:admin")
    assert lines[("updated", "phone")] == (None, "0912345678", "user:admin")
    assert ("registered", "record") in lines
    before = await api.outbox()
    wrong_year = await api.patch(f"/cadres/{cadre['id']}", json={"date_of_birth": "1959-03-09"})
    assert wrong_year.status_code == 422
    assert wrong_year.json()["errors"][0]["loc"] == ["national_id"]
    assert "birth year 1959" in wrong_year.json()["errors"][0]["msg"]
    assert await api.outbox() == before
    assert (await api.patch(f"/cadres/{cadre['id']}", json={"tier": "central"})).json()[
        "tier"
    ] == "provincial_2"  # not a field here
    assert (await api.patch(f"/cadres/{cadre['id']}", DALAT, json={"phone": "0900000000"})).status_code == 404


async def test_registration_checks_the_cccd_against_birth_and_sex(api: Api) -> None:
    wrong = await api.post("/cadres", json=cadre_body(national_id="068162000123", date_of_birth="1962-04-05", sex="male"))
    assert wrong.status_code == 422
    assert wrong.json()["errors"] == [
        {"loc": ["national_id"], "msg": "digit 4 (1) encodes sex female, sex is male", "type": "value_error"}
    ]
    dead = await api.post("/cadres", json=cadre_body(status="deceased"))
    assert dead.status_code == 422 and dead.json()["errors"][0]["loc"] == ["status"]


async def test_lifecycle_and_as_of_counts(api: Api) -> None:
    active = await api.create(status="active", status_since="2015-01-01", date_of_birth="1966-05-01", tier="provincial_1")
    retired = await api.post(f"/cadres/{active['id']}/retirement", json={"effective_date": "2023-06-01"})
    assert retired.status_code == 200 and retired.json()["status"] == "retired"
    again = await api.post(f"/cadres/{active['id']}/retirement", json={"effective_date": "2023-07-01"})
    assert again.status_code == 422 and again.json()["errors"][0]["loc"] == ["status"]
    early = await api.post(f"/cadres/{active['id']}/tier", json={"tier": "provincial_2", "effective_date": "2023-01-01"})
    assert early.status_code == 422 and "before the last recorded change" in early.json()["errors"][0]["msg"]
    future = await api.post(f"/cadres/{active['id']}/death", json={"effective_date": "2099-01-01"})
    assert future.status_code == 422 and future.json()["errors"][0]["loc"] == ["effective_date"]
    promoted = await api.post(f"/cadres/{active['id']}/tier", json={"tier": "central", "effective_date": "2024-01-01"})
    assert promoted.status_code == 200 and promoted.json()["tier"] == "central"
    died = await api.post(f"/cadres/{active['id']}/death", json={"effective_date": "2025-02-01"})
    assert died.status_code == 200
    after_death = await api.post(
        f"/cadres/{active['id']}/transfer", json={"to_unit": "VN.67", "effective_date": "2025-03-01", "reason": "moved"}
    )
    assert after_death.status_code == 422 and "no change after death" in after_death.json()["errors"][0]["msg"]

    def on(day: str) -> Any:
        return api.get("/cadre-counts", params={"unit": "VN.68", "on": day})

    assert counts(await on("2014-12-31")) == {}
    assert counts(await on("2022-12-31")) == {("VN.68", "provincial_1", "active"): 1}
    assert counts(await on("2023-12-31")) == {("VN.68", "provincial_1", "retired"): 1}
    assert counts(await on("2024-06-30")) == {("VN.68", "central", "retired"): 1}
    assert counts(await on("2025-06-30")) == {("VN.68", "central", "deceased"): 1}
    history = [(h["operation"], h["field"]) for h in (await api.get(f"/cadres/{active['id']}/history")).json()]
    assert ("retired", "status") in history and ("tier_changed", "tier") in history and ("died", "status") in history
    types = [t for _, t in await api.outbox()]
    assert types[-3:] == [
        "vn.cadrecare.registry.cadre.retired",
        "vn.cadrecare.registry.cadre.tier_changed",
        "vn.cadrecare.registry.cadre.died",
    ]
    removal = await api.create()
    removed = await api.post(
        f"/cadres/{removal['id']}/removal", json={"effective_date": "2024-01-01", "reason": "không còn đủ tiêu chuẩn"}
    )
    assert removed.json()["status"] == "removed"


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


async def test_cards_issue_reissue_and_lookup(api: Api) -> None:
    cadre = await api.create()
    first = await api.post(f"/cadres/{cadre['id']}/cards", json={})
    assert first.status_code == 201 and first.json()["valid"]
    looked = await api.get(f"/cards/{first.json()['number']}", HIS)
    assert looked.status_code == 200 and looked.json()["valid"] and looked.json()["cadre_id"] == cadre["id"]
    assert looked.headers["x-audit-subjects"] == cadre["id"]
    await api.patch(f"/cadres/{cadre['id']}", json={"full_name": "Nguyễn Văn Đức Anh"})  # printed on the card: re-issued
    cards = (await api.get(f"/cadres/{cadre['id']}/cards")).json()
    assert len(cards) == 2
    old = next(c for c in cards if c["number"] == first.json()["number"])
    new = next(c for c in cards if c["number"] != first.json()["number"])
    assert not old["valid"] and old["replaced_by"] == new["number"] and new["valid"]
    stale = (await api.get(f"/cards/{old['number']}", HIS)).json()
    assert stale["valid"] is False and stale["current_card_number"] == new["number"]
    assert (await api.get("/cards/68-26-00000000", HIS)).status_code == 404
    elsewhere = await api.create(managing_unit="VN.67")
    number = (await api.post(f"/cadres/{elsewhere['id']}/cards", json={})).json()["number"]
    assert (await api.get(f"/cards/{number}", HIS)).status_code == 404  # outside the hospital's province
    assert (await api.get(f"/cards/{number}", DALAT)).status_code == 403  # no look-up permission


async def test_duplicates_are_refused_with_a_pointer_only_for_those_who_may_see(api: Api) -> None:
    first = await api.create(managing_unit="VN.67")
    again = await api.post("/cadres", json=cadre_body(national_id=first["national_id"]))
    assert again.status_code == 409 and first["id"] in again.json()["detail"]
    hidden = await api.post("/cadres", LAMDONG, json=cadre_body(national_id=first["national_id"]))
    assert hidden.status_code == 409 and first["id"] not in hidden.json()["detail"]
    twin = await api.create(full_name="NGUYỄN văn Đức", managing_unit="VN.67")  # same person typed again, another CCCD
    groups = (await api.get("/cadre-duplicates")).json()
    assert len(groups) == 1 and {c["id"] for c in groups[0]["cadres"]} == {first["id"], twin["id"]}
    assert (await api.get("/cadre-duplicates", LAMDONG)).json() == []


async def test_proposed_beneficiaries_workflow_with_permissions(api: Api) -> None:
    proposal = {**cadre_body(tier="provincial_3"), "justification": "Giám đốc Sở, đủ tiêu chuẩn đối tượng 3 (Quy định 08-QĐ/TU)"}
    created = await api.post("/proposals", LAMDONG, json=proposal)
    assert created.status_code == 201, created.text
    pid = created.json()["id"]
    assert (await api.post(f"/proposals/{pid}/approval", LAMDONG, json={"reason": "đồng ý"})).status_code == 403
    early = await api.post(f"/proposals/{pid}/approval", json={"reason": "đồng ý"})
    assert early.status_code == 422 and early.json()["errors"][0]["loc"] == ["status"]
    appraised = await api.post(f"/proposals/{pid}/appraisal", LAMDONG, json={"recommend": True, "note": "Hồ sơ đầy đủ"})
    assert appraised.json()["status"] == "appraised"
    approved = await api.post(f"/proposals/{pid}/approval", json={"reason": "Ban Thường vụ đồng ý"})
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    cadre = await api.get(f"/cadres/{approved.json()['cadre_id']}", LAMDONG)
    assert cadre.status_code == 200 and cadre.json()["tier"] == "provincial_3"
    other = await api.post("/proposals", LAMDONG, json={**cadre_body(), "justification": "đề nghị bổ sung"})
    rejected = await api.post(f"/proposals/{other.json()['id']}/rejection", json={"reason": "Không thuộc diện"})
    assert rejected.json()["status"] == "rejected" and rejected.json()["decision_reason"] == "Không thuộc diện"
    assert (await api.post("/proposals", DALAT, json=proposal)).status_code == 403
    outsider = principal(
        "other", (Grant(unit_path="VN.67", tiers=LAMDONG.grants[0].tiers, actions=LAMDONG.grants[0].actions),), ADMIN_PERMISSIONS
    )
    assert (await api.get("/proposals", outsider)).json() == []
