"""Grants follow reorganisations of units and managing bodies and never widen (gateway.domain.grant_successors):
the rule alone, then through the gateway's consumer with its database on SQLite and on PostgreSQL."""

from datetime import date

from board_seed import API, principals
from gateway_harness import PlatformFactory, user

from contracts import roles
from contracts.events.registry import UnitSnapshot, UnitsReorganized
from contracts.scope import PrincipalKind
from gateway.domain import grant_successors

DISSOLVE_DALAT = {  # the district level ends: Đà Lạt's wards move up to the province
    "VN.68.672": ["VN.68"],
    "VN.68.672.24778": ["VN.68.24778"],
    "VN.68.672.24781": ["VN.68.24781"],
}
DISSOLVED_WARDS = ["VN.68.24778", "VN.68.24781"]


def test_a_dissolved_districts_grant_becomes_grants_on_its_former_communes_never_the_province() -> None:
    assert grant_successors("VN.68.672", DISSOLVE_DALAT, DISSOLVED_WARDS) == DISSOLVED_WARDS
    assert grant_successors("VN.68.672.24781", DISSOLVE_DALAT, DISSOLVED_WARDS) == ["VN.68.24781"]
    assert grant_successors("VN.68.672", DISSOLVE_DALAT, []) == []  # no unit begins: nothing safe, revoked
    assert grant_successors("VN.68", DISSOLVE_DALAT, DISSOLVED_WARDS) is None  # the province is untouched


def test_a_merge_moves_a_grant_only_onto_what_came_from_its_own_territory() -> None:
    into_survivor = {"VN.68": ["VN.68"], "VN.67": ["VN.68"], "VN.67.660": ["VN.68.660"], "VN.67.660.24800": ["VN.68.660.24800"]}
    created = ["VN.68", "VN.68.660", "VN.68.660.24800"]
    assert grant_successors("VN.67", into_survivor, created) == ["VN.68.660"]  # its own district, not the new province
    assert grant_successors("VN.67.660", into_survivor, created) == ["VN.68.660"]
    assert grant_successors("VN.68", into_survivor, created) == ["VN.68"]  # the survivor's board is the new board
    into_new = {"VN.60": ["VN.99"], "VN.67": ["VN.99"]}
    assert grant_successors("VN.67", into_new, ["VN.99"]) == []  # the new province also holds Bình Thuận
    recoded = {"VN.69": ["VN.68"], "VN.69.699": ["VN.68.699"]}
    assert grant_successors("VN.69", recoded, ["VN.68", "VN.68.699"]) == ["VN.68"]  # one source, a new unit: safe


def test_a_split_keeps_the_grant_on_every_part_and_a_closed_body_keeps_nothing() -> None:
    split = {"VN.62.610": ["VN.62.610", "VN.62.611"]}
    assert grant_successors("VN.62.610", split, ["VN.62.610", "VN.62.611"]) == ["VN.62.610", "VN.62.611"]
    closed_body = {"VN.BQP.7": ["VN.BQP"]}  # a body closed into another: no unit version begins
    assert grant_successors("VN.BQP.7", closed_body, []) == []
    assert grant_successors("VN.BQP", closed_body, []) is None


def _unit(path: str, level: str, valid_to: date | None = None) -> UnitSnapshot:
    parent = path.rsplit(".", 1)[0]
    return UnitSnapshot(
        path=path, code=path.rsplit(".", 1)[-1], name=path, level=level, parent_path=parent, valid_from=date(2004, 1, 1),
        valid_to=valid_to,
    )  # fmt: skip


async def test_grants_follow_reorganisations_through_the_consumer(make_platform: PlatformFactory, database_url: str) -> None:
    seeded = principals()
    seeded.users.append(user("quankhu7", PrincipalKind.STAFF, roles.district_board("VN.BQP.7"), roles.STAFF_PERMISSIONS))
    platform = await make_platform(seeded, gateway_database_url=database_url)
    http = platform.http
    admin = await platform.headers("admin")

    async def grants_of(name: str) -> list[str]:
        me = (await http.get(f"{API}/auth/me", headers=await platform.headers(name))).json()
        return sorted(g["unit_path"] for g in me["grants"])

    merge = UnitsReorganized(
        kind="merge",
        effective_date=date(2025, 7, 1),
        retired_units=[_unit("VN.68.674", "district", date(2025, 7, 1)), _unit("VN.68.672", "district", date(2025, 7, 1))],
        created_units=[_unit("VN.68.672", "district")],
        mapping={"VN.68.674": ["VN.68.672"], "VN.68.672": ["VN.68.672"]},
        moved_cadres=0,
    )
    await platform.publish_to_gateway(merge, "VN.68.672")
    assert await grants_of("dilinh") == []  # Di Linh's board would see Đà Lạt's cadres: revoked, not moved
    assert await grants_of("dalat") == ["VN.68.672"]
    history = (
        await http.get(f"{API}/gateway/grants", params={"subject": "user:dilinh", "history": "true"}, headers=admin)
    ).json()
    assert [(g["revoked_by"], "widen" in g["revoke_reason"]) for g in history] == [("system:reorganisation", True)]

    dissolve = UnitsReorganized(
        kind="dissolve",
        effective_date=date(2025, 7, 1),
        retired_units=[_unit("VN.68.672", "district", date(2025, 7, 1))],
        created_units=[_unit(path, "commune") for path in DISSOLVED_WARDS],
        mapping=DISSOLVE_DALAT,
        moved_cadres=0,
    )
    await platform.publish_to_gateway(dissolve, "VN.68")
    assert await grants_of("dalat") == DISSOLVED_WARDS  # its former wards, not the province
    assert await grants_of("lamdong") == ["VN.68", "VN.68"]  # the province's own grants are untouched
    history = (await http.get(f"{API}/gateway/grants", params={"subject": "user:dalat", "history": "true"}, headers=admin)).json()
    old = next(g for g in history if g["unit_path"] == "VN.68.672")
    assert {g["replaces"] for g in history if g["unit_path"] in DISSOLVED_WARDS} == {old["id"]}

    closure = UnitsReorganized(
        kind="merge",
        effective_date=date(2026, 1, 1),
        retired_units=[],
        created_units=[],
        mapping={"VN.BQP.7": ["VN.BQP"]},
        moved_cadres=3,
    )
    await platform.publish_to_gateway(closure, "VN.BQP")
    assert await grants_of("quankhu7") == []  # a closed body's grant is never moved onto the body that took its cadres
