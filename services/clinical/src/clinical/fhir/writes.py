"""Writing FHIR resources, only through the one clinical ingestion core (clinical.ingestion.service): create
(conditional on the facility's identifier), update (a new version), and a part (an Observation or a
Condition) added to the record of its encounter. What the core refuses is answered as an OperationOutcome
naming the element the HIS sent; a patient the facility may not write for answers 404 as an unknown one.

A write that turns out wrong after the core ran (a plain create of an identifier that holds other content)
raises: the request's unit of work then rolls back, and nothing of it is stored.
"""

import contextlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clinical import heads
from clinical.access import facility_of
from clinical.codes import normalise_icd10
from clinical.fhir import inbound, outbound, queries
from clinical.fhir.inbound import Mapped, Part, PatientRef
from clinical.fhir.outbound import RecordVersion
from clinical.heads import Head
from clinical.ingestion.service import Ingestion, parse_item
from contracts.api.clinical import BulkItemResult, ItemOutcome
from contracts.enums import EncounterKind
from contracts.fhir import SID_BHYT, SID_CADRE, SID_CCCD, SID_HEALTH_CARD, record_system
from contracts.scope import Principal
from servicekit.fhir import FhirError, Issue, validate, version_of_etag
from servicekit.outbox import Outbox

NOT_FOUND_TYPES = frozenset({"national_id_unknown", "card_unknown", "outside_grants"})  # all: "no such patient"
MAPPED_KEYS: dict[str, tuple[str, ...]] = {  # what a record's own resource says, replaced by an update
    "Encounter": ("occurred_on", "department", "reason", "visited_by", "ward", "transfers", "discharge"),
    "DiagnosticReport": ("occurred_on", "conclusion", "classification", "plan_id"),
    "ServiceRequest": ("occurred_on", "referral_kind", "to_facility", "status", "reason", "notes"),
}


@dataclass
class Written:
    """A resource written (or found already there): its status, its own resource and the cadre."""

    status: int
    resource: dict[str, Any]
    cadre_id: uuid.UUID
    parts: dict[str, str] = field(default_factory=dict)  # FHIRPath of a part entry -> its resource id


def record_resource(head: Head, resource_type: str) -> dict[str, Any]:
    found = outbound.resource_of(RecordVersion.current(head), resource_type, str(head.id))
    assert found is not None
    return found


# ---- the patient ---------------------------------------------------------------------------------------


async def resolve_patients(session: AsyncSession, records: Sequence[Mapped]) -> None:
    """Name each record's cadre as the core takes it (CCCD or health-care card), from the FHIR reference.
    A patient that cannot be found is left unnamed: the core then refuses it as unknown."""
    cadre_ids: dict[str, uuid.UUID] = {}
    bhyt: set[str] = set()
    for mapped in records:
        ref = mapped.patient
        if ref.system == SID_CADRE and ref.value:
            ref.cadre_id, ref.system = ref.value, None
        if ref.cadre_id is not None:
            with contextlib.suppress(ValueError):  # not an id the registry gives: an unknown patient
                cadre_ids[ref.cadre_id] = uuid.UUID(ref.cadre_id)
        elif ref.system == SID_BHYT and ref.value:
            bhyt.add(ref.value)
        elif ref.system not in (SID_CCCD, SID_HEALTH_CARD):
            known = ", ".join((SID_CCCD, SID_HEALTH_CARD, SID_BHYT, SID_CADRE))
            raise FhirError(422, "invalid", f"{ref.path}: the patient's identifier system is one of {known}", ref.path)
    by_id = dict((await session.execute(queries.cadre_ids(set(cadre_ids.values())))).all()) if cadre_ids else {}
    by_bhyt = dict((await session.execute(queries.cadres_by_bhyt(bhyt))).all()) if bhyt else {}
    for mapped in records:
        mapped.item.pop("national_id", None)
        mapped.item.pop("card_number", None)
        mapped.item.update(_identity(mapped.patient, cadre_ids, by_id, by_bhyt))


UNKNOWN_PATIENT = {"card_number": "no-such-patient"}
"""A well-formed card number no cadre holds: the core refuses it as unknown, like any patient not found."""


def _identity(ref: PatientRef, cadre_ids: dict[str, uuid.UUID], by_id: dict[Any, Any], by_bhyt: dict[Any, Any]) -> dict[str, str]:
    if ref.cadre_id is not None:
        national_id = by_id.get(cadre_ids.get(ref.cadre_id))
        return {"national_id": national_id} if national_id else UNKNOWN_PATIENT
    if ref.system == SID_BHYT:
        national_id = by_bhyt.get(ref.value)
        return {"national_id": national_id} if national_id else UNKNOWN_PATIENT
    return {"national_id": str(ref.value)} if ref.system == SID_CCCD else {"card_number": str(ref.value)}


# ---- the core's answer ---------------------------------------------------------------------------------


def refusal(mapped: Mapped, result: BulkItemResult) -> FhirError:
    """The core's refusal of a record as an OperationOutcome: 404 for a patient it may not write for."""
    if any(e.type in NOT_FOUND_TYPES for e in result.errors):
        path = mapped.patient.path
        return FhirError(404, "not-found", f"{path}: no such patient", path)
    issues = []
    for error in result.errors:
        path = mapped.path_of(list(error.loc))
        code = "conflict" if error.type in ("cadre_mismatch", "kind_mismatch", "record_withdrawn") else "value"
        issues.append(Issue(code, f"{path}: {error.msg}", (path,)))
    status = 409 if issues and all(i.code == "conflict" for i in issues) else 422
    return FhirError(status, issues[0].code, issues[0].diagnostics, issues=issues)


async def run_core(
    session: AsyncSession, outbox: Outbox, principal: Principal, records: Sequence[Mapped], *, all_or_nothing: bool
) -> tuple[Ingestion, list[BulkItemResult]]:
    ingestion = Ingestion(session, outbox, principal)
    items = [parse_item(index, mapped.item) for index, mapped in enumerate(records)]
    return ingestion, await ingestion.run(items, store=True, all_or_nothing=all_or_nothing)


def if_none_exist_id(criteria: str | None, facility: str, path: str) -> str | None:
    """The external id `identifier=<this facility's record system>|<id>` names; None without criteria."""
    if not criteria:
        return None
    name, _, value = criteria.partition("=")
    system, bar, external_id = value.partition("|")
    if name != "identifier" or not bar or system != record_system(facility) or not external_id:
        raise FhirError(
            400, "invalid", f"{path}: conditional create is on identifier={record_system(facility)}|<record id>", path
        )
    return external_id


# ---- create, update ------------------------------------------------------------------------------------


def mapped_of(resource_type: str, body: dict[str, Any], facility: str, at: str) -> Mapped:
    """A record resource with its contained Observations and Conditions, as one record of the core."""
    mapped = inbound.record_of(resource_type, body, facility, at)
    parts = [
        inbound.part_of(contained["resourceType"], contained, f"{at}.contained[{index}]")
        for index, contained in enumerate(body.get("contained", []))
        if contained.get("resourceType") in outbound.PART_TYPES
    ]
    inbound.attach(mapped, parts)
    return mapped


async def create(
    session: AsyncSession, outbox: Outbox, principal: Principal, resource_type: str, body: Any, criteria: str | None
) -> Written:
    validate(resource_type, body)
    facility = facility_of(principal)
    if resource_type in outbound.PART_TYPES:
        if criteria:
            raise FhirError(400, "not-supported", f"conditional create is for records; a {resource_type} is found by content")
        return await create_part(session, outbox, principal, resource_type, body, resource_type)
    mapped = mapped_of(resource_type, body, facility, resource_type)
    wanted = if_none_exist_id(criteria, facility, "If-None-Exist") or mapped.item["external_id"]
    await heads.lock_records(session, facility, {wanted, mapped.item["external_id"]})
    existing = (await heads.load_heads(session, facility, {wanted})).get(wanted)
    if criteria and existing is not None:
        return existing_written(existing, resource_type)
    await resolve_patients(session, [mapped])
    ingestion, [result] = await run_core(session, outbox, principal, [mapped], all_or_nothing=False)
    if result.outcome is ItemOutcome.REFUSED:
        raise refusal(mapped, result)
    head = ingestion.heads[mapped.item["external_id"]]
    if result.outcome is ItemOutcome.AMENDED:  # raised after the core wrote: the unit of work rolls it back
        raise FhirError(
            409, "duplicate", f"{resource_type}/{head.id} has this identifier: update it with PUT", f"{resource_type}.identifier"
        )
    return Written(201 if result.outcome is ItemOutcome.CREATED else 200, record_resource(head, resource_type), head.cadre_id)


def existing_written(head: Head, resource_type: str) -> Written:
    if outbound.resource_of(RecordVersion.current(head), resource_type, str(head.id)) is None:
        message = f"the identifier names a {head.kind} record, not a {resource_type}"
        raise FhirError(409, "conflict", message, f"{resource_type}.identifier")
    return Written(200, record_resource(head, resource_type), head.cadre_id)


async def own_head(session: AsyncSession, principal: Principal, resource_type: str, record_id: uuid.UUID | None) -> Head:
    """The current version of a record the caller's facility posted (404 for anything else)."""
    row = await session.scalar(queries.own_record(principal, record_id)) if record_id else None
    if row is None or outbound.resource_of(outbound.RecordVersion(**_head_fields(row)), resource_type, str(row.id)) is None:
        raise FhirError(404, "not-found", f"{resource_type}/{record_id} is not a record of this facility")
    return (await heads.load_heads(session, row.facility, {row.external_id}))[row.external_id]


def _head_fields(row: Any) -> dict[str, Any]:
    names = ("id", "facility", "external_id", "kind", "cadre_id", "version", "status", "recorded_at", "updated_at", "body")
    return {name: getattr(row, name) for name in names}


def merged(resource_type: str, head: Head, mapped: Mapped) -> dict[str, Any]:
    """An update's record: what the resource says over what only the record holds (its parts, the details
    FHIR's resource has no element for), so that a PUT of an Encounter keeps its Observations."""
    item = {k: v for k, v in head.body.items() if k not in MAPPED_KEYS[resource_type]}
    item.update(mapped.item)
    before = head.body.get("discharge") or {}
    if item.get("discharge") and before:
        item["discharge"] = {**before, **item["discharge"]}
    return item


async def update(
    session: AsyncSession,
    outbox: Outbox,
    principal: Principal,
    resource_type: str,
    resource_id: str,
    body: Any,
    if_match: str | None,
) -> Written:
    if resource_type in outbound.PART_TYPES:
        raise FhirError(405, "not-supported", f"a {resource_type} changes with its record: post the corrected record")
    validate(resource_type, body)
    if body.get("id") != resource_id:
        raise FhirError(400, "invalid", f"{resource_type}.id must be {resource_id!r}, the id in the URL", f"{resource_type}.id")
    head = await own_head(session, principal, resource_type, outbound.record_id_of(resource_id))
    await heads.lock_records(session, head.facility, {head.external_id})
    if if_match is not None and version_of_etag(if_match) != str(head.version):
        raise FhirError(412, "conflict", f"If-Match names version {if_match}, the current one is {head.version}")
    system = record_system(head.facility)
    if not any(i.get("system") == system for i in body.get("identifier", [])):
        body = {**body, "identifier": [*body.get("identifier", []), {"system": system, "value": head.external_id}]}
    mapped = inbound.record_of(resource_type, body, head.facility, resource_type)
    if mapped.item["external_id"] != head.external_id:
        raise FhirError(
            422, "invalid", f"{resource_type}.identifier: a record's identifier never changes", f"{resource_type}.identifier"
        )
    mapped.item = merged(resource_type, head, mapped)
    await resolve_patients(session, [mapped])
    ingestion, [result] = await run_core(session, outbox, principal, [mapped], all_or_nothing=False)
    if result.outcome is ItemOutcome.REFUSED:
        raise refusal(mapped, result)
    changed = ingestion.heads[head.external_id]
    return Written(200, record_resource(changed, resource_type), changed.cadre_id)


# ---- a part added to its record ------------------------------------------------------------------------


def mapped_of_head(head: Head, at: str, national_id: str) -> Mapped:
    """A stored record to be posted again with more parts (a new version through the core)."""
    item = {**head.body, "national_id": national_id}
    return Mapped(EncounterKind(head.kind), item, at, PatientRef(f"{at}.subject", cadre_id=str(head.cadre_id)))


async def national_id_of(session: AsyncSession, cadre_id: uuid.UUID) -> str:
    """How the core names a stored record's cadre when the record is posted again."""
    found = (await session.execute(queries.cadre_ids({cadre_id}))).first()
    if found is None:
        raise FhirError(404, "not-found", "the record's patient is no longer known")
    return str(found[1])


def same_part(part: Part, existing: dict[str, Any]) -> bool:
    if part.resource_type == "Condition":
        return normalise_icd10(part.item["code"]) == existing.get("code")
    return all(existing.get(k) == v for k, v in part.item.items())


async def create_part(
    session: AsyncSession, outbox: Outbox, principal: Principal, resource_type: str, body: dict[str, Any], at: str
) -> Written:
    """An Observation or a Condition on an existing record (its `encounter`): the record's next version.
    Posting the same part again answers it as it is (200), not a second copy."""
    part = inbound.part_of(resource_type, body, at)
    reference = str((body.get("encounter") or {}).get("reference") or "")
    if not reference.startswith("Encounter/"):
        raise FhirError(422, "required", f"{at}.encounter: a {resource_type} names its Encounter/<id>", f"{at}.encounter")
    head = await own_head(session, principal, "Encounter", outbound.record_id_of(reference.removeprefix("Encounter/")))
    await heads.lock_records(session, head.facility, {head.external_id})
    held = outbound.resources_of(RecordVersion.current(head))
    existing = next((r for r in held if r["resourceType"] == resource_type and _holds(head, r, part)), None)
    if existing is not None:
        return Written(200, existing, head.cadre_id)
    mapped = mapped_of_head(head, at, await national_id_of(session, head.cadre_id))
    subject = inbound.patient_ref(body["subject"], f"{at}.subject") if body.get("subject") else None
    if subject is not None and subject.cadre_id is not None and subject.cadre_id != str(head.cadre_id):
        raise FhirError(422, "invalid", f"{at}.subject: the encounter is another patient's", f"{at}.subject")
    [tag] = inbound.attach(mapped, [part], existing=head.body)
    ingestion, [result] = await run_core(session, outbox, principal, [mapped], all_or_nothing=False)
    if result.outcome is ItemOutcome.REFUSED:
        raise refusal(mapped, result)
    changed = ingestion.heads[head.external_id]
    found = outbound.resource_of(RecordVersion.current(changed), resource_type, f"{changed.id}-{tag}")
    assert found is not None
    return Written(201, found, changed.cadre_id)


def _holds(head: Head, resource: dict[str, Any], part: Part) -> bool:
    """Whether a served part of the record is the one being posted (same content)."""
    tag, index = resource["id"][37], int(resource["id"][38:])
    section = {"m": "measurements", "l": "labs", "i": "imaging", "r": "results", "d": "diagnoses", "x": ""}[tag]
    stored = head.body.get(section, []) if section else []
    return index < len(stored) and same_part(part, stored[index])
