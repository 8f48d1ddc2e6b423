"""A stored record (one version of it) as the FHIR resources it holds, with no I/O.

One record is one Encounter (every kind but a referral, which is a ServiceRequest); a periodic exam is also
a DiagnosticReport (the result and its classification) under the same id; its measurements, labs and
results are Observations and its diagnoses Conditions, with ids made of the record's id and the part's
place in it (`<record id>-m0`, `-l2`, `-d1`). Every resource carries the record's version as
`meta.versionId`: a part changes version with the record that holds it.
"""

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from clinical.codes import icd10
from clinical.heads import Head
from clinical.tables import ClinicalRecord
from contracts.api.clinical import RecordStatus
from contracts.codesystems import CODE_SYSTEMS
from contracts.enums import EncounterKind
from contracts.fhir import (
    CS_ACT_CODE,
    CS_CONDITION_CATEGORY,
    CS_DISCHARGE_OUTCOME,
    CS_ENCOUNTER_KIND,
    CS_HEALTH_CLASSIFICATION,
    CS_ICD10,
    CS_LOINC,
    CS_OBSERVATION_CATEGORY,
    CS_OBSERVATION_CODE,
    CS_REFERRAL_KIND,
    EXT_PLAN,
    SID_FACILITY_CODE,
    record_system,
)
from servicekit.fhir import instant

RECORD_TYPES = ("Encounter", "DiagnosticReport", "ServiceRequest")  # a record of their own
PART_TYPES = ("Observation", "Condition")  # inside a record
LOINC_PATTERN = re.compile(r"^\d{1,7}-\d$")
PART_ID = re.compile(
    r"^(?P<record>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:-(?P<tag>[mlirdx])(?P<index>\d+))?$"
)

ENCOUNTER_CLASS = {
    EncounterKind.OUTPATIENT_VISIT: ("AMB", "ambulatory"),
    EncounterKind.PERIODIC_EXAM: ("AMB", "ambulatory"),
    EncounterKind.CONSULTATION: ("AMB", "ambulatory"),
    EncounterKind.ADMISSION: ("IMP", "inpatient encounter"),
    EncounterKind.HOME_VISIT: ("HH", "home health"),
}
KIND_DISPLAY = {
    EncounterKind.PERIODIC_EXAM: "Periodic health examination",
    EncounterKind.OUTPATIENT_VISIT: "Outpatient visit",
    EncounterKind.ADMISSION: "Inpatient admission",
    EncounterKind.REFERRAL: "Referral",
    EncounterKind.HOME_VISIT: "Home visit",
    EncounterKind.CONSULTATION: "Consultation",
}
# (tag of the part id, body section): "results" are an outpatient visit's or an admission's labs and imaging
OBSERVATION_SECTIONS = (("m", "measurements"), ("l", "labs"), ("i", "imaging"), ("r", "results"))
OBSERVATION_CATEGORIES = {"m": "vital-signs", "l": "laboratory", "i": "imaging", "r": "laboratory"}
CS_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
REFERRAL_STATUS = {"issued": "active", "accepted": "active", "completed": "completed", "cancelled": "revoked"}


@dataclass(frozen=True)
class RecordVersion:
    """One version of one record, whichever table it was read from (the head or the versions)."""

    id: uuid.UUID
    facility: str
    external_id: str
    kind: str
    cadre_id: uuid.UUID
    version: int
    status: str
    recorded_at: datetime
    updated_at: datetime
    body: dict[str, Any]

    @classmethod
    def current(cls, head: Head | ClinicalRecord) -> "RecordVersion":
        """The record's current version, from the head as the core holds it or as its row was read."""
        return cls(
            head.id,
            head.facility,
            head.external_id,
            head.kind,
            head.cadre_id,
            head.version,
            head.status,
            head.recorded_at,
            head.updated_at,
            head.body,
        )

    @property
    def withdrawn(self) -> bool:
        return self.status == RecordStatus.WITHDRAWN.value

    def meta(self) -> dict[str, Any]:
        return {"versionId": str(self.version), "lastUpdated": instant(self.updated_at)}


def coding(system: str, code: str, display: str | None = None, version: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"system": system, "code": code}
    if version:
        found["version"] = version
    if display:
        found["display"] = display
    return found


def _common(record: RecordVersion, resource_type: str, resource_id: str) -> dict[str, Any]:
    return {"resourceType": resource_type, "id": resource_id, "meta": record.meta()}


def _identifier(record: RecordVersion) -> list[dict[str, Any]]:
    return [{"system": record_system(record.facility), "value": record.external_id}]


def _subject(record: RecordVersion) -> dict[str, Any]:
    return {"reference": f"Patient/{record.cadre_id}"}


def _organization(facility: str) -> dict[str, Any]:
    return {"reference": f"Organization/{facility}", "identifier": {"system": SID_FACILITY_CODE, "value": facility}}


# ---- the record's own resource --------------------------------------------------------------------------


def encounter(record: RecordVersion) -> dict[str, Any]:
    body, kind = record.body, EncounterKind(record.kind)
    code, display = ENCOUNTER_CLASS[kind]
    discharge = body.get("discharge") or None
    status = (
        "entered-in-error"
        if record.withdrawn
        else "in-progress"
        if kind is EncounterKind.ADMISSION and not discharge
        else "finished"
    )
    resource = _common(record, "Encounter", str(record.id)) | {
        "identifier": _identifier(record),
        "status": status,
        "class": coding(CS_ACT_CODE, code, display),
        "type": [{"coding": [coding(CS_ENCOUNTER_KIND, kind.value, KIND_DISPLAY[kind])]}],
        "subject": _subject(record),
        "period": {"start": body["occurred_on"], **({"end": discharge["discharged_on"]} if discharge else {})},
        "serviceProvider": _organization(record.facility),
    }
    if body.get("department"):
        resource["serviceType"] = {"text": body["department"]}
    if body.get("reason"):
        resource["reasonCode"] = [{"text": body["reason"]}]
    if body.get("visited_by"):
        resource["participant"] = [{"individual": {"display": name}} for name in body["visited_by"]]
    if body.get("plan_id"):
        resource["extension"] = [{"url": EXT_PLAN, "valueString": body["plan_id"]}]
    diagnoses = [
        {"condition": {"reference": f"Condition/{record.id}-{tag}{i}"}, **({"rank": 1} if d.get("primary") else {})}
        for tag, section in (("d", body.get("diagnoses", [])), ("x", (discharge or {}).get("diagnoses", [])))
        for i, d in enumerate(section)
    ]
    if diagnoses:
        resource["diagnosis"] = diagnoses
    if kind is EncounterKind.ADMISSION:
        resource["location"] = _locations(body)
        if discharge:
            outcome = discharge["outcome"]
            resource["hospitalization"] = {"dischargeDisposition": {"coding": [coding(CS_DISCHARGE_OUTCOME, outcome)]}}
    return resource


def _locations(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The wards of a stay, each with the period it was the cadre's ward (the last open until discharge)."""
    stays = [(body["occurred_on"], body["ward"])] + [(t["on"], t["to_ward"]) for t in body.get("transfers", [])]
    end = (body.get("discharge") or {}).get("discharged_on")
    locations = []
    for index, (start, ward) in enumerate(stays):
        until = stays[index + 1][0] if index + 1 < len(stays) else end
        period = {"start": start, **({"end": until} if until else {})}
        status = "completed" if until else "active"
        locations.append({"location": {"display": ward}, "status": status, "period": period})
    return locations


def diagnostic_report(record: RecordVersion) -> dict[str, Any]:
    body = record.body
    resource = _common(record, "DiagnosticReport", str(record.id)) | {
        "identifier": _identifier(record),
        "status": "entered-in-error" if record.withdrawn else "final",
        "category": [{"coding": [coding(CS_ENCOUNTER_KIND, "periodic_exam", KIND_DISPLAY[EncounterKind.PERIODIC_EXAM])]}],
        "code": {"coding": [coding(CS_ENCOUNTER_KIND, "periodic_exam", KIND_DISPLAY[EncounterKind.PERIODIC_EXAM])]},
        "subject": _subject(record),
        "encounter": {"reference": f"Encounter/{record.id}"},
        "effectiveDateTime": body["occurred_on"],
        "issued": instant(record.recorded_at),
        "performer": [_organization(record.facility)],
    }
    results = [f"Observation/{record.id}-{tag}{i}" for tag, i, _ in _observations(body)]
    if results:
        resource["result"] = [{"reference": reference} for reference in results]
    if body.get("conclusion"):
        resource["conclusion"] = body["conclusion"]
    classification = body.get("classification")
    if classification:
        resource["conclusionCode"] = [{"coding": [classification_coding(classification)]}]
    return resource


def classification_coding(value: dict[str, str]) -> dict[str, Any]:
    """The A/B1/B2/C/D classification as a Coding of CadreCare's code system, with the scheme's version."""
    system = CODE_SYSTEMS.get((value["system"], value["version"]))
    display = next((c.display_en for c in system.codes if c.code == value["code"]), None) if system else None
    return coding(CS_HEALTH_CLASSIFICATION, value["code"], display, version=value["version"])


def service_request(record: RecordVersion) -> dict[str, Any]:
    body = record.body
    status = "entered-in-error" if record.withdrawn else REFERRAL_STATUS.get(body.get("status", "issued"), "active")
    resource = _common(record, "ServiceRequest", str(record.id)) | {
        "identifier": _identifier(record),
        "status": status,
        "intent": "order",
        "category": [{"coding": [coding(CS_REFERRAL_KIND, body["referral_kind"])]}],
        "code": {"coding": [coding(CS_ENCOUNTER_KIND, "referral", "Referral")], "text": "referral"},
        "subject": _subject(record),
        "authoredOn": body["occurred_on"],
        "requester": _organization(record.facility),
        "performer": [{"display": body["to_facility"]}],
    }
    if body.get("reason"):
        resource["reasonCode"] = [{"text": body["reason"]}]
    notes = [n for n in (body.get("council_decision"), body.get("decided_by"), body.get("notes")) if n]
    if notes:
        resource["note"] = [{"text": n} for n in notes]
    return resource


# ---- the parts ----------------------------------------------------------------------------------------


def _observations(body: dict[str, Any]) -> Iterator[tuple[str, int, dict[str, Any]]]:
    for tag, section in OBSERVATION_SECTIONS:
        for index, item in enumerate(body.get(section, [])):
            yield tag, index, item


def observation(record: RecordVersion, tag: str, index: int, item: dict[str, Any]) -> dict[str, Any]:
    category = OBSERVATION_CATEGORIES[tag]
    system = CS_LOINC if LOINC_PATTERN.match(item["code"]) else CS_OBSERVATION_CODE
    code: dict[str, Any] = {"coding": [coding(system, item["code"], item.get("name"))]}
    if item.get("name"):
        code["text"] = item["name"]
    resource = _common(record, "Observation", f"{record.id}-{tag}{index}") | {
        "status": "entered-in-error" if record.withdrawn else "final",
        "category": [{"coding": [coding(CS_OBSERVATION_CATEGORY, category)]}],
        "code": code,
        "subject": _subject(record),
        "encounter": {"reference": f"Encounter/{record.id}"},
        "effectiveDateTime": record.body["occurred_on"],
        "performer": [_organization(record.facility)],
    }
    value = item["value"]
    if isinstance(value, str):
        resource["valueString"] = value
    else:
        resource["valueQuantity"] = {"value": value, **({"unit": item["unit"]} if item.get("unit") else {})}
    if item.get("reference_range"):
        resource["referenceRange"] = [{"text": item["reference_range"]}]
    if item.get("abnormal") is not None:
        flag = ("A", "Abnormal") if item["abnormal"] else ("N", "Normal")
        interpretation = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
        resource["interpretation"] = [{"coding": [coding(interpretation, *flag)]}]
    return resource


def condition(record: RecordVersion, tag: str, index: int, item: dict[str, Any]) -> dict[str, Any]:
    title = item.get("description") or icd10().title(item["code"])
    code: dict[str, Any] = {"coding": [coding(CS_ICD10, item["code"], icd10().title(item["code"]))]}
    if title:
        code["text"] = title
    resource = _common(record, "Condition", f"{record.id}-{tag}{index}") | {
        "category": [{"coding": [coding(CS_CONDITION_CATEGORY, "encounter-diagnosis", "Encounter Diagnosis")]}],
        "code": code,
        "subject": _subject(record),
        "encounter": {"reference": f"Encounter/{record.id}"},
        "recordedDate": record.body["occurred_on"] if tag == "d" else record.body["discharge"]["discharged_on"],
    }
    if record.withdrawn:
        resource["verificationStatus"] = {"coding": [coding(CS_VERIFICATION, "entered-in-error")]}
    return resource


def conditions(record: RecordVersion) -> list[dict[str, Any]]:
    body = record.body
    found = [condition(record, "d", i, d) for i, d in enumerate(body.get("diagnoses", []))]
    discharge = body.get("discharge") or {}
    return found + [condition(record, "x", i, d) for i, d in enumerate(discharge.get("diagnoses", []))]


def resources_of(record: RecordVersion) -> list[dict[str, Any]]:
    """Every resource a record version holds: its own first, then its Observations and Conditions."""
    kind = EncounterKind(record.kind)
    own = [service_request(record)] if kind is EncounterKind.REFERRAL else [encounter(record)]
    if kind is EncounterKind.PERIODIC_EXAM:
        own.append(diagnostic_report(record))
    parts = [observation(record, tag, i, item) for tag, i, item in _observations(record.body)]
    return own + parts + conditions(record)


def resource_of(record: RecordVersion, resource_type: str, resource_id: str) -> dict[str, Any] | None:
    return next((r for r in resources_of(record) if r["resourceType"] == resource_type and r["id"] == resource_id), None)


def record_id_of(resource_id: str) -> uuid.UUID | None:
    """The record an Encounter, DiagnosticReport, ServiceRequest, Observation or Condition id names."""
    found = PART_ID.match(resource_id)
    return uuid.UUID(found.group("record")) if found else None
