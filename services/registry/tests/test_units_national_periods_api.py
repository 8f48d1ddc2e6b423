"""The national move's periods and history on SQLite and PostgreSQL (which writes them set-based, units/national_bulk):
a cadre whose later change (a retirement dated after 1 July 2025) is already recorded keeps it, under the unit and
tier the reorganisation gave; as-of counts before, across and after the reform date say so."""

from typing import Any

from registry_testkit import Api, counts

from registry.units.national import national_units


async def load(api: Api, **body: Any) -> dict[str, Any]:
    answer = await api.post("/units/national", json=body)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


async def test_later_periods_follow_the_move_and_the_new_tier(api: Api) -> None:
    await load(api, stage="legacy", provinces=["VN.68"])
    active = {"status": "active", "status_since": "2018-04-01"}
    retires = await api.create(managing_unit="VN.68.672", tier="district", residence_unit="VN.68.672.24808", **active)
    stays_active = await api.create(managing_unit="VN.60", tier="provincial_2", **active)
    retired = await api.post(f"/cadres/{retires['id']}/retirement", json={"effective_date": "2025-08-01"})
    assert retired.status_code == 200, retired.text

    result = await load(api, stage="2025", provinces=["VN.68"])
    assert (result["moved_cadres"], result["retiered_cadres"]) == (2, 1)
    commune = national_units().successors_of("VN.68.672.24808")[0].new_path

    def on(unit: str, day: str) -> Any:
        return api.get("/cadre-counts", params={"unit": unit, "on": day})

    assert counts(await on("VN.68.672", "2025-06-30")) == {("VN.68.672", "district", "active"): 1}
    assert counts(await on("VN.60", "2025-06-30")) == {("VN.60", "provincial_2", "active"): 1}
    assert counts(await on("VN.68", "2025-07-15")) == {
        (commune, "commune", "active"): 1,
        ("VN.68", "provincial_2", "active"): 1,
    }
    assert counts(await on("VN.68", "2025-09-01")) == {
        (commune, "commune", "retired"): 1,  # the retirement recorded before the move keeps its date
        ("VN.68", "provincial_2", "active"): 1,
    }
    assert counts(await on("VN.68.672", "2025-09-01")) == {}

    now = (await api.get(f"/cadres/{retires['id']}")).json()
    assert (now["managing_unit"], now["tier"], now["status"]) == (commune, "commune", "retired")
    history = (await api.get(f"/cadres/{stays_active['id']}/history")).json()
    reorganised = [(h["field"], h["old_value"], h["new_value"]) for h in history if h["operation"] == "reorganised"]
    assert reorganised == [("managing_unit", "VN.60", "VN.68")]  # its tier did not change: no line for it


async def test_a_re_tiered_card_holder_gets_a_new_card(api: Api) -> None:
    """As any re-tiering does (registry.moves): the tier is printed on the card."""
    await load(api, stage="legacy", provinces=["VN.68"])
    holder = await api.create(managing_unit="VN.68.672", tier="district", residence_unit="VN.68.672.24808", status="active")
    card = await api.post(f"/cadres/{holder['id']}/cards", json={"reason": "cấp thẻ lần đầu"})
    assert card.status_code == 201, card.text
    events_before = len(await api.outbox())

    result = await load(api, stage="2025", provinces=["VN.68"])
    assert (result["moved_cadres"], result["retiered_cadres"]) == (1, 1)
    now = (await api.get(f"/cadres/{holder['id']}")).json()
    assert now["tier"] == "commune" and now["card_number"] not in (None, card.json()["number"])
    cards = {c["number"]: c["valid"] for c in (await api.get(f"/cadres/{holder['id']}/cards")).json()}
    assert cards == {card.json()["number"]: False, now["card_number"]: True}
    issued = [t for _, t in (await api.outbox())[events_before:] if t == "vn.cadrecare.registry.cadre.card_issued"]
    assert len(issued) == 1
    history = (await api.get(f"/cadres/{holder['id']}/history")).json()
    assert {(h["operation"], h["field"]) for h in history} >= {("reorganised", "tier"), ("card_issued", "card_number")}
