"""Sign-in from the gateway's database, on SQLite and PostgreSQL: repeated failed passwords lock the account (its
correct password is refused too) for a set time, per account; an administrator unlocks it; the lockout is in
the audit trail. And a provincial board delegates to a lower board, which then manages its own people."""

from datetime import timedelta
from typing import Any

from gateway_harness import PlatformFactory
from identity_boards import API, PASSWORD, bearer, boards, new_user, sign_in

from servicekit import clock

FAST: dict[str, Any] = {"token_rate_per_minute": 100_000, "signin_max_failures": 3, "signin_lockout_minutes": 1}


async def test_repeated_failures_lock_the_account_only(make_platform: PlatformFactory, database_url: str) -> None:
    platform = await make_platform(boards(), gateway_database_url=database_url, **FAST)
    for _ in range(3):
        assert await sign_in(platform, "lamdong", "not-the-password") == 400
    locked = await platform.http.post(
        f"{API}/auth/token", data={"grant_type": "password", "username": "lamdong", "password": "lamdong-pw"}
    )
    assert locked.status_code == 400 and locked.json()["code"] == "invalid_grant"  # the right password, refused
    wrong = await platform.http.post(f"{API}/auth/token", data={"grant_type": "password", "username": "lamdong", "password": "x"})
    assert wrong.json()["detail"] == locked.json()["detail"]  # a guesser cannot tell the two apart
    assert await sign_in(platform, "dalat-admin", "dalat-admin-pw") == 200  # per account, not per address

    admin = await bearer(platform, "lamdong-admin", "lamdong-admin-pw")
    seen = (await platform.http.get(f"{API}/gateway/users/lamdong", headers=admin)).json()
    assert seen["status"] == "locked" and seen["locked_until"] is not None

    with clock.frozen_at(clock.now() + timedelta(minutes=FAST["signin_lockout_minutes"], seconds=1)):
        assert await sign_in(platform, "lamdong", "lamdong-pw") == 200  # the lockout passes by itself

    auditor = await bearer(platform, "auditor", "auditor-pw")
    trail = (await platform.http.get(f"{API}/gateway/audit", params={"actor": "user:lamdong"}, headers=auditor)).json()
    assert [r["operation"] for r in trail["items"]] == ["gateway:signin.locked"]
    assert trail["items"][0]["actor_unit"] == "VN.68"


async def test_an_administrator_unlocks_and_a_success_resets_the_count(make_platform: PlatformFactory, database_url: str) -> None:
    platform = await make_platform(boards(), gateway_database_url=database_url, **{**FAST, "signin_lockout_minutes": 60})
    for _ in range(2):
        assert await sign_in(platform, "lamdong", "wrong") == 400
    assert await sign_in(platform, "lamdong", "lamdong-pw") == 200  # two failures, then success: the count starts over
    for _ in range(2):
        assert await sign_in(platform, "lamdong", "wrong") == 400
    assert await sign_in(platform, "lamdong", "lamdong-pw") == 200
    for _ in range(3):
        assert await sign_in(platform, "lamdong", "wrong") == 400
    assert await sign_in(platform, "lamdong", "lamdong-pw") == 400

    outsider = await bearer(platform, "khanhhoa-admin", "khanhhoa-admin-pw")
    assert (await platform.http.post(f"{API}/gateway/users/lamdong/unlock", headers=outsider)).status_code == 404
    assert await sign_in(platform, "lamdong", "lamdong-pw") == 400
    admin = await bearer(platform, "lamdong-admin", "lamdong-admin-pw")
    unlocked = await platform.http.post(f"{API}/gateway/users/lamdong/unlock", headers=admin)
    assert unlocked.status_code == 200 and unlocked.json()["status"] == "active"
    assert await sign_in(platform, "lamdong", "lamdong-pw") == 200


async def test_a_provincial_board_delegates_to_a_lower_board(make_platform: PlatformFactory, database_url: str) -> None:
    """Seed 003: Lâm Đồng plans to 'delegate permissions of the software to district boards'. The province creates
    the lower board's administrator on the lower unit; that board then creates its own staff, no wider."""
    platform = await make_platform(boards(), gateway_database_url=database_url, **FAST)
    http = platform.http
    province = await bearer(platform, "lamdong-admin", "lamdong-admin-pw")
    delegate = new_user("dalat-board-admin", "delegated_district_admin", "VN.68.672")
    assert (await http.post(f"{API}/gateway/users", json=delegate, headers=province)).status_code == 201

    lower = await bearer(platform, "dalat-board-admin")
    me = (await http.get(f"{API}/auth/me", headers=lower)).json()
    assert [(g["unit_path"], g["actions"]) for g in me["grants"]] == [("VN.68.672", ["read"])]
    assert "gateway.identities.administer" in me["permissions"]

    commune = new_user("phuong1-staff", "delegated_district", "VN.68.672.24778")
    assert (await http.post(f"{API}/gateway/users", json=commune, headers=lower)).status_code == 201
    assert await sign_in(platform, "phuong1-staff") == 200
    for role, unit in (("district_board", "VN.68.672"), ("delegated_district", "VN.68.673"), ("provincial_board", "VN.68")):
        wider = await http.post(f"{API}/gateway/users", json=new_user("wider", role, unit), headers=lower)
        assert wider.status_code == 403, (role, unit)
    hospital = {"client_id": "his-dalat", "facility": "68-TTYT-DL", "unit": "VN.68.672"}
    assert (await http.post(f"{API}/gateway/his-clients", json=hospital, headers=lower)).status_code == 403  # the province writes

    mine = {u["name"] for u in (await http.get(f"{API}/gateway/users", headers=lower)).json()}
    assert mine == {"dalat-board-admin", "phuong1-staff"}
    theirs = {u["name"] for u in (await http.get(f"{API}/gateway/users", headers=province)).json()}
    assert {"dalat-board-admin", "phuong1-staff"} <= theirs
    # the province withdraws the delegation: the lower board's administrator can no longer sign in
    taken = await http.post(
        f"{API}/gateway/users/dalat-board-admin/disable", json={"reason": "delegation ended"}, headers=province
    )
    assert taken.status_code == 200
    assert (await http.get(f"{API}/gateway/users", headers=lower)).status_code == 401
    assert await sign_in(platform, "dalat-board-admin", PASSWORD) == 400
