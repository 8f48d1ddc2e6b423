"""`GET /fhir/R4/metadata`: the CapabilityStatement, built from one table of what the facade supports.

The table is held to the services' real routes by a test (services/gateway/tests/test_fhir_capability.py):
every interaction listed has its route in the committed route table, and every FHIR route of a service is
listed, so the statement cannot promise what is not served nor hide what is.
"""

from dataclasses import dataclass, field
from typing import Any

from contracts.fhir import FHIR_JSON, FHIR_VERSION
from servicekit.fhir import served

# interaction code -> (method, path under /fhir/R4/{Type}); the templates the test looks for in the route table
INTERACTION_ROUTES: dict[str, tuple[str, str]] = {
    "read": ("GET", "/{id}"),
    "vread": ("GET", "/{id}/_history/{vid}"),
    "history-instance": ("GET", "/{id}/_history"),
    "search-type": ("GET", ""),
    "create": ("POST", ""),
    "update": ("PUT", "/{id}"),
    "patch": ("PATCH", "/{id}"),
}
EXPORT_DEFINITION = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"
PATIENT_EXPORT_DEFINITION = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export"
GROUP_EXPORT_DEFINITION = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export"
RELEASED = "2026-11-28"  # the date of this statement: changed with the table


@dataclass(frozen=True)
class Supported:
    interactions: tuple[str, ...]
    search: tuple[tuple[str, str], ...] = ()  # (name, FHIR search parameter type)
    versioned: bool = False
    conditional_create: bool = False
    update_create: bool = False  # a PUT to an id not yet there creates it
    operations: tuple[tuple[str, str], ...] = ()  # (name, definition)
    documentation: str = ""


COMMON_SEARCH = (("_id", "token"), ("_lastUpdated", "date"))
APPOINTMENT_SEARCH = (
    ("date", "date"),
    ("actor", "reference"),
    ("location", "reference"),
    ("patient", "reference"),
    ("status", "token"),
)
CLINICAL_SEARCH = (*COMMON_SEARCH, ("patient", "reference"), ("subject", "reference"), ("date", "date"))
# a record (a visit, an exam, a referral) is written whole and versioned; its parts are read with it
RECORD_INTERACTIONS = ("read", "vread", "history-instance", "search-type", "create", "update")
PART_INTERACTIONS = ("read", "vread", "search-type", "create")
PART_NOTE = "Part of a clinical record; a search names the patient, the encounter or the _id"

SUPPORTED: dict[str, Supported] = {
    "Patient": Supported(
        ("read", "search-type", "create"),
        (*COMMON_SEARCH, ("identifier", "token")),
        conditional_create=True,
        operations=(("export", PATIENT_EXPORT_DEFINITION),),
        documentation="A cadre of the registry, only in the caller's scope; identifier systems CCCD, BHYT and the "
        "health-care card; create (conditional on the CCCD) registers a cadre with its tier and managing unit",
    ),
    "Appointment": Supported(
        ("read", "search-type", "update", "patch"),
        (*COMMON_SEARCH, *APPOINTMENT_SEARCH),
        versioned=True,
        documentation="An exam invitation; a facility's HIS reads those of its exam days and marks them arrived, "
        "fulfilled or noshow (PUT or JSON Patch of status)",
    ),
    "Encounter": Supported(
        RECORD_INTERACTIONS, (*CLINICAL_SEARCH, ("identifier", "token"), ("class", "token"), ("type", "token")), True, True
    ),
    "DiagnosticReport": Supported(
        RECORD_INTERACTIONS, (*CLINICAL_SEARCH, ("identifier", "token"), ("category", "token"), ("code", "token")), True, True
    ),
    "ServiceRequest": Supported(
        RECORD_INTERACTIONS, (*CLINICAL_SEARCH, ("identifier", "token"), ("category", "token")), True, True
    ),
    "Observation": Supported(
        PART_INTERACTIONS,
        (*CLINICAL_SEARCH, ("encounter", "reference"), ("category", "token"), ("code", "token")),
        True,
        documentation=PART_NOTE,
    ),
    "Condition": Supported(
        PART_INTERACTIONS,
        (*CLINICAL_SEARCH, ("encounter", "reference"), ("category", "token"), ("code", "token")),
        True,
        documentation=PART_NOTE + "; category=problem-list-item gives the chronic problem list of one patient",
    ),
    "Organization": Supported(
        ("read", "search-type", "create", "update"),
        (("_id", "token"), ("identifier", "token"), ("name", "string")),
        versioned=True,
        conditional_create=True,
        update_create=True,
        documentation="A health-care facility, id = its code; registered by its own HIS or by an administrator "
        "(create, conditional on the identifier; update makes a version, or registers an unregistered code); "
        "a facility known only from its records "
        "reads with its code as its name",
    ),
}
SYSTEM_INTERACTIONS = ("transaction", "batch")


@dataclass(frozen=True)
class Statement:
    """What varies between deployments: where the facade is and how callers sign in."""

    base_url: str
    token_url: str
    software_version: str = "1"
    extra: dict[str, Any] = field(default_factory=dict)


def _resource(resource_type: str, supported: Supported) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "type": resource_type,
        "interaction": [{"code": code} for code in supported.interactions],
        "versioning": "versioned" if supported.versioned else "no-version",
        "readHistory": "history-instance" in supported.interactions,
        "updateCreate": supported.update_create,
        "conditionalCreate": supported.conditional_create,
        "searchParam": [{"name": name, "type": kind} for name, kind in supported.search],
    }
    if supported.documentation:
        entry["documentation"] = supported.documentation
    if supported.operations:
        entry["operation"] = [{"name": name, "definition": definition} for name, definition in supported.operations]
    return entry


def capability_statement(statement: Statement) -> dict[str, Any]:
    resources = [_resource(t, SUPPORTED[t]) for t in sorted(SUPPORTED)]
    resources.append({"type": "Group", "operation": [{"name": "export", "definition": GROUP_EXPORT_DEFINITION}]})
    security = {
        "cors": True,
        "service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "OAuth"}]}],
        "description": f"OAuth2 bearer tokens from {statement.token_url} (password grant for people, client credentials "
        "for a hospital's HIS), as for /api/v1; every person-level read is audited; a record outside the caller's "
        "scope answers 404. This statement itself is public.",
    }
    return served(
        {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": RELEASED,
            "publisher": "CadreCare",
            "kind": "instance",
            "software": {"name": "CadreCare FHIR facade", "version": statement.software_version},
            "implementation": {"description": "CadreCare: health-care boards for leading officials", "url": statement.base_url},
            "fhirVersion": FHIR_VERSION,
            "format": [FHIR_JSON, "json"],
            "rest": [
                {
                    "mode": "server",
                    "security": security,
                    "resource": resources,
                    "interaction": [{"code": code} for code in SYSTEM_INTERACTIONS],
                    "operation": [{"name": "export", "definition": EXPORT_DEFINITION}],
                }
            ],
        }
    )
