"""Helpers of clinical's FHIR tests: the resources a HIS posts, and checking that every answer is FHIR R4B."""

from typing import Any

import httpx
from fhir.resources.R4B import get_fhir_model_class

from contracts.fhir import (
    CS_ACT_CODE,
    CS_DISCHARGE_OUTCOME,
    CS_HEALTH_CLASSIFICATION,
    CS_ICD10,
    CS_OBSERVATION_CATEGORY,
    SID_CCCD,
    record_system,
)

FACILITY = "68-BVDK"  # conftest's HIS_LAMDONG
SYSTEM = record_system(FACILITY)


def fhir(response: httpx.Response, status: int | None = None) -> dict[str, Any]:
    """The body of a FHIR answer, checked: its media type, and that it validates with the R4B models."""
    if status is not None:
        assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/fhir+json"), response.headers
    body: dict[str, Any] = response.json()
    get_fhir_model_class(body["resourceType"]).model_validate(body)
    for entry in body.get("entry", []):
        if "resource" in entry:
            get_fhir_model_class(entry["resource"]["resourceType"]).model_validate(entry["resource"])
    return body


def by_cccd(national_id: str) -> dict[str, str]:
    return {"reference": f"Patient?identifier={SID_CCCD}|{national_id}"}


def encounter(subject: dict[str, Any], external_id: str = "OPD-1", **overrides: Any) -> dict[str, Any]:
    return {
        "resourceType": "Encounter",
        "identifier": [{"system": SYSTEM, "value": external_id}],
        "status": "finished",
        "class": {"system": CS_ACT_CODE, "code": "AMB"},
        "subject": subject,
        "period": {"start": "2026-03-02"},
        "serviceType": {"text": "Khoa khám bệnh"},
        "reasonCode": [{"text": "đau đầu"}],
        **overrides,
    }


def admission(subject: dict[str, Any], external_id: str = "IPD-1", discharged: bool = True) -> dict[str, Any]:
    extra: dict[str, Any] = {
        "class": {"system": CS_ACT_CODE, "code": "IMP"},
        "location": [
            {"location": {"display": "Nội A"}, "period": {"start": "2026-02-10"}},
            {"location": {"display": "Hồi sức"}, "period": {"start": "2026-02-12"}},
        ],
        "period": {"start": "2026-02-10", **({"end": "2026-02-20"} if discharged else {})},
    }
    if discharged:
        extra["hospitalization"] = {"dischargeDisposition": {"coding": [{"system": CS_DISCHARGE_OUTCOME, "code": "improved"}]}}
    return encounter(subject, external_id, **extra)


def observation(
    encounter_ref: str, code: str = "weight", value: float = 62.5, unit: str = "kg", category: str = "vital-signs"
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [{"coding": [{"system": CS_OBSERVATION_CATEGORY, "code": category}]}],
        "code": {"coding": [{"system": "https://fhir.cadrecare.vn/CodeSystem/observation", "code": code}]},
        "encounter": {"reference": encounter_ref},
        "valueQuantity": {"value": value, "unit": unit},
    }


def condition(encounter_ref: str, subject: dict[str, Any], code: str = "I10") -> dict[str, Any]:
    coded = {"coding": [{"system": CS_ICD10, "code": code}]}
    return {"resourceType": "Condition", "code": coded, "encounter": {"reference": encounter_ref}, "subject": subject}


def report(subject: dict[str, Any], external_id: str = "KSK-1", code: str = "B1", version: str = "2020") -> dict[str, Any]:
    return {
        "resourceType": "DiagnosticReport",
        "identifier": [{"system": SYSTEM, "value": external_id}],
        "status": "final",
        "code": {"text": "periodic exam"},
        "subject": subject,
        "effectiveDateTime": "2026-03-01",
        "conclusion": "Sức khỏe loại B1",
        "conclusionCode": [{"coding": [{"system": CS_HEALTH_CLASSIFICATION, "version": version, "code": code}]}],
    }


def referral(subject: dict[str, Any], external_id: str = "CV-1") -> dict[str, Any]:
    return {
        "resourceType": "ServiceRequest",
        "identifier": [{"system": SYSTEM, "value": external_id}],
        "status": "active",
        "intent": "order",
        "category": [{"coding": [{"system": "https://fhir.cadrecare.vn/CodeSystem/referral-kind", "code": "higher_level"}]}],
        "subject": subject,
        "authoredOn": "2026-03-03",
        "performer": [{"display": "Bệnh viện Chợ Rẫy"}],
        "reasonCode": [{"text": "can thiệp mạch vành"}],
    }


def entry(resource: dict[str, Any], full_url: str | None = None, if_none_exist: str | None = None) -> dict[str, Any]:
    request: dict[str, Any] = {"method": "POST", "url": resource["resourceType"]}
    if if_none_exist:
        request["ifNoneExist"] = if_none_exist
    return {**({"fullUrl": full_url} if full_url else {}), "resource": resource, "request": request}


def bundle(kind: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": kind, "entry": entries}
