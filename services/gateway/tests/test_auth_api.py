"""Sign-in through the gateway: refresh rotation, replay detection, revocation and logout;
with the gateway's database on SQLite and on PostgreSQL."""

from board_seed import API, principals
from gateway_harness import PlatformFactory


async def test_refresh_rotation_replay_and_revocation(make_platform: PlatformFactory, database_url: str) -> None:
    platform = await make_platform(principals(), gateway_database_url=database_url)
    http = platform.http
    login = await http.post(f"{API}/auth/token", data={"grant_type": "password", "username": "dalat", "password": "dalat-pw"})
    first = login.json()
    assert first["refresh_token"]

    rotated = await http.post(f"{API}/auth/token", data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert rotated.status_code == 200
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    me = await http.get(f"{API}/auth/me", headers={"authorization": f"Bearer {second['access_token']}"})
    assert me.json()["subject"] == "user:dalat"

    replay = await http.post(f"{API}/auth/token", data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert replay.status_code == 400 and replay.json()["code"] == "invalid_grant"
    # the replay closed the whole session: the rotated token is dead too
    stolen = await http.post(f"{API}/auth/token", data={"grant_type": "refresh_token", "refresh_token": second["refresh_token"]})
    assert stolen.status_code == 400

    access = {"authorization": f"Bearer {first['access_token']}"}
    assert (await http.get(f"{API}/auth/me", headers=access)).status_code == 200
    assert (await http.post(f"{API}/auth/revoke", data={"token": first["access_token"]})).json() == {"revoked": True}
    assert (await http.get(f"{API}/auth/me", headers=access)).status_code == 401

    clients = await http.post(
        f"{API}/auth/token",
        data={"grant_type": "client_credentials", "client_id": "his-bvdk", "client_secret": "his-bvdk-secret"},
    )
    assert clients.status_code == 200 and clients.json()["refresh_token"] is None
    third = (
        await http.post(f"{API}/auth/token", data={"grant_type": "password", "username": "dalat", "password": "dalat-pw"})
    ).json()
    out = await http.post(
        f"{API}/auth/logout",
        data={"refresh_token": third["refresh_token"]},
        headers={"authorization": f"Bearer {third['access_token']}"},
    )
    assert out.status_code == 200
    assert (await http.get(f"{API}/auth/me", headers={"authorization": f"Bearer {third['access_token']}"})).status_code == 401
    after = await http.post(f"{API}/auth/token", data={"grant_type": "refresh_token", "refresh_token": third["refresh_token"]})
    assert after.status_code == 400
