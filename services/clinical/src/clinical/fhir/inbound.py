"""FHIR resources a HIS posts, as the records of the one ingestion core (the JSON interface's shapes), with
no I/O. The core then checks them as it checks every record (ICD-10, classification, dates, units, the
cadre, the facility's grants); each field of a record remembers the FHIRPath it came from, so that the
core's refusals name the element the HIS sent.

Encounter (class AMB, IMP, HH) is an outpatient visit, an admission (its locations the wards, `period.end`
and `hospitalization.dischargeDisposition` the discharge) or a home visit; DiagnosticReport is a periodic
exam (classification in `conclusionCode`); ServiceRequest is a referral. Observations and Conditions are
parts of the record their `encounter` (or a report's `result`) names.
"""

from dataclasses import dataclass, field
from typing import Any

from contracts.codesystems import CODE_SYSTEMS
from contracts.enums import EncounterKind, ReferralKind
from contracts.fhir import (
    CS_CONDITION_CATEGORY,
    CS_DISCHARGE_OUTCOME,
    CS_HEALTH_CLASSIFICATION,
    CS_ICD10,
    CS_OBSERVATION_CATEGORY,
    CS_REFERRAL_KIND,
    EXT_PLAN,
    record_system,
)
from servicekit.fhir import FhirError

Loc = tuple[str | int, ...]
KIND_OF_CLASS = {
    "AMB": EncounterKind.OUTPATIENT_VISIT,
    "IMP": EncounterKind.ADMISSION,
    "ACUTE": EncounterKind.ADMISSION,
    "NONAC": EncounterKind.ADMISSION,
    "HH": EncounterKind.HOME_VISIT,
}
REFERRAL_STATUS_OF = {"active": "issued", "completed": "completed", "revoked": "cancelled", "draft": "issued"}
ABNORMAL = frozenset({"A", "AA", "H", "HH", "HU", "L", "LL", "LU", "POS", "R"})
NORMAL = frozenset({"N", "NEG", "S"})
# which section of a record an Observation of a category goes to, by record kind (None: not accepted)
SECTION_OF = {
    EncounterKind.PERIODIC_EXAM: {
        "vital-signs": "measurements",
        "laboratory": "labs",
        "imaging": "imaging",
        "exam": "measurements",
    },
    EncounterKind.OUTPATIENT_VISIT: {
        "vital-signs": "measurements",
        "laboratory": "results",
        "imaging": "results",
        "exam": "measurements",
    },
    EncounterKind.ADMISSION: {"laboratory": "results", "imaging": "results"},
    EncounterKind.HOME_VISIT: {"vital-signs": "measurements", "exam": "measurements"},
}
DIAGNOSES_OF = frozenset(
    {EncounterKind.PERIODIC_EXAM, EncounterKind.OUTPATIENT_VISIT, EncounterKind.ADMISSION, EncounterKind.HOME_VISIT}
)


def invalid(path: str, message: str, code: str = "invalid") -> FhirError:
    return FhirError(422, code, f"{path}: {message}", path)


@dataclass
class PatientRef:
    """How a resource names its patient: the registry's cadre id, or an identifier (system, value)."""

    path: str
    cadre_id: str | None = None
    system: str | None = None
    value: str | None = None


@dataclass
class Mapped:
    """A record built from FHIR: the HIS record (its cadre named once the patient is resolved) and where
    each of its fields came from."""

    kind: EncounterKind
    item: dict[str, Any]
    at: str
    patient: PatientRef
    origins: dict[Loc, str] = field(default_factory=dict)

    def path_of(self, loc: list[str | int]) -> str:
        """The FHIRPath of the element a record field came from: the longest known prefix, else the resource."""
        for end in range(len(loc), 0, -1):
            found = self.origins.get(tuple(loc[:end]))
            if found:
                return found
        return self.at


@dataclass
class Part:
    """An Observation or a Condition, before it is placed in its record."""

    resource_type: str
    item: dict[str, Any]
    at: str
    category: str | None = None  # an Observation's


def _first_coding(concept: Any, system: str | None = None) -> dict[str, Any] | None:
    for coding in (concept or {}).get("coding", []) if isinstance(concept, dict) else []:
        if system is None or coding.get("system") == system:
            return dict(coding)
    return None


def _date(value: Any, path: str) -> str:
    if not isinstance(value, str) or len(value) < 10:
        raise invalid(path, "a full date (YYYY-MM-DD) is needed", "required")
    return value[:10]


def patient_ref(reference: Any, path: str) -> PatientRef:
    """`Patient/<cadre id>`, `Patient?identifier=<system>|<value>`, or a logical reference by identifier."""
    if not isinstance(reference, dict):
        raise invalid(path, "the patient is required", "required")
    text = reference.get("reference")
    if isinstance(text, str) and text.startswith("Patient/"):
        return PatientRef(f"{path}.reference", cadre_id=text.removeprefix("Patient/"))
    if isinstance(text, str) and text.startswith("Patient?identifier="):
        system, bar, value = text.removeprefix("Patient?identifier=").partition("|")
        if not bar or not value:
            raise invalid(f"{path}.reference", "a conditional reference is Patient?identifier=<system>|<value>")
        return PatientRef(f"{path}.reference", system=system, value=value)
    identifier = reference.get("identifier") or {}
    if not text and identifier.get("system") and identifier.get("value"):
        return PatientRef(f"{path}.identifier", system=identifier["system"], value=identifier["value"])
    raise invalid(path, "name the patient as Patient/<cadre id> or Patient?identifier=<system>|<value>")


def external_id_of(resource: dict[str, Any], facility: str, at: str) -> str:
    system = record_system(facility)
    for identifier in resource.get("identifier", []):
        if identifier.get("system") == system and identifier.get("value"):
            return str(identifier["value"])
    raise invalid(f"{at}.identifier", f"an identifier of the system {system} (this facility's record id) is required", "required")


def _base(kind: EncounterKind, resource: dict[str, Any], facility: str, at: str, subject: str) -> Mapped:
    external_id = external_id_of(resource, facility, at)
    mapped = Mapped(
        kind, {"kind": kind.value, "external_id": external_id}, at, patient_ref(resource.get(subject), f"{at}.{subject}")
    )
    mapped.origins[("external_id",)] = f"{at}.identifier"
    return mapped


def encounter_record(resource: dict[str, Any], facility: str, at: str) -> Mapped:
    code = (resource.get("class") or {}).get("code")
    kind = KIND_OF_CLASS.get(str(code))
    if kind is None:
        known = ", ".join(KIND_OF_CLASS)
        raise invalid(f"{at}.class.code", f"{code!r} is not an encounter class CadreCare records ({known})", "not-supported")
    mapped = _base(kind, resource, facility, at, "subject")
    period = resource.get("period") or {}
    mapped.item["occurred_on"] = _date(period.get("start"), f"{at}.period.start")
    mapped.origins[("occurred_on",)] = f"{at}.period.start"
    if kind is not EncounterKind.HOME_VISIT and (resource.get("serviceType") or {}).get("text"):
        mapped.item["department"] = resource["serviceType"]["text"]
    reasons = [r.get("text") or (_first_coding(r) or {}).get("display") for r in resource.get("reasonCode", [])]
    if kind is not EncounterKind.HOME_VISIT and any(reasons):
        mapped.item["reason"] = "; ".join(r for r in reasons if r)
    if kind is EncounterKind.HOME_VISIT:
        names = [(p.get("individual") or {}).get("display") for p in resource.get("participant", [])]
        mapped.item["visited_by"] = [n for n in names if n]
    if kind is EncounterKind.ADMISSION:
        _stay(mapped, resource, period)
    return mapped


def _stay(mapped: Mapped, resource: dict[str, Any], period: dict[str, Any]) -> None:
    at = mapped.at
    locations = resource.get("location", [])
    wards = [(loc.get("location") or {}).get("display") for loc in locations]
    if not wards or not wards[0]:
        raise invalid(f"{at}.location", "an admission names its ward as location[0].location.display", "required")
    mapped.item["ward"] = wards[0]
    mapped.origins[("ward",)] = f"{at}.location[0].location.display"
    transfers = []
    for index, location in enumerate(locations[1:], 1):
        where = f"{at}.location[{index}]"
        if not wards[index]:
            raise invalid(f"{where}.location.display", "each ward is named by location.display", "required")
        on = _date((location.get("period") or {}).get("start"), f"{where}.period.start")
        transfers.append({"on": on, "to_ward": wards[index], "from_ward": wards[index - 1]})
        mapped.origins[("transfers", index - 1)] = f"{where}.period.start"
    mapped.item["transfers"] = transfers
    if period.get("end"):
        disposition = _first_coding((resource.get("hospitalization") or {}).get("dischargeDisposition"), CS_DISCHARGE_OUTCOME)
        path = f"{at}.hospitalization.dischargeDisposition"
        if disposition is None:
            raise invalid(path, f"a discharge (period.end) needs its outcome, a code of {CS_DISCHARGE_OUTCOME}", "required")
        mapped.item["discharge"] = {"discharged_on": _date(period["end"], f"{at}.period.end"), "outcome": disposition.get("code")}
        mapped.origins[("discharge",)] = f"{at}.period.end"
        mapped.origins[("discharge", "outcome")] = path


def report_record(resource: dict[str, Any], facility: str, at: str) -> Mapped:
    """A periodic exam's result: its classification, conclusion and (attached later) its Observations."""
    mapped = _base(EncounterKind.PERIODIC_EXAM, resource, facility, at, "subject")
    effective = resource.get("effectiveDateTime") or (resource.get("effectivePeriod") or {}).get("start")
    mapped.item["occurred_on"] = _date(effective, f"{at}.effectiveDateTime")
    mapped.origins[("occurred_on",)] = f"{at}.effectiveDateTime"
    if resource.get("conclusion"):
        mapped.item["conclusion"] = resource["conclusion"]
    for index, concept in enumerate(resource.get("conclusionCode", [])):
        found = _first_coding(concept, CS_HEALTH_CLASSIFICATION)
        if found is None:
            continue
        path = f"{at}.conclusionCode[{index}].coding"
        version = found.get("version")
        if not version:
            raise invalid(path, f"the classification names the version of {CS_HEALTH_CLASSIFICATION}", "required")
        system = next((s for s, v in CODE_SYSTEMS if v == version), f"{CS_HEALTH_CLASSIFICATION} (unknown version)")
        mapped.item["classification"] = {"system": system, "version": version, "code": found.get("code")}
        mapped.origins[("classification",)] = path
    for extension in resource.get("extension", []):
        if extension.get("url") == EXT_PLAN and extension.get("valueString"):
            mapped.item["plan_id"] = extension["valueString"]
            mapped.origins[("plan_id",)] = f"{at}.extension"
    return mapped


def referral_record(resource: dict[str, Any], facility: str, at: str) -> Mapped:
    mapped = _base(EncounterKind.REFERRAL, resource, facility, at, "subject")
    mapped.item["occurred_on"] = _date(resource.get("authoredOn"), f"{at}.authoredOn")
    mapped.origins[("occurred_on",)] = f"{at}.authoredOn"
    kind = next(
        (_first_coding(c, CS_REFERRAL_KIND) for c in resource.get("category", []) if _first_coding(c, CS_REFERRAL_KIND)), None
    )
    if kind is None or kind.get("code") not in set(ReferralKind):
        known = ", ".join(ReferralKind)
        raise invalid(f"{at}.category", f"a referral's kind is a code of {CS_REFERRAL_KIND} ({known})", "required")
    mapped.item["referral_kind"] = kind["code"]
    performers = resource.get("performer", [])
    target = performers[0] if performers else {}
    to_facility = target.get("display") or (target.get("identifier") or {}).get("value") or target.get("reference")
    if not to_facility:
        raise invalid(f"{at}.performer", "a referral names the facility it refers to (performer[0].display)", "required")
    mapped.item["to_facility"] = to_facility
    mapped.origins[("to_facility",)] = f"{at}.performer[0]"
    mapped.item["status"] = REFERRAL_STATUS_OF.get(str(resource.get("status")), "issued")
    reasons = [r.get("text") or (_first_coding(r) or {}).get("display") for r in resource.get("reasonCode", [])]
    if any(reasons):
        mapped.item["reason"] = "; ".join(r for r in reasons if r)
    notes = [n.get("text") for n in resource.get("note", []) if n.get("text")]
    if notes:
        mapped.item["notes"] = "\n".join(notes)
    return mapped


def record_of(resource_type: str, resource: dict[str, Any], facility: str, at: str) -> Mapped:
    if resource_type == "Encounter":
        return encounter_record(resource, facility, at)
    if resource_type == "DiagnosticReport":
        return report_record(resource, facility, at)
    return referral_record(resource, facility, at)


# ---- parts ---------------------------------------------------------------------------------------------


def observation_part(resource: dict[str, Any], at: str) -> Part:
    concept = resource.get("code") or {}
    coding = _first_coding(concept)
    if coding is None or not coding.get("code"):
        raise invalid(f"{at}.code.coding", "an observation is coded (code.coding[0].code)", "required")
    item: dict[str, Any] = {"code": coding["code"]}
    name = concept.get("text") or coding.get("display")
    if name:
        item["name"] = name
    quantity = resource.get("valueQuantity")
    if quantity is not None:
        item["value"] = quantity.get("value")
        unit = quantity.get("unit") or quantity.get("code")
        if unit:
            item["unit"] = unit
    elif "valueString" in resource:
        item["value"] = resource["valueString"]
    elif "valueInteger" in resource:
        item["value"] = resource["valueInteger"]
    elif "valueCodeableConcept" in resource:
        value = resource["valueCodeableConcept"]
        item["value"] = value.get("text") or (_first_coding(value) or {}).get("code")
    if item.get("value") is None:
        raise invalid(
            f"{at}.value[x]", "an observation has a valueQuantity, valueString, valueInteger or valueCodeableConcept", "required"
        )
    ranges = resource.get("referenceRange", [])
    if ranges:
        low, high = (ranges[0].get("low") or {}).get("value"), (ranges[0].get("high") or {}).get("value")
        text = ranges[0].get("text") or (f"{low}-{high}" if low is not None and high is not None else None)
        if text:
            item["reference_range"] = text
    flags = {(_first_coding(i) or {}).get("code") for i in resource.get("interpretation", [])}
    if flags & ABNORMAL:
        item["abnormal"] = True
    elif flags & NORMAL:
        item["abnormal"] = False
    categories = [c for concept in resource.get("category", []) if (c := _first_coding(concept, CS_OBSERVATION_CATEGORY))]
    category = str(categories[0].get("code")) if categories else "laboratory"
    return Part("Observation", item, at, category)


def condition_part(resource: dict[str, Any], at: str) -> Part:
    categories = {(_first_coding(c, CS_CONDITION_CATEGORY) or {}).get("code") for c in resource.get("category", [])}
    if "problem-list-item" in categories:
        raise invalid(
            f"{at}.category", "the chronic problem list is derived from the diagnoses; post encounter diagnoses", "not-supported"
        )
    coding = _first_coding(resource.get("code"), CS_ICD10)
    if coding is None or not coding.get("code"):
        raise invalid(f"{at}.code", f"a diagnosis is coded in ICD-10 ({CS_ICD10})", "required")
    item: dict[str, Any] = {"code": coding["code"]}
    text = (resource.get("code") or {}).get("text")
    if text:
        item["description"] = text
    return Part("Condition", item, at)


def part_of(resource_type: str, resource: dict[str, Any], at: str) -> Part:
    return observation_part(resource, at) if resource_type == "Observation" else condition_part(resource, at)


def attach(
    mapped: Mapped, parts: list[Part], existing: dict[str, Any] | None = None, primary: set[str] | None = None
) -> list[str]:
    """Place parts in the record (after what `existing`, a stored body, already holds); the id tag each gets."""
    placed: list[str] = []
    tags = {"measurements": "m", "labs": "l", "imaging": "i", "results": "r", "diagnoses": "d"}
    for part in parts:
        if part.resource_type == "Condition":
            if mapped.kind not in DIAGNOSES_OF:
                raise invalid(f"{part.at}.encounter", f"a {mapped.kind.value} record holds no diagnoses", "not-supported")
            section = "diagnoses"
            if primary and part.at in primary:
                part.item["primary"] = True
        else:
            found = SECTION_OF.get(mapped.kind, {}).get(part.category or "")
            if found is None:
                raise invalid(
                    f"{part.at}.category", f"a {mapped.kind.value} record holds no {part.category} observation", "not-supported"
                )
            section = found
        if section not in mapped.item:
            mapped.item[section] = list((existing or {}).get(section, []))
        index = len(mapped.item[section])
        mapped.item[section].append(part.item)
        mapped.origins[(section, index)] = part.at if part.resource_type == "Observation" else f"{part.at}.code"
        placed.append(f"{tags[section]}{index}")
    return placed
