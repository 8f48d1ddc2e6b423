"""`/fhir/R4/Patient`: read, search (identifier, _id, _lastUpdated; paged), create (conditional on the CCCD).
Every answer naming cadres names them to the gateway's audit, as the JSON routes do."""

import json
from typing import Any

from fastapi import Header, Request
from fastapi.responses import Response

from contracts.fhir import FHIR_BASE_PATH
from registry.callers import CadreReader, CadreWriter
from registry.fhir import service
from registry.rules import RulesDep
from servicekit.audit import audit_subjects
from servicekit.fhir import FhirError, FhirResponse, base_url, resource_response, search_bundle, search_page
from servicekit.fhir_search import check_parameters, date_searches, tokens
from servicekit.idempotency import ServiceRouter
from servicekit.runtime import RuntimeDep, SessionDep

SEARCH_PARAMETERS = frozenset({"identifier", "_id", "_lastUpdated"})

router = ServiceRouter(
    prefix=f"{FHIR_BASE_PATH}/Patient", tags=["fhir"], include_in_schema=False
)  # described by the CapabilityStatement


@router.get("", response_class=FhirResponse)
async def search_patients(request: Request, caller: CadreReader, session: SessionDep) -> Response:
    """Only cadres in the caller's scope; `identifier` takes the VN Core CCCD and BHYT systems, the board's
    health-care card and CadreCare's cadre id (`system|value`, or a value in any of them)."""
    params = request.query_params
    check_parameters(params.keys(), SEARCH_PARAMETERS)
    identifiers = [token for raw in params.getlist("identifier") for token in tokens("identifier", raw)]
    ids = [i.strip() for raw in params.getlist("_id") for i in raw.split(",") if i.strip()]
    wanted = service.PatientSearch(identifiers, ids, date_searches("_lastUpdated", params.getlist("_lastUpdated")))
    page = search_page(request)
    found = await service.search_patients(session, caller, wanted, page)
    answer = FhirResponse(search_bundle(request, "Patient", found.patients, found.total, page))
    audit_subjects(answer, found.cadre_ids)
    return answer


@router.get("/{patient_id}", response_class=FhirResponse)
async def read_patient(patient_id: str, caller: CadreReader, session: SessionDep) -> Response:
    patient = await service.read_patient(session, caller, patient_id)
    answer = resource_response(patient)
    audit_subjects(answer, [patient["id"]])
    return answer


async def _resource_body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except (ValueError, RecursionError):
        raise FhirError(400, "structure", "the body is not JSON") from None


@router.post("", response_class=FhirResponse, status_code=201)
async def create_patient(
    request: Request,
    caller: CadreWriter,
    session: SessionDep,
    runtime: RuntimeDep,
    rules: RulesDep,
    if_none_exist: str | None = Header(default=None),
) -> Response:
    """Registers a cadre (tier and managing unit from CadreCare's extensions); with `If-None-Exist:
    identifier=<CCCD system>|<number>` a cadre already in scope with that CCCD is answered (200) instead."""
    body = await _resource_body(request)
    patient, created = await service.create_patient(session, runtime.outbox, caller, body, rules, if_none_exist)
    location = {"location": f"{base_url(request)}/Patient/{patient['id']}"} if created else {}
    answer = resource_response(patient, status=201 if created else 200, headers=location)
    audit_subjects(answer, [patient["id"]])
    return answer
