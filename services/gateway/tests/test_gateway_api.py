"""Grants, scope enforcement, audit and break the glass through the gateway, in front of the real services
(in process), with the gateway's database on SQLite and on PostgreSQL."""

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from gateway_harness import InProcessPlatform, PlatformFactory, client, user
from sqlalchemy import text, update

from contracts.enums import Action, ManagementTier
from contracts.events.registry import UnitSnapshot, UnitsReorganized
from contracts.scope import Grant, PrincipalKind
from devstack.demo import demo_units
from gateway import roles
from gateway.identity import PrincipalsFile
from gateway.tables import BreakGlassRow

API = "/api/v1"
DISTRICT = frozenset({ManagementTier.DISTRICT, ManagementTier.TREATMENT_ONLY})


def principals() -> PrincipalsFile:
    return PrincipalsFile(
        users=[
            user("admin", PrincipalKind.ADMIN, roles.administrator(), roles.ADMIN_PERMISSIONS),
            user("lamdong", PrincipalKind.STAFF, roles.provincial_board("VN.68"), roles.STAFF_PERMISSIONS),
            user("dalat", PrincipalKind.STAFF, roles.district_board("VN.68.672"), roles.STAFF_PERMISSIONS),
            user("baoloc", PrincipalKind.STAFF, roles.district_board("VN.68.673"), roles.STAFF_PERMISSIONS),
            user("dilinh", PrincipalKind.STAFF, roles.district_board("VN.68.674"), roles.STAFF_PERMISSIONS),
            user("auditor-dalat", PrincipalKind.AUDITOR, roles.auditor("VN.68.672"), roles.AUDITOR_PERMISSIONS),
            user(
                "lamdong-admin",
                PrincipalKind.ADMIN,
                (Grant(unit_path="VN.68", tiers=frozenset(ManagementTier), actions=frozenset({Action.READ, Action.WRITE})),),
                roles.ADMIN_PERMISSIONS,
            ),
        ],
        clients=[client("his-bvdk", roles.his_client("VN.68"), roles.HIS_PERMISSIONS)],
    )


def new_cadre(unit: str, tier: str = "district", **extra: Any) -> dict[str, Any]:
    return {
        "full_name": "Trần Văn Kiểm",
        "date_of_birth": "1958-03-02",
        "sex": "male",
        "national_id": f"068058{uuid.uuid4().int % 10**6:06d}",  # province 068, male born 19(58)
        "tier": tier,
        "managing_unit": unit,
        "status": "retired",
        **extra,
    }


async def seeded(make_platform: PlatformFactory, database_url: str, **overrides: Any) -> tuple[InProcessPlatform, dict[str, str]]:
    platform = await make_platform(principals(), gateway_database_url=database_url, **overrides)
    admin = await platform.headers("admin")
    (await platform.http.post(f"{API}/registry/units/import", json=demo_units(), headers=admin)).raise_for_status()
    ids = {}
    for name, unit in (("dalat", "VN.68.672"), ("baoloc", "VN.68.673")):
        answer = await platform.http.post(f"{API}/registry/cadres", json=new_cadre(unit), headers=admin)
        assert answer.status_code == 201, answer.text
        ids[name] = answer.json()["id"]
    await platform.deliver()
    return platform, ids


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


async def test_grants_follow_a_reorganisation(make_platform: PlatformFactory, database_url: str) -> None:
    platform = await make_platform(principals(), gateway_database_url=database_url)
    http = platform.http
    dilinh, dalat = await platform.headers("dilinh"), await platform.headers("dalat")

    def unit(path: str, valid_to: date | None = None) -> UnitSnapshot:
        return UnitSnapshot(
            path=path, code=path.rsplit(".", 1)[-1], name=path, level="district", parent_path="VN.68",
            valid_from=date(2004, 1, 1), valid_to=valid_to,
        )  # fmt: skip

    merge = UnitsReorganized(
        kind="merge",
        effective_date=date(2025, 7, 1),
        retired_units=[unit("VN.68.674", date(2025, 7, 1))],
        created_units=[],
        mapping={"VN.68.674": ["VN.68.672"]},
        moved_cadres=0,
    )
    await platform.publish_to_gateway(merge, "VN.68.672")
    me = (await http.get(f"{API}/auth/me", headers=dilinh)).json()
    assert [g["unit_path"] for g in me["grants"]] == ["VN.68.672"]
    history = (
        await http.get(
            f"{API}/gateway/grants", params={"subject": "user:dilinh", "history": "true"}, headers=await platform.headers("admin")
        )
    ).json()
    old = next(g for g in history if g["unit_path"] == "VN.68.674")
    new = next(g for g in history if g["unit_path"] == "VN.68.672")
    assert old["revoked_by"] == "system:reorganisation" and new["replaces"] == old["id"]

    dissolve = UnitsReorganized(
        kind="dissolve",
        effective_date=date(2025, 7, 1),
        retired_units=[unit("VN.68.672", date(2025, 7, 1))],
        created_units=[],
        mapping={"VN.68.672": ["VN.68"]},
        moved_cadres=0,
    )
    await platform.publish_to_gateway(dissolve, "VN.68")
    me = (await http.get(f"{API}/auth/me", headers=dalat)).json()
    assert me["grants"] == []  # moving up to the province would widen the grant: revoked, not remapped


async def test_scope_audit_and_the_chain(make_platform: PlatformFactory, database_url: str) -> None:
    platform, ids = await seeded(make_platform, database_url)
    http = platform.http
    dalat = await platform.headers("dalat")

    listed = await http.get(f"{API}/registry/cadres", headers=dalat)
    assert listed.status_code == 200
    assert [c["id"] for c in listed.json()["items"]] == [ids["dalat"]]
    assert "x-audit-subjects" not in listed.headers
    assert (await http.get(f"{API}/registry/cadres/{ids['baoloc']}", headers=dalat)).status_code == 404
    assert (await http.get(f"{API}/registry/cadres/{ids['dalat']}", headers=dalat)).status_code == 200
    write = await http.post(f"{API}/registry/cadres", json=new_cadre("VN.68.673"), headers=dalat)
    assert write.status_code == 403

    his = {"authorization": f"Bearer {await platform.client_token('his-bvdk')}"}
    assert (await http.get(f"{API}/registry/cadres", headers=his)).json()["code"] == "permission_denied"
    assert (await http.get(f"{API}/reporting/cadre-counts", params={"unit": "VN.68"}, headers=his)).status_code == 403

    auditor = await platform.headers("auditor-dalat")
    trail = (await http.get(f"{API}/gateway/audit", params={"limit": 200}, headers=auditor)).json()
    mine = [r for r in trail["items"] if r["actor"] == "user:dalat"]
    outcomes = {(r["operation"], r["outcome"]) for r in mine}
    assert ("registry:GET /cadres", "success") in outcomes
    assert (f"registry:GET /cadres/{ids['baoloc']}", "not_found") in outcomes
    assert ("registry:POST /cadres", "denied") in outcomes
    listed_record = next(r for r in mine if r["operation"] == "registry:GET /cadres")
    assert listed_record["subjects"] == [ids["dalat"]] and listed_record["client_address"]
    assert all(r["actor"] != "client:his-bvdk" for r in trail["items"])  # not its unit, not its cadres
    by_cadre = (await http.get(f"{API}/gateway/audit", params={"cadre_id": ids["baoloc"]}, headers=auditor)).json()
    # Đà Lạt's people's records about it (the auditor's own query named it too); admin's creation is not Đà Lạt's business
    assert {r["actor"] for r in by_cadre["items"]} == {"user:dalat", "user:auditor-dalat"}

    verified = (await http.get(f"{API}/gateway/audit/verify", headers=auditor)).json()
    assert verified["valid"] and verified["records_checked"] >= 8

    async with platform.gateway.runtime.db.transaction() as session:
        await session.execute(text("UPDATE audit_records SET actor = 'user:nobody' WHERE seq = 3"))
    broken = (await http.get(f"{API}/gateway/audit/verify", headers=auditor)).json()
    assert not broken["valid"] and broken["first_broken_seq"] == 3


async def test_break_the_glass(make_platform: PlatformFactory, database_url: str) -> None:
    platform, ids = await seeded(make_platform, database_url, grants_cache_seconds=0)
    http = platform.http
    dalat = await platform.headers("dalat")
    target = ids["baoloc"]

    short = await http.post(f"{API}/gateway/break-glass", json={"cadre_id": target, "reason": "urgent"}, headers=dalat)
    assert short.status_code == 422
    in_scope = {"cadre_id": ids["dalat"], "reason": "emergency admission at Đà Lạt hospital"}
    assert (await http.post(f"{API}/gateway/break-glass", json=in_scope, headers=dalat)).status_code == 409
    reason = "cadre admitted unconscious to the Đà Lạt emergency ward"
    opened = await http.post(f"{API}/gateway/break-glass", json={"cadre_id": target, "reason": reason}, headers=dalat)
    assert opened.status_code == 201, opened.text
    assert opened.json()["active"] and opened.json()["managing_unit"] == "VN.68.673"

    single = await http.get(f"{API}/registry/cadres/{target}", headers=dalat)
    assert single.status_code == 200 and single.json()["id"] == target
    listed = await http.get(f"{API}/registry/cadres", headers=dalat)
    assert target not in {c["id"] for c in listed.json()["items"]}  # one record, not the unit

    for board, sees in (("baoloc", True), ("lamdong", True), ("dalat", False)):
        report = (await http.get(f"{API}/gateway/break-glass", headers=await platform.headers(board))).json()
        assert (target in {r["cadre_id"] for r in report["items"]}) is sees, board
    acknowledged = await http.post(
        f"{API}/gateway/break-glass/{opened.json()['id']}/acknowledge", headers=await platform.headers("baoloc")
    )
    assert acknowledged.json()["acknowledged_by"] == "user:baoloc"

    trail = (await http.get(f"{API}/gateway/audit", params={"cadre_id": target}, headers=await platform.headers("admin"))).json()
    under_glass = [r for r in trail["items"] if r["break_glass_id"] == opened.json()["id"]]
    assert {r["operation"] for r in under_glass} == {"gateway:break_glass.request", f"registry:GET /cadres/{target}"}
    assert any(r["detail"] == reason for r in under_glass)

    async with platform.gateway.runtime.db.transaction() as session:
        await session.execute(update(BreakGlassRow).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert (await http.get(f"{API}/registry/cadres/{target}", headers=dalat)).status_code == 404


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


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_retention_moves_the_anchor_and_the_chain_still_verifies(make_platform: PlatformFactory, database_url: str) -> None:
    platform = await make_platform(principals(), gateway_database_url=database_url, audit_retention_days=30)
    http = platform.http
    admin = await platform.headers("admin")
    for _ in range(3):
        await http.get(f"{API}/registry/cadres/{uuid.uuid4()}", headers=admin)  # audited (not found)
    await platform.gateway.audit.settled()  # journaled records reach the chain right after the answers
    async with platform.gateway.runtime.db.transaction() as session:
        old = datetime.now(UTC) - timedelta(days=31)
        await session.execute(text("UPDATE audit_records SET at = :old WHERE seq <= 2"), {"old": old})
    # altering `at` breaks the hashes of 1 and 2, which the purge then removes: the anchor is record 2's stored hash
    purged = (await http.post(f"{API}/gateway/audit/purge", headers=admin)).json()
    assert purged == {"purged": 2, "anchor_seq": 2}
    verified = (await http.get(f"{API}/gateway/audit/verify", headers=admin)).json()
    assert verified["valid"] and verified["first_seq"] == 3
    assert (await http.post(f"{API}/gateway/audit/purge", headers=await platform.headers("dalat"))).status_code == 403


def _unused(_: httpx.Response) -> None:  # keeps the httpx import for type hints in helpers
    return None
