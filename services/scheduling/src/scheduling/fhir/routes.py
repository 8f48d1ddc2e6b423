"""`/fhir/R4/Appointment`: read and search (date, actor, location, patient, status, _id, _lastUpdated; paged)
by a board or the HIS of the exam's facility, and the status a facility records (PUT or JSON Patch)."""

import json
import uuid
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import Response

from contracts.fhir import FHIR_BASE_PATH
from contracts.permissions import Permission
from contracts.scope import Principal
from scheduling.fhir import service
from scheduling.fhir.domain import invitation_statuses, status_of_patch
from scheduling.fhir.queries import AppointmentSearch
from servicekit.audit import audit_subjects
from servicekit.auth import permitted_any
from servicekit.fhir import FhirError, FhirResponse, resource_response, search_bundle, search_page
from servicekit.fhir_search import check_parameters, date_searches, reference_ids, tokens
from servicekit.idempotency import ServiceRouter
from servicekit.runtime import RuntimeDep, SessionDep

SEARCH_PARAMETERS = frozenset({"date", "actor", "location", "patient", "status", "_id", "_lastUpdated"})

router = ServiceRouter(
    prefix=f"{FHIR_BASE_PATH}/Appointment", tags=["fhir"], include_in_schema=False
)  # described by the CapabilityStatement

# a board's staff, or the HIS client of the facility the exams take place at
AppointmentReader = Annotated[
    Principal, Depends(permitted_any(Permission.SCHEDULING_READ, Permission.SCHEDULING_FACILITY_APPOINTMENTS))
]
AppointmentWriter = Annotated[
    Principal, Depends(permitted_any(Permission.SCHEDULING_WRITE, Permission.SCHEDULING_FACILITY_APPOINTMENTS))
]


def _uuids(name: str, values: list[str]) -> list[uuid.UUID]:
    found = []
    for value in values:
        try:
            found.append(uuid.UUID(value))
        except ValueError:
            raise FhirError(400, "invalid", f"{name}: {value!r} is not an id of ours", name) from None
    return found


def _search_of(request: Request) -> AppointmentSearch:
    params = request.query_params
    check_parameters(params.keys(), SEARCH_PARAMETERS)
    patients: list[str] = [i for raw in params.getlist("patient") for i in reference_ids("patient", raw, "Patient")]
    facilities: list[str] = [i for raw in params.getlist("location") for i in reference_ids("location", raw, "Location")]
    for raw in params.getlist("actor"):  # Patient/<id> or Organization/<facility code>
        for part in (p.strip() for p in raw.split(",") if p.strip()):
            (patients if part.startswith("Patient/") else facilities).append(part.rsplit("/", 1)[-1])
    statuses = [s for raw in params.getlist("status") for token in tokens("status", raw) for s in invitation_statuses(token.code)]
    ids = [i.strip() for raw in params.getlist("_id") for i in raw.split(",") if i.strip()]
    return AppointmentSearch(
        ids=_uuids("_id", ids) if ids else None,
        patients=_uuids("patient", patients) if patients else None,
        facilities=facilities or None,
        statuses=statuses if params.getlist("status") else None,
        dates=date_searches("date", params.getlist("date")),
        updated=date_searches("_lastUpdated", params.getlist("_lastUpdated")),
    )


@router.get("", response_class=FhirResponse)
async def search_appointments(request: Request, caller: AppointmentReader, session: SessionDep) -> Response:
    page = search_page(request)
    found = await service.search_appointments(session, caller, _search_of(request), page)
    answer = FhirResponse(search_bundle(request, "Appointment", found.appointments, found.total, page))
    audit_subjects(answer, found.cadre_ids)
    return answer


@router.get("/{appointment_id}", response_class=FhirResponse)
async def read_appointment(appointment_id: str, caller: AppointmentReader, session: SessionDep) -> Response:
    appointment, cadre_id = await service.read_appointment(session, caller, appointment_id)
    answer = resource_response(appointment)
    audit_subjects(answer, [cadre_id])
    return answer


async def _json(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except (ValueError, RecursionError):
        raise FhirError(400, "structure", "the body is not JSON") from None


async def _changed(
    appointment_id: str, asked: object, caller: Principal, session: SessionDep, runtime: RuntimeDep, if_match: str | None
) -> Response:
    appointment, cadre_id = await service.change_status(session, runtime.outbox, caller, appointment_id, asked, if_match)
    answer = resource_response(appointment)
    audit_subjects(answer, [cadre_id])
    return answer


@router.put("/{appointment_id}", response_class=FhirResponse)
async def update_appointment(
    appointment_id: str,
    request: Request,
    caller: AppointmentWriter,
    session: SessionDep,
    runtime: RuntimeDep,
    if_match: str | None = Header(default=None),
) -> Response:
    """The whole Appointment as read, with the status changed: only the status is taken."""
    asked = service.status_of_put(appointment_id, await _json(request))
    return await _changed(appointment_id, asked, caller, session, runtime, if_match)


@router.patch("/{appointment_id}", response_class=FhirResponse)
async def patch_appointment(
    appointment_id: str,
    request: Request,
    caller: AppointmentWriter,
    session: SessionDep,
    runtime: RuntimeDep,
    if_match: str | None = Header(default=None),
) -> Response:
    """A JSON Patch (application/json-patch+json) replacing /status."""
    asked = status_of_patch(await _json(request))
    return await _changed(appointment_id, asked, caller, session, runtime, if_match)
