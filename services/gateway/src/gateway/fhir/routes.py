"""`/fhir/R4`: the CapabilityStatement (public), Bulk Data `$export`, Bundles and every resource type, forwarded
to the service that owns it. Every route but `metadata` needs a signed-in caller, as `/api/v1` does."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from contracts.fhir import FHIR_BASE_PATH
from gateway.context import API_PREFIX, CallerDep, GatewayDep
from gateway.fhir import service
from gateway.fhir.capability import Statement, capability_statement
from gateway.fhir.export import service as export
from gateway.forwarding.routes import PROXY_METHODS
from servicekit.fhir import FhirResponse, base_url

router = APIRouter(prefix=FHIR_BASE_PATH, include_in_schema=False)  # FHIR's own document is the CapabilityStatement


def exports(request: Request, gateway: GatewayDep) -> export.Exports:
    return export.exports_of(gateway, request)


ExportsDep = Annotated[export.Exports, Depends(exports)]


@router.get("/metadata")
async def metadata(request: Request) -> Response:
    """Public, as FHIR clients read it before they sign in: it describes the facade and holds no data."""
    statement = Statement(base_url=base_url(request), token_url=f"{base_url(request, API_PREFIX)}/auth/token")
    body: dict[str, Any] = capability_statement(statement)
    return FhirResponse(body)


@router.get("/$export")
async def system_export(request: Request, caller: CallerDep, gateway: GatewayDep, jobs: ExportsDep) -> Response:
    return await export.kick_off(gateway, jobs, request, caller, None, "system")


@router.get("/Patient/$export")
async def patient_export(request: Request, caller: CallerDep, gateway: GatewayDep, jobs: ExportsDep) -> Response:
    return await export.kick_off(gateway, jobs, request, caller, None, "Patient")


@router.get("/Group/{group}/$export")
async def group_export(group: str, request: Request, caller: CallerDep, gateway: GatewayDep, jobs: ExportsDep) -> Response:
    """A Group is a board's unit (e.g. VN.68): its cadres and their records, within what the caller reads."""
    return await export.kick_off(gateway, jobs, request, caller, group, "Group")


@router.get(f"/{export.STATUS_PATH}/{{job_id}}")
async def export_status(job_id: str, request: Request, caller: CallerDep, jobs: ExportsDep) -> Response:
    return export.status(jobs, request, caller, job_id)


@router.delete(f"/{export.STATUS_PATH}/{{job_id}}")
async def export_cancel(job_id: str, request: Request, caller: CallerDep, gateway: GatewayDep, jobs: ExportsDep) -> Response:
    return await export.cancel(gateway, jobs, request, caller, job_id)


@router.get(f"/{export.FILE_PATH}/{{job_id}}/{{file}}")
async def export_file(
    job_id: str, file: str, request: Request, caller: CallerDep, gateway: GatewayDep, jobs: ExportsDep
) -> Response:
    return await export.download(gateway, jobs, request, caller, job_id, file)


@router.post("")
async def bundle(request: Request, caller: CallerDep, gateway: GatewayDep) -> Response:
    """A transaction or batch Bundle: to clinical's ingestion core."""
    return await service.forward_bundle(gateway, request, caller)


@router.api_route("/{resource_type}", methods=PROXY_METHODS)
async def resource_type(resource_type: str, request: Request, caller: CallerDep, gateway: GatewayDep) -> Response:
    return await service.forward_resource(gateway, resource_type, "", request, caller)


@router.api_route("/{resource_type}/{rest:path}", methods=PROXY_METHODS)
async def resource(resource_type: str, rest: str, request: Request, caller: CallerDep, gateway: GatewayDep) -> Response:
    return await service.forward_resource(gateway, resource_type, rest, request, caller)
