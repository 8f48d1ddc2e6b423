"""Export jobs on disk: `<data_dir>/gateway/fhir-export/<job id>/` holds `job.json` (status, progress, the
manifest's outputs), one `<Type>.ndjson` per exported type and `<Type>.subjects` (the cadres whose records
the file holds, for the audit of each download). The file, not the process, is the job's truth: a job
found `in-progress` whose runner is gone (the gateway restarted) is reported failed."""

import json
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, Field

from servicekit import clock

JOB_FILE = "job.json"
STALE_AFTER = timedelta(minutes=2)  # a running job's file is touched at least once per page it reads


class ExportStatus(StrEnum):
    RUNNING = "in-progress"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ExportOutput(BaseModel):
    type: str
    count: int


class ExportJob(BaseModel):
    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    owner: str  # the subject that kicked it off: the only one who may poll, download or cancel it
    level: str  # system, patient or group
    group: str | None = None
    types: list[str]
    since: datetime | None = None
    request: str  # the kick-off URL as the client sent it
    transaction_time: datetime = Field(default_factory=clock.now)
    status: ExportStatus = ExportStatus.RUNNING
    progress: str = "queued"
    output: list[ExportOutput] = Field(default_factory=list)
    error: str | None = None
    updated_at: datetime = Field(default_factory=clock.now)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class JobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def folder(self, job_id: str) -> Path:
        if not job_id.isalnum():  # a job id is hex: nothing else may reach the file system
            raise KeyError(job_id)
        return self.root / job_id

    def save(self, job: ExportJob) -> None:
        job.updated_at = clock.now()
        folder = self.folder(job.id)
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f"{JOB_FILE}.tmp"
        temporary.write_text(job.model_dump_json(indent=1), encoding="utf-8")
        temporary.replace(folder / JOB_FILE)  # a reader never sees half a file

    def load(self, job_id: str) -> ExportJob | None:
        try:
            text = (self.folder(job_id) / JOB_FILE).read_text(encoding="utf-8")
        except (KeyError, OSError):
            return None
        return ExportJob.model_validate_json(text)

    def stale(self, job: ExportJob, running: bool) -> bool:
        return job.status == ExportStatus.RUNNING and not running and clock.now() - _aware(job.updated_at) > STALE_AFTER

    def data_file(self, job_id: str, resource_type: str) -> Path:
        return self.folder(job_id) / f"{resource_type}.ndjson"

    def subjects_file(self, job_id: str, resource_type: str) -> Path:
        return self.folder(job_id) / f"{resource_type}.subjects"

    def subjects(self, job_id: str, resource_type: str) -> list[str]:
        try:
            return self.subjects_file(job_id, resource_type).read_text(encoding="utf-8").split()
        except OSError:
            return []

    def remove(self, job_id: str) -> None:
        shutil.rmtree(self.folder(job_id), ignore_errors=True)

    def running_of(self, owner: str) -> int:
        return sum(1 for job in self.all() if job.owner == owner and job.status == ExportStatus.RUNNING)

    def all(self) -> list[ExportJob]:
        if not self.root.is_dir():
            return []
        found = []
        for folder in self.root.iterdir():
            job = self.load(folder.name) if folder.is_dir() else None
            if job is not None:
                found.append(job)
        return found

    def prune(self, keep: timedelta) -> None:
        """Finished jobs older than `keep` go with their files (a client has had time to download them)."""
        for job in self.all():
            if job.status != ExportStatus.RUNNING and clock.now() - _aware(job.updated_at) > keep:
                self.remove(job.id)


def dump_line(resource: object) -> str:
    return json.dumps(resource, ensure_ascii=False, separators=(",", ":")) + "\n"
