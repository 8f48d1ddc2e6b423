"""The dashboard's map and drill-down, and its comparison with the previous period, on SQLite and PostgreSQL:
coverage by unit with the units' names and coordinates (from the registry's unit events), banded against the
target, the previous period's beside it; scope (another province's unit answers 404)."""

import uuid
from datetime import date
from typing import Any

from reporting_testkit import ADMIN, CENTRAL, DALAT, LAMDONG, World, snapshot

from contracts.enums import CadreStatus, ManagementTier, UnitLevel
from contracts.events.registry import CadreRegistered, UnitCreated, UnitSnapshot
from contracts.events.scheduling import ExamPlanPublished, InvitationIssued, InvitationStatusChanged, RoundSnapshot
from contracts.scope import Principal
from reporting.dashboard.targets import previous_period

# two of today's communes of Lâm Đồng, at their coordinates in the national data set
XUAN_HUONG = UnitSnapshot(
    path="VN.68.24781",
    code="24781",
    name="Phường Xuân Hương - Đà Lạt",
    level=UnitLevel.COMMUNE,
    parent_path="VN.68",
    valid_from=date(2025, 7, 1),
    latitude=11.9404,
    longitude=108.4583,
)
BAO_LOC = XUAN_HUONG.model_copy(
    update={"path": "VN.68.25195", "code": "25195", "name": "Phường 1 Bảo Lộc", "latitude": 11.5480, "longitude": 107.8077}
)
H1_2026 = {"period_start": "2026-01-01", "period_end": "2026-06-30"}


async def get(world: World, who: Principal, path: str, **params: str) -> Any:
    return await world.http.get(path, params=params, headers=world.sign(who))


async def examine(world: World, commune: str, invited: int, attended: int, day: date) -> None:
    """`invited` cadres of a commune invited on `day`, `attended` of them examined."""
    plan, round_id = uuid.uuid4(), uuid.uuid4()
    rounds = [RoundSnapshot(id=round_id, number=1, starts_on=day, ends_on=day)]
    await world.feed.send(ExamPlanPublished(plan_id=plan, board_unit="VN.68", year=day.year, title="KH", rounds=rounds))
    for i in range(invited):
        cadre = snapshot(commune, ManagementTier.PROVINCIAL_3, CadreStatus.ACTIVE, date(2025, 7, 1))
        await world.feed.send(CadreRegistered(cadre=cadre), subject=str(cadre.id))
        invitation = uuid.uuid4()
        common = {"invitation_id": invitation, "plan_id": plan, "round_id": round_id, "cadre_id": cadre.id}
        await world.feed.send(
            InvitationIssued(**common, tier=cadre.tier, managing_unit=commune, facility="68-BVDK", appointment_date=day),
            subject=str(invitation),
        )
        outcome = "attended" if i < attended else "no_show"
        await world.feed.send(
            InvitationStatusChanged(**common, previous_status="invited", status=outcome, effective_date=day),
            subject=str(invitation),
        )


async def communes(world: World) -> None:
    for u in (XUAN_HUONG, BAO_LOC):
        await world.feed.send(UnitCreated(unit=u), subject=u.path)
    await examine(world, XUAN_HUONG.path, 10, 9, date(2026, 3, 2))  # 90%: green
    await examine(world, XUAN_HUONG.path, 10, 7, date(2025, 10, 2))  # the half before: 70%
    await examine(world, BAO_LOC.path, 10, 5, date(2026, 3, 3))  # 50%: red


def test_the_previous_period_is_as_long_just_before() -> None:
    assert previous_period(date(2023, 1, 1), date(2023, 6, 30)) == (date(2022, 7, 1), date(2022, 12, 31))
    assert previous_period(date(2023, 3, 1), date(2023, 3, 31)) == (date(2023, 2, 1), date(2023, 2, 28))
    assert previous_period(date(2023, 1, 10), date(2023, 1, 19)) == (date(2022, 12, 31), date(2023, 1, 9))


async def test_drill_down_from_the_province_to_its_communes_with_names_coordinates_and_bands(world: World) -> None:
    await communes(world)
    answer = await get(world, LAMDONG, "/coverage-map", unit="VN.68", **H1_2026)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [c["name"] for c in body["trail"]] == ["Việt Nam", "Tỉnh Lâm Đồng"]
    assert body["target"] == {"target": 85.0, "amber_margin": 15.0}
    assert (body["previous_start"], body["previous_end"]) == ("2025-07-01", "2025-12-31")
    children = {c["path"]: c for c in body["children"]}
    xuan_huong, bao_loc = children[XUAN_HUONG.path], children[BAO_LOC.path]
    assert xuan_huong["name"] == "Phường Xuân Hương - Đà Lạt"
    assert (xuan_huong["latitude"], xuan_huong["longitude"]) == (11.9404, 108.4583)
    assert (xuan_huong["invited"], xuan_huong["examined"], xuan_huong["rate"], xuan_huong["band"]) == (10, 9, 90.0, "green")
    assert (xuan_huong["previous_rate"], xuan_huong["change"]) == (70.0, 20.0)
    assert (bao_loc["rate"], bao_loc["band"], bao_loc["previous_rate"], bao_loc["change"]) == (50.0, "red", None, None)
    assert body["unit"]["invited"] == 20 and body["unit"]["rate"] == 70.0 and body["unit"]["band"] == "amber"

    commune = (await get(world, LAMDONG, "/coverage-map", unit=XUAN_HUONG.path, **H1_2026)).json()
    assert [c["path"] for c in commune["trail"]] == ["VN", "VN.68", XUAN_HUONG.path]  # the breadcrumbs back up
    assert commune["children"] == [] and commune["unit"]["rate"] == 90.0

    nation = (await get(world, ADMIN, "/coverage-map", unit="VN", **H1_2026)).json()
    provinces = {c["path"]: c for c in nation["children"]}
    assert set(provinces) == {"VN.68", "VN.52"} and provinces["VN.68"]["examined"] == 14
    units = {u["path"]: u for u in (await get(world, LAMDONG, "/units")).json()}
    assert units["VN.68"]["name"] == "Tỉnh Lâm Đồng" and units["VN.68"]["latitude"] is None  # entered without


async def test_the_map_in_scope_and_hidden_small_cells(world: World) -> None:
    await communes(world)
    assert (await get(world, LAMDONG, "/coverage-map", unit="VN.52", **H1_2026)).status_code == 404
    assert (await get(world, DALAT, "/coverage-map", unit=XUAN_HUONG.path, **H1_2026)).status_code == 404
    dalat = (await get(world, DALAT, "/coverage-map", unit="VN.68", **H1_2026)).json()
    assert [c["path"] for c in dalat["children"]] == ["VN.68.672"]  # no sibling district, no commune of others
    central = (await get(world, CENTRAL, "/coverage-map", unit="VN.68", **H1_2026)).json()
    assert central["aggregate_only"] is True
    shown = {c["path"]: (c["invited"], c["rate"]) for c in central["children"]}
    assert shown[XUAN_HUONG.path] == (10, 90.0) and shown["VN.68.672"] == (None, None)  # fewer than 10: hidden
    bad = await get(world, LAMDONG, "/coverage-map", unit="VN.68", period_start="2026-06-30", period_end="2026-01-01")
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_period"


async def test_comparison_with_the_previous_half_year(world: World) -> None:
    answer = await get(world, LAMDONG, "/comparison", unit="VN.68", period_start="2023-01-01", period_end="2023-06-30")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["previous_start"], body["previous_end"], body["unit_name"]) == ("2022-07-01", "2022-12-31", "Tỉnh Lâm Đồng")
    figures = {f["key"]: (f["current"], f["previous"], f["change"]) for f in body["figures"]}
    assert figures["cadres"] == (19, 18, 1)
    assert figures["invited"] == (11, 0, 11) and figures["examined"] == (9, 0, 9)
    assert figures["coverage_rate"] == (81.81, None, None)  # nobody invited before: no rate to compare
    assert figures["abnormal"] == (2, 0, 2) and figures["outpatient_visits"] == (5, 0, 5)
    assert (await get(world, LAMDONG, "/comparison", unit="VN.52")).status_code == 404
