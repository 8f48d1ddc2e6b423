"""`POST /fhir/R4` with a Bundle: a `transaction` is one request of the ingestion core, all or nothing (its
Observations and Conditions folded into the records their `urn:uuid:` references name, as one encounter
envelope becomes one record); a `batch` answers entry by entry, each in a savepoint of its own."""

from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clinical import heads
from clinical.access import facility_of
from clinical.fhir import inbound, outbound, writes
from clinical.fhir.inbound import Mapped
from clinical.fhir.outbound import RecordVersion
from clinical.fhir.writes import Written
from clinical.heads import Head
from contracts.api.clinical import ItemOutcome
from contracts.fhir import MAX_BUNDLE_ENTRIES, record_system
from contracts.scope import Principal
from servicekit.fhir import FhirError, Issue, etag, operation_outcome, served, validate
from servicekit.outbox import Outbox

SUPPORTED = (*outbound.RECORD_TYPES, *outbound.PART_TYPES)


@dataclass
class Entry:
    index: int
    method: str
    resource_type: str
    resource: dict[str, Any]
    full_url: str | None
    criteria: str | None
    target: str | None  # a PUT's id

    @property
    def at(self) -> str:
        return f"Bundle.entry[{self.index}].resource"


@dataclass
class Outcome:
    """What one entry answers: where the resource is now, or why it failed."""

    status: int
    location: str | None = None
    version: str | None = None
    last_modified: str | None = None
    outcome: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        response: dict[str, Any] = {"status": f"{self.status} {HTTPStatus(self.status).phrase}"}
        if self.location:
            response["location"] = self.location
        if self.version:
            response["etag"] = etag(self.version)
        if self.last_modified:
            response["lastModified"] = self.last_modified
        if self.outcome:
            response["outcome"] = self.outcome
        return {"response": response}


def _located(resource: dict[str, Any], status: int) -> Outcome:
    meta = resource["meta"]
    location = f"{resource['resourceType']}/{resource['id']}/_history/{meta['versionId']}"
    return Outcome(status, location, meta["versionId"], meta["lastUpdated"])


def parse_entries(body: Any) -> tuple[str, list[Entry]]:
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        raise FhirError(422, "structure", "POST to the base takes a Bundle (transaction or batch)", "Bundle")
    raw = body.get("entry") or []
    if not isinstance(raw, list):
        raise FhirError(422, "structure", "Bundle.entry is a list", "Bundle.entry")
    if len(raw) > MAX_BUNDLE_ENTRIES:
        raise FhirError(413, "too-costly", f"a Bundle carries at most {MAX_BUNDLE_ENTRIES} entries (this one {len(raw)})")
    envelope = {**body, "entry": [{k: v for k, v in e.items() if k != "resource"} if isinstance(e, dict) else e for e in raw]}
    validate("Bundle", envelope)
    if body.get("type") not in ("transaction", "batch"):
        raise FhirError(422, "not-supported", "Bundle.type: this server takes transaction and batch Bundles", "Bundle.type")
    return str(body["type"]), [_entry(index, item) for index, item in enumerate(raw)]


def _entry(index: int, item: dict[str, Any]) -> Entry:
    request = item.get("request") or {}
    where = f"Bundle.entry[{index}].request"
    method, url = request.get("method"), str(request.get("url") or "")
    resource = item.get("resource")
    if not isinstance(resource, dict) or method not in ("POST", "PUT"):
        raise FhirError(422, "not-supported", f"{where}: each entry POSTs or PUTs a resource", f"{where}.method")
    resource_type, _, target = url.partition("/")
    if resource_type not in SUPPORTED or resource.get("resourceType") != resource_type or (method == "PUT") != bool(target):
        message = f"{url!r} is not a {method} this server takes (types: {', '.join(SUPPORTED)}; PUT names Type/id)"
        raise FhirError(422, "not-supported", f"{where}.url: {message}", f"{where}.url")
    return Entry(index, method, resource_type, resource, item.get("fullUrl"), request.get("ifNoneExist"), target or None)


def relocated(exc: FhirError, entry: Entry) -> FhirError:
    """An error of one entry's resource, its paths from the Bundle (`Bundle.entry[3].resource.code`)."""

    def move(text: str) -> str:
        return entry.at + text[len(entry.resource_type) :] if text.startswith(entry.resource_type) else text

    issues = [Issue(i.code, move(i.diagnostics), tuple(move(e) for e in i.expression), i.severity) for i in exc.issues]
    return FhirError(exc.status, exc.code, issues[0].diagnostics, issues=issues)


# ---- batch ---------------------------------------------------------------------------------------------


async def batch(session: AsyncSession, outbox: Outbox, principal: Principal, entries: list[Entry]) -> list[Outcome]:
    """Entry by entry: a failed one is rolled back to its savepoint and answered with its OperationOutcome."""
    outcomes = []
    for entry in entries:
        try:
            async with session.begin_nested():
                if entry.method == "POST":
                    written = await writes.create(session, outbox, principal, entry.resource_type, entry.resource, entry.criteria)
                else:
                    assert entry.target is not None
                    written = await writes.update(
                        session, outbox, principal, entry.resource_type, entry.target, entry.resource, None
                    )
            outcomes.append(_located(written.resource, written.status))
        except FhirError as exc:
            moved = relocated(exc, entry)
            outcomes.append(Outcome(moved.status, outcome=operation_outcome(moved.issues)))
    return outcomes


# ---- transaction ---------------------------------------------------------------------------------------


@dataclass
class Plan:
    """A transaction as records of the core: which entry became which record, and which part which tag."""

    records: dict[int, Mapped] = field(default_factory=dict)  # entry index -> its record (a part's: its record's)
    by_url: dict[str, int] = field(default_factory=dict)
    stored: dict[str, Mapped] = field(default_factory=dict)  # Encounter/<id> -> the stored record, posted again
    heads: dict[str, Head] = field(default_factory=dict)  # by external id, the records as they were
    tags: dict[int, str] = field(default_factory=dict)
    skipped: dict[int, Written] = field(default_factory=dict)  # ifNoneExist found it


def validated(entries: list[Entry]) -> list[Entry]:
    """Every entry's resource against the R4B models: a transaction's, before its unit of work begins (the
    CPU it takes then overlaps another request's statements instead of holding the writer's turn)."""
    for entry in entries:
        try:
            validate(entry.resource_type, entry.resource, at=entry.at)
        except FhirError as exc:
            raise relocated(exc, entry) from None
    return entries


async def transaction(session: AsyncSession, outbox: Outbox, principal: Principal, entries: list[Entry]) -> list[Outcome]:
    """All or nothing, its entries `validated` first."""
    facility = facility_of(principal)
    plan = Plan()
    for entry in entries:
        try:
            if entry.resource_type in outbound.RECORD_TYPES:
                await _record_entry(session, principal, plan, entry, facility)
        except FhirError as exc:
            raise relocated(exc, entry) from None
    await _attach_parts(session, principal, plan, entries)
    keys = {m.item["external_id"] for m in {id(m): m for m in plan.records.values()}.values()}
    await heads.lock_records(session, facility, keys)
    plan.heads = await heads.load_heads(session, facility, keys)
    for entry in entries:
        if entry.criteria and entry.index in plan.records:
            found = writes.if_none_exist_id(entry.criteria, facility, f"Bundle.entry[{entry.index}].request.ifNoneExist")
            if found in plan.heads:
                plan.skipped[entry.index] = writes.existing_written(plan.heads[found], entry.resource_type)
    records = _records_to_post(plan)
    await writes.resolve_patients(session, records)
    ingestion, results = await writes.run_core(session, outbox, principal, records, all_or_nothing=True)
    for mapped, result in zip(records, results, strict=True):
        if result.outcome in (ItemOutcome.REFUSED, ItemOutcome.NOT_STORED) and result.errors:
            raise writes.refusal(mapped, result)
    _check_no_overwrite(plan, entries, records, [r.outcome for r in results])
    served_of: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}  # a record's resources, made once for all its entries
    return [_answer(plan, entry, ingestion.heads, served_of) for entry in entries]


async def _record_entry(session: AsyncSession, principal: Principal, plan: Plan, entry: Entry, facility: str) -> None:
    if entry.method == "PUT":
        head = await writes.own_head(session, principal, entry.resource_type, outbound.record_id_of(entry.target or ""))
        body = {**entry.resource, "identifier": [{"system": record_system(facility), "value": head.external_id}]}
        mapped = inbound.record_of(entry.resource_type, body, facility, entry.at)
        mapped.item = writes.merged(entry.resource_type, head, mapped)
    else:
        mapped = writes.mapped_of(entry.resource_type, entry.resource, facility, entry.at)
    if any(m.item["external_id"] == mapped.item["external_id"] for m in plan.records.values()):
        raise FhirError(422, "duplicate", f"{entry.at}.identifier: two entries name the same record", f"{entry.at}.identifier")
    plan.records[entry.index] = mapped
    if entry.full_url:
        plan.by_url[entry.full_url] = entry.index


async def _attach_parts(session: AsyncSession, principal: Principal, plan: Plan, entries: list[Entry]) -> None:
    """Each Observation and Condition into the record of the entry its reference names, in entry order."""
    results = {
        ref["reference"]: e.index
        for e in entries
        if e.resource_type == "DiagnosticReport"
        for ref in e.resource.get("result", [])
    }
    urls = {e.full_url: e.index for e in entries if e.full_url}
    primary = {  # the Conditions an Encounter of the bundle ranks first
        urls.get(str(d.get("condition", {}).get("reference")))
        for e in entries
        if e.resource_type == "Encounter"
        for d in e.resource.get("diagnosis", [])
        if d.get("rank") == 1
    }
    for entry in entries:
        if entry.resource_type not in outbound.PART_TYPES:
            continue
        if entry.method != "POST":
            raise FhirError(
                422,
                "not-supported",
                f"{entry.at}: a part is added (POST), not replaced",
                f"Bundle.entry[{entry.index}].request.method",
            )
        part = inbound.part_of(entry.resource_type, entry.resource, entry.at)
        target = await _target(session, principal, plan, entry, results.get(entry.full_url or ""))
        if entry.index in primary:
            part.item["primary"] = True
        plan.tags[entry.index] = inbound.attach(target, [part], existing=_stored_body(plan, target))[0]
        plan.records[entry.index] = target


def _stored_body(plan: Plan, target: Mapped) -> dict[str, Any] | None:
    return target.item if target in plan.stored.values() else None


async def _target(session: AsyncSession, principal: Principal, plan: Plan, entry: Entry, report: int | None) -> Mapped:
    reference = str((entry.resource.get("encounter") or {}).get("reference") or "")
    if report is not None:
        return plan.records[report]
    if reference in plan.by_url:
        return plan.records[plan.by_url[reference]]
    if reference.startswith("Encounter/"):
        if reference not in plan.stored:
            head = await writes.own_head(
                session, principal, "Encounter", outbound.record_id_of(reference.removeprefix("Encounter/"))
            )
            plan.stored[reference] = writes.mapped_of_head(head, entry.at, await writes.national_id_of(session, head.cadre_id))
        return plan.stored[reference]
    path = f"{entry.at}.encounter"
    raise FhirError(
        422, "required", f"{path}: a part names its Encounter (an entry's urn:uuid: fullUrl, or Encounter/<id>)", path
    )


def _records_to_post(plan: Plan) -> list[Mapped]:
    skipped = {id(plan.records[i]) for i in plan.skipped}
    unique = {id(m): m for m in plan.records.values() if id(m) not in skipped}
    return list(unique.values())


def _check_no_overwrite(plan: Plan, entries: list[Entry], records: list[Mapped], outcomes: list[ItemOutcome]) -> None:
    """A POST without ifNoneExist of an identifier holding other content: 409, and the unit of work rolls back."""
    amended = {id(m) for m, o in zip(records, outcomes, strict=True) if o is ItemOutcome.AMENDED}
    for entry in entries:
        mapped = plan.records.get(entry.index)
        if (
            entry.method == "POST"
            and entry.resource_type in outbound.RECORD_TYPES
            and mapped is not None
            and id(mapped) in amended
        ):
            path = f"{entry.at}.identifier"
            raise FhirError(409, "duplicate", f"{path}: a record has this identifier; update it with PUT", path)


def _answer(
    plan: Plan, entry: Entry, written: dict[str, Head], served_of: dict[str, dict[tuple[str, str], dict[str, Any]]]
) -> Outcome:
    if entry.index in plan.skipped:
        return _located(plan.skipped[entry.index].resource, 200)
    mapped = plan.records[entry.index]
    holder = next((plan.skipped[i] for i in plan.skipped if plan.records[i] is mapped), None)
    if holder is not None:  # a part of a record ifNoneExist found: nothing of it was written
        return _located(holder.resource, 200)
    head = written[mapped.item["external_id"]]
    if head.external_id not in served_of:
        made = outbound.resources_of(RecordVersion.current(head))
        served_of[head.external_id] = {(r["resourceType"], r["id"]): r for r in made}
    resource_id = f"{head.id}-{plan.tags[entry.index]}" if entry.index in plan.tags else str(head.id)
    resource = served_of[head.external_id][(entry.resource_type, resource_id)]
    created = entry.method == "POST" and (head.new or entry.index in plan.tags)
    return _located(resource, 201 if created else 200)


def response_bundle(kind: str, outcomes: list[Outcome]) -> dict[str, Any]:
    return served({"resourceType": "Bundle", "type": f"{kind}-response", "entry": [o.as_json() for o in outcomes]})
