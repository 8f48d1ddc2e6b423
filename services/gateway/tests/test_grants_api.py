"""Grants as data through the gateway: assignment, revocation, history, and the central-tier health-records
flag (grants following a reorganisation: test_grant_remap.py); with the gateway's database on SQLite and on
PostgreSQL."""

from board_seed import API, new_cadre, principals
from gateway_harness import PlatformFactory

from devstack.demo import demo_units


async def test_grants_are_data_with_history(make_platform: PlatformFactory, database_url: str) -> None:
    platform = await make_platform(principals(), gateway_database_url=database_url)
    http = platform.http
    admin, dalat = await platform.headers("admin"), await platform.headers("dalat")

    initial = (await http.get(f"{API}/gateway/grants", params={"subject": "user:dalat"}, headers=admin)).json()
    assert [(g["unit_path"], g["granted_by"]) for g in initial] == [("VN.68.672", "system:bootstrap")]

    body = {"subject": "user:dalat", "unit_path": "VN.68.673", "tiers": ["district"], "actions": ["read"], "reason": "cover"}
    created = await http.post(f"{API}/gateway/grants", json=body, headers=admin)
    assert created.status_code == 201, created.text
    me = (await http.get(f"{API}/auth/me", headers=dalat)).json()
    assert {g["unit_path"] for g in me["grants"]} == {"VN.68.672", "VN.68.673"}

    refused = await http.post(f"{API}/gateway/grants", json=body, headers=dalat)
    assert refused.status_code == 403  # a district user cannot change grants
    wider = {**body, "unit_path": "VN.56"}
    escalation = await http.post(f"{API}/gateway/grants", json=wider, headers=await platform.headers("lamdong-admin"))
    assert escalation.status_code == 403 and escalation.json()["code"] == "out_of_scope"
    unknown = await http.post(f"{API}/gateway/grants", json={**body, "subject": "user:nobody"}, headers=admin)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["loc"] == ["subject"]
    bad_unit = await http.post(f"{API}/gateway/grants", json={**body, "unit_path": "VN.68.%"}, headers=admin)
    assert bad_unit.status_code == 422

    grant_id = created.json()["id"]
    revoked = await http.post(f"{API}/gateway/grants/{grant_id}/revoke", json={"reason": "cover ended"}, headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_by"] == "user:admin"
    me = (await http.get(f"{API}/auth/me", headers=dalat)).json()
    assert {g["unit_path"] for g in me["grants"]} == {"VN.68.672"}
    history = (await http.get(f"{API}/gateway/grants", params={"subject": "user:dalat", "history": "true"}, headers=admin)).json()
    assert len(history) == 2 and sum(1 for g in history if g["revoked_at"]) == 1
    again = await http.post(f"{API}/gateway/grants/{grant_id}/revoke", json={"reason": "twice"}, headers=admin)
    assert again.status_code == 404

    listing = (await http.get(f"{API}/gateway/principals", headers=admin)).json()
    assert {p["subject"] for p in listing} >= {"user:admin", "user:dalat", "client:his-bvdk"}


async def test_the_central_tier_health_flag_is_granted_as_data_and_reaches_the_services(
    make_platform: PlatformFactory, database_url: str
) -> None:
    """A provincial board reads its central-tier cadre's registry entry but not their health records until an
    administrator grants the flag: stored, listed, in the internal token clinical reads, and revocable."""
    platform = await make_platform(principals(), gateway_database_url=database_url)
    http = platform.http
    admin, lamdong = await platform.headers("admin"), await platform.headers("lamdong")
    (await http.post(f"{API}/registry/units/import", json=demo_units(), headers=admin)).raise_for_status()
    cadre = (await http.post(f"{API}/registry/cadres", json=new_cadre("VN.68", "central"), headers=admin)).json()
    await platform.deliver()
    his = {"authorization": f"Bearer {await platform.client_token('his-bvdk')}"}
    record = {
        "kind": "periodic_exam",
        "external_id": "TW-1",
        "national_id": cadre["national_id"],
        "occurred_on": "2026-03-01",
        "diagnoses": [{"code": "C34.1", "description": "Ung thư phổi"}],
    }
    assert (await http.post(f"{API}/clinical/his/records", json=record, headers=his)).status_code == 201
    timeline = f"{API}/clinical/cadres/{cadre['id']}/timeline"
    assert (await http.get(f"{API}/registry/cadres/{cadre['id']}", headers=lamdong)).status_code == 200
    assert (await http.get(timeline, headers=lamdong)).status_code == 404

    body = {
        "subject": "user:lamdong",
        "unit_path": "VN.68",
        "tiers": ["central"],
        "actions": ["read"],
        "central_tier_health_records": True,
        "reason": "the province's hospital treats this cadre",
    }
    not_held = await http.post(f"{API}/gateway/grants", json=body, headers=await platform.headers("lamdong-admin"))
    assert not_held.status_code == 403 and not_held.json()["code"] == "out_of_scope"  # it cannot give what it lacks
    meaningless = await http.post(f"{API}/gateway/grants", json={**body, "tiers": ["district"]}, headers=admin)
    assert meaningless.status_code == 422 and meaningless.json()["errors"][0]["loc"] == ["central_tier_health_records"]
    created = await http.post(f"{API}/gateway/grants", json=body, headers=admin)
    assert created.status_code == 201 and created.json()["central_tier_health_records"] is True, created.text

    listed = (await http.get(f"{API}/gateway/grants", params={"subject": "user:lamdong"}, headers=admin)).json()
    assert sorted(g["central_tier_health_records"] for g in listed) == [False, False, True]
    me = (await http.get(f"{API}/auth/me", headers=lamdong)).json()
    assert [g["tiers"] for g in me["grants"] if g["central_tier_health_records"]] == [["central"]]
    answer = await http.get(timeline, headers=lamdong)  # clinical sees the flag only through the internal token
    assert answer.status_code == 200 and [r["external_id"] for r in answer.json()["items"]] == ["TW-1"]

    revoked = await http.post(
        f"{API}/gateway/grants/{created.json()['id']}/revoke", json={"reason": "treatment over"}, headers=admin
    )
    assert revoked.status_code == 200
    assert (await http.get(timeline, headers=lamdong)).status_code == 404
