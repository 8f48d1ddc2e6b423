"""Management tiers as effective-dated rules: the rule alone, then the stored rules through the API on SQLite and
PostgreSQL (listing, a province's own rule, and registrations and transfers checked on their effective date)."""

from datetime import date

from registry_testkit import ADMIN, LAMDONG, Api, cadre_body

from contracts.enums import ManagementTier, UnitLevel
from registry.domain import DEFAULT_TIER_RULES, REFORM_2025, TierRule, allowed_tiers, tier_allowed, tier_problem

T, L = ManagementTier, UnitLevel
BEFORE, AFTER = date(2025, 6, 30), REFORM_2025


def test_the_national_rules_end_the_district_tier_and_begin_the_commune_tier_on_1_july_2025() -> None:
    rules = DEFAULT_TIER_RULES
    assert tier_allowed(rules, L.DISTRICT, T.DISTRICT, "VN.68", BEFORE)
    assert not tier_allowed(rules, L.DISTRICT, T.DISTRICT, "VN.68", AFTER)
    assert tier_allowed(rules, L.COMMUNE, T.DISTRICT, "VN.68", BEFORE) and not tier_allowed(
        rules, L.COMMUNE, T.DISTRICT, None, AFTER
    )
    assert not tier_allowed(rules, L.COMMUNE, T.COMMUNE, "VN.68", BEFORE) and tier_allowed(
        rules, L.COMMUNE, T.COMMUNE, "VN.68", AFTER
    )
    assert allowed_tiers(rules, L.NATION, None, AFTER) == {T.CENTRAL}
    assert allowed_tiers(rules, L.PROVINCE, "VN.68", AFTER) == {
        T.CENTRAL,
        T.PROVINCIAL_1,
        T.PROVINCIAL_2,
        T.PROVINCIAL_3,
        T.TREATMENT_ONLY,
    }
    assert allowed_tiers(rules, L.COMMUNE, "VN.68", AFTER) == {T.COMMUNE, T.TREATMENT_ONLY}
    assert not tier_allowed(rules, L.PROVINCE, T.COMMUNE, "VN.68", AFTER)


def test_a_provinces_rule_allows_only_there_and_only_then() -> None:
    rules = (*DEFAULT_TIER_RULES, TierRule(T.PROVINCIAL_3, L.COMMUNE, "VN.68", date(2026, 1, 1), date(2027, 1, 1)))
    assert tier_allowed(rules, L.COMMUNE, T.PROVINCIAL_3, "VN.68", date(2026, 6, 1))
    assert not tier_allowed(rules, L.COMMUNE, T.PROVINCIAL_3, "VN.56", date(2026, 6, 1))  # another province
    assert not tier_allowed(rules, L.COMMUNE, T.PROVINCIAL_3, "VN.68", date(2027, 1, 1))  # valid_to is the first day after
    problem = tier_problem(rules, L.COMMUNE, T.PROVINCIAL_3, "VN.68", date(2025, 12, 31))
    assert problem == (
        "a commune board in VN.68 does not manage tier 'provincial_3' on 2025-12-31; allowed then: ['commune', 'treatment_only']"
    )
    assert tier_problem(rules, L.COMMUNE, T.PROVINCIAL_3, "VN.68", date(2026, 1, 1)) is None


async def test_the_rules_are_listed_and_a_province_adds_its_own(api: Api) -> None:
    listed = await api.get("/tiers/rules", LAMDONG)
    assert listed.status_code == 200, listed.text
    national = {(r["tier"], r["level"], r["valid_from"], r["valid_to"]) for r in listed.json()}
    assert ("district", "district", "1900-01-01", "2025-07-01") in national
    assert ("commune", "commune", "2025-07-01", None) in national
    assert all(r["province"] is None for r in listed.json())

    rule = {
        "tier": "provincial_3",
        "level": "commune",
        "province": "VN.68",
        "valid_from": "2026-01-01",
        "reason": "Quy định của Tỉnh ủy: đối tượng 3 do đảng ủy xã quản lý",
    }
    assert (await api.post("/tiers/rules", LAMDONG, json=rule)).status_code == 403  # a board's staff: no permission
    added = await api.post("/tiers/rules", json=rule)
    assert added.status_code == 201, added.text
    assert added.json()["recorded_by"] == ADMIN.subject and added.json()["valid_to"] is None
    mine = (await api.get("/tiers/rules", params={"province": "VN.68"})).json()
    others = (await api.get("/tiers/rules", params={"province": "VN.56"})).json()
    assert len(mine) == len(national) + 1 and len(others) == len(national)

    backwards = await api.post("/tiers/rules", json={**rule, "valid_to": "2025-01-01"})
    assert backwards.status_code == 422 and backwards.json()["errors"][0]["loc"] == ["body"]
    not_a_province = await api.post("/tiers/rules", json={**rule, "province": "VN.68.672"})
    assert not_a_province.status_code == 422 and not_a_province.json()["errors"][0]["loc"] == ["body", "province"]
    assert len((await api.get("/tiers/rules")).json()) == len(national) + 1  # the refusals changed nothing


async def test_registration_and_transfer_check_the_tier_on_their_effective_date(api: Api) -> None:
    before = await api.post("/cadres", json=cadre_body(managing_unit="VN.68.672", tier="district", status_since="2025-06-30"))
    assert before.status_code == 201, before.text
    after = await api.post("/cadres", json=cadre_body(managing_unit="VN.68.672", tier="district", status_since="2025-07-01"))
    assert after.status_code == 422
    assert after.json()["errors"][0]["loc"] == ["tier"]
    assert "does not manage tier 'district' on 2025-07-01" in after.json()["errors"][0]["msg"]

    ward = "VN.68.672.24778"
    commune = {"path": ward, "code": "24778", "name": "Phường 1", "level": "commune", "parent_path": "VN.68.672"}
    assert (await api.post("/units/import", json=[{**commune, "valid_from": "2004-01-01"}])).status_code == 200
    commune_tier = {"managing_unit": ward, "tier": "commune"}
    too_early = await api.post("/cadres", json=cadre_body(**commune_tier, status_since="2025-06-01"))
    assert too_early.status_code == 422 and "'commune' on 2025-06-01" in too_early.json()["errors"][0]["msg"]
    assert (await api.post("/cadres", json=cadre_body(**commune_tier, status_since="2025-08-01"))).status_code == 201

    moved_before = await api.post(
        f"/cadres/{before.json()['id']}/transfer",
        json={"to_unit": "VN.68.673", "effective_date": "2025-06-30", "reason": "chuyển"},
    )
    assert moved_before.status_code == 200, moved_before.text
    moved_after = await api.post(
        f"/cadres/{before.json()['id']}/transfer",
        json={"to_unit": "VN.68.672", "effective_date": "2025-07-02", "reason": "chuyển"},
    )
    assert moved_after.status_code == 422 and moved_after.json()["errors"][0]["loc"] == ["to_unit"]
