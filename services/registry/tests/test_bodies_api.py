"""Managing bodies on SQLite and PostgreSQL: territorial and non-territorial boards, cadres managed by them (scope
is the body's path), and a body merged or dissolved with its cadres moved, or refused naming them."""

from registry_testkit import LAMDONG, RW, Api, principal

from contracts.enums import ManagementTier
from contracts.scope import Grant

BQP = {"path": "VN.BQP", "name": "Ban BVCSSK cán bộ Bộ Quốc phòng", "kind": "non_territorial", "valid_from": "2020-01-01"}
QK7 = {**BQP, "path": "VN.BQP.7", "name": "Hội đồng BVSK cán bộ Quân khu 7"}
BCA = {**BQP, "path": "VN.BCA", "name": "Ban BVCSSK cán bộ Bộ Công an"}
DEFENCE_BOARD = principal("user:bqp", (Grant(unit_path="VN.BQP", tiers=frozenset(ManagementTier), actions=RW),))


async def test_bodies_are_opened_listed_and_manage_cadres_in_their_own_scope(api: Api) -> None:
    created = await api.post("/bodies", json=BQP)
    assert created.status_code == 201, created.text
    assert (created.json()["level"], created.json()["valid_to"]) == ("province", None)
    assert (await api.post("/bodies", json=BQP)).status_code == 409
    assert (await api.post("/bodies", LAMDONG, json=BCA)).status_code == 403  # a board's staff opens no body
    province = await api.post("/bodies", json={**BQP, "path": "VN.68", "kind": "territorial", "name": "Ban BVCSSK tỉnh"})
    assert province.status_code == 201 and province.json()["level"] == "province"

    refusals = {
        "a unit code": {**BCA, "path": "VN.68.999"},
        "no such unit": {**BQP, "path": "VN.99", "kind": "territorial"},
        "wrong level": {**BQP, "path": "VN.68.672", "kind": "territorial", "level": "province"},
        "in the future": {**BCA, "valid_from": "2999-01-01"},
    }
    for case, body in refusals.items():
        refused = await api.post("/bodies", json=body)
        assert refused.status_code == 422, (case, refused.text)
    assert [b["path"] for b in (await api.get("/bodies", LAMDONG)).json()] == ["VN.68", "VN.BQP"]

    cadre = await api.create(managing_unit="VN.BQP", tier="provincial_2")
    wrong_tier = await api.post("/cadres", json={**cadre_fields(cadre), "tier": "district", "national_id": "068058999001"})
    assert wrong_tier.status_code == 422 and wrong_tier.json()["errors"][0]["loc"] == ["tier"]
    assert (await api.get(f"/cadres/{cadre['id']}", DEFENCE_BOARD)).status_code == 200
    assert (await api.get(f"/cadres/{cadre['id']}", LAMDONG)).status_code == 404  # Lâm Đồng's board: not its cadre
    unknown = await api.post("/cadres", json={**cadre_fields(cadre), "managing_unit": "VN.BCA", "national_id": "068058999002"})
    assert unknown.status_code == 422 and "no current unit or managing body 'VN.BCA'" in unknown.json()["errors"][0]["msg"]


def cadre_fields(cadre: dict[str, object]) -> dict[str, object]:
    keep = ("full_name", "date_of_birth", "sex", "tier", "managing_unit", "status", "status_since")
    return {k: cadre[k] for k in keep}


async def test_a_merged_body_hands_its_cadres_over_and_a_refused_closure_changes_nothing(api: Api) -> None:
    for body in (BQP, QK7, BCA):
        assert (await api.post("/bodies", json=body)).status_code == 201
    in_qk7 = [await api.create(managing_unit="VN.BQP.7", tier=t) for t in ("provincial_1", "treatment_only")]
    in_bca = await api.create(managing_unit="VN.BCA", tier="provincial_1")
    before = len(await api.outbox())

    to_a_district = {
        "kind": "dissolve",
        "bodies": ["VN.BCA"],
        "into": "VN.68.672",
        "effective_date": "2026-01-01",
        "reason": "giải thể",
    }
    refused = await api.post("/bodies/closures", json=to_a_district)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["loc"] == ["into"] and in_bca["id"] in refused.json()["errors"][0]["msg"]
    too_early = await api.post("/bodies/closures", json={**to_a_district, "into": "VN.BQP", "effective_date": "2010-01-01"})
    assert too_early.status_code == 422  # before the body began
    not_a_body = await api.post("/bodies/closures", json={**to_a_district, "bodies": ["VN.68.672"], "into": "VN.BQP"})
    assert not_a_body.status_code == 422 and not_a_body.json()["errors"][0]["loc"] == ["bodies", 0]
    assert (await api.post("/bodies/closures", LAMDONG, json={**to_a_district, "into": "VN.BQP"})).status_code == 403
    assert len(await api.outbox()) == before
    assert (await api.get(f"/cadres/{in_bca['id']}")).json()["managing_unit"] == "VN.BCA"

    merge = {"kind": "merge", "bodies": ["VN.BQP.7"], "into": "VN.BQP", "effective_date": "2026-01-01", "reason": "hợp nhất"}
    merged = await api.post("/bodies/closures", json=merge)
    assert merged.status_code == 201, merged.text
    assert merged.json() == {"closed": ["VN.BQP.7"], "into": "VN.BQP", "effective_date": "2026-01-01", "moved_cadres": 2}
    for cadre in in_qk7:
        assert (await api.get(f"/cadres/{cadre['id']}", DEFENCE_BOARD)).json()["managing_unit"] == "VN.BQP"
        history = (await api.get(f"/cadres/{cadre['id']}/history")).json()
        assert (history[-1]["field"], history[-1]["old_value"], history[-1]["new_value"]) == (
            "managing_unit",
            "VN.BQP.7",
            "VN.BQP",
        )
    events = [t for _, t in (await api.outbox())[before:]]
    assert events == ["vn.cadrecare.registry.cadre.transferred"] * 2 + ["vn.cadrecare.registry.unit.reorganized"]
    versions = (await api.get("/bodies", params={"all_versions": True})).json()
    closed = next(b for b in versions if b["path"] == "VN.BQP.7")
    assert (closed["valid_to"], closed["successor"]) == ("2026-01-01", "VN.BQP")
    assert "VN.BQP.7" not in [b["path"] for b in (await api.get("/bodies")).json()]
    again = await api.post("/bodies/closures", json=merge)
    assert again.status_code == 422  # a closed body is no current body


async def test_a_units_board_ends_with_the_unit_and_a_surviving_units_board_stays(api: Api) -> None:
    for path in ("VN.67", "VN.68"):
        body = {"path": path, "name": f"Ban BVCSSK cán bộ {path}", "kind": "territorial", "valid_from": "2020-01-01"}
        assert (await api.post("/bodies", json=body)).status_code == 201
    merge = {"kind": "merge", "sources": ["VN.68", "VN.67"], "target": "VN.68"}
    merged = await api.post(
        "/units/reorganisations", json={"effective_date": "2025-07-01", "reason": "sáp nhập", "operations": [merge]}
    )
    assert merged.status_code == 201, merged.text
    assert [b["path"] for b in (await api.get("/bodies")).json()] == ["VN.68"]
    closed = next(b for b in (await api.get("/bodies", params={"all_versions": True})).json() if b["path"] == "VN.67")
    assert (closed["valid_to"], closed["successor"]) == ("2025-07-01", "VN.68")
