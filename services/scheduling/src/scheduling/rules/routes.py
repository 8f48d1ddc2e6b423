"""The cadence rules' routes."""

import uuid

from fastapi import status

from contracts.api.scheduling import CadenceRuleSetCreate, CadenceRuleSetPublic
from scheduling.access import Reader, Writer
from scheduling.rules import service
from servicekit.idempotency import ServiceRouter
from servicekit.pagination import YearFilter
from servicekit.runtime import SessionDep

router = ServiceRouter(tags=["scheduling"])


@router.post("/cadence-rules", status_code=status.HTTP_201_CREATED, response_model=CadenceRuleSetPublic)
async def create_rule_set(body: CadenceRuleSetCreate, caller: Writer, session: SessionDep) -> CadenceRuleSetPublic:
    """A new version of a board's cadence rules for a year (plans keep the version they were made with)."""
    return await service.create_rule_set(session, caller, body)


@router.get("/cadence-rules", response_model=list[CadenceRuleSetPublic])
async def list_rule_sets(
    caller: Reader, session: SessionDep, board_unit: str | None = None, year: YearFilter = None
) -> list[CadenceRuleSetPublic]:
    return await service.list_rule_sets(session, caller, board_unit, year)


@router.get("/cadence-rules/{rule_set_id}", response_model=CadenceRuleSetPublic)
async def get_rule_set(rule_set_id: uuid.UUID, caller: Reader, session: SessionDep) -> CadenceRuleSetPublic:
    return await service.get_rule_set(session, caller, rule_set_id)
