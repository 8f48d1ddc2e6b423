"""Identity administration through the gateway's API, on SQLite and PostgreSQL: a board's administrators create,
list, disable and re-enable the users and HIS clients of their own scope, never beyond their own grants and
permissions; a provincial board delegates to a lower board; everything outside one's scope is invisible."""

import json
from typing import Any

import pytest
from gateway_harness import InProcessPlatform, PlatformFactory
from identity_boards import API, PASSWORD, bearer, boards, new_user, sign_in

OVERRIDES: dict[str, Any] = {"token_rate_per_minute": 100_000}


@pytest.fixture
async def platform(make_platform: PlatformFactory, database_url: str) -> InProcessPlatform:
    return await make_platform(boards(), gateway_database_url=database_url, **OVERRIDES)


async def test_a_provincial_board_manages_its_people(platform: InProcessPlatform) -> None:
    http = platform.http
    lamdong_admin = await bearer(platform, "lamdong-admin", "lamdong-admin-pw")
    created = await http.post(
        f"{API}/gateway/users", json=new_user("baoloc-staff", "district_board", "VN.68.673"), headers=lamdong_admin
    )
    assert created.status_code == 201, created.text
    user = created.json()
    assert (user["subject"], user["status"], user["source"], user["created_by"]) == (
        "user:baoloc-staff", "active", "api", "user:lamdong-admin",
    )  # fmt: skip
    assert "password" not in created.text and "secret_hash" not in created.text
    assert [g["unit_path"] for g in user["grants"]] == ["VN.68.673"]

    staff = await bearer(platform, "baoloc-staff")
    session = await http.post(
        f"{API}/auth/token", data={"grant_type": "password", "username": "baoloc-staff", "password": PASSWORD}
    )
    refresh = {"grant_type": "refresh_token", "refresh_token": session.json()["refresh_token"]}
    me = (await http.get(f"{API}/auth/me", headers=staff)).json()
    assert [(g["unit_path"], sorted(g["tiers"])) for g in me["grants"]] == [("VN.68.673", ["district", "treatment_only"])]
    assert "gateway.identities.administer" not in me["permissions"]

    listed = [u["name"] for u in (await http.get(f"{API}/gateway/users", headers=lamdong_admin)).json()]
    assert "baoloc-staff" in listed and "lamdong" in listed and "lamdong-admin" in listed
    assert "admin" not in listed and "khanhhoa-admin" not in listed and "central-admin" not in listed

    disabled = await http.post(
        f"{API}/gateway/users/baoloc-staff/disable", json={"reason": "left the board"}, headers=lamdong_admin
    )
    assert disabled.status_code == 200 and disabled.json()["status"] == "disabled"
    assert disabled.json()["disabled_by"] == "user:lamdong-admin"
    assert await sign_in(platform, "baoloc-staff") == 400
    assert (await http.get(f"{API}/auth/me", headers=staff)).status_code == 401  # its token stops working too

    enabled = await http.post(f"{API}/gateway/users/baoloc-staff/enable", headers=lamdong_admin)
    assert enabled.status_code == 200 and enabled.json()["status"] == "active"
    assert await sign_in(platform, "baoloc-staff") == 200
    assert (await http.post(f"{API}/auth/token", data=refresh)).status_code == 400  # its old sessions stay closed


async def test_file_users_are_managed_through_the_api_too(platform: InProcessPlatform) -> None:
    """The file seeds the database; after that, the database decides (the file user stays disabled)."""
    lamdong_admin = await bearer(platform, "lamdong-admin", "lamdong-admin-pw")
    assert await sign_in(platform, "lamdong", "lamdong-pw") == 200
    answer = await platform.http.post(f"{API}/gateway/users/lamdong/disable", json={"reason": "on leave"}, headers=lamdong_admin)
    assert answer.status_code == 200 and answer.json()["source"] == "file"
    assert await sign_in(platform, "lamdong", "lamdong-pw") == 400
    await platform.gateway.identities.follow_file()  # whatever the file says, the database's state holds
    assert await sign_in(platform, "lamdong", "lamdong-pw") == 400
    principals = (
        await platform.http.get(f"{API}/gateway/principals", headers=await bearer(platform, "admin", "admin-pw"))
    ).json()
    assert "user:lamdong" not in {p["subject"] for p in principals}  # only who may sign in


REFUSALS = [  # (administrator, its password, role, unit): each beyond the administrator's own
    ("lamdong-admin", "lamdong-admin-pw", "administrator", None),  # every grant and permission of the nation
    ("lamdong-admin", "lamdong-admin-pw", "provincial_board_admin", "VN.56"),  # another province
    ("lamdong-admin", "lamdong-admin-pw", "central_board", None),  # the central tier everywhere
    ("lamdong-admin", "lamdong-admin-pw", "auditor", "VN.68"),  # audit.read: a permission it lacks
    ("lamdong-admin", "lamdong-admin-pw", "expert_council_doctor", "VN.68"),  # clinical.write: likewise
    ("dalat-admin", "dalat-admin-pw", "provincial_board", "VN.68"),  # its province, above it
    ("dalat-admin", "dalat-admin-pw", "district_board", "VN.68.673"),  # a sibling district
    ("central-admin", "central-admin-pw", "provincial_board", "VN.68"),  # provincial tiers it does not hold
    ("khanhhoa-admin", "khanhhoa-admin-pw", "district_board", "VN.68.672"),  # another province's district
]


@pytest.mark.parametrize(("admin", "password", "role", "unit"), REFUSALS)
async def test_no_role_beyond_ones_own(
    make_platform: PlatformFactory, database_url: str, admin: str, password: str, role: str, unit: str | None
) -> None:
    platform = await make_platform(boards(), gateway_database_url=database_url, **OVERRIDES)
    headers = await bearer(platform, admin, password)
    answer = await platform.http.post(f"{API}/gateway/users", json=new_user("someone", role, unit), headers=headers)
    assert answer.status_code == 403 and answer.json()["code"] == "out_of_scope", answer.text
    assert answer.json()["errors"][0]["loc"] == ["role"]
    assert await sign_in(platform, "someone") == 400  # nothing was created
    everyone = (await platform.http.get(f"{API}/gateway/users", headers=await bearer(platform, "admin", "admin-pw"))).json()
    assert "someone" not in {u["name"] for u in everyone}


async def test_callers_without_the_permission_are_refused(platform: InProcessPlatform) -> None:
    http = platform.http
    for name in ("lamdong", "auditor"):
        headers = await bearer(platform, name, f"{name}-pw")
        assert (await http.get(f"{API}/gateway/users", headers=headers)).status_code == 403
        created = await http.post(f"{API}/gateway/users", json=new_user("x-user", "district_board", "VN.68.672"), headers=headers)
        assert created.status_code == 403
    status, body = await _client_token(platform)
    assert status == 200
    his = {"authorization": f"Bearer {body['access_token']}"}
    assert (await http.get(f"{API}/gateway/his-clients", headers=his)).status_code == 403
    assert (await http.get(f"{API}/gateway/users")).status_code == 401


async def _client_token(platform: InProcessPlatform) -> tuple[int, dict[str, Any]]:
    answer = await platform.http.post(
        f"{API}/auth/token",
        data={"grant_type": "client_credentials", "client_id": "his-bvdk", "client_secret": "his-bvdk-secret"},
    )
    return answer.status_code, answer.json()


async def test_out_of_scope_people_are_invisible(platform: InProcessPlatform) -> None:
    http = platform.http
    dalat_admin = await bearer(platform, "dalat-admin", "dalat-admin-pw")
    listed = {u["name"] for u in (await http.get(f"{API}/gateway/users", headers=dalat_admin)).json()}
    assert listed == {"dalat-admin"}  # its province's people hold more than it does
    for path in ("users/lamdong", "users/lamdong-admin", "users/admin", "his-clients/his-bvdk", "users/nobody-at-all"):
        answer = await http.get(f"{API}/gateway/{path}", headers=dalat_admin)
        assert answer.status_code == 404, path
    hidden = await http.post(f"{API}/gateway/users/lamdong/disable", json={"reason": "not mine"}, headers=dalat_admin)
    assert hidden.status_code == 404
    assert (await http.post(f"{API}/gateway/his-clients/his-bvdk/rotate-secret", headers=dalat_admin)).status_code == 404
    assert await sign_in(platform, "lamdong", "lamdong-pw") == 200  # untouched
    khanhhoa = await bearer(platform, "khanhhoa-admin", "khanhhoa-admin-pw")
    assert (await http.get(f"{API}/gateway/his-clients", headers=khanhhoa)).json() == []


async def test_bad_input_is_refused_field_by_field_and_changes_nothing(platform: InProcessPlatform) -> None:
    http = platform.http
    admin = await bearer(platform, "lamdong-admin", "lamdong-admin-pw")
    cases = [
        (new_user("short-pw", "district_board", "VN.68.672", password="too-short"), 422, ["password"]),
        (new_user("same-pw", "district_board", "VN.68.672", password="aaaaaaaaaaaaaaaa"), 422, ["password"]),
        (new_user("has-name", "district_board", "VN.68.672", password="has-name-in-it!!"), 422, ["password"]),
        (new_user("no-role", "emperor", "VN.68.672"), 422, ["role"]),
        (new_user("no-unit", "district_board", None), 422, ["unit"]),
        (new_user("a-unit", "central_board", "VN.68"), 422, ["unit"]),
        (new_user("hospital", "his_client", "VN.68"), 422, ["role"]),
        (new_user("Bad Name", "district_board", "VN.68.672"), 422, ["body", "username"]),
        (new_user("lamdong", "district_board", "VN.68.672"), 409, ["username"]),
        (new_user("nul-name", "district_board", "VN.68.672", display_name="a\x00b"), 422, ["body", "display_name"]),
        (new_user("nul-pw", "district_board", "VN.68.672", password="Đà Lạt \ud800 mù sương"), 422, ["body", "password"]),
    ]
    for body, status, loc in cases:
        # json.dumps escapes a lone surrogate as a client's JSON may carry it (httpx's own encoder refuses it)
        answer = await http.post(
            f"{API}/gateway/users", content=json.dumps(body), headers={**admin, "content-type": "application/json"}
        )
        assert answer.status_code == status, (body, answer.text)
        assert loc in [e["loc"] for e in answer.json()["errors"]], answer.text
    names = {u["name"] for u in (await http.get(f"{API}/gateway/users", headers=admin)).json()}
    assert not names & {"short-pw", "same-pw", "has-name", "no-role", "no-unit", "a-unit", "hospital"}
    assert await sign_in(platform, "lamdong", "lamdong-pw") == 200  # the existing user was not replaced

    policy = await http.post(f"{API}/gateway/users/lamdong/password", json={"password": "short"}, headers=admin)
    assert policy.status_code == 422 and policy.json()["errors"][0]["loc"] == ["password"]
    assert await sign_in(platform, "lamdong", "lamdong-pw") == 200
    reset = await http.post(f"{API}/gateway/users/lamdong/password", json={"password": PASSWORD}, headers=admin)
    assert reset.status_code == 200
    assert await sign_in(platform, "lamdong", "lamdong-pw") == 400 and await sign_in(platform, "lamdong") == 200

    assert await sign_in(platform, "lam\x00dong", "lamdong-pw") == 400  # refused, not a database error

    myself = await http.post(f"{API}/gateway/users/lamdong-admin/disable", json={"reason": "oops"}, headers=admin)
    assert myself.status_code == 422 and myself.json()["errors"][0]["loc"] == ["subject"]


async def test_the_roles_offered_are_those_within_the_callers_permissions(platform: InProcessPlatform) -> None:
    offered = await platform.http.get(f"{API}/gateway/roles", headers=await bearer(platform, "lamdong-admin", "lamdong-admin-pw"))
    names = {r["name"] for r in offered.json()}
    assert {"provincial_board", "district_board", "delegated_district", "delegated_district_admin"} <= names
    assert not names & {"administrator", "auditor", "expert_council_doctor", "his_client"}
    everything = await platform.http.get(f"{API}/gateway/roles", headers=await bearer(platform, "admin", "admin-pw"))
    assert "administrator" in {r["name"] for r in everything.json()}
