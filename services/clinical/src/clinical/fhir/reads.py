"""Reading the FHIR resources clinical serves: read, vread, history and search, each naming the cadres it
answers about (the gateway audits them). A resource outside the caller's records answers 404, as one
that does not exist."""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from clinical.conditions.service import problem_list
from clinical.fhir import outbound, queries
from clinical.fhir.outbound import RecordVersion
from clinical.fhir.search import Search, matches_token
from clinical.tables import ClinicalRecord, ClinicalRecordVersion
from contracts.api.clinical import RecordStatus
from contracts.api.conditions import ChronicCondition
from contracts.enums import EncounterKind
from contracts.fhir import (
    CS_ACT_CODE,
    CS_CHRONIC_GROUP,
    CS_CONDITION_CATEGORY,
    CS_ENCOUNTER_KIND,
    CS_ICD10,
    CS_REFERRAL_KIND,
    facility_of_record_system,
)
from contracts.permissions import Permission
from contracts.scope import Principal
from servicekit.fhir import FhirError
from servicekit.pagination import PageParams

ALL_KINDS = frozenset(EncounterKind)
KINDS: dict[str, frozenset[str]] = {
    "Encounter": frozenset(ALL_KINDS - {EncounterKind.REFERRAL}),
    "DiagnosticReport": frozenset({EncounterKind.PERIODIC_EXAM}),
    "ServiceRequest": frozenset({EncounterKind.REFERRAL}),
    "Observation": frozenset(ALL_KINDS),
    "Condition": frozenset(ALL_KINDS),
}
MAX_RECORDS_OF_PARTS = 2000  # a part search reads one cadre's (or one record's) records, never the whole table
PROBLEM_LIST_PREFIX = "pl-"


def not_found(resource_type: str, resource_id: str) -> FhirError:
    return FhirError(404, "not-found", f"{resource_type}/{resource_id} is not known")


@dataclass
class Found:
    """What a read or search answers, and the cadres it is about."""

    resources: list[dict[str, Any]]
    total: int
    cadres: set[uuid.UUID]


def version_view(head: ClinicalRecord, row: ClinicalRecordVersion) -> RecordVersion:
    status = RecordStatus.WITHDRAWN.value if row.change == "withdrawn" else RecordStatus.CURRENT.value
    return RecordVersion(
        head.id,
        head.facility,
        head.external_id,
        head.kind,
        head.cadre_id,
        row.version,
        status,
        head.recorded_at,
        row.recorded_at,
        row.body,
    )


async def _head(session: AsyncSession, principal: Principal, resource_type: str, resource_id: str) -> ClinicalRecord:
    record_id = outbound.record_id_of(resource_id)
    row = await session.scalar(queries.record(principal, record_id, KINDS[resource_type])) if record_id else None
    if row is None:
        raise not_found(resource_type, resource_id)
    return row


async def read(
    session: AsyncSession, principal: Principal, resource_type: str, resource_id: str, version: str | None = None
) -> tuple[dict[str, Any], uuid.UUID | None]:
    """One resource (one version of it when `version` is given) and the cadre it is about."""
    if resource_type == "Condition" and resource_id.startswith(PROBLEM_LIST_PREFIX):
        return await _problem(session, principal, resource_id)
    head = await _head(session, principal, resource_type, resource_id)
    view = RecordVersion.current(head)
    if version is not None:
        number = int(version) if version.isdigit() and len(version) <= 9 else None  # beyond any version: none
        stored = await session.scalar(queries.version(head.id, number)) if number is not None else None
        if stored is None:
            raise FhirError(404, "not-found", f"{resource_type}/{resource_id} has no version {version}")
        view = version_view(head, stored)
    found = outbound.resource_of(view, resource_type, resource_id)
    if found is None:
        raise not_found(resource_type, resource_id)
    return found, head.cadre_id


async def history(session: AsyncSession, principal: Principal, resource_type: str, resource_id: str) -> Found:
    """Every version of a resource, newest first (a part only in the versions of its record that held it)."""
    head = await _head(session, principal, resource_type, resource_id)
    resources = []
    for row in await session.scalars(queries.versions(head.id)):
        found = outbound.resource_of(version_view(head, row), resource_type, resource_id)
        if found is not None:
            resources.append(found)
    if not resources:
        raise not_found(resource_type, resource_id)
    return Found(resources, len(resources), {head.cadre_id})


# ---- search ---------------------------------------------------------------------------------------------


def _kinds_of(search: Search) -> frozenset[str]:
    """The record kinds a record-level search's token parameters leave."""
    kinds = set(KINDS[search.resource_type])
    if search.resource_type == "Encounter":
        classes = search.token_values("class")
        types = search.token_values("type")
        kinds = {
            k
            for k in kinds
            if matches_token(classes, [outbound.coding(CS_ACT_CODE, outbound.ENCOUNTER_CLASS[EncounterKind(k)][0])])
            and matches_token(types, [outbound.coding(CS_ENCOUNTER_KIND, k)])
        }
    if search.resource_type == "DiagnosticReport":
        exam = [outbound.coding(CS_ENCOUNTER_KIND, EncounterKind.PERIODIC_EXAM.value)]
        if not (matches_token(search.token_values("category"), exam) and matches_token(search.token_values("code"), exam)):
            kinds = set()
    return frozenset(kinds)


async def search_records(session: AsyncSession, principal: Principal, search: Search, page: PageParams) -> Found:
    """Encounter, DiagnosticReport, ServiceRequest: one record each, paged by the database."""
    kinds = _kinds_of(search)
    facility = None
    if search.identifier is not None and search.identifier[0] is not None:
        facility = facility_of_record_system(search.identifier[0]) or ""  # another system: no facility, nothing matches
    if not kinds:
        return Found([], 0, set())
    query = queries.records_matching(principal, search, kinds, facility)
    referral_kinds = search.token_values("category") if search.resource_type == "ServiceRequest" else []
    if referral_kinds:
        codes = [code for system, code in referral_kinds if system in (None, CS_REFERRAL_KIND)]
        query = query.where(col(ClinicalRecord.body)["referral_kind"].as_string().in_(codes))
    total = await session.scalar(queries.count_of(query)) or 0
    rows = list(await session.scalars(query.offset(page.offset).limit(page.limit)))
    resources = [r for row in rows if (r := outbound.resource_of(RecordVersion.current(row), search.resource_type, str(row.id)))]
    return Found(resources, total, {row.cadre_id for row in rows})


async def search_parts(session: AsyncSession, principal: Principal, search: Search, page: PageParams) -> Found:
    """Observation, Condition: the parts of one cadre's (or one record's) records, filtered and paged here."""
    if search.resource_type == "Condition" and _wants_problem_list(search):
        return await search_problem_list(session, principal, search, page)
    if not (search.patient_given or search.record_id is not None or search.ids):
        raise FhirError(400, "too-costly", f"a {search.resource_type} search names the patient, the encounter or the _id")
    query = queries.records_matching(principal, search, KINDS[search.resource_type], None).limit(MAX_RECORDS_OF_PARTS)
    parts: list[dict[str, Any]] = []
    cadres: set[uuid.UUID] = set()
    for row in await session.scalars(query):
        for resource in outbound.resources_of(RecordVersion.current(row)):
            if resource["resourceType"] == search.resource_type and _part_matches(search, resource):
                parts.append(resource)
                cadres.add(row.cadre_id)
    return Found(parts[page.offset : page.offset + page.limit], len(parts), cadres)


def _part_matches(search: Search, resource: dict[str, Any]) -> bool:
    if search.ids and resource["id"] not in search.ids:
        return False
    categories = [c for concept in resource.get("category", []) for c in concept.get("coding", [])]
    return matches_token(search.token_values("category"), categories) and matches_token(
        search.token_values("code"), resource["code"].get("coding", [])
    )


# ---- the chronic problem list -------------------------------------------------------------------------


def _wants_problem_list(search: Search) -> bool:
    return any(code == "problem-list-item" for _system, code in search.token_values("category"))


def problem_condition(cadre_id: uuid.UUID, item: ChronicCondition) -> dict[str, Any]:
    codings = [outbound.coding(CS_CHRONIC_GROUP, item.group, item.label_en)]
    codings += [outbound.coding(CS_ICD10, code) for code in item.codes]
    return {
        "resourceType": "Condition",
        "id": f"{PROBLEM_LIST_PREFIX}{cadre_id}-{item.group.replace('_', '-')}",
        "clinicalStatus": {"coding": [outbound.coding("http://terminology.hl7.org/CodeSystem/condition-clinical", "active")]},
        "category": [{"coding": [outbound.coding(CS_CONDITION_CATEGORY, "problem-list-item", "Problem List Item")]}],
        "code": {"coding": codings, "text": item.label_vi},
        "subject": {"reference": f"Patient/{cadre_id}"},
        "onsetDateTime": item.first_seen.isoformat(),
        "recordedDate": item.last_seen.isoformat(),
    }


async def _problems(session: AsyncSession, principal: Principal, cadre_id: uuid.UUID) -> list[dict[str, Any]]:
    if Permission.CLINICAL_READ not in principal.permissions:
        raise FhirError(403, "forbidden", "the chronic problem list is read by a board's staff, not by a facility")
    listed = await problem_list(session, principal, cadre_id)  # 404 outside the caller's scope
    return [problem_condition(cadre_id, item) for item in listed.conditions]


async def search_problem_list(session: AsyncSession, principal: Principal, search: Search, page: PageParams) -> Found:
    if search.cadre_id is None:
        raise FhirError(400, "too-costly", "the problem list is searched for one patient (patient=Patient/<id>)")
    found = [
        c
        for c in await _problems(session, principal, search.cadre_id)
        if matches_token(search.token_values("code"), c["code"]["coding"])
    ]
    return Found(found[page.offset : page.offset + page.limit], len(found), {search.cadre_id})


async def _problem(session: AsyncSession, principal: Principal, resource_id: str) -> tuple[dict[str, Any], uuid.UUID]:
    try:
        cadre_id = uuid.UUID(resource_id[len(PROBLEM_LIST_PREFIX) : len(PROBLEM_LIST_PREFIX) + 36])
    except ValueError:
        raise not_found("Condition", resource_id) from None
    found = next((c for c in await _problems(session, principal, cadre_id) if c["id"] == resource_id), None)
    if found is None:
        raise not_found("Condition", resource_id)
    return found, cadre_id
