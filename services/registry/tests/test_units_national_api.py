"""Loading the national units through the API on SQLite and PostgreSQL: idempotent, on top of the demo's hand-loaded
Lâm Đồng units (the `api` fixture's), and moving the cadres of retired units with their history and events."""

import uuid
from collections import Counter
from typing import Any

import pytest
from registry_testkit import LAMDONG, Api
from sqlalchemy import select

from contracts.envelope import DomainEvent, EventEnvelope
from contracts.events import parse_payload
from contracts.events.registry import CadreTierChanged, CadreTransferred
from registry.domain import DEFAULT_TIER_RULES
from registry.tables import KIT
from registry.units.national import national_units
from registry.units.national_moves import move_to_successors
from servicekit.errors import Refused

TRANSFERRED = "vn.cadrecare.registry.cadre.transferred"
TIER_CHANGED = "vn.cadrecare.registry.cadre.tier_changed"
REORGANIZED = "vn.cadrecare.registry.unit.reorganized"
CREATED = "vn.cadrecare.registry.unit.created"


def levels(answer: Any) -> Counter[str]:
    assert answer.status_code == 200, answer.text
    return Counter(u["level"] for u in answer.json())


async def cadre_events(api: Api, after: int) -> list[tuple[EventEnvelope, DomainEvent]]:
    """The cadre events in the outbox after the first `after` rows, parsed back with the contracts' parser."""
    runtime = api.http._transport.app.state.runtime  # type: ignore[attr-defined]
    async with runtime.db.transaction() as session:
        rows = (await session.execute(select(KIT.outbox.c.headers, KIT.outbox.c.payload).order_by(KIT.outbox.c.id))).all()
    parsed = []
    for headers, payload in rows[after:]:
        envelope = EventEnvelope.from_kafka([(name, value.encode()) for name, value in headers], bytes(payload))
        if envelope.type.startswith("vn.cadrecare.registry.cadre."):
            parsed.append((envelope, parse_payload(envelope)))
    return parsed


async def load(api: Api, **body: Any) -> dict[str, Any]:
    answer = await api.post("/units/national", json=body)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


async def test_the_whole_country_once_then_nothing_new(api: Api) -> None:
    events_before = len(await api.outbox())
    first = await load(api, stage="all")
    assert first["created"] > 14000 and first["closed"] > 10000
    # and the fixture's Đạ Huoai (681) and Cát Tiên (683), merged in 2024 before the data set: the new province succeeds them
    assert first["successions"] == len(national_units().successors) + 2
    assert first["already_present"] >= 30  # the fixture's VN, 3 provinces, 30 districts: kept, not duplicated
    events = (await api.outbox())[events_before:]
    assert Counter(t for _, t in events) == {CREATED: first["created"] - 3344, REORGANIZED: 34}  # new communes: in the 34

    again = await load(api, stage="all")
    assert again["created"] == again["closed"] == again["successions"] == again["moved_cadres"] == again["events"] == 0
    assert again["reorganisation_id"] == first["reorganisation_id"]
    assert len(await api.outbox()) == events_before + len(events)

    assert levels(await api.get("/units", params={"on": "2025-06-30"}))["province"] == 63
    assert levels(await api.get("/units")) == {"nation": 1, "province": 34, "commune": 3321}
    assert levels(await api.get("/units", params={"under": "VN.68"})) == {"province": 1, "commune": 124}
    da_lat = await api.get("/units", params={"all_versions": True, "under": "VN.68.672"})
    district = da_lat.json()[0]
    assert (district["path"], district["valid_from"], district["valid_to"]) == ("VN.68.672", "2004-01-01", "2025-07-01")
    assert len(da_lat.json()) == 17  # the district (one version) and its 16 communes


async def test_cadres_of_retired_units_move_to_their_successors(api: Api) -> None:
    await load(api, stage="legacy", provinces=["VN.68"])
    province = await api.create(managing_unit="VN.67", tier="provincial_1")
    resident = await api.create(managing_unit="VN.68.672", tier="district", residence_unit="VN.68.672.24808")
    elsewhere = await api.create(managing_unit="VN.68.672", tier="district", residence_unit="VN.67.660")
    split_here = await api.create(managing_unit="VN.60.595.22978", tier="treatment_only", residence_unit="VN.68.22978")
    split_default = await api.create(managing_unit="VN.60.595.22978", tier="treatment_only")
    group_3 = await api.create(managing_unit="VN.60.593", tier="district")
    stays = await api.create(managing_unit="VN.68", tier="provincial_2")
    events_before = len(await api.outbox())

    result = await load(api, stage="2025", provinces=["VN.68"], retier={})
    assert result["moved_cadres"] == 6 and result["retiered_cadres"] == 3
    data = national_units()
    tà_nung = data.successors_of("VN.68.672.24808")[0].new_path
    expected = {
        province["id"]: ("VN.68", "provincial_1"),
        resident["id"]: (tà_nung, "commune"),
        elsewhere["id"]: (data.successors_of("VN.68.672")[0].new_path, "commune"),
        split_here["id"]: ("VN.68.22978", "treatment_only"),
        split_default["id"]: ("VN.68.22972", "treatment_only"),
        group_3["id"]: (data.successors_of("VN.60.593")[0].new_path, "commune"),
        stays["id"]: ("VN.68", "provincial_2"),
    }
    for cadre_id, (unit, tier) in expected.items():
        now = (await api.get(f"/cadres/{cadre_id}")).json()
        assert (now["managing_unit"], now["tier"]) == (unit, tier), now
    history = (await api.get(f"/cadres/{resident['id']}/history")).json()
    changed = {
        h["field"]: (h["old_value"], h["new_value"], h["effective_date"]) for h in history if h["operation"] == "reorganised"
    }
    assert changed == {"managing_unit": ("VN.68.672", tà_nung, "2025-07-01"), "tier": ("district", "commune", "2025-07-01")}
    events = (await api.outbox())[events_before:]
    assert Counter(t for _, t in events) == {TIER_CHANGED: 3, TRANSFERRED: 6, REORGANIZED: 1}

    for envelope, event in await cadre_events(api, events_before):  # as a consumer reads them, on either database
        assert isinstance(event, CadreTransferred | CadreTierChanged)
        assert envelope.subject == str(event.cadre.id) and envelope.managing_unit == event.cadre.managing_unit
        assert (event.cadre.managing_unit, event.cadre.tier.value) == expected[str(event.cadre.id)]
        assert event.effective_date.isoformat() == "2025-07-01"
        if isinstance(event, CadreTransferred):
            assert event.reorganisation_id is not None and event.cadre.full_name == "Nguyễn Văn Đức"

    counts = await api.get("/cadre-counts", params={"unit": "VN.68.672", "on": "2025-06-30"})
    assert sum(c["count"] for c in counts.json()) == 2  # the past stays as it was
    assert (await api.get("/cadres", params={"unit": "VN.68", "limit": 50})).json()["total"] == 7  # all under the new province
    again = await load(api, stage="2025", provinces=["VN.68"])
    assert again["moved_cadres"] == again["events"] == again["created"] == 0


async def test_the_province_may_choose_provincial_group_3(api: Api) -> None:
    await load(api, stage="legacy", provinces=["VN.68"])
    cadre = await api.create(managing_unit="VN.67.660", tier="district")
    result = await load(api, stage="2025", provinces=["VN.68"], retier={"VN.68": "provincial_3"})
    assert result["retiered_cadres"] == 1
    now = (await api.get(f"/cadres/{cadre['id']}")).json()
    assert (now["managing_unit"], now["tier"]) == ("VN.68", "provincial_3")


async def test_a_move_the_tier_rules_forbid_is_refused_naming_the_cadre(api: Api) -> None:
    await load(api, stage="legacy", provinces=["VN.68"])
    cadre = await api.create(managing_unit="VN.68.672", tier="district")
    runtime = api.http._transport.app.state.runtime  # type: ignore[attr-defined]
    no_commune_tier = tuple(r for r in DEFAULT_TIER_RULES if r.tier != "commune")
    data = national_units().for_provinces(["VN.68"])
    async with runtime.db.transaction() as session:
        with pytest.raises(Refused) as refused:
            await move_to_successors(session, data, {}, no_commune_tier, uuid.uuid4(), "test")
    assert refused.value.errors[0].loc == ["cadres", cadre["id"]]
    assert (await api.get(f"/cadres/{cadre['id']}")).json()["managing_unit"] == "VN.68.672"


async def test_bad_input_changes_nothing(api: Api) -> None:
    before = len(await api.outbox())
    for body, field in (
        ({"stage": "1990"}, "stage"),
        ({"provinces": ["VN.67"]}, "provinces"),
        ({"retier": {"VN.99": "commune"}}, "retier"),
    ):
        answer = await api.post("/units/national", json=body)
        assert answer.status_code == 422, answer.text
        assert field in str(answer.json()), answer.text
    assert (await api.post("/units/national", LAMDONG, json={"stage": "2025"})).status_code == 403
    assert len(await api.outbox()) == before
