"""`/fhir/R4` for the resources clinical owns (contracts.fhir.RESOURCE_OWNERS) and for Bundles. One route per
type and interaction, so that the gateway's route table and the CapabilityStatement list exactly these.

Reads: a board's staff (clinical.read) in scope, a HIS (clinical.read_own) what its facility posted; every
answer names the cadres it is about for the audit trail. Writes: a HIS (clinical.write) for its facility.
Organization (the facilities registry, clinical.fhir.organizations): registered by a facility's own HIS or by
an administrator.
"""

import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import Response

from clinical.fhir import bundles, organizations, reads, writes
from clinical.fhir.search import parse_search
from contracts.fhir import FHIR_BASE_PATH
from contracts.permissions import Permission
from contracts.scope import Principal
from servicekit.audit import audit_subjects
from servicekit.auth import permitted, permitted_any
from servicekit.fhir import FhirError, FhirResponse, base_url, resource_response, search_bundle, search_page, served
from servicekit.idempotency import ServiceRouter
from servicekit.runtime import RuntimeDep, SessionDep

FhirReader = Annotated[Principal, Depends(permitted_any(Permission.CLINICAL_READ, Permission.CLINICAL_READ_OWN))]
FhirWriter = Annotated[Principal, Depends(permitted(Permission.CLINICAL_WRITE))]
# a HIS (clinical.write) registers its own facility, an administrator (who reads, clinical.read) any:
# organizations.may_register decides which
FacilityRegistrar = Annotated[Principal, Depends(permitted_any(Permission.CLINICAL_WRITE, Permission.CLINICAL_READ))]

router = ServiceRouter(prefix=FHIR_BASE_PATH, tags=["fhir"], include_in_schema=False)  # described by the CapabilityStatement
VERSIONED = ("Encounter", "DiagnosticReport", "ServiceRequest")  # read, vread, history, search, create, update
PARTS = ("Observation", "Condition")  # read, vread, search, create (added to their record)


async def body_of(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except (ValueError, RecursionError):
        raise FhirError(400, "structure", "the body is not JSON") from None


def answer(resource: dict[str, Any], cadres: list[Any], *, status: int = 200, location: str | None = None) -> Response:
    response = resource_response(resource, status=status, headers={"Location": location} if location else None)
    audit_subjects(response, cadres)
    return response


def location_of(request: Request, resource: dict[str, Any]) -> str:
    return f"{base_url(request)}/{resource['resourceType']}/{resource['id']}/_history/{resource['meta']['versionId']}"


def _read(resource_type: str) -> Callable[..., Awaitable[Response]]:
    async def read(id: str, caller: FhirReader, session: SessionDep) -> Response:
        resource, cadre_id = await reads.read(session, caller, resource_type, id)
        return answer(resource, [cadre_id] if cadre_id else [])

    return read


def _vread(resource_type: str) -> Callable[..., Awaitable[Response]]:
    async def vread(id: str, vid: str, caller: FhirReader, session: SessionDep) -> Response:
        resource, cadre_id = await reads.read(session, caller, resource_type, id, vid)
        return answer(resource, [cadre_id] if cadre_id else [])

    return vread


def _history(resource_type: str) -> Callable[..., Awaitable[Response]]:
    async def history(id: str, request: Request, caller: FhirReader, session: SessionDep) -> Response:
        found = await reads.history(session, caller, resource_type, id)
        base = base_url(request)
        entries = [
            {
                "fullUrl": f"{base}/{resource_type}/{r['id']}",
                "resource": served(r),
                "request": {"method": "POST" if r["meta"]["versionId"] == "1" else "PUT", "url": f"{resource_type}/{r['id']}"},
                "response": {"status": "201 Created" if r["meta"]["versionId"] == "1" else "200 OK"},
            }
            for r in found.resources
        ]
        bundle = served({"resourceType": "Bundle", "type": "history", "total": found.total}) | {"entry": entries}
        response = FhirResponse(bundle)
        audit_subjects(response, sorted(found.cadres, key=str))
        return response

    return history


def _search(resource_type: str) -> Callable[..., Awaitable[Response]]:
    async def search(request: Request, caller: FhirReader, session: SessionDep) -> Response:
        criteria = parse_search(resource_type, request.query_params)
        page = search_page(request)
        if resource_type == "Organization":
            organizations_found = await organizations.search(session, criteria, page)
            return FhirResponse(
                search_bundle(request, resource_type, organizations_found.resources, organizations_found.total, page)
            )
        if resource_type in PARTS:
            found = await reads.search_parts(session, caller, criteria, page)
        else:
            found = await reads.search_records(session, caller, criteria, page)
        response = FhirResponse(search_bundle(request, resource_type, found.resources, found.total, page))
        audit_subjects(response, sorted(found.cadres, key=str))
        return response

    return search


def _create(resource_type: str) -> Callable[..., Awaitable[Response]]:
    async def create(
        request: Request,
        caller: FhirWriter,
        session: SessionDep,
        runtime: RuntimeDep,
        if_none_exist: Annotated[str | None, Header()] = None,
    ) -> Response:
        body = await body_of(request)
        written = await writes.create(session, runtime.outbox, caller, resource_type, body, if_none_exist)
        return answer(
            written.resource, [written.cadre_id], status=written.status, location=location_of(request, written.resource)
        )

    return create


def _update(resource_type: str) -> Callable[..., Awaitable[Response]]:
    async def update(
        id: str,
        request: Request,
        caller: FhirWriter,
        session: SessionDep,
        runtime: RuntimeDep,
        if_match: Annotated[str | None, Header()] = None,
    ) -> Response:
        body = await body_of(request)
        written = await writes.update(session, runtime.outbox, caller, resource_type, id, body, if_match)
        return answer(written.resource, [written.cadre_id], location=location_of(request, written.resource))

    return update


# ---- Organization: the facilities registry (no person's data: nothing to audit) ----------------------


async def read_organization(id: str, _caller: FhirReader, session: SessionDep) -> Response:
    return resource_response(await organizations.read(session, id))


async def create_organization(
    request: Request,
    caller: FacilityRegistrar,
    session: SessionDep,
    if_none_exist: Annotated[str | None, Header()] = None,
) -> Response:
    status, resource = await organizations.create(session, caller, await body_of(request), if_none_exist)
    return resource_response(resource, status=status, headers={"Location": location_of(request, resource)})


async def update_organization(
    id: str,
    request: Request,
    caller: FacilityRegistrar,
    session: SessionDep,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    status, resource = await organizations.update(session, caller, id, await body_of(request), if_match)
    return resource_response(resource, status=status, headers={"Location": location_of(request, resource)})


for _type in (*VERSIONED, *PARTS, "Organization"):
    router.add_api_route(f"/{_type}", _search(_type), methods=["GET"], name=f"search {_type}")
    if _type == "Organization":
        router.add_api_route("/Organization/{id}", read_organization, methods=["GET"], name="read Organization")
        router.add_api_route("/Organization", create_organization, methods=["POST"], name="create Organization")
        router.add_api_route("/Organization/{id}", update_organization, methods=["PUT"], name="update Organization")
    else:
        router.add_api_route(f"/{_type}/{{id}}", _read(_type), methods=["GET"], name=f"read {_type}")
for _type in (*VERSIONED, *PARTS):
    router.add_api_route(f"/{_type}", _create(_type), methods=["POST"], name=f"create {_type}")
    router.add_api_route(f"/{_type}/{{id}}/_history/{{vid}}", _vread(_type), methods=["GET"], name=f"vread {_type}")
for _type in VERSIONED:
    router.add_api_route(f"/{_type}/{{id}}/_history", _history(_type), methods=["GET"], name=f"history {_type}")
    router.add_api_route(f"/{_type}/{{id}}", _update(_type), methods=["PUT"], name=f"update {_type}")


@router.post("")
async def post_bundle(request: Request, caller: FhirWriter, runtime: RuntimeDep) -> Response:
    """A transaction (all or nothing) or a batch (entry by entry) Bundle.

    Its own unit of work, begun once the Bundle is parsed and a transaction's resources validated: on SQLite
    the writer's turn is then held only for the work that needs it."""
    kind, entries = bundles.parse_entries(await body_of(request))
    if kind == "transaction":
        bundles.validated(entries)
    async with runtime.db.transaction() as session:
        if kind == "transaction":
            outcomes = await bundles.transaction(session, runtime.outbox, caller, entries)
        else:
            outcomes = await bundles.batch(session, runtime.outbox, caller, entries)
    return FhirResponse(bundles.response_bundle(kind, outcomes))
