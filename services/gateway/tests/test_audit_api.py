"""Scope enforcement and the audit trail through the gateway, in front of the real services (in process): what
auditors see, the hash chain, retention; with the gateway's database on SQLite and on PostgreSQL."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from board_seed import API, new_cadre, principals, seeded
from gateway_harness import PlatformFactory
from sqlalchemy import text


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
