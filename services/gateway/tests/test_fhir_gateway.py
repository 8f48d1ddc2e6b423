"""`/fhir/R4` through the gateway, in front of the real services (in process): the CapabilityStatement held to
the services' routes, authentication and gateway-level errors as OperationOutcome, forwarding with the
client's base in the links, audit, and Bulk Data $export (kick-off, poll, download, scope, cancel)."""

import asyncio
import json
import re
from typing import Any

import httpx
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.patient import Patient
from gateway_harness import InProcessPlatform, PlatformFactory, client, user

from contracts import roles
from contracts.fhir import RESOURCE_OWNERS, SID_CCCD
from contracts.route_permissions import committed_route_table
from contracts.scope import PrincipalKind
from devstack.demo import demo_units
from gateway.fhir.capability import INTERACTION_ROUTES, SUPPORTED, Statement, capability_statement
from gateway.identity import PrincipalsFile

API, FHIR = "/api/v1", "/fhir/R4"
ASYNC = {"prefer": "respond-async", "accept": "application/fhir+json"}


def _template(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_the_capability_statement_lists_exactly_the_routes_the_services_serve() -> None:
    table = committed_route_table()
    served = {
        (route.method, _template(route.path))
        for service in set(RESOURCE_OWNERS.values())
        for route in table[service]
        if route.path.startswith(f"{FHIR}/")
    }
    promised = {
        (method, _template(f"{FHIR}/{resource_type}{suffix}"))
        for resource_type, supported in SUPPORTED.items()
        for method, suffix in (INTERACTION_ROUTES[i] for i in supported.interactions)
    }
    assert promised == served
    assert set(SUPPORTED) == set(RESOURCE_OWNERS)
    statement = CapabilityStatement.model_validate(
        capability_statement(Statement("http://x/fhir/R4", "http://x/api/v1/auth/token"))
    )
    assert {r.type for r in statement.rest[0].resource} == {*RESOURCE_OWNERS, "Group"}


def principals() -> PrincipalsFile:
    return PrincipalsFile(
        users=[
            user("admin", PrincipalKind.ADMIN, roles.administrator(), roles.ADMIN_PERMISSIONS),
            user("lamdong", PrincipalKind.STAFF, roles.provincial_board("VN.68"), roles.STAFF_PERMISSIONS),
            user("dalat", PrincipalKind.STAFF, roles.district_board("VN.68.672"), roles.STAFF_PERMISSIONS),
        ],
        clients=[client("his", roles.his_client("VN.68"), roles.HIS_PERMISSIONS)],
    )


def cadre(national_id: str, unit: str, tier: str) -> dict[str, Any]:
    return {
        "full_name": "Phạm Văn Thành",
        "date_of_birth": "1955-07-01",
        "sex": "male",
        "national_id": national_id,
        "tier": tier,
        "managing_unit": unit,
        "status": "retired",
        "status_since": "2015-01-01",
    }


async def _seeded(make_platform: PlatformFactory) -> tuple[InProcessPlatform, dict[str, str], list[dict[str, Any]]]:
    platform = await make_platform(principals())
    admin = await platform.headers("admin")
    assert (await platform.http.post(f"{API}/registry/units/import", json=demo_units(), headers=admin)).status_code == 200
    made = []
    for number, (unit, tier) in enumerate([("VN.68", "provincial_2"), ("VN.68.672", "district"), ("VN.68.672", "district")]):
        answer = await platform.http.post(
            f"{API}/registry/cadres", json=cadre(f"06805500{number:04d}", unit, tier), headers=admin
        )
        assert answer.status_code == 201, answer.text
        made.append(answer.json())
    return platform, admin, made


async def test_fhir_through_the_gateway_authenticates_forwards_and_audits(make_platform: PlatformFactory) -> None:
    platform, admin, made = await _seeded(make_platform)
    http = platform.http
    metadata = await http.get(f"{FHIR}/metadata")
    assert metadata.status_code == 200 and metadata.headers["content-type"].startswith("application/fhir+json")
    assert metadata.json()["implementation"]["url"] == "http://gateway.test/fhir/R4"

    anonymous = await http.get(f"{FHIR}/Patient")
    assert anonymous.status_code == 401 and anonymous.json()["issue"][0]["code"] == "login"
    lamdong = await platform.headers("lamdong")
    unknown = await http.get(f"{FHIR}/Medication/1", headers=lamdong)
    assert unknown.status_code == 404 and unknown.json()["issue"][0]["code"] == "not-supported"
    his = {"authorization": f"Bearer {await platform.client_token('his')}"}
    refused = await http.get(f"{FHIR}/Patient", headers=his)
    assert refused.status_code == 403 and refused.json()["resourceType"] == "OperationOutcome"

    found = await http.get(f"{FHIR}/Patient", params={"identifier": f"{SID_CCCD}|{made[1]['national_id']}"}, headers=lamdong)
    assert found.status_code == 200, found.text
    assert [e["resource"]["id"] for e in found.json()["entry"]] == [made[1]["id"]]
    assert found.json()["entry"][0]["fullUrl"] == f"http://gateway.test/fhir/R4/Patient/{made[1]['id']}"
    assert "x-audit-subjects" not in found.headers
    Patient.model_validate(found.json()["entry"][0]["resource"])
    dalat = await platform.headers("dalat")
    side_door = await http.get(f"{API}/registry/fhir/R4/Patient", headers=lamdong)  # one way in, with the client's base
    assert side_door.status_code == 404 and (await http.post(f"{API}/clinical/fhir/R4", json={}, headers=his)).status_code == 404
    assert (await http.get(f"{FHIR}/Patient/{made[0]['id']}", headers=dalat)).status_code == 404

    await platform.gateway.audit.settled()
    trail = (await http.get(f"{API}/gateway/audit", params={"cadre_id": made[1]["id"], "limit": 50}, headers=admin)).json()
    assert any(r["actor"] == "user:lamdong" and "fhir/R4/Patient" in r["operation"] for r in trail["items"]), trail

    too_many = {"resourceType": "Bundle", "type": "batch", "entry": [{}] * 1001}
    big = await http.post(FHIR, json=too_many, headers={**his, "content-type": "application/fhir+json"})
    assert big.status_code == 413 and big.json()["issue"][0]["code"] == "too-costly"


async def _finished(http: httpx.AsyncClient, location: str, headers: dict[str, str]) -> httpx.Response:
    for _ in range(200):
        answer = await http.get(location, headers=headers)
        if answer.status_code != 202:
            return answer
        assert answer.headers["x-progress"]
        await asyncio.sleep(0.02)
    raise AssertionError("the export did not finish")


async def test_bulk_export_of_a_board_is_scoped_audited_and_cancellable(make_platform: PlatformFactory) -> None:
    platform, admin, made = await _seeded(make_platform)
    http, lamdong = platform.http, await platform.headers("lamdong")
    synchronous = await http.get(f"{FHIR}/$export", headers=lamdong)
    assert synchronous.status_code == 400 and synchronous.json()["resourceType"] == "OperationOutcome"
    assert (await http.get(f"{FHIR}/$export", params={"_type": "Medication"}, headers={**lamdong, **ASYNC})).status_code == 400

    kicked = await http.get(f"{FHIR}/Group/VN.68.672/$export", params={"_type": "Patient"}, headers={**lamdong, **ASYNC})
    assert kicked.status_code == 202, kicked.text
    location = kicked.headers["content-location"]
    assert location.startswith("http://gateway.test/fhir/R4/")
    assert (await http.get(location, headers=await platform.headers("dalat"))).status_code == 404  # not theirs
    done = await _finished(http, location, lamdong)
    assert done.status_code == 200, done.text
    manifest = done.json()
    assert manifest["requiresAccessToken"] is True and [o["type"] for o in manifest["output"]] == ["Patient"]
    download = await http.get(manifest["output"][0]["url"], headers=lamdong)
    assert download.status_code == 200 and download.headers["content-type"].startswith("application/fhir+ndjson")
    lines = [json.loads(line) for line in download.text.splitlines()]
    assert sorted(p["id"] for p in lines) == sorted(c["id"] for c in made[1:])  # the group's two, not the province's
    assert manifest["output"][0]["count"] == 2

    await platform.gateway.audit.settled()
    trail = (await http.get(f"{API}/gateway/audit", params={"cadre_id": made[1]["id"], "limit": 50}, headers=admin)).json()
    details = [r.get("detail") or "" for r in trail["items"] if r["actor"] == "user:lamdong"]
    assert any("$export" in d for d in details) and any(d.startswith("job ") for d in details), trail

    later = await http.get(
        f"{FHIR}/$export", params={"_type": "Patient", "_since": "2999-01-01T00:00:00Z"}, headers={**lamdong, **ASYNC}
    )
    nothing_since = await _finished(http, later.headers["content-location"], lamdong)
    assert nothing_since.status_code == 200 and nothing_since.json()["output"] == []

    outside = await http.get(f"{FHIR}/Group/VN.01/$export", headers={**lamdong, **ASYNC})
    assert outside.status_code == 404
    await platform.gateway.audit.settled()
    mine = (await http.get(f"{API}/gateway/audit", params={"actor": "user:lamdong", "limit": 200}, headers=admin)).json()
    assert any(r["operation"] == "fhir:GET /Group/$export" and r["status_code"] == 404 for r in mine["items"]), mine
    assert (await http.delete(location, headers=lamdong)).status_code == 202
    assert (await http.get(location, headers=lamdong)).status_code == 404
    assert (await http.get(manifest["output"][0]["url"], headers=lamdong)).status_code == 404


async def test_limits_answer_an_operation_outcome_under_fhir_and_a_problem_elsewhere(make_platform: PlatformFactory) -> None:
    platform = await make_platform(principals(), max_body_bytes=4000, rate_per_second=0.01, rate_burst=3)
    http, lamdong = platform.http, await platform.headers("lamdong")
    body = json.dumps({"resourceType": "Bundle", "type": "batch", "note": "x" * 5000})
    too_big = await http.post(FHIR, content=body, headers={**lamdong, "content-type": "application/fhir+json"})
    assert too_big.status_code == 413 and too_big.json()["issue"][0]["code"] == "too-costly"
    elsewhere = await http.post(f"{API}/registry/cadres", content=body, headers={**lamdong, "content-type": "application/json"})
    assert elsewhere.status_code == 413 and elsewhere.json()["code"] == "payload_too_large"
    answers = [await http.get(f"{FHIR}/Patient", headers=lamdong) for _ in range(4)]  # a burst of 3
    throttled = answers[-1]
    assert throttled.status_code == 429 and throttled.json()["issue"][0]["code"] == "throttled", [a.status_code for a in answers]
    assert int(throttled.headers["retry-after"]) >= 1
    assert (await http.get(f"{API}/registry/cadres", headers=lamdong)).json()["code"] == "rate_limited"
