"""The exam plans' routes."""

import uuid

from fastapi import status

from contracts.api.scheduling import ExamPlanCreate, ExamPlanPublic, GenerationResult
from scheduling.access import Reader, Writer
from scheduling.plans import service
from servicekit.idempotency import ServiceRouter
from servicekit.pagination import YearFilter
from servicekit.runtime import RuntimeDep, SessionDep

router = ServiceRouter(tags=["scheduling"])


@router.post("/plans", status_code=status.HTTP_201_CREATED, response_model=ExamPlanPublic)
async def create_plan(body: ExamPlanCreate, caller: Writer, session: SessionDep, runtime: RuntimeDep) -> ExamPlanPublic:
    return await service.create_plan(session, runtime.outbox, caller, body)


@router.get("/plans", response_model=list[ExamPlanPublic])
async def list_plans(caller: Reader, session: SessionDep, year: YearFilter = None) -> list[ExamPlanPublic]:
    return await service.list_plans(session, caller, year)


@router.get("/plans/{plan_id}", response_model=ExamPlanPublic)
async def get_plan(plan_id: uuid.UUID, caller: Reader, session: SessionDep) -> ExamPlanPublic:
    return await service.get_plan(session, caller, plan_id)


@router.post("/plans/{plan_id}/generate", response_model=GenerationResult)
async def generate_plan(plan_id: uuid.UUID, caller: Writer, session: SessionDep, runtime: RuntimeDep) -> GenerationResult:
    """Invite every eligible cadre (roster as of the plan date) with a slot; running it again adds only what is missing."""
    return await service.generate_plan(session, runtime.outbox, caller, plan_id)
