"""A cadre's timeline for readers in scope (boards' staff, expert-council doctors), and the patients summary."""

import uuid

from fastapi import Response

from clinical.access import ClinicalReader
from clinical.timeline import service
from contracts.api.clinical import PatientSummary, RecordPublic
from contracts.api.common import Page, Problem
from contracts.enums import EncounterKind
from servicekit.audit import audit_subjects
from servicekit.idempotency import ServiceRouter
from servicekit.pagination import PageDep
from servicekit.runtime import SessionDep

router = ServiceRouter(tags=["clinical"])


@router.get("/patients/summary", response_model=PatientSummary)
async def patients_summary(caller: ClinicalReader, session: SessionDep) -> PatientSummary:
    """How many cadres clinical can match hospital records to, in the caller's scope."""
    return await service.patients_summary(session, caller)


@router.get("/cadres/{cadre_id}/timeline", response_model=Page[RecordPublic], responses={404: {"model": Problem}})
async def cadre_timeline(
    cadre_id: uuid.UUID,
    caller: ClinicalReader,
    session: SessionDep,
    response: Response,
    page: PageDep,
    kind: EncounterKind | None = None,
    include_withdrawn: bool = False,
) -> Page[RecordPublic]:
    """Everything about one cadre, newest first."""
    audit_subjects(response, [cadre_id])
    return await service.timeline(session, caller, cadre_id, kind=kind, include_withdrawn=include_withdrawn, page=page)
