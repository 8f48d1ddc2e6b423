"""Thin HTTP layer: parse, call the use case, shape the response. See docs/his-integration.md."""

import uuid
from typing import Annotated, Any

from fastapi import Query, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy import func
from sqlmodel import col, select

from clinical.service import reads
from clinical.service.ingest import Ingestion, bulk_result, parse_item, parsed
from clinical.tables import PatientCadre
from contracts.api.clinical import (
    BulkRequest,
    BulkResult,
    HisRecord,
    ItemOutcome,
    PatientSummary,
    ProblemList,
    RecordPublic,
    RecordReceipt,
    RecordVersionPublic,
    WithdrawRequest,
)
from contracts.api.common import Page, Problem
from contracts.enums import Action, EncounterKind
from servicekit.audit import audit_subjects
from servicekit.auth import CallerDep, require_permission, scope_filter
from servicekit.errors import NotFound, Refused
from servicekit.idempotency import ServiceRouter
from servicekit.runtime import RuntimeDep, SessionDep

router = ServiceRouter(tags=["clinical"])

MAX_PAGE = 200
ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"model": Problem, "description": "not a facility's HIS client, or lacks clinical.write"},
    409: {"model": Problem, "description": "Idempotency-Key reused with a different request"},
    422: {"model": Problem, "description": "refused: `errors` names each field and the reason"},
}


@router.get("/patients/summary", response_model=PatientSummary)
async def patients_summary(caller: CallerDep, session: SessionDep) -> PatientSummary:
    """How many cadres clinical can match hospital records to, in the caller's scope."""
    require_permission(caller, "clinical.read")
    in_scope = scope_filter(caller, Action.READ, col(PatientCadre.managing_unit), col(PatientCadre.tier))
    total = await session.scalar(select(func.count()).select_from(PatientCadre).where(in_scope)) or 0
    return PatientSummary(cadres=total)


# ---- the HIS interface --------------------------------------------------------------------------


@router.post(
    "/his/records",
    response_model=RecordReceipt,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": RecordReceipt, "description": "existed (same content) or amended (a new version)"}, **ERRORS},
)
async def post_record(body: HisRecord, caller: CallerDep, session: SessionDep, runtime: RuntimeDep) -> Response:
    """Post one record of any kind: 201 created; 200 existed or amended; 422 refused with field errors."""
    require_permission(caller, "clinical.write")
    [result] = await Ingestion(session, runtime.outbox, caller).run([parsed(0, body)], store=True)
    if result.outcome is ItemOutcome.REFUSED:
        errors = [e.model_copy(update={"loc": ["body", *e.loc]}) for e in result.errors]
        raise Refused("the record is refused: see errors", errors=errors)
    assert result.record is not None
    code = status.HTTP_201_CREATED if result.outcome is ItemOutcome.CREATED else status.HTTP_200_OK
    answer = RecordReceipt(outcome=result.outcome, record=result.record).model_dump(mode="json")
    return JSONResponse(answer, status_code=code)


@router.post("/his/records/bulk", response_model=BulkResult, responses=ERRORS)
async def post_bulk(body: BulkRequest, caller: CallerDep, session: SessionDep, runtime: RuntimeDep) -> Response:
    """Up to 1,000 records of mixed kinds, answered item by item (created, existed, amended, refused with errors).

    validate_only checks and stores nothing; all_or_nothing stores nothing if any item is refused.
    Transfers and discharges are applied after the records of the same bulk, whatever their order.
    """
    require_permission(caller, "clinical.write")
    items = [parse_item(index, raw) for index, raw in enumerate(body.items)]
    results = await Ingestion(session, runtime.outbox, caller).run(
        items, store=not body.validate_only, all_or_nothing=body.all_or_nothing
    )
    answer = bulk_result(results, validate_only=body.validate_only, all_or_nothing=body.all_or_nothing).model_dump(mode="json")
    return JSONResponse(answer, status_code=status.HTTP_200_OK)


@router.post("/his/records/withdraw", response_model=RecordReceipt, responses={404: {"model": Problem}, **ERRORS})
async def withdraw_record(body: WithdrawRequest, caller: CallerDep, session: SessionDep, runtime: RuntimeDep) -> RecordReceipt:
    """Withdraw a record posted in error (it is kept, marked withdrawn, with the reason). Repeating it answers existed."""
    require_permission(caller, "clinical.write")
    done = await Ingestion(session, runtime.outbox, caller).withdraw(body.external_id, body.reason)
    if done is None:
        raise NotFound("no record with this external_id from your facility")
    outcome, head = done
    return RecordReceipt(outcome=outcome, record=head.ref())


@router.get("/his/records/lookup", response_model=RecordPublic, responses={404: {"model": Problem}})
async def read_own_record(external_id: str, caller: CallerDep, session: SessionDep, response: Response) -> RecordPublic:
    """A HIS reads back, by its own external_id, a record its facility posted (nothing else)."""
    require_permission(caller, "clinical.read_own")
    record = await reads.own_record(session, caller, external_id)
    audit_subjects(response, [record.cadre_id])
    return record


@router.get("/his/records/versions", response_model=list[RecordVersionPublic], responses={404: {"model": Problem}})
async def read_own_versions(
    external_id: str, caller: CallerDep, session: SessionDep, response: Response
) -> list[RecordVersionPublic]:
    require_permission(caller, "clinical.read_own")
    record, versions = await reads.own_record_versions(session, caller, external_id)
    audit_subjects(response, [record.cadre_id])
    return versions


# ---- readers in scope (boards' staff, expert-council doctors) -----------------------------------


@router.get("/cadres/{cadre_id}/timeline", response_model=Page[RecordPublic], responses={404: {"model": Problem}})
async def cadre_timeline(
    cadre_id: uuid.UUID,
    caller: CallerDep,
    session: SessionDep,
    response: Response,
    kind: EncounterKind | None = None,
    include_withdrawn: bool = False,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> Page[RecordPublic]:
    """Everything about one cadre, newest first."""
    require_permission(caller, "clinical.read")
    audit_subjects(response, [cadre_id])
    items, total = await reads.timeline(
        session, caller, cadre_id, kind=kind, include_withdrawn=include_withdrawn, offset=offset, limit=limit
    )
    return Page[RecordPublic](items=items, total=total, offset=offset, limit=limit)


@router.get("/cadres/{cadre_id}/conditions", response_model=ProblemList, responses={404: {"model": Problem}})
async def cadre_conditions(cadre_id: uuid.UUID, caller: CallerDep, session: SessionDep, response: Response) -> ProblemList:
    """The chronic problem list: groups of diagnoses with first and last seen, and the comorbidity count."""
    require_permission(caller, "clinical.read")
    audit_subjects(response, [cadre_id])
    return await reads.problem_list(session, caller, cadre_id)


@router.get("/records/{record_id}", response_model=RecordPublic, responses={404: {"model": Problem}})
async def get_record(record_id: uuid.UUID, caller: CallerDep, session: SessionDep, response: Response) -> RecordPublic:
    require_permission(caller, "clinical.read")
    record = await reads.get_record(session, caller, record_id)
    audit_subjects(response, [record.cadre_id])
    return record


@router.get("/records/{record_id}/versions", response_model=list[RecordVersionPublic], responses={404: {"model": Problem}})
async def get_record_versions(
    record_id: uuid.UUID, caller: CallerDep, session: SessionDep, response: Response
) -> list[RecordVersionPublic]:
    """Every version of a record, oldest first: nothing is overwritten."""
    require_permission(caller, "clinical.read")
    record, versions = await reads.record_versions(session, caller, record_id)
    audit_subjects(response, [record.cadre_id])
    return versions
