"""The chronic problem list of a cadre, for readers in scope."""

import uuid

from fastapi import Response

from clinical.access import ClinicalReader
from clinical.conditions import service
from contracts.api.common import Problem
from contracts.api.conditions import ProblemList
from servicekit.audit import audit_subjects
from servicekit.idempotency import ServiceRouter
from servicekit.runtime import SessionDep

router = ServiceRouter(tags=["clinical"])


@router.get("/cadres/{cadre_id}/conditions", response_model=ProblemList, responses={404: {"model": Problem}})
async def cadre_conditions(cadre_id: uuid.UUID, caller: ClinicalReader, session: SessionDep, response: Response) -> ProblemList:
    """The chronic problem list: groups of diagnoses with first and last seen, and the comorbidity count."""
    audit_subjects(response, [cadre_id])
    return await service.problem_list(session, caller, cadre_id)
