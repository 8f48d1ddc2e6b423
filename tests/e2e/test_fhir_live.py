"""The FHIR R4 facade of the live platform, through the gateway, with a real FHIR client (fhirpy's
AsyncFHIRClient) and raw requests: the CapabilityStatement, Patient by identifier and conditional create,
a hospital's clinical resources (create, conditional create, transaction, read, search), its exam-day
Appointments marked arrived and fulfilled, and a board's Bulk Data $export imported into a fresh platform
(Patients by conditional create, then one transaction of records per patient) with the same counts."""

import asyncio
import json
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhirpy import AsyncFHIRClient

from contracts.fhir import (
    CS_ACT_CODE,
    CS_HEALTH_CLASSIFICATION,
    CS_ICD10,
    CS_MANAGEMENT_TIER,
    CS_OBSERVATION_CATEGORY,
    EXT_CADRE_STATUS,
    EXT_MANAGEMENT_TIER,
    EXT_MANAGING_UNIT,
    EXT_STATUS_SINCE,
    SID_CCCD,
    SID_FACILITY_CODE,
    record_system,
)
from devstack import demo
from devstack.stack import Stack
from tests.e2e.conftest import his_login, login, stack_config
from tests.e2e.helpers import eventually

pytestmark = pytest.mark.e2e

FHIR_JSON = {"content-type": "application/fhir+json", "accept": "application/fhir+json"}
HIS_ID, FACILITY = "his-bvdk-lamdong", "68-BVDK"
RECORDS = record_system(FACILITY)
EXPORTED = ("Patient", "Encounter", "Observation", "DiagnosticReport", "Condition", "ServiceRequest")
YEAR = date.today().year
PLAN_YEAR = YEAR + 1  # its round lies ahead whenever this runs


def fhirpy_client(stack: Stack, http: httpx.Client) -> AsyncFHIRClient:
    return AsyncFHIRClient(f"{stack.config.gateway_url}/fhir/R4", authorization=http.headers["authorization"])


def valid(body: dict[str, Any]) -> dict[str, Any]:
    """The body validates with the R4B models, and so does every resource of a Bundle."""
    get_fhir_model_class(body["resourceType"]).model_validate(body)
    for entry in body.get("entry", []):
        if "resource" in entry:
            get_fhir_model_class(entry["resource"]["resourceType"]).model_validate(entry["resource"])
    return body


def patient(national_id: str, name: str, unit: str = "VN.68", tier: str = "provincial_2") -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "identifier": [{"system": SID_CCCD, "value": national_id}],
        "name": [{"use": "official", "text": name}],
        "gender": "male",
        "birthDate": "1956-02-03",
        "extension": [
            {"url": EXT_MANAGING_UNIT, "valueString": unit},
            {"url": EXT_MANAGEMENT_TIER, "valueCoding": {"system": CS_MANAGEMENT_TIER, "code": tier}},
            {"url": EXT_CADRE_STATUS, "valueCode": "active"},
            {"url": EXT_STATUS_SINCE, "valueDate": "2020-01-01"},
        ],
    }


def by_cccd(national_id: str) -> dict[str, str]:
    return {"reference": f"Patient?identifier={SID_CCCD}|{national_id}"}


def exam_transaction(national_id: str, external_id: str) -> dict[str, Any]:
    """A periodic exam as one transaction: the report, a blood pressure and a diagnosis folded into it."""
    report = {
        "resourceType": "DiagnosticReport",
        "identifier": [{"system": RECORDS, "value": external_id}],
        "status": "final",
        "code": {"text": "periodic exam"},
        "subject": by_cccd(national_id),
        "effectiveDateTime": f"{YEAR}-03-02",
        "conclusionCode": [{"coding": [{"system": CS_HEALTH_CLASSIFICATION, "version": "2020", "code": "B1"}]}],
    }
    pressure = {
        "resourceType": "Observation",
        "status": "final",
        "category": [{"coding": [{"system": CS_OBSERVATION_CATEGORY, "code": "vital-signs"}]}],
        "code": {"coding": [{"system": "https://fhir.cadrecare.vn/CodeSystem/observation", "code": "bp_systolic"}]},
        "encounter": {"reference": "urn:uuid:exam"},
        "valueQuantity": {"value": 138, "unit": "mm[Hg]"},
    }
    diagnosis = {
        "resourceType": "Condition",
        "code": {"coding": [{"system": CS_ICD10, "code": "I10"}]},
        "subject": by_cccd(national_id),
        "encounter": {"reference": "urn:uuid:exam"},
    }
    entries = [
        {"fullUrl": "urn:uuid:exam", "resource": report, "request": {"method": "POST", "url": "DiagnosticReport"}},
        {"resource": pressure, "request": {"method": "POST", "url": "Observation"}},
        {"resource": diagnosis, "request": {"method": "POST", "url": "Condition"}},
    ]
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def visit(national_id: str, external_id: str) -> dict[str, Any]:
    return {
        "resourceType": "Encounter",
        "identifier": [{"system": RECORDS, "value": external_id}],
        "status": "finished",
        "class": {"system": CS_ACT_CODE, "code": "AMB"},
        "subject": by_cccd(national_id),
        "period": {"start": f"{YEAR}-02-10"},
        "reasonCode": [{"text": "đau đầu"}],
    }


# ---- the platform under test, with a handful of cadres and their records ----------------------------------


@pytest.fixture(scope="module")
def board(stack: Stack, admin: httpx.Client) -> Iterator[httpx.Client]:
    with closing(login(stack, "lamdong")) as client:
        yield client


@pytest.fixture(scope="module")
def his(stack: Stack, admin: httpx.Client) -> Iterator[httpx.Client]:
    with closing(his_login(stack)) as client:
        yield client


@pytest.fixture(scope="module")
def cadres(board: httpx.Client, his: httpx.Client) -> list[dict[str, Any]]:
    """Three cadres of Lâm Đồng registered as FHIR Patients, each with an exam and a visit posted by the HIS."""
    made = []
    for number in range(3):
        national_id = f"0680560{number:05d}"
        answer = board.post("/fhir/R4/Patient", json=patient(national_id, f"Hoàng Văn Thứ {number}"), headers=FHIR_JSON)
        assert answer.status_code == 201, answer.text
        made.append(valid(answer.json()))

    def known_to_clinical(national_id: str) -> bool:
        probe = his.post("/fhir/R4/Encounter", json=visit(national_id, f"PROBE-{national_id}"), headers=FHIR_JSON)
        return probe.status_code in (200, 201)

    for cadre in made:
        eventually(lambda cadre=cadre: known_to_clinical(cadre["identifier"][0]["value"]), timeout=30, interval=0.3)
    return made


def test_metadata_and_patients_by_identifier_with_fhirpy(stack: Stack, board: httpx.Client, cadres: list[dict[str, Any]]) -> None:
    metadata = httpx.get(f"{stack.config.gateway_url}/fhir/R4/metadata")  # public: no token
    assert metadata.status_code == 200 and metadata.headers["content-type"].startswith("application/fhir+json")
    statement = valid(metadata.json())
    assert {r["type"] for r in statement["rest"][0]["resource"]} >= {"Patient", "Appointment", "Encounter", "Group"}

    async def search() -> list[str]:
        client = fhirpy_client(stack, board)
        national_id = cadres[1]["identifier"][0]["value"]
        found = await client.resources("Patient").search(identifier=f"{SID_CCCD}|{national_id}").fetch()
        one = await client.reference("Patient", cadres[2]["id"]).to_resource()
        assert one["id"] == cadres[2]["id"]
        return [p.id for p in found]

    assert asyncio.run(search()) == [cadres[1]["id"]]
    again = board.post(
        "/fhir/R4/Patient",
        json=patient(cadres[0]["identifier"][0]["value"], "Hoàng Văn Thứ 0"),
        headers={**FHIR_JSON, "if-none-exist": f"identifier={SID_CCCD}|{cadres[0]['identifier'][0]['value']}"},
    )
    assert again.status_code == 200 and again.json()["id"] == cadres[0]["id"]
    with closing(login(stack, "dalat")) as dalat:  # a district board: the province's cadre does not exist for it
        hidden = dalat.get(f"/fhir/R4/Patient/{cadres[0]['id']}")
        assert hidden.status_code == 404 and hidden.json()["resourceType"] == "OperationOutcome"


def test_a_hospital_creates_and_reads_clinical_resources(
    stack: Stack, his: httpx.Client, board: httpx.Client, cadres: list[dict[str, Any]]
) -> None:
    national_id = cadres[0]["identifier"][0]["value"]
    created = his.post("/fhir/R4", json=exam_transaction(national_id, "E2E-FHIR-KSK-1"), headers=FHIR_JSON)
    assert created.status_code == 200 and valid(created.json())["type"] == "transaction-response", created.text
    condition = {"if-none-exist": f"identifier={RECORDS}|E2E-FHIR-OPD-1", **FHIR_JSON}
    first = his.post("/fhir/R4/Encounter", json=visit(national_id, "E2E-FHIR-OPD-1"), headers=condition)
    repeat = his.post("/fhir/R4/Encounter", json=visit(national_id, "E2E-FHIR-OPD-1"), headers=condition)
    assert (first.status_code, repeat.status_code) == (201, 200) and first.json()["id"] == repeat.json()["id"]
    failing = exam_transaction(national_id, "E2E-FHIR-KSK-2")
    failing["entry"][2]["resource"]["code"]["coding"][0]["code"] = "NOT-ICD"
    refused = his.post("/fhir/R4", json=failing, headers=FHIR_JSON)
    assert refused.status_code in (400, 422) and refused.json()["resourceType"] == "OperationOutcome"

    async def read() -> tuple[int, int]:
        client = fhirpy_client(stack, board)
        reports = await client.resources("DiagnosticReport").search(patient=cadres[0]["id"]).fetch_all()
        observations = await client.resources("Observation").search(patient=cadres[0]["id"]).fetch_all()
        return len(reports), len(observations)

    reports, observations = asyncio.run(read())
    assert reports == 1 and observations >= 1  # the failed transaction stored nothing
    search = board.get("/fhir/R4/Encounter", params={"patient": f"Patient/{cadres[0]['id']}"})
    assert search.status_code == 200 and valid(search.json())["total"] >= 2


def test_a_hospital_registers_its_own_facility_as_an_organization(stack: Stack, his: httpx.Client) -> None:
    organization = {
        "resourceType": "Organization",
        "identifier": [{"system": SID_FACILITY_CODE, "value": "68-BVDK"}],
        "name": "Bệnh viện Đa khoa tỉnh Lâm Đồng",
        "active": True,
    }
    condition = {"if-none-exist": f"identifier={SID_FACILITY_CODE}|68-BVDK", **FHIR_JSON}
    first = his.post("/fhir/R4/Organization", json=organization, headers=condition)
    assert first.status_code in (200, 201), first.text
    again = his.post("/fhir/R4/Organization", json=organization, headers=condition)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    read = valid(his.get("/fhir/R4/Organization/68-BVDK").json())
    assert read["name"] == "Bệnh viện Đa khoa tỉnh Lâm Đồng"
    other = {**organization, "identifier": [{"system": SID_FACILITY_CODE, "value": "79-BVTN"}], "name": "Thống Nhất"}
    refused = his.post("/fhir/R4/Organization", json=other, headers=FHIR_JSON)  # another hospital's facility
    assert refused.status_code == 403 and refused.json()["resourceType"] == "OperationOutcome"


def test_a_hospital_marks_its_exam_day_appointments(
    stack: Stack, board: httpx.Client, his: httpx.Client, cadres: list[dict[str, Any]]
) -> None:
    eventually(lambda: board.get("/api/v1/scheduling/roster/summary").json()["cadres"] >= len(cadres), timeout=30)
    rules = board.post(
        "/api/v1/scheduling/cadence-rules",
        json={
            "board_unit": "VN.68",
            "year": PLAN_YEAR,
            "rules": [{"tier": "provincial_2", "status": "active", "exams_per_year": 1}],
        },
    )
    assert rules.status_code == 201, rules.text
    plan = board.post(
        "/api/v1/scheduling/plans",
        json={
            "board_unit": "VN.68",
            "year": PLAN_YEAR,
            "title": "Kế hoạch khám FHIR",
            "plan_date": date.today().isoformat(),
            "rule_set_id": rules.json()["id"],
            "facilities": [{"code": FACILITY, "name": "Bệnh viện Đa khoa tỉnh Lâm Đồng", "daily_capacity": 20}],
            "rounds": [
                {
                    "number": 1,
                    "starts_on": f"{PLAN_YEAR}-03-02",
                    "ends_on": f"{PLAN_YEAR}-03-20",
                    "groups": [{"tier": "provincial_2", "facility": FACILITY}],
                }
            ],
        },
    )
    assert plan.status_code == 201, plan.text
    assert board.post(f"/api/v1/scheduling/plans/{plan.json()['id']}/generate").status_code == 200

    async def mark() -> list[str]:
        client = fhirpy_client(stack, his)
        mine = await client.resources("Appointment").search(actor=f"Organization/{FACILITY}", patient=cadres[0]["id"]).fetch()
        assert len(mine) == 1 and mine[0]["status"] == "pending"
        appointment = mine[0]
        appointment["status"] = "arrived"
        await appointment.save()  # PUT of the whole resource
        await appointment.patch(status="fulfilled")  # a merge patch of the status
        refreshed = await client.reference("Appointment", appointment.id).to_resource()
        return [appointment["status"], refreshed["status"]]

    assert asyncio.run(mark()) == ["fulfilled", "fulfilled"]
    invitations = board.get("/api/v1/scheduling/invitations", params={"cadre_id": cadres[0]["id"]}).json()["items"]
    assert [i["status"] for i in invitations] == ["attended"]


# ---- $export of a board, and its import into a fresh platform ---------------------------------------


def export(client: httpx.Client, kick_off: str) -> dict[str, list[dict[str, Any]]]:
    """Kick off, poll to the manifest, download every file: resources by type."""
    started = client.get(kick_off, headers={"prefer": "respond-async", "accept": "application/fhir+json"})
    assert started.status_code == 202, started.text
    location = started.headers["content-location"]
    deadline = time.monotonic() + 60
    while (polled := client.get(location)).status_code == 202:
        assert polled.headers["x-progress"] and time.monotonic() < deadline
        time.sleep(0.2)
    assert polled.status_code == 200, polled.text
    found: dict[str, list[dict[str, Any]]] = {}
    for output in polled.json()["output"]:
        lines = client.get(output["url"]).text.splitlines()
        found[output["type"]] = [json.loads(line) for line in lines]
        assert len(found[output["type"]]) == output["count"]
    return found


def _without_server_fields(resource: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if k not in ("id", "meta")}


def record_transactions(exported: dict[str, list[dict[str, Any]]], national_ids: dict[str, str]) -> dict[str, dict[str, Any]]:
    """One transaction per patient: each record once (a periodic exam by its report, not also by its
    Encounter), its Observations and Conditions pointing at the record's urn:uuid, the patient by CCCD."""
    records: dict[str, dict[str, Any]] = {}
    for resource_type in ("Encounter", "ServiceRequest", "DiagnosticReport"):  # a report replaces its exam's Encounter
        for resource in exported.get(resource_type, []):
            records[resource["id"]] = resource
    bundles: dict[str, dict[str, Any]] = {}
    for record_id, resource in records.items():
        patient_id = resource["subject"]["reference"].removeprefix("Patient/")
        carrier = {**_without_server_fields(resource), "subject": by_cccd(national_ids[patient_id])}
        for reference in ("result", "encounter"):  # its parts are entries of the transaction; it is the encounter
            carrier.pop(reference, None)
        entries = bundles.setdefault(patient_id, {"resourceType": "Bundle", "type": "transaction", "entry": []})["entry"]
        entries.append(
            {
                "fullUrl": f"urn:uuid:{record_id}",
                "resource": carrier,
                "request": {"method": "POST", "url": resource["resourceType"]},
            }
        )
        for part_type in ("Observation", "Condition"):
            for part in exported.get(part_type, []):
                if part["id"].startswith(record_id):
                    moved = {**_without_server_fields(part), "encounter": {"reference": f"urn:uuid:{record_id}"}}
                    if "subject" in moved:
                        moved["subject"] = by_cccd(national_ids[patient_id])
                    entries.append({"resource": moved, "request": {"method": "POST", "url": part_type}})
    return bundles


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    config = stack_config(tmp_path_factory.mktemp("fresh-stack"))
    demo.ensure_demo_principals(Path(config.data_dir) / "gateway" / "principals.json")
    platform = Stack(config)
    platform.start(timeout=90)
    try:
        yield platform
    finally:
        platform.stop()


def test_a_board_export_round_trips_into_a_fresh_platform(
    stack: Stack, board: httpx.Client, his: httpx.Client, cadres: list[dict[str, Any]], fresh: Stack
) -> None:
    his.post("/fhir/R4", json=exam_transaction(cadres[1]["identifier"][0]["value"], "E2E-FHIR-KSK-9"), headers=FHIR_JSON)
    exported = export(board, f"/fhir/R4/Group/VN.68/$export?_type={','.join(EXPORTED)},Appointment")
    assert {p["id"] for p in exported["Patient"]} >= {c["id"] for c in cadres}
    assert all(a["resourceType"] == "Appointment" for a in exported.pop("Appointment", []))  # not re-imported: plans make them
    assert exported["DiagnosticReport"] and exported["Observation"] and exported["Condition"]

    with (
        closing(login(fresh, "admin")) as admin,
        closing(login(fresh, "lamdong")) as target,
        closing(his_login(fresh)) as target_his,
    ):
        admin.post("/api/v1/registry/units/import", json=demo.demo_units()).raise_for_status()
        national_ids = {}
        for resource in exported["Patient"]:
            cccd = next(i["value"] for i in resource["identifier"] if i["system"] == SID_CCCD)
            national_ids[resource["id"]] = cccd
            condition = {"if-none-exist": f"identifier={SID_CCCD}|{cccd}", **FHIR_JSON}
            answer = admin.post("/fhir/R4/Patient", json=_without_server_fields(resource), headers=condition)
            assert answer.status_code == 201, answer.text

        def clinical_knows_everyone() -> bool:
            items = [
                {
                    "kind": "periodic_exam",
                    "external_id": f"probe-{n}",
                    "national_id": n,
                    "occurred_on": f"{YEAR}-01-02",
                    "classification": {"system": "vn-moh-qd-1266-2020", "version": "2020", "code": "A"},
                }
                for n in national_ids.values()
            ]
            probe = target_his.post("/api/v1/clinical/his/records/bulk", json={"items": items, "validate_only": True})
            return probe.status_code == 200 and all(i["outcome"] == "created" for i in probe.json()["items"])

        eventually(clinical_knows_everyone, timeout=60, interval=0.5)
        for patient_id, transaction in record_transactions(exported, national_ids).items():
            posted = target_his.post("/fhir/R4", json=transaction, headers=FHIR_JSON)
            assert posted.status_code == 200, (patient_id, posted.text)

        imported = export(target, f"/fhir/R4/Group/VN.68/$export?_type={','.join(EXPORTED)}")
    assert {t: len(r) for t, r in imported.items()} == {t: len(r) for t, r in exported.items()}
