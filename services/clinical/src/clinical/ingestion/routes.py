"""The HIS interface: one record or a bulk, answered item by item. See docs/his-integration.md."""

import contextlib
from typing import Annotated

from fastapi import Depends, Request, Response, status
from fastapi.responses import JSONResponse

from clinical.access import HIS_WRITE_ERRORS, HisWriter, facility_of
from clinical.ingestion.group_commit import GroupCommit
from clinical.ingestion.service import Ingestion, bulk_result, parse_item, parsed
from clinical.settings import ClinicalSettings
from contracts.api.clinical import (
    BulkRequest,
    BulkResult,
    DischargeIn,
    HisRecord,
    ItemOutcome,
    RecordReceipt,
    TransferIn,
)
from servicekit.errors import Refused
from servicekit.idempotency import ServiceRouter
from servicekit.runtime import KeyedSessionDep, Runtime, RuntimeDep, SessionDep, get_runtime

router = ServiceRouter(tags=["clinical"])
ClinicalRuntime = Annotated[Runtime[ClinicalSettings], Depends(get_runtime)]


def group_commit(request: Request, runtime: Runtime[ClinicalSettings]) -> GroupCommit:
    """The app's one group commit of single records, made on first use."""
    state = request.app.state
    if getattr(state, "group_commit", None) is None:
        state.group_commit = GroupCommit(runtime.db, runtime.outbox)
    committer: GroupCommit = state.group_commit
    return committer


@router.post(
    "/his/records",
    response_model=RecordReceipt,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": RecordReceipt, "description": "existed (same content) or amended (a new version)"},
        **HIS_WRITE_ERRORS,
    },
)
async def post_record(
    body: HisRecord, caller: HisWriter, session: KeyedSessionDep, runtime: ClinicalRuntime, request: Request
) -> Response:
    """Post one record of any kind: 201 created; 200 existed or amended; 422 refused with field errors."""
    facility_of(caller)  # 403 before anything is queued
    grouped = session is None and runtime.settings.group_commit
    if grouped and not isinstance(body, TransferIn | DischargeIn):
        result = await group_commit(request, runtime).post(caller, body)  # written with its concurrent peers
    else:  # a keyed request stores its answer in its own transaction; a movement waits for no other record
        async with contextlib.nullcontext(session) if session is not None else runtime.db.transaction() as own:
            [result] = await Ingestion(own, runtime.outbox, caller).run([parsed(0, body)], store=True)
    if result.outcome is ItemOutcome.REFUSED:
        errors = [e.model_copy(update={"loc": ["body", *e.loc]}) for e in result.errors]
        raise Refused("the record is refused: see errors", errors=errors)
    assert result.record is not None
    code = status.HTTP_201_CREATED if result.outcome is ItemOutcome.CREATED else status.HTTP_200_OK
    answer = RecordReceipt(outcome=result.outcome, record=result.record).model_dump(mode="json")
    return JSONResponse(answer, status_code=code)


@router.post("/his/records/bulk", response_model=BulkResult, responses=HIS_WRITE_ERRORS)
async def post_bulk(body: BulkRequest, caller: HisWriter, session: SessionDep, runtime: RuntimeDep) -> Response:
    """Up to 1,000 records of mixed kinds, answered item by item (created, existed, amended, refused with errors).

    validate_only checks and stores nothing; all_or_nothing stores nothing if any item is refused.
    Transfers and discharges are applied after the records of the same bulk, whatever their order.
    """
    items = [parse_item(index, raw) for index, raw in enumerate(body.items)]
    results = await Ingestion(session, runtime.outbox, caller).run(
        items, store=not body.validate_only, all_or_nothing=body.all_or_nothing
    )
    answer = bulk_result(results, validate_only=body.validate_only, all_or_nothing=body.all_or_nothing)
    # pydantic writes the JSON itself: no dict of a thousand items built and dumped again
    return Response(answer.model_dump_json(), status_code=status.HTTP_200_OK, media_type="application/json")
