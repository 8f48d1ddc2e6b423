"""Commune boards (since 1 July 2025) through the gateway's identity administration, on SQLite and PostgreSQL:
the provincial board's administrator creates them on its communes, within its own grants; they then manage
their own staff on their commune; boards without the commune tier cannot create them."""

import pytest
from gateway_harness import InProcessPlatform, PlatformFactory
from identity_boards import API, PASSWORD, bearer, boards, new_user

XUAN_HUONG, CAM_LY = "VN.68.26800", "VN.68.26801"  # two wards of Đà Lạt in today's tree


@pytest.fixture
async def platform(make_platform: PlatformFactory, database_url: str) -> InProcessPlatform:
    return await make_platform(boards(), gateway_database_url=database_url, token_rate_per_minute=100_000)


async def test_a_province_creates_its_commune_boards_and_they_manage_their_own(platform: InProcessPlatform) -> None:
    http = platform.http
    lamdong_admin = await bearer(platform, "lamdong-admin", "lamdong-admin-pw")
    offered = {r["name"] for r in (await http.get(f"{API}/gateway/roles", headers=lamdong_admin)).json()}
    assert {"commune_board", "delegated_commune", "commune_board_admin", "delegated_commune_admin"} <= offered

    for name, role in (("xuanhuong", "commune_board"), ("xuanhuong-admin", "commune_board_admin")):
        created = await http.post(f"{API}/gateway/users", json=new_user(name, role, XUAN_HUONG), headers=lamdong_admin)
        assert created.status_code == 201, created.text
    me = (await http.get(f"{API}/auth/me", headers=await bearer(platform, "xuanhuong"))).json()
    assert [(g["unit_path"], sorted(g["tiers"]), sorted(g["actions"])) for g in me["grants"]] == [
        (XUAN_HUONG, ["commune", "treatment_only"], ["read", "write"])
    ]

    commune_admin = await bearer(platform, "xuanhuong-admin", PASSWORD)
    own = await http.post(
        f"{API}/gateway/users", json=new_user("xuanhuong-2", "commune_board", XUAN_HUONG), headers=commune_admin
    )
    assert own.status_code == 201, own.text
    neighbour = await http.post(f"{API}/gateway/users", json=new_user("camly", "commune_board", CAM_LY), headers=commune_admin)
    assert neighbour.status_code == 403 and neighbour.json()["code"] == "out_of_scope"
    wider = await http.post(f"{API}/gateway/users", json=new_user("xh-prov", "provincial_board", "VN.68"), headers=commune_admin)
    assert wider.status_code == 403
    listed = {u["name"] for u in (await http.get(f"{API}/gateway/users", headers=commune_admin)).json()}
    assert {"xuanhuong", "xuanhuong-2"} <= listed and not listed & {"lamdong", "lamdong-admin"}


async def test_boards_without_the_commune_tier_create_no_commune_board(platform: InProcessPlatform) -> None:
    http = platform.http
    for admin, password, unit in (
        ("dalat-admin", "dalat-admin-pw", "VN.68.672.24778"),  # a district board of before 2025: no commune tier
        ("khanhhoa-admin", "khanhhoa-admin-pw", XUAN_HUONG),  # another province's administrator
    ):
        headers = await bearer(platform, admin, password)
        refused = await http.post(f"{API}/gateway/users", json=new_user(f"{admin}-x", "commune_board", unit), headers=headers)
        assert refused.status_code in (403, 404), (admin, refused.text)
    users = {
        u["name"] for u in (await http.get(f"{API}/gateway/users", headers=await bearer(platform, "admin", "admin-pw"))).json()
    }
    assert not {"dalat-admin-x", "khanhhoa-admin-x"} & users
