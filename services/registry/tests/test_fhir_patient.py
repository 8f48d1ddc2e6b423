"""FHIR Patient (a cadre): read and search by identifier only in scope and audited, registration conditional on
the CCCD, invalid resources refused naming the element and storing nothing (SQLite and PostgreSQL)."""

import asyncio
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.patient import Patient
from registry_testkit import ADMIN, DALAT, HIS, LAMDONG, Api, cadre_body

from contracts.fhir import (
    CS_MANAGEMENT_TIER,
    EXT_CADRE_STATUS,
    EXT_MANAGEMENT_TIER,
    EXT_MANAGING_UNIT,
    EXT_STATUS_SINCE,
    SID_BHYT,
    SID_CCCD,
    SID_HEALTH_CARD,
)
from contracts.scope import AUDIT_SUBJECTS_HEADER

BASE = "/fhir/R4/Patient"
FHIR = {"content-type": "application/fhir+json"}


def patient_body(national_id: str, unit: str = "VN.68", tier: str = "provincial_2", **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "identifier": [{"system": SID_CCCD, "value": national_id}],
        "name": [{"use": "official", "text": "Trần Thị Hoa"}],
        "gender": "female",
        "birthDate": "1961-05-02",
        "extension": [
            {"url": EXT_MANAGING_UNIT, "valueString": unit},
            {"url": EXT_MANAGEMENT_TIER, "valueCoding": {"system": CS_MANAGEMENT_TIER, "code": tier}},
            {"url": EXT_CADRE_STATUS, "valueCode": "retired"},
            {"url": EXT_STATUS_SINCE, "valueDate": "2018-04-01"},
        ],
        **extra,
    }


def fhir_national_id() -> str:
    return str(cadre_body(date_of_birth="1961-05-02", sex="female")["national_id"])


def ids_of(bundle: dict[str, Any]) -> list[str]:
    return [entry["resource"]["id"] for entry in bundle.get("entry", [])]


async def test_a_patient_is_read_and_found_by_each_identifier_only_in_scope(api: Api) -> None:
    dalat = await api.create(managing_unit="VN.68.672", tier="district", bhyt_number="HT3680123456789")
    province = await api.create(managing_unit="VN.68", tier="provincial_2")
    card = (await api.post(f"/cadres/{dalat['id']}/cards", json={})).json()["number"]

    read = await api.get(f"{BASE}/{dalat['id']}", DALAT)
    assert read.status_code == 200 and read.headers["content-type"].startswith("application/fhir+json"), read.text
    patient = Patient.model_validate(read.json())
    assert patient.birthDate.isoformat() == dalat["date_of_birth"] and read.headers[AUDIT_SUBJECTS_HEADER] == dalat["id"]
    assert {i.system: i.value for i in patient.identifier}[SID_HEALTH_CARD] == card

    for query in (f"{SID_CCCD}|{dalat['national_id']}", f"{SID_BHYT}|HT3680123456789", f"{SID_HEALTH_CARD}|{card}", card):
        found = await api.get(BASE, LAMDONG, params={"identifier": query})
        assert found.status_code == 200 and ids_of(found.json()) == [dalat["id"]], (query, found.text)
        assert found.headers[AUDIT_SUBJECTS_HEADER] == dalat["id"]
        Bundle.model_validate(found.json())

    # the district board does not see the province's cadre: 404 as if it did not exist, and no search hit
    hidden = await api.get(f"{BASE}/{province['id']}", DALAT)
    missing = await api.get(f"{BASE}/00000000-0000-4000-8000-000000000000", DALAT)
    assert hidden.status_code == missing.status_code == 404 and hidden.json()["resourceType"] == "OperationOutcome"
    assert hidden.json()["issue"][0]["code"] == missing.json()["issue"][0]["code"] == "not-found"
    search = await api.get(BASE, DALAT, params={"identifier": f"{SID_CCCD}|{province['national_id']}"})
    assert search.json()["total"] == 0 and search.headers[AUDIT_SUBJECTS_HEADER] == ""
    assert (await api.get(BASE, HIS, params={"identifier": dalat["national_id"]})).status_code == 403


async def test_a_search_is_paged_and_filtered_by_last_updated(api: Api) -> None:
    created = [await api.create(managing_unit="VN.68.672", tier="district") for _ in range(3)]
    first = (await api.get(BASE, DALAT, params={"_count": "2"})).json()
    assert first["total"] == 3 and len(first["entry"]) == 2
    following = next(link["url"] for link in first["link"] if link["relation"] == "next")
    second = (await api.get(following.split("http://registry", 1)[-1], DALAT)).json()
    assert sorted(ids_of(first) + ids_of(second)) == sorted(c["id"] for c in created)
    assert (await api.get(BASE, DALAT, params={"_lastUpdated": "gt2999-01-01"})).json()["total"] == 0
    assert (await api.get(BASE, DALAT, params={"_lastUpdated": "ge2020-01-01"})).json()["total"] == 3
    refused = await api.get(BASE, DALAT, params={"_lastUpdated": "yesterday"})
    assert refused.status_code == 400 and refused.json()["issue"][0]["expression"] == ["_lastUpdated"]
    unknown = await api.get(BASE, DALAT, params={"name": "Đức"})  # not ignored: that would answer more than asked
    assert unknown.status_code == 400 and unknown.json()["issue"][0]["expression"] == ["name"]


async def test_a_patient_is_registered_once_when_created_on_its_cccd(api: Api) -> None:
    national_id = fhir_national_id()
    condition = {"if-none-exist": f"identifier={SID_CCCD}|{national_id}", **FHIR}
    first = await api.post(BASE, LAMDONG, json=patient_body(national_id), headers=condition)
    assert first.status_code == 201 and first.headers["location"].endswith(f"/Patient/{first.json()['id']}"), first.text
    again = await api.post(BASE, LAMDONG, json=patient_body(national_id), headers=condition)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    cadre = (await api.get(f"/cadres/{first.json()['id']}")).json()
    assert (cadre["full_name"], cadre["tier"], cadre["managing_unit"], cadre["status"]) == (
        "Trần Thị Hoa",
        "provincial_2",
        "VN.68",
        "retired",
    )
    plain = await api.post(BASE, LAMDONG, json=patient_body(national_id), headers=FHIR)
    assert plain.status_code == 409 and plain.json()["resourceType"] == "OperationOutcome"
    assert [t for _, t in await api.outbox()].count("vn.cadrecare.registry.cadre.registered") == 1


async def test_concurrent_conditional_creates_register_one_cadre(api: Api) -> None:
    national_id = fhir_national_id()
    condition = {"if-none-exist": f"identifier={SID_CCCD}|{national_id}", **FHIR}
    answers = await asyncio.gather(*(api.post(BASE, ADMIN, json=patient_body(national_id), headers=condition) for _ in range(8)))
    assert sorted(a.status_code for a in answers).count(201) == 1, [a.text for a in answers]
    assert {a.json()["id"] for a in answers} == {answers[0].json()["id"]}
    listed = await api.get("/cadres", params={"national_id": national_id})
    assert listed.json()["total"] == 1


async def test_an_invalid_patient_is_refused_naming_the_element_and_changes_nothing(api: Api) -> None:
    national_id = fhir_national_id()
    before = len(await api.outbox())
    no_cccd = patient_body(national_id)
    no_cccd["identifier"] = []
    cases = {
        "Patient.gender": patient_body(national_id, gender="unknownish"),
        "Patient.identifier": no_cccd,
        f"Patient.extension('{EXT_MANAGEMENT_TIER}')": patient_body(national_id, tier="emperor"),
    }
    for element, body in cases.items():
        answer = await api.post(BASE, LAMDONG, json=body, headers=FHIR)
        assert answer.status_code == 422, (element, answer.text)
        outcome = answer.json()
        assert outcome["resourceType"] == "OperationOutcome"
        assert any(element in e for issue in outcome["issue"] for e in issue.get("expression", [])), (element, outcome)
    wrong_scope = await api.post(BASE, DALAT, json=patient_body(national_id), headers=FHIR)
    assert wrong_scope.status_code == 403 and wrong_scope.json()["issue"][0]["code"] == "forbidden"
    bad_condition = await api.post(BASE, LAMDONG, json=patient_body(national_id), headers={"if-none-exist": "name=Hoa", **FHIR})
    assert bad_condition.status_code == 400
    assert len(await api.outbox()) == before
    assert (await api.get("/cadres", params={"national_id": national_id})).json()["total"] == 0
