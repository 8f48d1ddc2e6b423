"""The FHIR R4 facade of clinical (clinical.fhir): read, search, create and update of each resource through the
one ingestion core, versions, errors as OperationOutcome, scope. On SQLite and PostgreSQL; every answer is
checked against the fhir.resources R4B models."""

import asyncio
from types import SimpleNamespace
from typing import Any

import httpx
from fastapi import FastAPI
from fhir_testkit import FACILITY, SYSTEM, admission, by_cccd, condition, encounter, fhir, observation, referral, report

from clinical.tables import ClinicalRecord, ClinicalRecordVersion
from contracts.fhir import CS_ICD10, SID_CCCD, record_system
from contracts.scope import AUDIT_SUBJECTS_HEADER

BASE = "/fhir/R4"
Count = Any


async def test_encounter_create_read_search_and_versions(
    client: httpx.AsyncClient, sign_as: Any, seed_cadre: Any, principals: SimpleNamespace, count_rows: Count
) -> None:
    nid = "068052000101"
    cadre_id = await seed_cadre(national_id=nid)
    his = sign_as(principals.his)
    created = await client.post(f"{BASE}/Encounter", json=encounter(by_cccd(nid)), headers=his)
    body = fhir(created, 201)
    record_id = body["id"]
    assert created.headers["etag"] == 'W/"1"' and created.headers["location"].endswith(f"/Encounter/{record_id}/_history/1")
    assert body["subject"] == {"reference": f"Patient/{cadre_id}"} and body["class"]["code"] == "AMB"
    assert body["identifier"] == [{"system": SYSTEM, "value": "OPD-1"}]

    doctor = sign_as(principals.doctor)
    read = await client.get(f"{BASE}/Encounter/{record_id}", headers=doctor)
    assert fhir(read, 200)["period"] == {"start": "2026-03-02"}
    assert read.headers[AUDIT_SUBJECTS_HEADER] == str(cadre_id)

    changed = encounter({"reference": f"Patient/{cadre_id}"}, reasonCode=[{"text": "tăng huyết áp"}], id=record_id)
    stale = await client.put(f"{BASE}/Encounter/{record_id}", json=changed, headers={**his, "If-Match": 'W/"7"'})
    assert fhir(stale, 412)["issue"][0]["code"] == "conflict"
    updated = await client.put(f"{BASE}/Encounter/{record_id}", json=changed, headers={**his, "If-Match": 'W/"1"'})
    assert fhir(updated, 200)["meta"]["versionId"] == "2" and updated.headers["etag"] == 'W/"2"'
    history = fhir(await client.get(f"{BASE}/Encounter/{record_id}/_history", headers=doctor), 200)
    assert history["type"] == "history" and [e["resource"]["meta"]["versionId"] for e in history["entry"]] == ["2", "1"]
    first = fhir(await client.get(f"{BASE}/Encounter/{record_id}/_history/1", headers=doctor), 200)
    assert first["reasonCode"] == [{"text": "đau đầu"}]
    assert (await client.get(f"{BASE}/Encounter/{record_id}/_history/9", headers=doctor)).status_code == 404

    found = fhir(
        await client.get(f"{BASE}/Encounter", params={"patient": f"Patient/{cadre_id}", "date": "ge2026-03"}, headers=doctor), 200
    )
    assert found["total"] == 1 and found["entry"][0]["resource"]["meta"]["versionId"] == "2"
    empty = fhir(await client.get(f"{BASE}/Encounter", params={"patient": str(cadre_id), "date": "lt2026-03-02"}, headers=doctor))
    assert empty["total"] == 0
    by_identifier = await client.get(f"{BASE}/Encounter", params={"identifier": f"{SYSTEM}|OPD-1"}, headers=his)
    assert fhir(by_identifier)["total"] == 1
    assert await count_rows(ClinicalRecord) == 1 and await count_rows(ClinicalRecordVersion) == 2


async def test_admission_report_referral_and_their_parts(
    client: httpx.AsyncClient, sign_as: Any, seed_cadre: Any, principals: SimpleNamespace
) -> None:
    nid = "068052000102"
    cadre_id = await seed_cadre(national_id=nid)
    his, doctor = sign_as(principals.his), sign_as(principals.doctor)
    stay = fhir(await client.post(f"{BASE}/Encounter", json=admission(by_cccd(nid)), headers=his), 201)
    assert stay["class"]["code"] == "IMP" and stay["period"] == {"start": "2026-02-10", "end": "2026-02-20"}
    assert [loc["location"]["display"] for loc in stay["location"]] == ["Nội A", "Hồi sức"]
    assert stay["hospitalization"]["dischargeDisposition"]["coding"][0]["code"] == "improved"

    exam = fhir(await client.post(f"{BASE}/DiagnosticReport", json=report(by_cccd(nid)), headers=his), 201)
    coding = exam["conclusionCode"][0]["coding"][0]
    assert (coding["code"], coding["version"]) == ("B1", "2020")
    weight = await client.post(f"{BASE}/Observation", json=observation(f"Encounter/{exam['id']}"), headers=his)
    part = fhir(weight, 201)
    assert part["id"] == f"{exam['id']}-m0" and part["meta"]["versionId"] == "2"
    again = await client.post(f"{BASE}/Observation", json=observation(f"Encounter/{exam['id']}"), headers=his)
    assert fhir(again, 200)["id"] == part["id"]  # the same part posted again is not a second copy
    diagnosis = fhir(
        await client.post(f"{BASE}/Condition", json=condition(f"Encounter/{stay['id']}", by_cccd(nid), "E119"), headers=his), 201
    )
    assert diagnosis["code"]["coding"][0]["code"] == "E11.9"
    moved = admission({"reference": f"Patient/{cadre_id}"}) | {"id": stay["id"]}
    moved["location"][1]["location"]["display"] = "Tim mạch"
    kept = fhir(await client.put(f"{BASE}/Encounter/{stay['id']}", json=moved, headers=his), 200)
    assert kept["meta"]["versionId"] == "3" and kept["location"][1]["location"]["display"] == "Tim mạch"
    assert kept["diagnosis"] == [{"condition": {"reference": f"Condition/{stay['id']}-d0"}}]  # its diagnoses are kept

    sent = fhir(await client.post(f"{BASE}/ServiceRequest", json=referral(by_cccd(nid)), headers=his), 201)
    assert sent["status"] == "active" and sent["performer"] == [{"display": "Bệnh viện Chợ Rẫy"}]

    read = fhir(await client.get(f"{BASE}/DiagnosticReport/{exam['id']}", headers=doctor), 200)
    assert read["result"] == [{"reference": f"Observation/{exam['id']}-m0"}] and read["meta"]["versionId"] == "2"
    observations = fhir(
        await client.get(f"{BASE}/Observation", params={"patient": str(cadre_id), "category": "vital-signs"}, headers=doctor)
    )
    assert [e["resource"]["id"] for e in observations["entry"]] == [part["id"]]
    labs = fhir(
        await client.get(f"{BASE}/Observation", params={"patient": str(cadre_id), "category": "laboratory"}, headers=doctor)
    )
    assert labs["total"] == 0
    conditions = fhir(
        await client.get(f"{BASE}/Condition", params={"patient": str(cadre_id), "code": f"{CS_ICD10}|E11.9"}, headers=doctor)
    )
    assert conditions["total"] == 1 and conditions["entry"][0]["resource"]["encounter"] == {
        "reference": f"Encounter/{stay['id']}"
    }
    problems = fhir(
        await client.get(f"{BASE}/Condition", params={"patient": str(cadre_id), "category": "problem-list-item"}, headers=doctor)
    )
    assert [e["resource"]["code"]["coding"][0]["code"] for e in problems["entry"]] == ["diabetes"]
    problem_id = problems["entry"][0]["resource"]["id"]
    assert fhir(await client.get(f"{BASE}/Condition/{problem_id}", headers=doctor), 200)["id"] == problem_id
    referrals = fhir(
        await client.get(f"{BASE}/ServiceRequest", params={"patient": str(cadre_id), "category": "higher_level"}, headers=doctor)
    )
    assert referrals["total"] == 1
    reports = fhir(await client.get(f"{BASE}/DiagnosticReport", params={"patient": str(cadre_id)}, headers=doctor))
    assert reports["total"] == 1
    encounters = fhir(await client.get(f"{BASE}/Encounter", params={"patient": str(cadre_id), "class": "IMP"}, headers=doctor))
    assert [e["resource"]["id"] for e in encounters["entry"]] == [stay["id"]]

    organization = fhir(await client.get(f"{BASE}/Organization/{FACILITY}", headers=doctor), 200)
    assert organization["identifier"][0]["value"] == FACILITY
    organizations = fhir(await client.get(f"{BASE}/Organization", params={"identifier": FACILITY}, headers=doctor))
    assert organizations["total"] == 1


async def test_search_pages_with_next_links_capped_count(
    client: httpx.AsyncClient, sign_as: Any, seed_cadre: Any, principals: SimpleNamespace
) -> None:
    nid = "068052000103"
    cadre_id = await seed_cadre(national_id=nid)
    his = sign_as(principals.his)
    for index in range(5):
        await client.post(f"{BASE}/Encounter", json=encounter(by_cccd(nid), f"OPD-P{index}"), headers=his)
    doctor = sign_as(principals.doctor)
    seen: list[str] = []
    url: str | None = f"{BASE}/Encounter?patient={cadre_id}&_count=2"
    while url:
        page = fhir(await client.get(url, headers=doctor), 200)
        assert page["total"] == 5
        seen += [e["resource"]["id"] for e in page.get("entry", [])]
        url = next((link["url"].replace("http://clinical", "") for link in page["link"] if link["relation"] == "next"), None)
    assert len(seen) == len(set(seen)) == 5
    recent = fhir(
        await client.get(f"{BASE}/Encounter", params={"patient": str(cadre_id), "_lastUpdated": "ge2026-01-01"}, headers=doctor)
    )
    old = fhir(
        await client.get(f"{BASE}/Encounter", params={"patient": str(cadre_id), "_lastUpdated": "lt2026-01-01"}, headers=doctor)
    )
    assert (recent["total"], old["total"]) == (5, 0)
    unknown = await client.get(f"{BASE}/Encounter", params={"colour": "blue"}, headers=doctor)
    assert fhir(unknown, 400)["issue"][0]["expression"] == ["colour"]


async def test_invalid_content_is_a_422_outcome_naming_the_element(
    client: httpx.AsyncClient, sign_as: Any, seed_cadre: Any, principals: SimpleNamespace, count_rows: Count
) -> None:
    nid = "068052000104"
    await seed_cadre(national_id=nid)
    his = sign_as(principals.his)
    shape = await client.post(f"{BASE}/Encounter", json=encounter(by_cccd(nid), period={"start": "yesterday"}), headers=his)
    assert fhir(shape, 422)["issue"][0]["expression"] == ["Encounter.period.start"]
    no_identifier = encounter(by_cccd(nid)) | {"identifier": []}
    assert fhir(await client.post(f"{BASE}/Encounter", json=no_identifier, headers=his), 422)["issue"][0]["expression"] == [
        "Encounter.identifier"
    ]
    bad_class = report(by_cccd(nid), code="Z")
    refused = fhir(await client.post(f"{BASE}/DiagnosticReport", json=bad_class, headers=his), 422)
    assert refused["issue"][0]["expression"] == ["DiagnosticReport.conclusionCode[0].coding"]
    contained = encounter(by_cccd(nid), contained=[condition("#", by_cccd(nid), "XX1") | {"id": "c1"}])
    bad_code = fhir(await client.post(f"{BASE}/Encounter", json=contained, headers=his), 422)
    assert bad_code["issue"][0]["expression"] == ["Encounter.contained[0].code"]
    future = encounter(by_cccd(nid), period={"start": "2099-01-01"})
    assert fhir(await client.post(f"{BASE}/Encounter", json=future, headers=his), 422)["issue"][0]["expression"] == [
        "Encounter.period.start"
    ]
    assert await count_rows(ClinicalRecord) == 0


async def test_outside_scope_and_unknown_are_the_same_404(
    client: httpx.AsyncClient, sign_as: Any, seed_cadre: Any, principals: SimpleNamespace
) -> None:
    await seed_cadre(national_id="068052000105", managing_unit="VN.68.673")  # Bảo Lộc: outside Đà Lạt's scope
    his = sign_as(principals.his)
    other = fhir(await client.post(f"{BASE}/Encounter", json=encounter(by_cccd("068052000105")), headers=his), 201)
    dalat = sign_as(principals.dalat)
    outside = await client.get(f"{BASE}/Encounter/{other['id']}", headers=dalat)
    missing = await client.get(f"{BASE}/Encounter/00000000-0000-4000-8000-000000000000", headers=dalat)
    assert outside.status_code == missing.status_code == 404
    assert fhir(outside)["issue"][0]["code"] == fhir(missing)["issue"][0]["code"] == "not-found"
    listed = fhir(await client.get(f"{BASE}/Encounter", params={"_id": other["id"]}, headers=dalat))
    assert listed["total"] == 0
    saigon = sign_as(principals.his_saigon)  # another facility, outside its grants: as if no such patient
    assert (await client.get(f"{BASE}/Encounter/{other['id']}", headers=saigon)).status_code == 404  # not its record
    assert fhir(await client.get(f"{BASE}/Encounter/{other['id']}", headers=his), 200)["id"] == other["id"]  # its own
    own_system = [{"system": record_system("79-BVTN"), "value": "X-1"}]
    foreign = await client.post(
        f"{BASE}/Encounter", json=encounter(by_cccd("068052000105"), identifier=own_system), headers=saigon
    )
    nobody = await client.post(
        f"{BASE}/Encounter", json=encounter(by_cccd("068052999999"), identifier=own_system), headers=saigon
    )
    assert foreign.status_code == nobody.status_code == 404, (foreign.text, nobody.text)
    assert fhir(foreign)["issue"][0]["expression"] == fhir(nobody)["issue"][0]["expression"] == ["Encounter.subject.reference"]
    no_right = await client.post(f"{BASE}/Encounter", json=encounter(by_cccd("068052000105")), headers=dalat)
    assert fhir(no_right, 403)["issue"][0]["code"] == "forbidden"


async def test_conditional_create_from_8_connections_stores_once(
    app: FastAPI, sign_as: Any, seed_cadre: Any, principals: SimpleNamespace, count_rows: Count
) -> None:
    nid = "068052000106"
    await seed_cadre(national_id=nid)
    headers = {**sign_as(principals.his), "If-None-Exist": f"identifier={SYSTEM}|KSK-8"}
    body = report({"reference": f"Patient?identifier={SID_CCCD}|{nid}"}, "KSK-8")

    async def post() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://clinical") as http:
            return await http.post(f"{BASE}/DiagnosticReport", json=body, headers=headers)

    answers = await asyncio.gather(*[post() for _ in range(8)])
    assert sorted(a.status_code for a in answers) == [200] * 7 + [201]
    assert len({fhir(a)["id"] for a in answers}) == 1
    assert await count_rows(ClinicalRecord) == 1 and await count_rows(ClinicalRecordVersion) == 1
    changed = report({"reference": f"Patient?identifier={SID_CCCD}|{nid}"}, "KSK-8", code="C")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://clinical") as http:
        kept = await http.post(f"{BASE}/DiagnosticReport", json=changed, headers=headers)
        assert fhir(kept, 200)["conclusionCode"][0]["coding"][0]["code"] == "B1"  # found, nothing changed
        plain = await http.post(f"{BASE}/DiagnosticReport", json=changed, headers=sign_as(principals.his))
        assert fhir(plain, 409)["issue"][0]["code"] == "duplicate"  # rolled back: still one version
    assert await count_rows(ClinicalRecordVersion) == 1
