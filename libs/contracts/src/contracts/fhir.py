"""The FHIR R4 facade's vocabulary, shared by every service that serves a FHIR resource and by the gateway
that routes `/fhir/R4/{Type}` to the service owning the type.

Identifier systems: VN Core's (community draft IG, canonical http://fhir.hl7.org.vn/core, versions 0.1.0 to
0.6.0; pinned in VN_CORE_VERSION because its URIs may still change) where VN Core defines one, otherwise
CadreCare's own, all under CADRECARE_BASE so that a partner can tell at a glance that CadreCare minted them.
"""

from typing import Final

from contracts.api.clinical import MAX_BULK_ITEMS

FHIR_VERSION: Final = "4.0.1"
FHIR_BASE_PATH: Final = "/fhir/R4"
FHIR_JSON: Final = "application/fhir+json"
FHIR_JSON_UTF8: Final = "application/fhir+json; charset=utf-8"

VN_CORE: Final = "http://fhir.hl7.org.vn/core"
VN_CORE_VERSION: Final = "0.6.0"
CADRECARE_BASE: Final = "https://fhir.cadrecare.vn"
"""CadreCare's base URI for the systems, code systems and extensions it defines (the names below are the
list of them); a namespace, not a server address: nothing is served there."""

# ---- identifier systems ------------------------------------------------------------------------------

SID_CCCD: Final = f"{VN_CORE}/sid/cccd"  # 12-digit personal identification number
SID_BHYT: Final = f"{VN_CORE}/sid/bhyt"  # health-insurance card (15-char legacy, 10-digit BHXH, 12-digit CCCD)
SID_FACILITY: Final = f"{VN_CORE}/sid/ma-cskcb"  # facility code issued by BHXH
SID_MA_LK: Final = f"{VN_CORE}/sid/ma-lk"  # QĐ 130 encounter link, scoped by facility

SID_CADRE: Final = f"{CADRECARE_BASE}/sid/cadre"  # the registry's cadre id (= Patient.id)
SID_HEALTH_CARD: Final = f"{CADRECARE_BASE}/sid/health-care-card"  # thẻ khám chữa bệnh of the boards
SID_FACILITY_CODE: Final = f"{CADRECARE_BASE}/sid/facility"  # a facility's CadreCare code (a HIS client's)
SID_RECORD_PREFIX: Final = f"{CADRECARE_BASE}/sid/record/"
"""+ facility code: the system of the record ids one facility gives its records (the JSON path's
`external_id`). Scoped by facility, as (facility, external id) names a record for ever."""
SID_INVITATION: Final = f"{CADRECARE_BASE}/sid/invitation"  # scheduling's invitation id


def record_system(facility: str) -> str:
    """The identifier system of the record ids a facility gives (Encounter, DiagnosticReport, ServiceRequest)."""
    return f"{SID_RECORD_PREFIX}{facility}"


def facility_of_record_system(system: str) -> str | None:
    """The facility a record identifier system belongs to, or None when it is not one."""
    if not system.startswith(SID_RECORD_PREFIX):
        return None
    facility = system[len(SID_RECORD_PREFIX) :]
    return facility or None


# ---- code systems CadreCare defines ------------------------------------------------------------------

CS_HEALTH_CLASSIFICATION: Final = f"{CADRECARE_BASE}/CodeSystem/health-classification"
"""The A/B1/B2/C/D classification of QĐ 1266/QĐ-BYT (2020); Coding.version carries contracts.codesystems'
version ("2020"), so that another scheme can exist beside it."""
CS_ENCOUNTER_KIND: Final = f"{CADRECARE_BASE}/CodeSystem/encounter-kind"  # contracts.enums.EncounterKind values
CS_REFERRAL_KIND: Final = f"{CADRECARE_BASE}/CodeSystem/referral-kind"  # contracts.enums.ReferralKind values
CS_OBSERVATION_CODE: Final = f"{CADRECARE_BASE}/CodeSystem/observation"  # the HIS's own codes ("weight", ...)
CS_CHRONIC_GROUP: Final = f"{CADRECARE_BASE}/CodeSystem/chronic-group"  # clinical's chronic-condition groups
CS_DISCHARGE_OUTCOME: Final = f"{CADRECARE_BASE}/CodeSystem/discharge-outcome"  # DischargeOutcome values
CS_MANAGEMENT_TIER: Final = f"{CADRECARE_BASE}/CodeSystem/management-tier"

# HL7 systems used as they are
CS_ICD10: Final = "http://hl7.org/fhir/sid/icd-10"
CS_LOINC: Final = "http://loinc.org"
CS_UCUM: Final = "http://unitsofmeasure.org"
CS_ACT_CODE: Final = "http://terminology.hl7.org/CodeSystem/v3-ActCode"  # Encounter.class: AMB, IMP, HH
CS_OBSERVATION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/observation-category"
CS_CONDITION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/condition-category"
CS_CONDITION_CLINICAL: Final = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CS_DIAGNOSTIC_SERVICE: Final = "http://terminology.hl7.org/CodeSystem/v2-0074"

# ---- extensions ----------------------------------------------------------------------------------

EXT_MANAGING_UNIT: Final = f"{CADRECARE_BASE}/StructureDefinition/managing-unit"  # valueString: a unit code
EXT_MANAGEMENT_TIER: Final = f"{CADRECARE_BASE}/StructureDefinition/management-tier"  # valueCoding
EXT_ENCOUNTER_KIND: Final = f"{CADRECARE_BASE}/StructureDefinition/encounter-kind"  # valueCoding
EXT_RECORD_STATUS: Final = f"{CADRECARE_BASE}/StructureDefinition/record-status"  # valueCode: current|withdrawn
EXT_PLAN: Final = f"{CADRECARE_BASE}/StructureDefinition/exam-plan"  # valueString: scheduling's plan id
EXT_CADRE_STATUS: Final = f"{CADRECARE_BASE}/StructureDefinition/cadre-status"  # valueCode: contracts.enums.CadreStatus
EXT_STATUS_SINCE: Final = f"{CADRECARE_BASE}/StructureDefinition/cadre-status-since"  # valueDate

# ---- who serves what ------------------------------------------------------------------------------

RESOURCE_OWNERS: Final[dict[str, str]] = {
    "Patient": "registry",
    "Appointment": "scheduling",
    "Encounter": "clinical",
    "Observation": "clinical",
    "DiagnosticReport": "clinical",
    "Condition": "clinical",
    "ServiceRequest": "clinical",
    "Organization": "clinical",
}
"""The service that serves each resource type under /fhir/R4/{Type}; the gateway routes by it."""

BUNDLE_OWNER: Final = "clinical"
"""`POST /fhir/R4` (a transaction or batch Bundle) goes to the one clinical ingestion core."""

MAX_BUNDLE_ENTRIES: Final = MAX_BULK_ITEMS
"""The batch cap: the JSON bulk path's (contracts.api.clinical.BulkRequest). Over it, 413."""
