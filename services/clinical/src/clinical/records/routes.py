"""One record and its versions: readers in scope by id, a HIS by its own external_id; withdrawal by the HIS."""

import uuid
from typing import Any

from fastapi import Response

from clinical.access import HIS_WRITE_ERRORS, ClinicalReader, HisOwnReader, HisWriter
from clinical.records import service
from contracts.api.clinical import RecordPublic, RecordReceipt, RecordVersionPublic, WithdrawRequest
from contracts.api.common import Problem
from servicekit.audit import audit_subjects
from servicekit.idempotency import ServiceRouter
from servicekit.runtime import RuntimeDep, SessionDep

router = ServiceRouter(tags=["clinical"])
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem}}


@router.get("/records/{record_id}", response_model=RecordPublic, responses=NOT_FOUND)
async def get_record(record_id: uuid.UUID, caller: ClinicalReader, session: SessionDep, response: Response) -> RecordPublic:
    record = await service.get_record(session, caller, record_id)
    audit_subjects(response, [record.cadre_id])
    return record


@router.get("/records/{record_id}/versions", response_model=list[RecordVersionPublic], responses=NOT_FOUND)
async def get_record_versions(
    record_id: uuid.UUID, caller: ClinicalReader, session: SessionDep, response: Response
) -> list[RecordVersionPublic]:
    """Every version of a record, oldest first: nothing is overwritten."""
    record, versions = await service.record_versions(session, caller, record_id)
    audit_subjects(response, [record.cadre_id])
    return versions


@router.post(
    "/his/records/withdraw",
    response_model=RecordReceipt,
    responses={**NOT_FOUND, **HIS_WRITE_ERRORS},
)
async def withdraw_record(body: WithdrawRequest, caller: HisWriter, session: SessionDep, runtime: RuntimeDep) -> RecordReceipt:
    """Withdraw a record posted in error (it is kept, marked withdrawn, with the reason). Repeating it answers existed."""
    outcome, head = await service.withdraw(session, runtime.outbox, caller, body.external_id, body.reason)
    return RecordReceipt(outcome=outcome, record=head.ref())


@router.get("/his/records/lookup", response_model=RecordPublic, responses=NOT_FOUND)
async def read_own_record(external_id: str, caller: HisOwnReader, session: SessionDep, response: Response) -> RecordPublic:
    """A HIS reads back, by its own external_id, a record its facility posted (nothing else)."""
    record = await service.own_record(session, caller, external_id)
    audit_subjects(response, [record.cadre_id])
    return record


@router.get("/his/records/versions", response_model=list[RecordVersionPublic], responses=NOT_FOUND)
async def read_own_versions(
    external_id: str, caller: HisOwnReader, session: SessionDep, response: Response
) -> list[RecordVersionPublic]:
    record, versions = await service.own_record_versions(session, caller, external_id)
    audit_subjects(response, [record.cadre_id])
    return versions
