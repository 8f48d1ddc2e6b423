"""Export use cases: kick off (202 + Content-Location), poll (202 with X-Progress, then 200 and the manifest),
download one NDJSON file, cancel. Only the subject that kicked a job off sees it; anyone else gets 404."""

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import FileResponse, Response

from contracts.fhir import RESOURCE_OWNERS
from contracts.scope import Grant
from gateway.context import Caller, Gateway
from gateway.fhir.export.domain import EXPORT_TYPES, check_kick_off, narrowed_to, read_only, requested_types, since_of
from gateway.fhir.export.jobs import ExportJob, ExportStatus, JobStore
from gateway.fhir.export.runner import PER_PATIENT, Runner
from gateway.fhir.service import forwarded_base
from gateway.forwarding.policy import allowed
from servicekit.fhir import FhirError, FhirResponse, Issue, base_url, instant, outcome_response

KEEP_FINISHED = timedelta(hours=24)
MAX_RUNNING_PER_CALLER = 2
STATUS_PATH = "$export-poll"
FILE_PATH = "$export-file"
NDJSON = "application/fhir+ndjson"


class Exports:
    """The jobs of one gateway process: their files (JobStore) and the tasks running them."""

    def __init__(self, root: Path) -> None:
        self.store = JobStore(root)
        self.tasks: dict[str, asyncio.Task[None]] = {}

    def start(self, runner: Runner) -> None:
        task = asyncio.create_task(runner.run(), name=f"fhir-export-{runner.job.id}")
        self.tasks[runner.job.id] = task
        task.add_done_callback(lambda _done: self.tasks.pop(runner.job.id, None))


def exports_of(gateway: Gateway, request: Request) -> Exports:
    """One per app, made on first use (the files live under the gateway's data directory)."""
    found: Exports | None = getattr(request.app.state, "fhir_exports", None)
    if found is None:
        found = Exports(gateway.settings.data_dir / "gateway" / "fhir-export")
        request.app.state.fhir_exports = found
    return found


def _types_for(caller: Caller, wanted: tuple[str, ...] | None) -> list[str]:
    """The types asked for (403 if one is not the caller's to search), else every type the caller may search."""
    permissions = caller.principal.permissions
    searchable = {t for t in EXPORT_TYPES if allowed(permissions, RESOURCE_OWNERS[t], "GET", f"fhir/R4/{t}")}
    # observations and conditions are found patient by patient: the caller must be able to list the patients
    may = [t for t in EXPORT_TYPES if t in searchable and (t not in PER_PATIENT or "Patient" in searchable)]
    if wanted is None:
        if not may:
            raise FhirError(403, "forbidden", "the caller may search none of the exportable types")
        return may
    refused = [t for t in wanted if t not in may]
    if refused:
        raise FhirError(403, "forbidden", f"the caller may not search {', '.join(refused)}", "_type")
    return list(wanted)


def _reach(caller: Caller, group: str | None) -> tuple[Grant, ...]:
    grants = narrowed_to(caller.principal.grants, group) if group is not None else read_only(caller.principal.grants)
    if group is not None and not grants:
        raise FhirError(404, "not-found", f"no Group {group!r}")  # a unit outside the caller's reads does not exist for it
    return grants


async def kick_off(
    gateway: Gateway, exports: Exports, request: Request, caller: Caller, group: str | None, level: str
) -> Response:
    params = request.query_params
    operation = f"fhir:GET /{level}/$export"
    check_kick_off(request.headers.get("prefer"), params.get("_outputFormat"))
    since = since_of(params.get("_since"))
    try:
        types = _types_for(caller, requested_types(params.get("_type")))
        grants = _reach(caller, group)
    except FhirError as refused:  # a denial is audited, as every refused request of person-level data
        await gateway.audit.append(caller.entry(operation, "GET", _target(request), refused.status, detail=refused.diagnostics))
        raise
    if exports.store.running_of(caller.principal.subject) >= MAX_RUNNING_PER_CALLER:
        raise FhirError(429, "throttled", "wait for your running exports to finish", headers={"retry-after": "10"})
    exports.store.prune(KEEP_FINISHED)
    job = ExportJob(owner=caller.principal.subject, level=level, group=group, types=types, since=since, request=str(request.url))
    exports.store.save(job)
    principal = caller.principal.model_copy(update={"grants": grants})
    exports.start(Runner(gateway, exports.store, job, principal, forwarded_base(request)))
    await gateway.audit.append(caller.entry(operation, "GET", _target(request), 202, detail=f"job {job.id}"))
    location = f"{base_url(request)}/{STATUS_PATH}/{job.id}"
    return Response(status_code=202, headers={"content-location": location})


def _target(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def _own_job(exports: Exports, caller: Caller, job_id: str) -> ExportJob:
    job = exports.store.load(job_id)
    if job is None or job.owner != caller.principal.subject:
        raise FhirError(404, "not-found", f"no export {job_id!r}")
    return job


def manifest(job: ExportJob, base: str) -> dict[str, Any]:
    return {
        "transactionTime": instant(job.transaction_time),
        "request": job.request,
        "requiresAccessToken": True,
        "output": [
            {"type": out.type, "url": f"{base}/{FILE_PATH}/{job.id}/{out.type}.ndjson", "count": out.count}
            for out in job.output
            if out.count
        ],
        "error": [],
    }


def status(exports: Exports, request: Request, caller: Caller, job_id: str) -> Response:
    job = _own_job(exports, caller, job_id)
    if exports.store.stale(job, job.id in exports.tasks):
        job.status, job.error = ExportStatus.FAILED, "interrupted: the gateway restarted while the export ran"
        exports.store.save(job)
    if job.status == ExportStatus.RUNNING:
        return Response(status_code=202, headers={"x-progress": job.progress, "retry-after": "1"})
    if job.status == ExportStatus.FAILED:
        return outcome_response(500, [Issue("exception", f"the export failed: {job.error}")])
    return FhirResponse(manifest(job, base_url(request)), headers={"expires": _expires(job)})


def _expires(job: ExportJob) -> str:
    return (job.updated_at + KEEP_FINISHED).strftime("%a, %d %b %Y %H:%M:%S GMT")


async def download(gateway: Gateway, exports: Exports, request: Request, caller: Caller, job_id: str, file: str) -> Response:
    job = _own_job(exports, caller, job_id)
    resource_type = file.removesuffix(".ndjson")
    outputs = {out.type for out in job.output if out.count}
    if job.status != ExportStatus.COMPLETED or not file.endswith(".ndjson") or resource_type not in outputs:
        raise FhirError(404, "not-found", f"no file {file!r} in export {job_id!r}")
    subjects = exports.store.subjects(job.id, resource_type)
    entry = caller.entry(f"fhir:GET /{FILE_PATH}", "GET", _target(request), 200, subjects=subjects, detail=f"job {job.id}")
    await gateway.audit.append(entry)  # no audit, no answer: the file is sent only once its reading is recorded
    return FileResponse(exports.store.data_file(job.id, resource_type), media_type=NDJSON)


async def cancel(gateway: Gateway, exports: Exports, request: Request, caller: Caller, job_id: str) -> Response:
    job = _own_job(exports, caller, job_id)
    task = exports.tasks.pop(job.id, None)
    if task is not None:
        task.cancel()
    exports.store.remove(job.id)
    entry = caller.entry(f"fhir:DELETE /{STATUS_PATH}", "DELETE", _target(request), 202, detail=f"job {job.id}")
    await gateway.audit.append(entry)
    return Response(status_code=202)
