"""`POST /fhir/R4` Bundles (clinical.fhir.bundles): a transaction is all or nothing through the one ingestion
core, a batch answers entry by entry, and a Bundle over the cap is refused. On SQLite and PostgreSQL."""

from types import SimpleNamespace
from typing import Any

import httpx
from fhir_testkit import SYSTEM, bundle, by_cccd, condition, encounter, entry, fhir, observation, referral, report

from clinical.tables import KIT, ClinicalRecord, ClinicalRecordVersion
from contracts.fhir import MAX_BUNDLE_ENTRIES

BASE = "/fhir/R4"
Count = Any


def envelope(nid: str, suffix: str = "") -> list[dict[str, Any]]:
    """One outpatient visit with its vital sign and its ranked diagnosis, one exam with its lab, one referral."""
    subject = by_cccd(nid)
    visit = encounter(subject, f"OPD-T{suffix}", diagnosis=[{"condition": {"reference": "urn:uuid:c1"}, "rank": 1}])
    exam = report(subject, f"KSK-T{suffix}") | {"result": [{"reference": "urn:uuid:o2"}]}
    lab = observation("urn:uuid:unused", "glucose", 7.8, "mmol/L", "laboratory")
    lab.pop("encounter")
    return [
        entry(visit, "urn:uuid:e1", f"identifier={SYSTEM}|OPD-T{suffix}"),
        entry(observation("urn:uuid:e1"), "urn:uuid:o1"),
        entry(condition("urn:uuid:e1", subject, "I10"), "urn:uuid:c1"),
        entry(exam, "urn:uuid:r1", f"identifier={SYSTEM}|KSK-T{suffix}"),
        entry(lab, "urn:uuid:o2"),
        entry(referral(subject, f"CV-T{suffix}"), "urn:uuid:s1", f"identifier={SYSTEM}|CV-T{suffix}"),
    ]


async def test_transaction_stores_the_envelope_as_records_once(
    client: httpx.AsyncClient, sign_as: Any, seed_cadre: Any, principals: SimpleNamespace, count_rows: Count
) -> None:
    nid = "068052000201"
    cadre_id = await seed_cadre(national_id=nid)
    his = sign_as(principals.his)
    answer = fhir(await client.post(BASE, json=bundle("transaction", envelope(nid)), headers=his), 200)
    assert answer["type"] == "transaction-response"
    statuses = [e["response"]["status"] for e in answer["entry"]]
    assert statuses == ["201 Created"] * 6
    locations = [e["response"]["location"] for e in answer["entry"]]
    visit_id = locations[0].split("/")[1]
    assert locations[1] == f"Observation/{visit_id}-m0/_history/1" and locations[2] == f"Condition/{visit_id}-d0/_history/1"
    assert await count_rows(ClinicalRecord) == 3 and await count_rows(ClinicalRecordVersion) == 3

    doctor = sign_as(principals.doctor)
    visit = fhir(await client.get(f"{BASE}/Encounter/{visit_id}", headers=doctor), 200)
    assert visit["diagnosis"] == [{"condition": {"reference": f"Condition/{visit_id}-d0"}, "rank": 1}]
    exam_id = locations[3].split("/")[1]
    exam = fhir(await client.get(f"{BASE}/DiagnosticReport/{exam_id}", headers=doctor), 200)
    assert exam["result"] == [{"reference": f"Observation/{exam_id}-l0"}]
    everything = fhir(await client.get(f"{BASE}/Observation", params={"patient": str(cadre_id)}, headers=doctor))
    assert everything["total"] == 2

    pulse = entry(observation(f"Encounter/{visit_id}", "pulse", 72, "/min"))
    added = fhir(await client.post(BASE, json=bundle("transaction", [pulse]), headers=his), 200)
    assert added["entry"][0]["response"]["location"] == f"Observation/{visit_id}-m1/_history/2"

    again = fhir(await client.post(BASE, json=bundle("transaction", envelope(nid)), headers=his), 200)
    assert [e["response"]["status"] for e in again["entry"]][0::3] == ["200 OK", "200 OK"]  # found by ifNoneExist
    assert await count_rows(ClinicalRecordVersion) == 4


async def test_a_failing_transaction_stores_nothing(
    client: httpx.AsyncClient, sign_as: Any, seed_cadre: Any, principals: SimpleNamespace, count_rows: Count
) -> None:
    nid = "068052000202"
    await seed_cadre(national_id=nid)
    his = sign_as(principals.his)
    entries = envelope(nid)
    entries[2]["resource"]["code"]["coding"][0]["code"] = "XX9"  # not ICD-10
    refused = fhir(await client.post(BASE, json=bundle("transaction", entries), headers=his), 422)
    assert refused["issue"][0]["expression"] == ["Bundle.entry[2].resource.code"]
    entries = envelope(nid)
    entries[5]["resource"]["subject"] = by_cccd("068052999999")
    unknown = fhir(await client.post(BASE, json=bundle("transaction", entries), headers=his), 404)
    assert unknown["issue"][0]["expression"] == ["Bundle.entry[5].resource.subject.reference"]
    entries = envelope(nid)
    entries[1]["resource"]["valueQuantity"]["value"] = "heavy"
    shape = fhir(await client.post(BASE, json=bundle("transaction", entries), headers=his), 422)
    assert shape["issue"][0]["expression"] == ["Bundle.entry[1].resource.valueQuantity.value"]
    assert await count_rows(ClinicalRecord) == 0 and await count_rows(KIT.outbox) == 0

    await client.post(BASE, json=bundle("transaction", envelope(nid)), headers=his)
    overwrite = envelope(nid)
    overwrite[5] = entry(referral(by_cccd(nid), "CV-T") | {"performer": [{"display": "Bệnh viện Bạch Mai"}]})
    overwrite[0]["request"].pop("ifNoneExist")
    overwrite[0]["resource"]["period"] = {"start": "2026-03-01"}
    conflict = fhir(await client.post(BASE, json=bundle("transaction", overwrite), headers=his), 409)
    assert conflict["issue"][0]["code"] == "duplicate"
    assert await count_rows(ClinicalRecordVersion) == 3 and await count_rows(KIT.outbox) == 3  # rolled back


async def test_batch_answers_entry_by_entry(
    client: httpx.AsyncClient, sign_as: Any, seed_cadre: Any, principals: SimpleNamespace, count_rows: Count
) -> None:
    nid = "068052000203"
    await seed_cadre(national_id=nid)
    his = sign_as(principals.his)
    entries = [
        entry(encounter(by_cccd(nid), "B-1")),
        entry(encounter(by_cccd("068052999999"), "B-2")),
        entry(encounter(by_cccd(nid), "B-3", period={"start": "soon"})),
        entry(referral(by_cccd(nid), "B-4")),
    ]
    answer = fhir(await client.post(BASE, json=bundle("batch", entries), headers=his), 200)
    assert answer["type"] == "batch-response"
    responses = [e["response"] for e in answer["entry"]]
    assert [r["status"] for r in responses] == ["201 Created", "404 Not Found", "422 Unprocessable Entity", "201 Created"]
    assert responses[1]["outcome"]["issue"][0]["code"] == "not-found"
    assert responses[2]["outcome"]["issue"][0]["expression"] == ["Bundle.entry[2].resource.period.start"]
    assert await count_rows(ClinicalRecord) == 2


async def test_bundle_over_the_cap_and_bad_bundles(
    client: httpx.AsyncClient, sign_as: Any, seed_cadre: Any, principals: SimpleNamespace, count_rows: Count
) -> None:
    nid = "068052000204"
    await seed_cadre(national_id=nid)
    his = sign_as(principals.his)
    many = [entry(encounter(by_cccd(nid), f"M-{i}")) for i in range(MAX_BUNDLE_ENTRIES + 1)]
    too_big = await client.post(BASE, json=bundle("batch", many), headers=his)
    assert fhir(too_big, 413)["issue"][0]["code"] == "too-costly"
    searchset = fhir(await client.post(BASE, json=bundle("searchset", []), headers=his), 422)
    assert searchset["issue"][0]["expression"] == ["Bundle.type"]
    patient = {"resourceType": "Patient"}
    wrong = fhir(
        await client.post(
            BASE,
            json=bundle("transaction", [{"resource": patient, "request": {"method": "POST", "url": "Patient"}}]),
            headers=his,
        ),
        422,
    )
    assert wrong["issue"][0]["expression"] == ["Bundle.entry[0].request.url"]
    not_json = await client.post(BASE, content=b"{", headers={**his, "content-type": "application/fhir+json"})
    assert fhir(not_json, 400)["issue"][0]["code"] == "structure"
    assert await count_rows(ClinicalRecord) == 0
