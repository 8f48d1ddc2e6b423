"""The HIS interface: one record or a bulk, answered item by item. See docs/his-integration.md."""

from fastapi import Response, status
from fastapi.responses import JSONResponse

from clinical.access import HIS_WRITE_ERRORS, HisWriter
from clinical.ingestion.service import Ingestion, bulk_result, parse_item, parsed
from contracts.api.clinical import BulkRequest, BulkResult, HisRecord, ItemOutcome, RecordReceipt
from servicekit.errors import Refused
from servicekit.idempotency import ServiceRouter
from servicekit.runtime import RuntimeDep, SessionDep

router = ServiceRouter(tags=["clinical"])


@router.post(
    "/his/records",
    response_model=RecordReceipt,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": RecordReceipt, "description": "existed (same content) or amended (a new version)"},
        **HIS_WRITE_ERRORS,
    },
)
async def post_record(body: HisRecord, caller: HisWriter, session: SessionDep, runtime: RuntimeDep) -> Response:
    """Post one record of any kind: 201 created; 200 existed or amended; 422 refused with field errors."""
    [result] = await Ingestion(session, runtime.outbox, caller).run([parsed(0, body)], store=True)
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
    return JSONResponse(answer.model_dump(mode="json"), status_code=status.HTTP_200_OK)
