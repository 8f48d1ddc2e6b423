"""The work of one export: for each type, page through the owning service's FHIR search as the job's principal,
write the matches as NDJSON, and audit every page as the read it is (the cadres it named, the job's id)."""

import json
import logging
from dataclasses import dataclass, field
from typing import Any, TextIO
from urllib.parse import urlencode, urlsplit

from contracts.fhir import FHIR_BASE_PATH, FHIR_JSON, RESOURCE_OWNERS
from contracts.scope import AUDIT_SUBJECTS_HEADER, Principal
from gateway.audit.trail import AuditEntry, outcome_of
from gateway.context import Gateway
from gateway.fhir.export.jobs import ExportJob, ExportOutput, ExportStatus, JobStore, dump_line
from servicekit.errors import DomainError
from servicekit.pagination import MAX_PAGE_SIZE

log = logging.getLogger(__name__)
UPSTREAM = FHIR_BASE_PATH.lstrip("/")


# clinical searches these one patient at a time (a search of every cadre's observations at once is refused)
PER_PATIENT = frozenset({"Observation", "Condition"})


@dataclass
class Written:
    count: int = 0
    subjects: dict[str, None] = field(default_factory=dict)  # ordered, without repeats


class ExportFailed(Exception):
    pass


class Cancelled(Exception):
    pass


def _next_query(bundle: dict[str, Any]) -> str | None:
    """The query of the Bundle's `next` link: the service's own paging, followed as it wrote it."""
    for link in bundle.get("link") or []:
        if link.get("relation") == "next" and link.get("url"):
            return urlsplit(str(link["url"])).query
    return None


def first_query(job: ExportJob, patient_id: str | None = None) -> str:
    query = [("_count", str(MAX_PAGE_SIZE))]
    if patient_id is not None:
        query.append(("patient", f"Patient/{patient_id}"))
    if job.since is not None:
        query.append(("_lastUpdated", "ge" + job.since.isoformat()))
    return urlencode(query)


class Runner:
    def __init__(self, gateway: Gateway, store: JobStore, job: ExportJob, principal: Principal, base: dict[str, str]) -> None:
        self.gateway, self.store, self.job, self.principal = gateway, store, job, principal
        self.base = base  # x-forwarded-proto/-host of the kick-off, so that links are the client's
        self.patient_ids: list[str] | None = None

    async def run(self) -> None:
        try:
            for position, resource_type in enumerate(self.job.types, start=1):
                self._still_wanted()
                self.job.progress = f"{resource_type}: type {position} of {len(self.job.types)}"
                self.store.save(self.job)
                count = await self._export_type(resource_type)
                self.job.output.append(ExportOutput(type=resource_type, count=count))
            self.job.status, self.job.progress = ExportStatus.COMPLETED, "completed"
        except Cancelled:
            return  # the DELETE removed the job and its files
        except (ExportFailed, DomainError) as failure:
            self.job.status, self.job.error = ExportStatus.FAILED, str(failure)
        except Exception as failure:  # a job must end in a state the client can read, whatever went wrong
            log.exception("export %s failed", self.job.id)
            self.job.status, self.job.error = ExportStatus.FAILED, f"internal error ({type(failure).__name__})"
        if self.store.load(self.job.id) is not None:
            self.store.save(self.job)

    def _still_wanted(self) -> None:
        current = self.store.load(self.job.id)
        if current is None or current.status == ExportStatus.CANCELLED:
            raise Cancelled

    async def _export_type(self, resource_type: str) -> int:
        service = RESOURCE_OWNERS[resource_type]
        path = f"{UPSTREAM}/{resource_type}"
        data = self.store.data_file(self.job.id, resource_type)
        written = Written()
        with data.open("w", encoding="utf-8") as out:
            if resource_type in PER_PATIENT:
                for patient_id in await self._patient_ids():
                    await self._collect(service, path, first_query(self.job, patient_id), out, written)
            else:
                ids = await self._collect(service, path, first_query(self.job), out, written)
                if resource_type == "Patient" and self.job.since is None:
                    self.patient_ids = ids
        self.store.subjects_file(self.job.id, resource_type).write_text("\n".join(written.subjects), encoding="utf-8")
        if written.count == 0:
            data.unlink(missing_ok=True)
        return written.count

    async def _patient_ids(self) -> list[str]:
        """Every Patient in the job's reach, whatever `_since` (an old cadre's new observation is exported)."""
        if self.patient_ids is None:
            query = urlencode([("_count", str(MAX_PAGE_SIZE))])
            self.patient_ids = await self._collect("registry", f"{UPSTREAM}/Patient", query, None, Written())
        return self.patient_ids

    async def _collect(self, service: str, path: str, query: str, out: TextIO | None, written: "Written") -> list[str]:
        """Every page of one search: its matches written to `out` (when given); their ids returned."""
        ids: list[str] = []
        next_query: str | None = query
        while next_query is not None:
            self._still_wanted()
            bundle, named = await self._page(service, path, next_query)
            written.subjects.update(dict.fromkeys(named))
            for entry in bundle.get("entry") or []:
                if (entry.get("search") or {}).get("mode", "match") == "match" and "resource" in entry:
                    ids.append(str(entry["resource"].get("id")))
                    if out is not None:
                        out.write(dump_line(entry["resource"]))
                        written.count += 1
            next_query = _next_query(bundle)
            self.job.progress = f"{path.rsplit('/', 1)[-1]}: {written.count} written"
            self.store.save(self.job)
        return ids

    async def _page(self, service: str, path: str, query: str) -> tuple[dict[str, Any], list[str]]:
        answer = await self.gateway.proxy.send(
            service,
            "GET",
            path,
            principal=self.principal,
            query=query,
            content=b"",
            headers={"accept": FHIR_JSON, **self.base},
            correlation_id=None,
        )
        named = [s for s in (answer.headers.get(AUDIT_SUBJECTS_HEADER) or "").split(",") if s]
        entry = AuditEntry.by(
            self.principal,
            operation=f"{service}:GET /{path}",
            method="GET",
            path=f"/{path}?{query}",
            status_code=answer.status_code,
            outcome=outcome_of(answer.status_code),
            subjects=named,
            detail=f"FHIR $export {self.job.id}",
        )
        await self.gateway.audit.append(entry)
        if answer.status_code != 200:
            raise ExportFailed(f"{path}: the {service} service answered {answer.status_code}")
        bundle = json.loads(answer.content)
        if not isinstance(bundle, dict):
            raise ExportFailed(f"{path}: not a Bundle")
        return bundle, named
